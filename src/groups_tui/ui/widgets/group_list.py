"""The inbox list: every group in one keyboard-driven, virtual list.

An account may hold 10,000 groups, so the list never mounts a widget per group. It is a
:class:`~textual.scroll_view.ScrollView` using Textual's Line API: rows stay in memory in
a compact :class:`~groups_tui.service.types.RowTable` (an
:class:`~groups_tui.service.types.InboxRow` is built again only for the rows drawn or
asked for), sorting produces a list of indices, filtering produces a sub-list of those
indices in one O(n) pass over the rows' precomputed folded haystacks (any case, any
accent), and :meth:`GroupList.render_line` draws only the lines that are on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from itertools import compress, repeat
from operator import contains
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from groups_tui.domain.models import GroupState
from groups_tui.domain.text import folded
from groups_tui.domain.window import CLOSING_SOON, WINDOW_SECONDS
from groups_tui.service.types import NO_TIME, InboxRow, RowsView, RowTable
from groups_tui.ui.cell_widths import drawn_line, without_spacing_marks_filter
from groups_tui.ui.widgets.group_rows import (
    Columns,
    clock_labels,
    next_exact_change,
    number_cell,
    row_columns,
    seconds_left,
)
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


def passes(row: InboxRow, quick: frozenset[QuickFilter], now: float) -> bool:
    """Whether ``row`` passes every quick filter of ``quick`` at ``now``."""
    flagged = row.flagged or bool(row.open_flags)
    left = seconds_left(row, now)
    return _passes(quick, left, row.pending_requests, row.unread, flagged)


def _passes(
    quick: frozenset[QuickFilter], left: int, requests: int, unread: int, flagged: bool
) -> bool:
    if QuickFilter.OPEN in quick and left <= 0:
        return False
    if QuickFilter.CLOSING in quick and not 0 < left <= CLOSING_SOON:
        return False
    if QuickFilter.REQUESTS in quick and requests <= 0:
        return False
    if QuickFilter.UNREAD in quick and unread <= 0:
        return False
    return not (QuickFilter.FLAGGED in quick and not flagged)


def _passes_at(table: RowTable, i: int, quick: frozenset[QuickFilter], now: float) -> bool:
    """:func:`passes` for row ``i`` of ``table``, read from its arrays."""
    inbound = table.time("last_inbound_at", i)
    left = 0 if inbound is None else max(inbound + WINDOW_SECONDS - int(now), 0)
    counts = table.counts
    flagged = table.flag("flagged", i) or bool(counts["open_flags"][i])
    return _passes(quick, left, counts["pending_requests"][i], counts["unread"][i], flagged)


_BAND_STYLE = ("group-list--closed", "group-list--closing", "group-list--open")
"""Component class of the countdown for each band of :func:`clock_labels`."""

_STRIP_CACHE_MAX = 2_000
"""Rendered rows kept (a few screens' worth), and records built again from the table."""


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
        self._table = RowTable()
        self._built: dict[int, InboxRow] = {}  # records built again, by row (_record)
        self._order: list[int] = []
        self._order_hays: list[str] = []  # the rows' haystacks, in that order
        self._typed: dict[str, tuple[list[int], list[str]]] = {}  # results by filter text
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
        self._base_style: Style | None = None  # while render_lines draws
        self._labels: Mapping[str, str] = {}
        """Number labels by id, when the number column is shown (else empty)."""
        self._number: str | None = None
        """The number whose groups alone are shown, if any."""

    # ------------------------------------------------------------------ data

    @property
    def rows(self) -> RowsView:
        """Every row held, in load order (each record built on access)."""
        return RowsView(self._table)

    def rows_containing(self, needle: str) -> Iterator[InboxRow]:
        """The rows (load order) whose haystack contains ``needle`` (folded)."""
        return self._table.containing(needle)

    @property
    def total(self) -> int:
        """Rows held."""
        return len(self._table)

    def _kept(self) -> int | None:
        """The row under the cursor (its index in the table), if any."""
        return self._shown[self.cursor] if 0 <= self.cursor < len(self._shown) else None

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
        keep = self._kept()
        self._show_deleted = show
        self._refilter(keep)

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
        keep = self._kept()
        self._number = number
        self._refilter(keep)

    @property
    def highlighted(self) -> InboxRow | None:
        """The row under the cursor, if any."""
        kept = self._kept()
        return None if kept is None else _record(self, kept)

    def row_at(self, position: int) -> InboxRow:
        """The row shown at ``position`` (0 = top of the list)."""
        return _record(self, self._shown[position])

    def set_rows(self, rows: Iterable[InboxRow] | RowTable) -> None:
        """Replace every row, keeping the highlighted group when it is still shown."""
        keep = self.highlighted
        self._table = _as_table(rows)
        self._built.clear()
        self._resort(None if keep is None else self._table.find(keep.group_id))

    def update_rows(
        self,
        rows: Iterable[InboxRow] | RowTable,
        removed: Iterable[str] = (),
        *,
        more: bool = False,
    ) -> None:
        """Patch changed groups in place (and drop removed ones), then re-sort once.

        Args:
            rows: New versions of changed or added groups (records, or a table of them).
            removed: Group ids no longer in the inbox.
            more: More rows follow at once: the order, the filters and the counts wait
                for them (the rows shown stay as they are).
        """
        keep = _patched(self, _as_table(rows), set(removed), self._kept(), more)
        if not more:
            self._resort(keep)

    def set_hidden_columns(self, hidden: frozenset[str]) -> None:
        """Show every column but these; every row is laid out again."""
        self.hidden_columns = frozenset(hidden) & frozenset(Columns.widths())
        self.set_number_column(self._labels)  # every row laid out again

    def set_sort(self, mode: SortMode) -> None:
        """Order the list by ``mode``, keeping the highlighted group."""
        keep = self._kept()
        self._sort = mode
        self._resort(keep)

    def set_query(self, query: str) -> None:
        """Filter as you type: keep rows whose haystack contains ``query`` (any case, any
        accent: ``sofia`` finds Sofía, ``björn`` finds Bjorn).

        Typing on narrows the result kept for the text it extends, deleting returns to
        the one kept for the shorter text (see :func:`_filtered`), and only the lines
        whose row changed are drawn again."""
        keep = self._kept()
        self._query = folded(query.strip())
        top, drawn = int(self.scroll_y), self.scrollable_content_region.height
        before = self._shown[top : top + drawn]
        self._refilter(keep, typed=True)
        if int(self.scroll_y) != top or drawn != self.scrollable_content_region.height:
            self.refresh()
        else:
            _repaint_changed(self, top, before)

    def set_quick_filters(self, filters: frozenset[QuickFilter]) -> None:
        """Replace the active quick filters."""
        keep = self._kept()
        self._quick = filters
        self._refilter(keep)

    def toggle_quick_filter(self, quick: QuickFilter) -> bool:
        """Switch one quick filter on or off.

        Returns:
            True if it is now on.
        """
        on = quick not in self._quick
        self.set_quick_filters(self._quick | {quick} if on else self._quick - {quick})
        return on

    def _resort(self, keep: int | None) -> None:
        table = self._table
        self._order = order = sorted(
            range(len(table)), key=_sort_key(table, self._sort, int(self._now))
        )
        self._order_hays = list(map(table.hays.__getitem__, order))
        deleted = table.code("state", GroupState.DELETED)
        self._deleted = 0 if deleted is None else table.codes["state"].count(deleted)
        self._refilter(keep)

    def _refilter(self, keep: int | None, *, typed: bool = False) -> None:
        """The rows shown again, row ``keep`` highlighted (``typed``: the text changed
        alone)."""
        self._shown = shown = _filtered(self, typed)
        set_virtual_height(self, len(shown))
        position = 0
        if keep is not None:
            try:
                position = shown.index(keep)
            except ValueError:
                position = 0
        self._set_cursor(min(position, max(len(shown) - 1, 0)), scroll_center=False)
        if not typed:
            self.refresh()
        self.post_message(self.Filtered(self, len(shown), len(self._table)))

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
        shown, strips = self._shown, self._strips
        for position in range(top, bottom):
            row = _record(self, shown[position])
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

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw ``crop``'s lines with the base style worked out once (Textual derives it
        from every ancestor's styles: ~0.15 ms, most of a keystroke's drawing per line)."""
        self._base_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    def render_line(self, y: int) -> Strip:
        """Draw screen line ``y``: the row at ``scroll_y + y`` or a blank line.

        Args:
            y: Line within the visible region.

        Returns:
            One strip exactly as wide as the content region.
        """
        width = self.scrollable_content_region.width
        position = int(self.scroll_y) + y
        base = self._base_style if self._base_style is not None else self.rich_style
        if position >= len(self._shown):
            return Strip.blank(width, base)
        columns = self._columns_for(width)
        row = _record(self, self._shown[position])
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


def _record(view: GroupList, i: int) -> InboxRow:
    """Row ``i``'s record, built once while the row stays the same."""
    row = view._built.get(i)
    if row is None:
        if len(view._built) > _STRIP_CACHE_MAX:
            view._built.clear()
        row = view._built[i] = view._table.row(i)
    return row


def _as_table(rows: Iterable[InboxRow] | RowTable) -> RowTable:
    if isinstance(rows, RowTable):
        return rows
    table = RowTable()
    table.extend(list(rows))
    return table


def _sort_key(table: RowTable, mode: SortMode, now: int) -> Callable[[int], Any]:
    """The key ordering row indices by ``mode`` at ``now``."""
    recent = [-(0 if t == NO_TIME else t) for t in table.times["last_activity_at"]]
    if mode is SortMode.CLOSING:
        inbound = table.times["last_inbound_at"]

        def closing(i: int) -> tuple[int, int, int]:
            left = 0 if inbound[i] == NO_TIME else inbound[i] + WINDOW_SECONDS - now
            return (0, left, recent[i]) if left > 0 else (1, 0, recent[i])

        return closing
    if mode is SortMode.UNREAD:
        unread = table.counts["unread"]
        return lambda i: (-unread[i], recent[i])
    return recent.__getitem__


def _filtered(view: GroupList, typed: bool) -> list[int]:
    """The rows that pass every filter, in order; keeps the result by filter text (see
    :meth:`GroupList.set_query`) unless quick filters, which move with the clock, are on."""
    query, kept = view._query, view._typed
    if typed:
        # Only results for texts this one extends can serve again (deleting returns to them).
        kept = {text: found for text, found in kept.items() if query.startswith(text)}
    base = max(kept, key=len, default=None) if typed and not view._quick else None
    # A kept result has passed the deleted and number filters already.
    shown, hays = kept[base] if base is not None else _candidates(view)
    if query and base != query:
        # Substring tests over the precomputed folded haystacks, without a Python loop.
        matched = list(map(contains, hays, repeat(query)))
        shown = list(compress(shown, matched))
        hays = list(compress(hays, matched))
    if view._quick:
        quick, now, table = view._quick, view._now, view._table
        view._typed = {}
        return [i for i in shown if _passes_at(table, i, quick, now)]
    view._typed = {**kept, query: (shown, hays)} if typed else {query: (shown, hays)}
    return list(shown) if shown is view._order else shown


def _repaint_changed(view: GroupList, top: int, before: list[int]) -> None:
    """Ask for the lines from ``top`` whose row is no longer the one of ``before`` (each
    run of them at once)."""
    height = view.scrollable_content_region.height
    after = view._shown[top : top + height]
    start = None
    for y in range(height + 1):
        changed = y < height and (after[y] if y < len(after) else None) != (
            before[y] if y < len(before) else None
        )
        if changed and start is None:
            start = y
        elif not changed and start is not None:
            view.refresh_lines(top + start, y - start)
            start = None


def _candidates(view: GroupList) -> tuple[list[int], list[str]]:
    """Every row in order, less hidden deleted groups and other numbers' groups, with
    their haystacks (what a filter text is looked for in)."""
    shown, hays = view._order, view._order_hays
    table, number = view._table, view._number
    hide = bool(view._deleted) and not view._show_deleted
    if hide or number is not None:
        states, numbers = table.codes["state"], table.codes["phone_number_id"]
        deleted = table.code("state", GroupState.DELETED) if hide else None
        wanted = None if number is None else table.code("phone_number_id", number)
        shown = [
            i for i in shown if states[i] != deleted and (number is None or numbers[i] == wanted)
        ]
        hays = list(map(table.hays.__getitem__, shown))
    return shown, hays


def _patched(
    view: GroupList, rows: RowTable, gone: set[str], keep: int | None, more: bool
) -> int | None:
    """Patch ``rows`` into the table (new groups after the others), drop the groups of
    ``gone``; where the row ``keep`` is now (``more``: more pages follow at once)."""
    table, built = view._table, view._built
    keep_id = None if keep is None or not gone else table.group_id(keep)
    ids = rows.ids()
    if len(set(ids)) < len(ids):
        # A group twice: where it first is, as it last is.
        last = {group_id: j for j, group_id in enumerate(ids)}
        rows, ids = rows.keep(list(last.values())), list(last)
    positions = table.positions(ids, hold=more)
    if positions.count(None) == len(positions):  # every group is new (a page at load)
        table.append(rows, ids)
    else:
        for j, i in enumerate(positions):
            if i is not None:
                table.set(i, rows.row(j))
                built.pop(i, None)
        table.append(rows.keep([j for j, i in enumerate(positions) if i is None]))
    if gone:
        held = table.ids()
        view._table = table = table.keep([i for i, g in enumerate(held) if g not in gone])
        built.clear()
        return None if keep_id is None else table.find(keep_id)
    return keep


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
