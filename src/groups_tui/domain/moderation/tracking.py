"""The engine's bounded memory: time-sorted entry windows and least-recently-active tables.

Entries stay sorted by event time however late they arrive; a table keyed by sender (or
sender and group) keeps its keys in touch order so that the stalest go first.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, TypeVar

from .rules import Flag

__all__ = [
    "ActiveFlag",
    "Entry",
    "PairTrack",
    "SenderTrack",
    "TextEntry",
    "best_group_window",
    "best_window",
    "insert",
    "prune",
    "sweep",
    "touch",
]


class _Timed(Protocol):
    @property
    def at(self) -> int: ...

    @property
    def message_id(self) -> str: ...


_E = TypeVar("_E", bound=_Timed)


class Entry(NamedTuple):
    """One message of a sender in a group, by time."""

    at: int
    message_id: str


class TextEntry(NamedTuple):
    """One long-enough text of a sender, by time, with its group and normalised digest."""

    at: int
    message_id: str
    group_id: str
    digest: bytes


@dataclass(slots=True)
class PairTrack:
    """Recent messages of one sender in one group."""

    messages: deque[Entry] = field(default_factory=deque)
    links: deque[Entry] = field(default_factory=deque)
    last_at: int = 0


@dataclass(slots=True)
class SenderTrack:
    """Recent long-enough texts of one sender across groups."""

    texts: deque[TextEntry] = field(default_factory=deque)
    last_at: int = 0


@dataclass(slots=True)
class ActiveFlag:
    """A flag that fired and still suppresses repeats of its (rule, group, sender)."""

    flag: Flag
    fired_at: int
    evidence: deque[str]
    last_at: int = 0


def insert(entries: deque[_E], entry: _E, cap: int) -> bool:
    """Insert keeping ``entries`` sorted by time; False if the message is already there."""
    if any(e.message_id == entry.message_id for e in entries):
        return False
    if not entries or entries[-1].at <= entry.at:
        entries.append(entry)
    else:
        # Late arrival: walk back from the newest (events are at most slightly late).
        index = len(entries)
        while index > 0 and entries[index - 1].at > entry.at:
            index -= 1
        entries.insert(index, entry)
    while len(entries) > cap:
        entries.popleft()
    return True


def prune(entries: deque[_E], cutoff: int) -> None:
    """Drop entries older than ``cutoff`` from the old end."""
    while entries and entries[0].at < cutoff:
        entries.popleft()


def best_window(entries: Iterable[_E], at: int, window: int) -> list[_E]:
    """The largest run of entries spanning at most ``window`` seconds that includes ``at``.

    ``entries`` must be sorted by time. Only windows containing the new event are
    considered: any other full window was already complete, and judged, when its own
    last event arrived.
    """
    items = [e for e in entries if at - window <= e.at <= at + window]
    best: list[_E] = []
    end = 0
    for start, first in enumerate(items):
        if first.at > at:
            break
        end = max(end, start)
        while end < len(items) and items[end].at <= first.at + window:
            end += 1
        if end - start > len(best):
            best = items[start:end]
    return best


def best_group_window(
    entries: Sequence[TextEntry], at: int, window: int
) -> tuple[list[TextEntry], set[str]]:
    """Like :func:`best_window`, maximising the number of distinct groups."""
    best: list[TextEntry] = []
    best_groups: set[str] = set()
    for first in entries:
        if first.at < at - window:
            continue
        if first.at > at:
            break
        run = [e for e in entries if first.at <= e.at <= first.at + window]
        groups = {e.group_id for e in run}
        if len(groups) > len(best_groups):
            best, best_groups = run, groups
    return best, best_groups


_K = TypeVar("_K")
_V = TypeVar("_V", PairTrack, SenderTrack, ActiveFlag)


def touch(table: OrderedDict[_K, _V], key: _K, value: _V, at: int, cap: int) -> None:
    """Mark ``key`` as recently active, and evict the least recently active past ``cap``."""
    value.last_at = max(value.last_at, at)
    table[key] = value
    table.move_to_end(key)
    while len(table) > cap:
        table.popitem(last=False)


def sweep(table: OrderedDict[_K, _V], cutoff: int) -> None:
    """Drop keys from the least recently touched end while they are older than ``cutoff``.

    Touch order follows event time closely (events are at most slightly out of order), so
    this stops at the first fresh key and costs O(1) amortised per event.
    """
    while table:
        key, value = next(iter(table.items()))
        if value.last_at >= cutoff:
            return
        del table[key]
