"""How a person is named: phone number, WhatsApp id, or business-scoped user id (BSUID).

From 2026 WhatsApp may hide a user's phone number and name them only by a BSUID such as
``US.13491208655302741918`` (reference 1.1 and 3.9): two capital letters naming a country,
a dot, and digits. Requests must say which kind they carry (``user`` for a phone number or
WhatsApp id, ``user_id`` for a BSUID), so the kinds are told apart here, once, for the
client, the simulator and the pricing of members.

Meta also sends a ``parent_user_id``; its format is not in the reference, so it is not
recognised as a BSUID here.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["BSUID_PATTERN", "bsuid_country", "is_bsuid", "is_phone_number", "normalize_input"]

BSUID_PATTERN: Final = re.compile(r"([A-Z]{2})\.([0-9]+)")
"""A business-scoped user id: a country's ISO 3166 code, a dot, digits (full match)."""

_PHONE_PUNCTUATION = str.maketrans("", "", "+-() .")


def normalize_input(value: str) -> str:
    """Reduce an ``input`` echoed by a removal webhook to a member key.

    Removals identify people exactly as the business typed them (``+1 650-555-1234``, a
    WhatsApp id, or from 2026 a BSUID). Phone-shaped inputs become digits so they match
    ``wa_id``; anything else (a BSUID) is returned stripped but otherwise unchanged.

    Args:
        value: The ``input`` string from the webhook.

    Returns:
        The digits of a phone number, or the stripped input.
    """
    stripped = value.strip()
    digits = stripped.translate(_PHONE_PUNCTUATION)
    return digits if digits.isdigit() else stripped


def is_bsuid(value: str) -> bool:
    """Whether ``value`` (surrounding spaces ignored) is a business-scoped user id.

    Args:
        value: Any identifier.

    Returns:
        True for the documented shape ``CC.digits``, e.g. ``US.13491208655302741918``.
    """
    return BSUID_PATTERN.fullmatch(value.strip()) is not None


def bsuid_country(value: str) -> str | None:
    """The ISO country code a BSUID begins with, or ``None`` when it is not a BSUID.

    Whether the code names a real country is for the caller to decide (``ZZ.1`` is
    shaped like a BSUID but names none).

    Args:
        value: Any identifier.

    Returns:
        The two capital letters before the dot, or ``None``.
    """
    match = BSUID_PATTERN.fullmatch(value.strip())
    return match.group(1) if match else None


def is_phone_number(value: str) -> bool:
    """Whether ``value`` is a phone number or WhatsApp id (digits, ``+``, spaces, ``-().``).

    Args:
        value: Any identifier.

    Returns:
        True when only digits remain once phone punctuation is dropped.
    """
    return normalize_input(value).isdigit()
