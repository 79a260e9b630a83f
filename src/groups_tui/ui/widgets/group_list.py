"""The inbox list: every group in one keyboard-driven, virtual list.

An account may hold 10,000 groups, so the list never mounts a widget per group. It is a
:class:`~textual.scroll_view.ScrollView` using Textual's Line API: rows stay in memory as
:class:`~groups_tui.service.types.InboxRow` records, sorting produces a list of indices,
filtering produces a sub-list of those indices in one O(n) pass over the rows'
precomputed folded haystacks (any case, any accent), and :meth:`GroupList.render_line` draws only the lines
that are on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from groups_tui.domain.models import GroupState
from groups_tui.domain.text import folded
from groups_tui.domain.window import CLOSING_SOON, WINDOW_SECONDS, format_countdown
from groups_tui.service.types import InboxRow
from groups_tui.ui.cell_widths import drawn_line, without_spacing_marks_filter
from groups_tui.ui.formatting import ago
from groups_tui.ui.preferences import OPTIONAL_COLUMNS
from groups_tui.ui.widgets.safe_text import clip, fit
from groups_tui.ui.widgets.scrolling import set_virtual_height

__all__ = ["Columns", "GroupList", "QuickFilter", "SortMode", "number_cell", "row_columns"]


class SortMode(StrEnum):
    """How the inbox is ordered."""

    ACTIVITY = "activity"
    """Most recent activity first."""
    CLOSING = "closing"
    """Open windows closing soonest first, then closed ones by recent activity."""
    UNREAD = "unread"
    """Most unread messages first, then by recent activity."""


class QuickFilter(StrEnum):
    """One-key filters; several combine (all must hold)."""

    OPEN = "open"
    """The 24-hour window is open."""
    CLOSING = "closing"
    """The window is open and closes within an hour."""
    REQUESTS = "requests"
    """The group has pending join requests."""
    UNREAD = "unread"
    """The group has unread messages."""
    FLAGGED = "flagged"
    """The group has open moderation flags, or the operator flagged it."""


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


def _remaining(row: InboxRow, now: float) -> int:
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
    left = _remaining(row, now)
    if left <= 0:
        return age, "closed", 0
    band = 1 if left <= CLOSING_SOON else 2
    return age, format_countdown(max(_remaining(row, minute + 59), 1)), band


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


def passes(row: InboxRow, quick: frozenset[QuickFilter], now: float) -> bool:
    """Whether ``row`` passes every quick filter of ``quick`` at ``now``."""
    left = _remaining(row, now)
    if QuickFilter.OPEN in quick and left <= 0:
        return False
    if QuickFilter.CLOSING in quick and not 0 < left <= CLOSING_SOON:
        return False
    if QuickFilter.REQUESTS in quick and row.pending_requests <= 0:
        return False
    if QuickFilter.UNREAD in quick and row.unread <= 0:
        return False
    return not (QuickFilter.FLAGGED in quick and not (row.flagged or row.open_flags))


_BAND_STYLE = ("group-list--closed", "group-list--closing", "group-list--open")
"""Component class of the countdown for each band of :func:`clock_labels`."""

_STRIP_CACHE_MAX = 2_000
"""Rendered rows kept (a few screens' worth)."""


class GroupList(ScrollView, can_focus=True):
    """A virtual list of every group, drawn line by line.

    Sorting and filtering never touch widgets: they rebuild a list of row indices
    (:attr:`shown`) and refresh the visible lines. Ages and countdowns change with the
    clock's minute, closing and the last hour on their own second (:func:`clock_labels`),
    so :meth:`tick` repaints only the visible rows whose labels moved since drawn.
    """

    DEFAULT_CSS = """
    GroupList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        & > .group-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
        &:blur > .group-list--cursor { background: $block-cursor-blurred-background; text-style: none; }
        & > .group-list--unread { text-style: bold; }
        & > .group-list--open { color: $success; }
        & > .group-list--closing { color: $warning; text-style: bold; }
        & > .group-list--closed { color: $text-muted; }
        & > .group-list--mark { color: $error; text-style: bold; }
        & > .group-list--count { color: $accent; text-style: bold; }
        & > .group-list--dim { color: $text-muted; }
        & > .group-list--number { color: $secondary; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "group-list--cursor",
        "group-list--unread",
        "group-list--open",
        "group-list--closing",
        "group-list--closed",
        "group-list--mark",
        "group-list--count",
        "group-list--dim",
        "group-list--number",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="list.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="list.up"),
        Binding("home,g", "first", "First", show=False, id="list.first"),
        Binding("end,G", "last", "Last", show=False, id="list.last"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("enter", "open", "Open", id="list.open", tooltip="Open the highlighted group"),
    ]
    """Navigation keys (hidden from the footer) and Enter to open."""

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Position of the highlighted row within :attr:`shown`."""

    class GroupOpened(Message):
        """The operator chose a group (Enter).

        Attributes:
            group_list: The list that posted it.
            row: The chosen group's row.
        """

        def __init__(self, group_list: GroupList, row: InboxRow) -> None:
            super().__init__()
            self.group_list = group_list
            self.row = row

        @property
        def control(self) -> GroupList:
            """The list that posted the message."""
            return self.group_list

    class Filtered(Message):
        """The shown rows changed (filter, quick filter, sort or new data).

        Attributes:
            group_list: The list that posted it.
            shown: Rows shown.
            total: Rows held.
        """

        def __init__(self, group_list: GroupList, shown: int, total: int) -> None:
            super().__init__()
            self.group_list = group_list
            self.shown = shown
            self.total = total

        @property
        def control(self) -> GroupList:
            """The list that posted the message."""
            return self.group_list

    def __init__(
        self,
        *,
        now: float = 0.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create an empty list.

        Args:
            now: Current epoch seconds, for the first paint's countdowns.
            name: Widget name.
            id: Widget id.
            classes: CSS classes.
        """
        super().__init__(name=name, id=id, classes=classes)
        self._rows: list[InboxRow] = []
        self._index: dict[str, int] = {}
        self._order: list[int] = []
        self._shown: list[int] = []
        self._query = ""
        self._quick: frozenset[QuickFilter] = frozenset()
        self._show_deleted = False
        self._deleted = 0
        """Rows of deleted groups held (hidden unless :attr:`show_deleted`)."""
        self._sort = SortMode.ACTIVITY
        self._now = now
        self._checked_minute = int(now) // 60
        self._next_exact = math.inf
        """The soonest exact change among the rows drawn since the last full check."""
        self.hidden_columns: frozenset[str] = frozenset()  # optional columns not shown
        self._columns = Columns.for_width(0)
        """Column widths of the last width drawn (:meth:`_columns_for`)."""
        self._columns_width = -1
        self._strips: dict[str, tuple[InboxRow, tuple[object, ...], Strip]] = {}
        self._labels: Mapping[str, str] = {}
        """Number labels by id, when the number column is shown (else empty)."""
        self._number: str | None = None
        """The number whose groups alone are shown, if any."""

    # ------------------------------------------------------------------ data

    @property
    def rows(self) -> list[InboxRow]:
        """Every row held, in load order (do not mutate)."""
        return self._rows

    @property
    def total(self) -> int:
        """Rows held."""
        return len(self._rows)

    @property
    def shown(self) -> list[int]:
        """Indices of the rows shown, in display order (do not mutate)."""
        return self._shown

    @property
    def sort_mode(self) -> SortMode:
        """The current order."""
        return self._sort

    @property
    def filter_text(self) -> str:
        """The filter text (folded: lower case, no accents)."""
        return self._query

    @property
    def quick_filters(self) -> frozenset[QuickFilter]:
        """Active quick filters."""
        return self._quick

    @property
    def show_deleted(self) -> bool:
        """Deleted groups are listed (hidden by default)."""
        return self._show_deleted

    @property
    def deleted_count(self) -> int:
        """Rows of deleted groups held, shown or not."""
        return self._deleted

    def set_show_deleted(self, show: bool) -> None:
        """List deleted groups (marked ✗) or hide them."""
        keep = self.highlighted
        self._show_deleted = show
        self._refilter(keep.group_id if keep else None)

    @property
    def number_filter(self) -> str | None:
        """The number (id) whose groups alone are shown, or ``None`` for every number."""
        return self._number

    @property
    def number_column(self) -> bool:
        """Whether the number column is shown."""
        return bool(self._labels)

    def column_widths(self, width: int) -> Columns:
        """The columns of a line ``width`` cells wide, as rows are drawn now."""
        number = max((cell_len(v) for v in self._labels.values()), default=0)
        return Columns.for_width(width, max(number, 3) if number else 0, self.hidden_columns)

    def set_number_column(self, labels: Mapping[str, str] | None) -> None:
        """Show the number column with these labels (by number id), or hide it."""
        self._labels = dict(labels or {})
        self._columns_width = -1  # laid out again, with or without the number column
        self._strips.clear()
        self.refresh()

    def set_number_filter(self, number: str | None) -> None:
        """Show only the groups of one number (its id), or of every number (``None``)."""
        keep = self.highlighted
        self._number = number
        self._refilter(keep.group_id if keep else None)

    @property
    def highlighted(self) -> InboxRow | None:
        """The row under the cursor, if any."""
        if 0 <= self.cursor < len(self._shown):
            return self._rows[self._shown[self.cursor]]
        return None

    def row_at(self, position: int) -> InboxRow:
        """The row shown at ``position`` (0 = top of the list)."""
        return self._rows[self._shown[position]]

    def set_rows(self, rows: Iterable[InboxRow]) -> None:
        """Replace every row, keeping the highlighted group when it is still shown."""
        keep = self.highlighted
        self._rows = list(rows)
        self._index = {row.group_id: i for i, row in enumerate(self._rows)}
        self._resort(keep.group_id if keep else None)

    def update_rows(self, rows: Iterable[InboxRow], removed: Iterable[str] = ()) -> None:
        """Patch changed groups in place (and drop removed ones), then re-sort once.

        Args:
            rows: New versions of changed or added groups.
            removed: Group ids no longer in the inbox.
        """
        keep = self.highlighted
        gone = set(removed)
        for row in rows:
            i = self._index.get(row.group_id)
            if i is None:
                self._index[row.group_id] = len(self._rows)
                self._rows.append(row)
            else:
                self._rows[i] = row
        if gone:
            self._rows = [r for r in self._rows if r.group_id not in gone]
            self._index = {row.group_id: i for i, row in enumerate(self._rows)}
        self._resort(keep.group_id if keep else None)

    def set_hidden_columns(self, hidden: frozenset[str]) -> None:
        """Show every column but these; every row is laid out again."""
        self.hidden_columns = frozenset(hidden) & frozenset(Columns.widths())
        self.set_number_column(self._labels)  # every row laid out again

    def set_sort(self, mode: SortMode) -> None:
        """Order the list by ``mode``, keeping the highlighted group."""
        keep = self.highlighted
        self._sort = mode
        self._resort(keep.group_id if keep else None)

    def set_query(self, query: str) -> None:
        """Filter as you type: keep rows whose haystack contains ``query`` (any case, any
        accent: ``sofia`` finds Sofía, ``björn`` finds Bjorn).

        Typing on narrows the rows already shown instead of scanning every row again.
        """
        keep = self.highlighted
        previous = self._query
        self._query = folded(query.strip())
        narrowing = bool(previous) and self._query.startswith(previous) and not self._quick
        self._refilter(keep.group_id if keep else None, within=self._shown if narrowing else None)

    def set_quick_filters(self, filters: frozenset[QuickFilter]) -> None:
        """Replace the active quick filters."""
        keep = self.highlighted
        self._quick = filters
        self._refilter(keep.group_id if keep else None)

    def toggle_quick_filter(self, quick: QuickFilter) -> bool:
        """Switch one quick filter on or off.

        Returns:
            True if it is now on.
        """
        on = quick not in self._quick
        self.set_quick_filters(self._quick | {quick} if on else self._quick - {quick})
        return on

    def _sort_key(self) -> Callable[[int], Any]:
        rows = self._rows
        now = int(self._now)
        if self._sort is SortMode.CLOSING:

            def closing(i: int) -> tuple[int, int, int]:
                row = rows[i]
                left = _remaining(row, now)
                activity = row.last_activity_at or 0
                return (0, left, -activity) if left > 0 else (1, 0, -activity)

            return closing
        if self._sort is SortMode.UNREAD:
            return lambda i: (-rows[i].unread, -(rows[i].last_activity_at or 0))
        return lambda i: -(rows[i].last_activity_at or 0)

    def _resort(self, keep: str | None) -> None:
        self._order = sorted(range(len(self._rows)), key=self._sort_key())
        self._deleted = sum(row.state == GroupState.DELETED for row in self._rows)
        self._refilter(keep)

    def _refilter(self, keep: str | None, within: list[int] | None = None) -> None:
        rows = self._rows
        order = self._order if within is None else within
        query = self._query
        if query:
            # One pass of C-level substring tests over precomputed folded haystacks.
            shown = [i for i in order if query in rows[i].haystack]
        else:
            shown = list(order)
        if self._deleted and not self._show_deleted and within is None:
            shown = [i for i in shown if rows[i].state != GroupState.DELETED]
        if self._quick:
            quick, now = self._quick, self._now
            shown = [i for i in shown if passes(rows[i], quick, now)]
        if self._number is not None and within is None:
            number = self._number
            shown = [i for i in shown if rows[i].phone_number_id == number]
        self._shown = shown
        set_virtual_height(self, len(shown))
        position = 0
        if keep is not None:
            kept = self._index.get(keep)
            if kept is not None:
                try:
                    position = shown.index(kept)
                except ValueError:
                    position = 0
        self._set_cursor(min(position, max(len(shown) - 1, 0)), scroll_center=False)
        self.refresh()
        self.post_message(self.Filtered(self, len(shown), len(rows)))

    # ------------------------------------------------------------------ time

    def tick(self, now: float) -> None:
        """Advance the list's clock; repaint the visible rows whose labels changed.

        A window that closes at 12:00:30 reads "closed" from 12:00:30, not from the next
        minute of the clock. When the minute has turned, or a drawn row's window has
        reached its next band (:func:`next_exact_change`), the tick compares the clock
        labels of the rows on screen with those they were drawn with; otherwise it
        returns at once.

        Args:
            now: Current epoch seconds.
        """
        self._now = now
        minute = int(now) // 60
        if minute == self._checked_minute and int(now) < self._next_exact:
            return  # no label on screen can have changed
        self._checked_minute = minute
        soonest = math.inf
        top = int(self.scroll_y)
        bottom = min(top + self.scrollable_content_region.height, len(self._shown))
        rows, shown, strips = self._rows, self._shown, self._strips
        for position in range(top, bottom):
            row = rows[shown[position]]
            soonest = min(soonest, next_exact_change(row, now))
            drawn = strips.get(row.group_id)
            if drawn is None or drawn[0] is not row or drawn[1][2] != clock_labels(row, now):
                self.refresh_line(position)
        self._next_exact = soonest

    # ------------------------------------------------------------------ cursor

    def _set_cursor(self, position: int, *, scroll_center: bool = False) -> None:
        old = self.cursor
        self.set_reactive(GroupList.cursor, position)
        if old != position:
            self.refresh_line(old)
            self.refresh_line(position)
        self._scroll_cursor_visible()

    def _scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _move(self, delta: int) -> None:
        if not self._shown:
            return
        self._set_cursor(max(0, min(len(self._shown) - 1, self.cursor + delta)))

    def action_cursor_down(self) -> None:
        """Highlight the next group."""
        self._move(1)

    def action_cursor_up(self) -> None:
        """Highlight the previous group."""
        self._move(-1)

    def action_first(self) -> None:
        """Highlight the first group."""
        self._move(-len(self._shown))

    def action_last(self) -> None:
        """Highlight the last group."""
        self._move(len(self._shown))

    def action_page_down(self) -> None:
        """Move one screen down."""
        self._move(max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        """Move one screen up."""
        self._move(-max(self.scrollable_content_region.height - 1, 1))

    def action_open(self) -> None:
        """Open the highlighted group (posts :class:`GroupOpened`)."""
        row = self.highlighted
        if row is not None:
            self.post_message(self.GroupOpened(self, row))

    def on_click(self, event: events.Click) -> None:
        """A click selects the row under the pointer; a double click, or a click on the
        row already selected, opens it. (The wheel scrolls, as in any ScrollView.)"""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        position = int(self.scroll_y) + offset.y
        if not 0 <= position < len(self._shown):
            return
        event.stop()
        self.focus()
        if event.chain >= 2 or position == self.cursor:
            self._set_cursor(position)
            self.action_open()
        else:
            self._set_cursor(position)

    def on_resize(self) -> None:
        """Keep the cursor visible (rows re-lay out by their width, see render_line)."""
        self._scroll_cursor_visible()

    def _columns_for(self, width: int) -> Columns:
        """The column widths for ``width`` cells (kept while the width stays)."""
        if width != self._columns_width:
            self._columns = self.column_widths(width)
            self._columns_width = width
        return self._columns

    # ------------------------------------------------------------------ drawing

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's filters; spacing marks are compensated in :meth:`render_line`."""
        return without_spacing_marks_filter(super().get_line_filters())

    def notify_style_update(self) -> None:
        """Styles changed (theme, focus): drawn rows are stale."""
        self._strips.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        """Draw screen line ``y``: the row at ``scroll_y + y`` or a blank line.

        Args:
            y: Line within the visible region.

        Returns:
            One strip exactly as wide as the content region.
        """
        width = self.scrollable_content_region.width
        position = int(self.scroll_y) + y
        base = self.rich_style
        if position >= len(self._shown):
            return Strip.blank(width, base)
        columns = self._columns_for(width)
        row = self._rows[self._shown[position]]
        selected = position == self.cursor
        # Every row drawn (from the cache too) has its band change checked by the tick.
        self._next_exact = min(self._next_exact, next_exact_change(row, self._now))
        # Rows drawn again with the same clock labels (a filter keystroke that keeps them
        # on screen, the cursor passing by) come from the cache; ticks compare index 2.
        labels = clock_labels(row, self._now)
        # A row is laid out for one width and one theme: a resize (even one painted
        # before this widget's Resize event) or a theme change draws it again.
        key = (selected, width, labels, self.has_focus, base, self.app.theme)
        cached = self._strips.get(row.group_id)
        if cached is not None and cached[0] is row and cached[1] == key:
            return cached[2]
        strip = _draw_row(self, row, columns, selected, width, base, labels)
        if len(self._strips) > _STRIP_CACHE_MAX:
            self._strips.clear()
        self._strips[row.group_id] = (row, key, strip)
        return strip


def _draw_row(
    widget: GroupList,
    row: InboxRow,
    columns: Columns,
    selected: bool,
    width: int,
    base: Style,
    labels: tuple[str, str, int],
) -> Strip:
    """One row drawn (a module function: :class:`GroupList` stays under 500 lines)."""
    cells = row_columns(row, widget._now, columns, labels)

    def style(name: str) -> Style:
        return widget.get_component_rich_style(name, partial=True)

    line = base + style("group-list--unread") if row.unread else base
    window_style = style(_BAND_STYLE[labels[2]])
    dim = style("group-list--dim")
    # The cursor style goes last so it wins over the column colours.
    post = style("group-list--cursor") if selected else Style()
    mark, count = line + style("group-list--mark"), line + style("group-list--count")
    column_styles = (mark, line, line + dim, count, mark, line, line + dim, line + window_style)
    (marks, mark_style), (subject, subject_style), *others = columns.shown(
        list(zip(cells, column_styles, strict=True))
    )
    parts = [Segment(marks, mark_style + post)]
    if columns.number:
        number = number_cell(row, widget._labels, columns.number)
        parts.append(Segment(number + " ", line + style("group-list--number") + post))
    parts.append(Segment(subject, subject_style + post))
    parts += [Segment(" " + cell, cell_style + post) for cell, cell_style in others]
    return drawn_line(Strip(parts).crop_extend(0, width, base + post), widget)
