"""What every resource shares: the client it sends through, and the checks of request parts.

A resource only shapes requests and reads their answers; the client's ``_request`` core
sends them (retries, error mapping, token scrubbing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

if TYPE_CHECKING:
    from ..client import CloudClient

__all__ = ["WHATSAPP", "Resource", "check_ids", "nonempty", "request_id", "segment"]

WHATSAPP: Final[Mapping[str, str]] = {"messaging_product": "whatsapp"}
"""The product marker every write request carries."""

_PATH_SAFE = "!$&'()*+,;=:@"


class Resource:
    """A group of endpoints over one :class:`~groups_tui.cloud.client.CloudClient`.

    Args:
        client: The client whose request core sends every request.
    """

    def __init__(self, client: CloudClient) -> None:
        self._client = client


def segment(value: str, what: str) -> str:
    """``value`` trimmed and quoted as one URL path segment.

    Raises:
        ValueError: ``value`` is empty or not a string.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value.strip(), safe=_PATH_SAFE)


def nonempty(value: str, what: str) -> str:
    """``value`` trimmed.

    Raises:
        ValueError: ``value`` is empty or not a string.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return value.strip()


def check_ids(values: Sequence[str], what: str, *, limit: int | None = None) -> list[str]:
    """A list of ids for one call: trimmed, non-empty, without duplicates, at most ``limit``.

    Raises:
        TypeError: ``values`` is a single string.
        ValueError: The list is empty, holds an empty value or a duplicate, or is too long.
    """
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of strings, not a string")
    cleaned = [v.strip() for v in values]
    if not cleaned:
        raise ValueError(f"{what} must not be empty")
    if any(not v for v in cleaned):
        raise ValueError(f"{what} must not contain empty values")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError(f"{what} contains duplicates")
    if limit is not None and len(cleaned) > limit:
        raise ValueError(f"at most {limit} {what} per call; got {len(cleaned)}")
    return cleaned


def request_id(payload: Mapping[str, Any]) -> str | None:
    """The ``request_id`` an asynchronous operation's answer carries, if any."""
    value = payload.get("request_id")
    return str(value) if value is not None else None
