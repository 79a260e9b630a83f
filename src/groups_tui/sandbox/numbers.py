"""The business numbers the sandbox simulates: one by default, up to nine.

A business with groups rarely has one number: a brand per country, support and sales.
With ``--numbers N`` the sandbox simulates N numbers of one app, each with its own groups,
its own people (mostly from its own market, so its rate card market differs), its own
rate limits and 10,000-group limit, and its own access token when asked; a share of the
first number's people are also around the others, so one person can be in groups of two
numbers. Every number's webhooks go to the one webhook URL, signed with the one app
secret, in envelopes whose ``entry[].id`` is the number's WABA and whose
``metadata.phone_number_id`` is the number (reference 3.2).

The first number is the sandbox's historical one (its people from every market): with one
number nothing differs from before numbers were simulated.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_NUMBERS", "SHARED_PEOPLE", "SimNumber", "sim_numbers"]

MAX_NUMBERS = 9
"""Numbers the sandbox can simulate (the inbox's quick filters are keys 1 to 9)."""

SHARED_PEOPLE = 0.1
"""Share of the first number's people who are also around each other number."""


@dataclass(frozen=True, slots=True)
class SimNumber:
    """One simulated business number.

    Attributes:
        phone_number_id: Meta's id of the number (API paths, webhook metadata).
        business_account_id: Its WABA (``entry[].id``; its templates).
        display_phone_number: The number as webhook metadata shows it (digits).
        label: A short name (its market).
        market: ISO region most of its people come from; ``None``: every market.
        access_token: Its own bearer token, or ``None`` for the sandbox's shared one.
    """

    phone_number_id: str
    business_account_id: str
    display_phone_number: str
    label: str
    market: str | None = None
    access_token: str | None = None


# (label and market, display number, WABA: 0 the first number's, 1 a second business
# account of the same app, so that templates per WABA are exercised from 3 numbers on)
_MARKETS: tuple[tuple[str, str, int], ...] = (
    ("US", "15550100000", 0),
    ("BR", "5511955500000", 0),
    ("DE", "4915155500000", 1),
    ("IN", "919555000000", 0),
    ("MX", "5215555000000", 1),
    ("GB", "447555000000", 0),
    ("ID", "6281555000000", 1),
    ("NG", "2348055500000", 0),
    ("ZA", "27715550000", 1),
)

_SECOND_WABA_OFFSET = 1_000
"""How far the second business account's id is from the first's."""


def sim_numbers(
    count: int,
    *,
    phone_number_id: str,
    business_account_id: str,
    display_phone_number: str = "15550783881",
    tokens: bool = False,
) -> tuple[SimNumber, ...]:
    """The ``count`` numbers to simulate; the first is ``phone_number_id`` itself.

    Args:
        count: How many (1 to :data:`MAX_NUMBERS`).
        phone_number_id: The first number's id (the others follow it).
        business_account_id: The first number's WABA.
        display_phone_number: The first number's display number.
        tokens: Give every number after the first a token of its own.

    Returns:
        The numbers, first one first.

    Raises:
        ValueError: ``count`` out of range.
    """
    if not 1 <= count <= MAX_NUMBERS:
        raise ValueError(f"the sandbox simulates 1 to {MAX_NUMBERS} numbers, not {count}")
    first = SimNumber(
        phone_number_id=phone_number_id,
        business_account_id=business_account_id,
        display_phone_number=display_phone_number,
        label=_MARKETS[0][0],
    )
    out = [first]
    second_waba = _offset(business_account_id, _SECOND_WABA_OFFSET)
    for index in range(1, count):
        label, display, waba = _MARKETS[index]
        out.append(
            SimNumber(
                phone_number_id=_offset(phone_number_id, index),
                business_account_id=second_waba if waba else business_account_id,
                display_phone_number=display,
                label=label,
                market=label,
                access_token=f"sandbox-token-{label.lower()}" if tokens else None,
            )
        )
    return tuple(out)


def _offset(numeric_id: str, by: int) -> str:
    """A numeric id ``by`` after ``numeric_id`` (a suffix when it is not numeric)."""
    if numeric_id.isdigit():
        return str(int(numeric_id) + by)
    return f"{numeric_id}-{by}"
