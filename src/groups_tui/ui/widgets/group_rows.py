"""One inbox row as text: the column widths, each column's cell, and the labels that
move with the clock (a module of its own beside :mod:`.group_list`, which draws them)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from rich.cells import cell_len

from groups_tui.domain.models import GroupState
from groups_tui.domain.window import CLOSING_SOON, WINDOW_SECONDS, format_countdown
from groups_tui.service.types import InboxRow
from groups_tui.ui.formatting import ago
from groups_tui.ui.preferences import OPTIONAL_COLUMNS
from groups_tui.ui.widgets.safe_text import clip, fit

__all__ = [
    "OUTBOUND_MARK",
    "Columns",
    "clock_labels",
    "next_exact_change",
    "number_cell",
    "row_columns",
    "seconds_left",
]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths of the inbox columns for one line width.

    Fixed columns: marks (2), members ``n/8`` (3), unread (3), join requests (3),
    last activity (4) and the window countdown (7), each after a one-cell gap; the
    subject and the last message share what remains. With several business numbers, a
    number column (its label, at most :attr:`NUMBER_MAX` cells) follows the marks.
    """

    subject: int
    last: int
    number: int = 0
    hidden: frozenset[str] = frozenset()
    """Optional columns the operator hid (``members``, ``unread``, ``requests``,
    ``activity``, ``window``): their cells are not drawn and their width goes to the
    subject and the last message."""

    MARKS: ClassVar[int] = 2
    MEMBERS: ClassVar[int] = 3
    UNREAD: ClassVar[int] = 3
    REQUESTS: ClassVar[int] = 3
    ACTIVITY: ClassVar[int] = 4
    WINDOW: ClassVar[int] = 7
    NUMBER_MAX: ClassVar[int] = 8

    @classmethod
    def widths(cls) -> dict[str, int]:
        """The fixed columns that may be hidden, by name, with their widths."""
        sizes = (cls.MEMBERS, cls.UNREAD, cls.REQUESTS, cls.ACTIVITY, cls.WINDOW)
        return dict(zip(OPTIONAL_COLUMNS, sizes, strict=True))

    @classmethod
    def for_width(
        cls, width: int, number: int = 0, hidden: frozenset[str] = frozenset()
    ) -> Columns:
        """Split ``width`` cells between the columns shown, each after a one-cell gap
        (``number``: the number column's width, 0 when it is hidden; ``hidden``: the
        optional columns the operator hid)."""
        shown = [w for name, w in cls.widths().items() if name not in hidden]
        fixed = cls.MARKS + sum(shown)
        if number:
            number = min(number, cls.NUMBER_MAX)
            fixed += number + 1
        flexible = max(width - fixed - len(shown) - 1, 8)
        subject = max(min(flexible * 2 // 5, 40), 6)
        return cls(subject=subject, last=max(flexible - subject, 1), number=number, hidden=hidden)

    def shown(self, cells: Sequence[_T]) -> list[_T]:
        """The items of a row (:func:`row_columns` order) for the columns shown."""
        names = ("marks", "subject", "members", "unread", "requests", "last", "activity", "window")
        return [cell for name, cell in zip(names, cells, strict=True) if name not in self.hidden]


OUTBOUND_MARK = "You › "
"""Before the last message when the business sent it."""


def _pad(text: str, width: int, *, right: bool = False) -> str:
    gap = width - cell_len(text)
    if gap <= 0:
        return text
    return (" " * gap + text) if right else (text + " " * gap)


def row_columns(
    row: InboxRow, now: float, cols: Columns, labels: tuple[str, str, int] | None = None
) -> tuple[str, ...]:
    """The cell texts of one row, each already fitted to its column.

    Untrusted strings go through :func:`~groups_tui.ui.widgets.safe_text.fit`, so control
    characters are visible escapes and nothing is parsed as markup.

    Args:
        row: The group.
        now: Current epoch seconds (the app clock).
        cols: Column widths.
        labels: :func:`clock_labels` of the row at ``now``, when already computed.

    Returns:
        ``(marks, subject, members, unread, requests, last, activity, window)``.
    """
    if row.suspended:
        mark = "⊘"
    elif row.state == GroupState.PENDING:
        mark = "…"
    elif row.state in (GroupState.FAILED, GroupState.DELETED):
        mark = "✗"
    else:
        mark = " "
    # "!" open moderation flags (the queue, M), "*" the operator's own flag.
    marks = mark + ("!" if row.open_flags else "*" if row.flagged else " ")
    subject = fit(row.subject or "(no subject)", cols.subject)
    members = f"{row.participant_count}/8"
    unread = "" if not row.unread else ("99+" if row.unread > 99 else str(row.unread))
    requests = "" if not row.pending_requests else f"+{min(row.pending_requests, 99)}"
    if row.last_outbound:
        # No colon: a member who calls themselves "You" still reads "You: …".
        last = fit(f"{OUTBOUND_MARK}{row.last_text or ''}", cols.last)
    elif row.last_text is None and row.last_sender is None:
        last = ""
    elif row.last_sender:
        last = fit(f"{row.last_sender}: {row.last_text or ''}", cols.last)
    else:
        last = fit(row.last_text, cols.last)
    activity, window, _band = labels or clock_labels(row, now)
    return (
        _pad(marks, Columns.MARKS),
        _pad(subject, cols.subject),
        _pad(members, Columns.MEMBERS, right=True),
        _pad(unread, Columns.UNREAD, right=True),
        _pad(requests, Columns.REQUESTS, right=True),
        _pad(last, cols.last),
        _pad(clip(activity, Columns.ACTIVITY), Columns.ACTIVITY, right=True),
        _pad(window, Columns.WINDOW, right=True),
    )


def number_cell(row: InboxRow, labels: Mapping[str, str], width: int) -> str:
    """The number column of a row: its number's label, fitted to ``width`` cells."""
    label = labels.get(row.phone_number_id) or row.phone_number_id or "?"
    return _pad(fit(label, width), width)


def seconds_left(row: InboxRow, now: float) -> int:
    """Seconds left in the row's 24-hour window at ``now`` (0: closed or never opened)."""
    if row.last_inbound_at is None:
        return 0
    return max(row.last_inbound_at + WINDOW_SECONDS - int(now), 0)


def clock_labels(row: InboxRow, now: float) -> tuple[str, str, int]:
    """What a row shows that moves with the clock: age, countdown and colour band.

    The age and the countdown's minutes are taken for the clock's current minute, so a
    screen of rows repaints together once a minute. The minutes are those left at the
    end of that minute, so the label never promises more time than is left. Closing
    and entering the last hour are exact to the second: the colour band (0 closed,
    1 closing within the hour, 2 open) and "closed" use ``now`` itself.

    Args:
        row: The group.
        now: Current epoch seconds.

    Returns:
        ``(age, countdown, band)``.
    """
    minute = int(now) // 60 * 60
    age = ago(row.last_activity_at, minute)
    if row.last_inbound_at is None:
        return age, "—", 0
    left = seconds_left(row, now)
    if left <= 0:
        return age, "closed", 0
    band = 1 if left <= CLOSING_SOON else 2
    return age, format_countdown(max(seconds_left(row, minute + 59), 1)), band


def next_exact_change(row: InboxRow, now: float) -> float:
    """When the row's window next changes band (enters the last hour, or closes).

    Returns:
        Epoch seconds, or infinity when it is closed or was never opened.
    """
    if row.last_inbound_at is None:
        return math.inf
    closes = row.last_inbound_at + WINDOW_SECONDS
    if int(now) >= closes:
        return math.inf
    last_hour = closes - CLOSING_SOON
    return last_hour if int(now) < last_hour else closes
