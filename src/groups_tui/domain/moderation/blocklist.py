"""Blocklist entries: phone numbers and ``+``-prefixes matched on digits, user ids exactly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from groups_tui.domain.identity import normalize_input

__all__ = [
    "Blocklist",
    "blocklist_entry_kind",
    "blocklist_match",
    "is_blocklisted",
    "parse_blocklist",
]


@dataclass(frozen=True, slots=True)
class Blocklist:
    """A parsed blocklist: digit prefixes for numbers, exact strings for user ids."""

    prefixes: tuple[tuple[str, str], ...]
    keys: Mapping[str, str]

    def match(self, number_or_key: str | None) -> str | None:
        """The entry ``number_or_key`` matches, or ``None`` (see :func:`blocklist_match`)."""
        if not number_or_key:
            return None
        value = normalize_input(number_or_key)
        if value.isdigit():
            for digits, entry in self.prefixes:
                if value.startswith(digits):
                    return entry
            return None
        return self.keys.get(value)


def blocklist_entry_kind(entry: str) -> str | None:
    """``"digits"`` or ``"key"`` for a valid entry, ``None`` for an invalid one."""
    stripped = entry.strip()
    if not stripped:
        return None
    value = normalize_input(stripped)
    if value.isdigit():
        return "digits"
    # A phone-looking entry with stray characters is a typo, not a user id (BSUIDs start
    # with a country code in letters, e.g. "US.13491208655302741918").
    if stripped[0] in "+0123456789" or any(ch.isspace() for ch in stripped):
        return None
    return "key"


def parse_blocklist(entries: Iterable[str]) -> Blocklist:
    """Parse configured entries once for repeated matching; invalid entries are skipped."""
    prefixes: list[tuple[str, str]] = []
    keys: dict[str, str] = {}
    for entry in entries:
        kind = blocklist_entry_kind(entry)
        if kind == "digits":
            prefixes.append((normalize_input(entry), entry.strip()))
        elif kind == "key":
            keys[entry.strip()] = entry.strip()
    return Blocklist(tuple(prefixes), keys)


def blocklist_match(number_or_key: str | None, blocklist: Iterable[str]) -> str | None:
    """The blocklist entry that ``number_or_key`` matches, if any.

    Phone-shaped entries (``"+234"``, ``"2348"``, ``"+44 7700 900123"``) are matched on
    digits as prefixes, so ``"+234"`` covers every Nigerian number and a complete number
    covers exactly that number. Other entries are user ids (BSUIDs) and match exactly.

    Args:
        number_or_key: A ``wa_id``, a phone number in any punctuation, or a member key.
        blocklist: The configured entries.

    Returns:
        The matching entry as configured, or ``None``.
    """
    return parse_blocklist(blocklist).match(number_or_key)


def is_blocklisted(number_or_key: str | None, blocklist: Iterable[str]) -> bool:
    """Whether ``number_or_key`` matches an entry of ``blocklist``.

    Args:
        number_or_key: A ``wa_id``, a phone number in any punctuation, or a member key.
        blocklist: The configured entries (see :func:`blocklist_match`).

    Returns:
        True if some entry matches.
    """
    return blocklist_match(number_or_key, blocklist) is not None
