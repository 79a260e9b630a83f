"""The inbox: every group in one list, filtered as you type.

Columns: flags, subject, members (n/8), unread, pending join requests, last message
(sender: text), age of the last activity, and the window countdown. The list is a Line
API widget (:class:`~groups_tui.ui.widgets.group_list.GroupList`), so 10,000 groups cost
no more to draw than twenty.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from groups_tui.service.types import InboxRow
from groups_tui.ui.screen_roles import FollowsChanges, OffersPaletteActions, Ticking
from groups_tui.ui.screens._base import AppScreen, Needs
from groups_tui.ui.widgets.filter_input import FilterInput
from groups_tui.ui.widgets.group_list import Columns, GroupList, QuickFilter, SortMode
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["InboxScreen"]

_SORT_LABEL = {
    SortMode.ACTIVITY: "activity",
    SortMode.CLOSING: "closing soonest",
    SortMode.UNREAD: "unread",
}

LOADING = "loading groups…"
"""What the counts label says until the first rows arrive (the screen is drawn first)."""
NOT_ALL_LOADED = "load failed"
"""What the counts add once a page of rows failed (until the next full load)."""

_RELOAD_ALL_ABOVE = 200
"""Above this many changed groups in one burst, reload the whole inbox instead."""
_REST_PAGE = 5_000
"""Rows read at a time after the first screen's."""


_COLUMN_TITLES = {
    "members": "Mbr (members)",
    "unread": "New (unread)",
    "requests": "Req (join requests)",
    "activity": "Act (last activity)",
    "window": "Window (countdown)",
}
"""The optional columns as the palette names them."""


class ColumnTitles(Static):
    """The inbox's column titles, aligned with :class:`GroupList` rows."""

    def render(self) -> Text:
        """Titles sized like the list's columns (the list has a one-cell scrollbar)."""
        width = max(self.size.width - 1, 0)
        lists = self.screen.query(GroupList)
        cols = lists.first().column_widths(width) if lists else Columns.for_width(width)
        marks = " " * Columns.MARKS
        if cols.number:
            title = "Number" if cols.number >= 6 else "No."
            marks += title.ljust(cols.number) + " "
        parts = cols.shown(
            [
                marks,
                "Subject".ljust(cols.subject),
                "Mbr".rjust(Columns.MEMBERS),
                "New".rjust(Columns.UNREAD),
                "Req".rjust(Columns.REQUESTS),
                "Last message".ljust(cols.last),
                "Act".rjust(Columns.ACTIVITY),
                "Window".rjust(Columns.WINDOW),
            ]
        )
        return Text(parts[0] + parts[1] + " " + " ".join(parts[2:]), no_wrap=True, end="")


class InboxScreen(AppScreen, FollowsChanges, Ticking, OffersPaletteActions):
    """Every group, sortable and filterable, opened with Enter.

    ``/`` filters as you type on subject, member names and numbers; ``o``, ``c``,
    ``r``, ``u`` and ``f`` toggle quick filters; ``s`` cycles the sort order.
    """

    _counts_text = ""
    """What the counts label shows (it is only updated when that changes)."""

    _deferred_reset = False
    """A reload is due when the inbox is shown again."""

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {
        "new_group": "admin.create_group",
        "delete_group": "admin.delete_group",
    }
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="inbox.filter", tooltip="Filter as you type"),
        Binding("s", "cycle_sort", "Sort", id="inbox.sort", tooltip="Activity / closing / unread"),
        Binding(
            "o",
            "quick_filter('open')",
            "Open win",
            id="inbox.f_open",
            tooltip="Only groups whose 24-hour window is open",
        ),
        Binding(
            "c",
            "quick_filter('closing')",
            "<1h",
            id="inbox.f_closing",
            tooltip="Only windows closing within an hour",
        ),
        Binding(
            "r",
            "quick_filter('requests')",
            "Requests",
            id="inbox.f_requests",
            tooltip="Only groups with pending join requests",
        ),
        Binding(
            "u",
            "quick_filter('unread')",
            "Unread",
            id="inbox.f_unread",
            show=False,
            tooltip="Only groups with unread messages",
        ),
        Binding(
            "f",
            "quick_filter('flagged')",
            "Flagged",
            id="inbox.f_flagged",
            show=False,
            tooltip="Only flagged groups (open moderation flags, marked !)",
        ),
        Binding(
            "x",
            "quick_filter('')",
            "Clear",
            id="inbox.f_clear",
            show=False,
            tooltip="Clear the filter text and quick filters",
        ),
        Binding(
            "d",
            "toggle_deleted",
            "Deleted",
            id="inbox.deleted",
            show=False,
            tooltip="Show or hide deleted groups (hidden by default)",
        ),
        Binding("n", "new_group", "New", id="inbox.new", tooltip="Create a group"),
        Binding("m", "members", "Members", id="inbox.members", tooltip="Members of this group"),
        Binding(
            "J",
            "join_requests",
            "Requests",
            id="inbox.requests",
            show=False,
            tooltip="Join requests of this group",
        ),
        Binding("M", "moderation", "Mod queue", id="inbox.moderation", tooltip="Flagged spam"),
        Binding("A", "audit", "Audit", id="inbox.audit", show=False, tooltip="Audit log"),
        Binding(
            "dollar_sign", "spend", "Spend", id="inbox.spend", show=False, tooltip="Daily spend"
        ),
        Binding(
            "i",
            "invite_link",
            "Link",
            id="inbox.link",
            show=False,
            tooltip="Invite link and QR code of this group",
        ),
        Binding(
            "D",
            "delete_group",
            "Delete",
            id="inbox.delete",
            show=False,
            tooltip="Delete this group (type its subject to confirm)",
        ),
        Binding("escape", "escape", "Back", show=False, id="inbox.escape"),
        # With several business numbers only (check_action hides them otherwise).
        Binding(
            "1",
            "number_filter(1)",
            "Number",
            id="inbox.number_1",
            key_display="1-9",
            tooltip="Only the groups of number 1, 2...9 (again: every number)",
        ),
        *(Binding(str(n), f"number_filter({n})", f"Number {n}", show=False) for n in range(2, 10)),
        Binding(
            "L",
            "toggle_number_column",
            "Number col",
            id="inbox.number_column",
            tooltip="Show or hide the number column",
        ),
        Binding(
            "N",
            "spend_by_number",
            "By number",
            id="inbox.spend_by_number",
            tooltip="Today's spend and this month's free allowance, number by number",
        ),
    ]
    """Inbox keys; list navigation lives on :class:`GroupList`."""

    NUMBER_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"number_filter", "toggle_number_column", "spend_by_number"}
    )
    """Actions that exist only when the account has several numbers."""

    PALETTE_ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Members of this group", "members", "Remove, mark, history (m)"),
        ("Join requests of this group", "join_requests", "Approve or reject (J)"),
        ("Invite link of this group", "invite_link", "Copy, QR code, reset (i)"),
        ("Delete this group…", "delete_group", "Type the subject to confirm (D)"),
        *(
            (f"Inbox column {title}: show or hide", f"toggle_column('{name}')", "Remembered")
            for name, title in _COLUMN_TITLES.items()
        ),
    )
    """Entries this screen adds to the command palette."""

    def compose(self) -> ComposeResult:
        """Header, filter bar, column titles, the list and the footer."""
        yield StatusHeader()
        with Horizontal(id="filter-bar"):
            yield FilterInput(placeholder="/ filter: subject, member, number", id="filter")
            yield Static(LOADING, id="counts")
        yield ColumnTitles(id="columns")
        yield GroupList(now=self.app.now(), id="groups")
        yield KeyBar()

    @property
    def group_list(self) -> GroupList:
        """The list widget."""
        return self.query_one(GroupList)

    def rows_containing(self, needle: str) -> Iterator[InboxRow]:
        """The rows held (load order) whose haystack contains ``needle`` (folded)."""
        return self.group_list.rows_containing(needle)

    def on_mount(self) -> None:
        """Fill the header and load the groups."""
        self._deferred_ids: set[str] = set()
        self.query_one(FilterInput).on_value = self._filter_changed
        self.app.apply_header(self.query_one(StatusHeader))
        self._apply_preferences()
        self.group_list.focus()
        if self._several_numbers() and self.app.number_column:
            self._show_number_column(True)
        self._load_all()

    def _apply_preferences(self) -> None:
        """The remembered sort order and hidden columns."""
        preferences = self.app.preferences
        if preferences.inbox_sort in {m.value for m in SortMode}:
            self.group_list.set_sort(SortMode(preferences.inbox_sort))
        self._show_columns(preferences.hidden_columns)

    def _show_columns(self, hidden: frozenset[str]) -> None:
        self.group_list.set_hidden_columns(hidden)
        self.query_one(ColumnTitles).refresh()

    # ------------------------------------------------------------------ numbers

    def _several_numbers(self) -> bool:
        return len(self.app.service.numbers) > 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The number keys exist only when the account has several numbers (and a
        digit only up to the number of numbers); what the operator's role does not
        allow is greyed out."""
        if action not in self.NUMBER_ACTIONS:
            return super().check_action(action, parameters)
        numbers = self.app.service.numbers
        if len(numbers) < 2:
            return False
        if action == "number_filter" and parameters:
            return isinstance(parameters[0], int) and parameters[0] <= len(numbers)
        return True

    def _show_number_column(self, shown: bool) -> None:
        service = self.app.service
        labels = {n.phone_number_id: n.label for n in service.numbers} if shown else None
        self.group_list.set_number_column(labels)
        self.query_one(ColumnTitles).refresh()

    def action_toggle_number_column(self) -> None:
        """Show or hide the number column (remembered for the session)."""
        self.app.number_column = not self.group_list.number_column
        self._show_number_column(self.app.number_column)

    def action_number_filter(self, position: int) -> None:
        """Only the groups of the number at ``position`` (1-based); again: every number."""
        numbers = self.app.service.numbers
        if not 1 <= position <= len(numbers):
            return
        chosen = numbers[position - 1].phone_number_id
        group_list = self.group_list
        group_list.set_number_filter(None if group_list.number_filter == chosen else chosen)
        self._show_counts(len(group_list.shown), group_list.total)

    def action_spend_by_number(self) -> None:
        """Today's spend and this month's allowance, number by number."""
        self.app.navigation.open_spend_by_number()

    @property
    def number_filter(self) -> str | None:
        """The number (id) whose groups alone are shown, if any."""
        return self.group_list.number_filter

    def on_screen_resume(self) -> None:
        """Back from a conversation: refresh the header, the countdowns and the rows of
        groups that changed meanwhile."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.tick(self.app.now())
        if self._deferred_ids or self._deferred_reset:
            ids, reset = self._deferred_ids, self._deferred_reset
            self._deferred_ids, self._deferred_reset = set(), False
            self.apply_changes(ids, reset)

    def on_resize(self, event: Resize) -> None:
        """Toggle the narrow layout under 100 columns."""
        self.set_class(event.size.width < 100, "-narrow")

    # ------------------------------------------------------------------ loading

    all_loaded = False
    """Every group's row is in memory (the first screen's come first, the rest after)."""

    load_failed = False
    """A page of rows could not be read: the list holds only the rows read before it."""

    @work(exclusive=True, group="inbox-load", exit_on_error=False)
    async def _load_all(self) -> None:
        # The first screen's rows first, drawn at once; then every other row, read while
        # that screen is on show. Until they are in, the filter and the quick filters
        # cover the rows loaded, and run again over every row when the rest arrives (the
        # counts say "loading" meanwhile).
        self.all_loaded = False
        self.load_failed = False
        first, after = await self.app.initial_inbox_page()
        self.group_list.set_rows(first)
        if after is not None:
            try:
                while after is not None:
                    # In pages, each read as the list keeps it (compactly: no record
                    # is built), so what is read on the way stays small.
                    rest, after = await self.app.service.reading.inbox_page(after, _REST_PAGE)
                    # Merged by group: a row patched from the change feed meanwhile stays
                    # patched. The order waits for the last page.
                    self.group_list.update_rows(rest, more=after is not None)
            except Exception:
                # The rows read so far are shown, in order, and the counts say some are
                # missing; the error itself is reported by the worker.
                self.load_failed = True
                self.group_list.update_rows(())
                self._show_counts(len(self.group_list.shown), self.group_list.total)
                raise
            finally:
                self.app.inbox_complete()
        self.all_loaded = True
        group_list = self.group_list
        self._show_counts(len(group_list.shown), group_list.total)

    @work(group="inbox-patch", exit_on_error=False)
    async def _patch(self, group_ids: list[str]) -> None:
        service = self.app.service
        changed: list[InboxRow] = []
        removed: list[str] = []
        for group_id in group_ids:
            row = await service.reading.inbox_row(group_id)
            if row is None:
                removed.append(group_id)
            else:
                changed.append(row)
        with self.app.batch_update():
            self.group_list.update_rows(changed, removed)

    def apply_changes(self, group_ids: Iterable[str], reset: bool) -> None:
        """Patch the rows of changed groups (called by the app once per burst).

        While a full screen (a conversation...) covers the inbox, the changes are only
        noted and applied when it comes back: repainting hidden rows would also repaint
        the screen on top, once per burst of webhooks.
        """
        screen = self.app.screen
        if screen is not self and not isinstance(screen, ModalScreen):
            self._deferred_ids.update(group_ids)
            self._deferred_reset = self._deferred_reset or reset
            return
        ids = sorted(group_ids)
        if reset or len(ids) > _RELOAD_ALL_ABOVE:
            self._load_all()
        elif ids:
            self._patch(ids)

    def tick(self, now: float) -> None:
        """Advance countdowns and ages; only visible lines repaint."""
        self.query_one(StatusHeader).tick(now)
        self.group_list.tick(now)

    # ------------------------------------------------------------------ events

    @on(GroupList.GroupOpened)
    def _open(self, event: GroupList.GroupOpened) -> None:
        self.app.navigation.open_group(event.row.group_id)

    @on(GroupList.Filtered)
    def _counts(self, event: GroupList.Filtered) -> None:
        self._show_counts(event.shown, event.total)

    def _show_counts(self, shown: int, total: int) -> None:
        group_list = self.group_list
        text = f"{shown:,}/{total:,} · sort {_SORT_LABEL[group_list.sort_mode]}"
        if group_list.number_filter is not None:
            text += " · " + self.app.service.label(group_list.number_filter)
        if group_list.quick_filters:
            text += " · " + ",".join(sorted(q.value for q in group_list.quick_filters))
        if not self.all_loaded:
            text += f" · {NOT_ALL_LOADED}" if self.load_failed else " · loading"
        deleted = group_list.deleted_count
        # The legend of deleted groups, on the counts' second line.
        if deleted and group_list.show_deleted:
            text += "\n✗ deleted group · d hides"
        elif deleted:
            text += f"\n{deleted:,} deleted hidden · d shows"
        counts = self.query_one("#counts", Static)
        if text != self._counts_text:
            self._counts_text = text
            # Fixed width (styles/inbox.tcss): a new count repaints one line, not the screen.
            counts.update(Text(text, no_wrap=True, overflow="ellipsis"), layout=False)
        # On the label, not the screen: a class on the screen restyles and repaints every
        # widget of it (the first key typed and the last one deleted cost twice the rest).
        filtered = group_list.quick_filters or group_list.filter_text or group_list.number_filter
        counts.set_class(bool(filtered), "-filtered")

    def _filter_changed(self, value: str) -> None:
        """The filter box's value changed (called by the box itself, see FilterInput)."""
        group_list = self.group_list
        group_list.set_query(value)
        # Now rather than on the Filtered message, so a keystroke is drawn in one frame.
        self._show_counts(len(group_list.shown), group_list.total)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.group_list.focus()

    # ------------------------------------------------------------------ actions

    def _highlighted_id(self) -> str | None:
        row = self.group_list.highlighted
        return row.group_id if row is not None else None

    def action_new_group(self) -> None:
        """Create a group (on the number shown, when the list shows one)."""
        self.app.navigation.new_group(self.group_list.number_filter)

    def action_members(self) -> None:
        """Open the highlighted group's members."""
        group_id = self._highlighted_id()
        if group_id is not None:
            self.app.navigation.open_members(group_id)

    def action_join_requests(self) -> None:
        """Open the highlighted group's join requests."""
        group_id = self._highlighted_id()
        if group_id is not None:
            self.app.navigation.open_join_requests(group_id)

    def action_invite_link(self) -> None:
        """Open the highlighted group's invite link."""
        group_id = self._highlighted_id()
        if group_id is not None:
            self.app.navigation.open_invite_link(group_id)

    def action_delete_group(self) -> None:
        """Delete the highlighted group, after the typed confirmation."""
        group_id = self._highlighted_id()
        if group_id is not None:
            self.app.navigation.delete_group(group_id)

    def action_moderation(self) -> None:
        """Open the moderation queue."""
        self.app.navigation.open_moderation_queue()

    def action_audit(self) -> None:
        """Open the audit log."""
        self.app.navigation.open_audit_log()

    def action_spend(self) -> None:
        """Open the daily spend chart."""
        self.app.navigation.open_spend()

    def action_focus_filter(self) -> None:
        """Put the cursor in the filter box now (not after the keys already queued: they
        are text for the box, see :meth:`GroupsApp.on_event`)."""
        self.set_focus(self.query_one("#filter", Input))

    def action_escape(self) -> None:
        """From the filter box, return to the list; on the list, clear the filter text."""
        filter_input = self.query_one("#filter", Input)
        if filter_input.has_focus:
            self.group_list.focus()
        elif filter_input.value:
            filter_input.value = ""

    def action_toggle_deleted(self) -> None:
        """Show the deleted groups (marked ✗), or hide them again."""
        group_list = self.group_list
        group_list.set_show_deleted(not group_list.show_deleted)
        self._show_counts(len(group_list.shown), group_list.total)

    def action_cycle_sort(self) -> None:
        """Activity → closing soonest → unread → activity."""
        order = list(SortMode)
        current = order.index(self.group_list.sort_mode)
        self.action_sort_by(order[(current + 1) % len(order)].value)

    def action_sort_by(self, mode: str) -> None:
        """Sort by ``activity``, ``closing`` or ``unread``."""
        self.group_list.set_sort(SortMode(mode))
        self.app.remember(inbox_sort=mode)

    def action_toggle_column(self, name: str) -> None:
        """Show or hide one optional column; the choice is remembered."""
        if name not in _COLUMN_TITLES:
            return
        hidden = self.group_list.hidden_columns ^ {name}
        self._show_columns(hidden)
        self.app.remember(hidden_columns=self.group_list.hidden_columns)

    def action_quick_filter(self, name: str) -> None:
        """Toggle one quick filter; an empty name clears every filter."""
        if not name:
            self.query_one("#filter", Input).value = ""
            self.group_list.set_query("")
            self.group_list.set_number_filter(None)
            self.group_list.set_quick_filters(frozenset())
            return
        self.group_list.toggle_quick_filter(QuickFilter(name))
