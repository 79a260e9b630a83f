"""The Textual application: wiring, the clock, the change feed and the command palette.

Nothing here runs at import time. :func:`make_app` builds the app from an
:class:`~groups_tui.service.InboxService` (or a fake with the same methods) and an
injected clock, which is what the CLI and the tests both call.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.events import Event, Key
from textual.filter import LineFilter
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker

from groups_tui.domain.pricing import Evidence
from groups_tui.service import InboxService, ServiceError
from groups_tui.service.types import (
    AccountInfo,
    Change,
    GroupDetail,
    InboxCursor,
    InboxRow,
    ListenerStatus,
    NumberSpend,
    RowTable,
)
from groups_tui.ui.cell_widths import SpacingMarksFilter, spacing_marks_counted
from groups_tui.ui.host import HostApp, report_worker_error
from groups_tui.ui.key_order import text_box
from groups_tui.ui.messages import FeedChanged
from groups_tui.ui.navigation import Navigation
from groups_tui.ui.palette import GroupsCommands
from groups_tui.ui.preferences import Preferences, PreferencesFile
from groups_tui.ui.screen_roles import FollowsChanges, ShowsGroup, Ticking
from groups_tui.ui.widgets.safe_text import fit
from groups_tui.ui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from groups_tui.ui.screens.automations import AutomationsPanel

__all__ = ["GroupsApp", "make_app", "styles_dir"]

STYLE_FILES: tuple[str, ...] = (
    "base.tcss",
    "inbox.tcss",
    "conversation.tcss",
    "template_picker.tcss",
    "search.tcss",
    "help.tcss",
    "confirm.tcss",
    "admin.tcss",
    "create_group.tcss",
    "invite_link.tcss",
    "invite_people.tcss",
    "group_settings.tcss",
    "members.tcss",
    "join_requests.tcss",
    "delete_group.tcss",
    "moderation_queue.tcss",
    "audit_log.tcss",
    "message_state.tcss",
    "automations.tcss",
    "spend_by_number.tcss",
    "spend.tcss",
)
"""Stylesheets, in cascade order (base first)."""


def styles_dir() -> Path:
    """Where the ``*.tcss`` files are.

    In an installed wheel ``styles/`` is shipped as ``groups_tui/styles``; in the editable
    development install it is the repository's top-level ``styles/``.

    Returns:
        The first of the two directories that exists.
    """
    packaged = Path(__file__).parents[1] / "styles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parents[3] / "styles"


FIRST_SCREEN_ROWS = 200
"""Inbox rows read before the first frame; the rest are read once it is drawn."""

SPACING_MARKS_FILTER = SpacingMarksFilter()
"""Installed when spacing marks are drawn one cell wide (see :mod:`.cell_widths`)."""


def binding_ids() -> set[str]:
    """The id of every binding of groups-tui (what ``[keys]`` may remap).

    Every screen and widget module is imported (only when a ``[keys]`` table is set).
    """
    from groups_tui.ui import screens, widgets

    for package in (screens, widgets):
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
    ids: set[str] = set()
    pending: list[type[DOMNode]] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("groups_tui."):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    return ids


class GroupsApp(HostApp):
    """groups-tui: a keyboard-driven inbox for WhatsApp Cloud API groups.

    The app owns the one-second timer that drives every countdown, follows the store's
    change feed in a worker, and turns failed service calls into notifications.
    """

    TITLE = "groups-tui"
    CSS_PATH = [str(styles_dir() / name) for name in STYLE_FILES]
    COMMANDS = App.COMMANDS | {GroupsCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Keys of this screen"),
        Binding(
            "colon",
            "command_palette",
            "Commands",
            id="app.palette",
            tooltip="Every action, searchable",
        ),
        Binding("ctrl+f", "search", "Search", id="app.search", tooltip="Search all messages"),
        Binding(
            "ctrl+o",
            "automations",
            "Automations",
            show=False,
            id="app.automations",
            tooltip="Invite rules and forwarding targets, pause and runs",
        ),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave groups-tui"),
    ]
    """Keys available on every screen."""

    def __init__(
        self,
        service: InboxService,
        *,
        clock: Callable[[], float],
        bell: bool = True,
        sandbox_note: str | None = None,
        sandbox_resettable: bool = False,
        automations: AutomationsPanel | None = None,
        freeze_heap: bool = False,
        preferences: PreferencesFile | None = None,
        keymap: Mapping[str, str] | None = None,
        on_started: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Create the app; prefer :func:`make_app`.

        Args:
            service: The façade every screen calls.
            clock: Returns now as epoch seconds (frozen in tests).
            bell: Ring the terminal bell for new messages in groups that are not open.
            sandbox_note: A notice shown in the header in sandbox mode.
            sandbox_resettable: This process runs the embedded sandbox, which the operator
                may start afresh (not on a live account, nor as a daemon's client).
            automations: Status and pause switches of configured automations, if any.
            freeze_heap: Once the inbox is first drawn, move everything alive into the
                collector's permanent generation (see :meth:`freeze_heap`).
            preferences: Where the operator's choices are kept across runs (``None``:
                remembered for this run only).
            keymap: The ``[keys]`` table: binding id to the keys that replace its own.
            on_started: Run once every inbox row is in (what can wait until
                the operator sees the inbox: the background workers).
        """
        super().__init__()
        self._preferences_file = preferences
        self.preferences = preferences.load() if preferences is not None else Preferences()
        self._keymap = dict(keymap or {})
        self.service = service
        self.clock = clock
        self.bell_enabled = bell
        self.sandbox_note = sandbox_note
        self.sandbox_resettable = sandbox_resettable
        self.automations = automations
        """Status and pause switches of the automations, when configured."""
        self.navigation: Navigation = Navigation(self, automations)
        self.account: AccountInfo | None = getattr(service, "account", None)
        self.listener: ListenerStatus | None = None
        self.spend: Decimal | None = None
        self.spend_numbers: tuple[NumberSpend, ...] = ()
        """Spend and allowance of each number (several numbers only)."""
        self.number_column = True
        self.pricing_contradictions: tuple[Evidence, ...] = ()
        self.open_flags = 0
        """Open moderation flags (the header shows them)."""
        """What Meta charged against the configured reading of a disputed rule."""
        self.bells = 0
        """Bells rung (tests assert on it)."""
        self._pending_groups: set[str] = set()
        self._pending_kinds: set[str] = set()
        self._pending_content: set[str] = set()
        """Groups with changes other than a read mark since the last repaint."""
        self._new_message_groups: set[str] = set()
        self._last_change_id = 0
        self.changes_applied = 0
        """Feed batches applied (each one repaint), for tests and the bench."""
        self._freeze_heap = freeze_heap
        self._on_started = on_started
        self._evidence_requested = False
        self._freeze_rest = False
        """Start-up froze the first screen's rows; the rest are still being read."""
        self._inbox_prefetch: asyncio.Task[tuple[RowTable, InboxCursor | None]] | None = None
        try:
            # Read the inbox while the terminal is being set up: the query runs on the
            # database thread, overlapping Textual's start-up on this one.
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._inbox_prefetch = loop.create_task(
                service.reading.inbox_page(limit=FIRST_SCREEN_ROWS)
            )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's palette commands, without the two groups-tui has its own of: Quit
        (Ctrl+Q, listed from its binding) and Keys (``?``, the help)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Keys"):
                yield command

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, plus the spacing-mark compensation when the terminal needs it."""
        filters = super().get_line_filters()
        if spacing_marks_counted():
            return [*filters, SPACING_MARKS_FILTER]
        return filters

    # ------------------------------------------------------------------ lifecycle

    def now(self) -> float:
        """The injected clock's current time."""
        return self.clock()

    def on_mount(self) -> None:
        """Show the inbox, start the clock and follow the change feed."""
        from groups_tui.ui.screens.inbox import InboxScreen

        self.push_screen(InboxScreen())
        self._apply_preferences()
        self.set_interval(1.0, self.tick_clock, name="clock")
        self._follow()
        # The header's figures and what Meta charged against the configuration are read
        # once every inbox row is in (inbox_complete): the inbox needs neither.

    def _apply_preferences(self) -> None:
        """The remembered theme, the ``[keys]`` remapping, and what to say about either."""
        problem = self._preferences_file.problem if self._preferences_file else None
        if problem:
            self.notify(fit(problem, 300), title="Preferences", severity="warning", markup=False)
        theme = self.preferences.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self._keymap:
            unknown = sorted(set(self._keymap) - binding_ids())
            if unknown:
                self.notify(
                    "[keys]: no key has the id " + ", ".join(unknown) + " (see ? for the ids)",
                    title="Configuration",
                    severity="warning",
                    markup=False,
                )
            self.set_keymap({k: v for k, v in self._keymap.items() if k not in unknown})

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name != self.preferences.theme:
            self.remember(theme=theme.name)

    def remember(self, **changes: Any) -> None:
        """Change some of the preferences and write them to the data directory.

        A failed write is said once (a notification) and the choice holds for this run.
        """
        self.preferences = replace(self.preferences, **changes)
        if self._preferences_file is None:
            return
        try:
            self._preferences_file.save(self.preferences)
        except OSError as exc:
            self.notify(
                f"preferences not saved: {exc.strerror or exc}",
                title="Preferences",
                severity="warning",
                markup=False,
            )

    def tick_clock(self) -> None:
        """The single timer: every countdown and age label advances from here.

        Only the active screen is told, and it refreshes only what is visible.
        """
        # The timer can fire while the app is torn down (at exit), after its screens or
        # their widgets are gone; there is nothing left to advance.
        if not self.screen_stack:
            return
        now = self.clock()
        screen = self.screen
        if not isinstance(screen, Ticking):
            return
        try:
            screen.tick(now)
        except NoMatches:
            return

    # ------------------------------------------------------------------ header

    def apply_header(self, header: StatusHeader) -> None:
        """Fill a screen's header from the app's latest account and listener data."""
        with self.batch_update():
            header.account = self.account
            header.listener = self.listener
            header.spend_today = self.spend
            header.note = self.sandbox_note
            header.contradictions = self.pricing_contradictions
            header.open_flags = self.open_flags
            header.by_number = self.spend_numbers
            header.now = int(self.clock())

    @work(exclusive=True, group="header", exit_on_error=False)
    async def _load_header(self) -> None:
        await self.service.load_parts()  # imported off the event loop (keys answered)
        listener = await self.service.reading.listener_status()
        spend = await self.service.reading.spend_today()
        self.open_flags = await self.service.moderation.open_count()
        if len(self.service.numbers) > 1:
            self.spend_numbers = await self.service.reading.spend_by_number()
        self.listener, self.spend = listener, spend
        for header in self.screen.query(StatusHeader):
            self.apply_header(header)

    @work(exclusive=True, group="pricing-evidence", exit_on_error=False)
    async def _load_pricing_evidence(self) -> None:
        # Read at start and when the ledger gains lines, not on every feed batch.
        await self.service.load_parts()
        calibration = await self.service.sending.pricing_calibration()
        self.pricing_contradictions = calibration.contradictions
        for header in self.screen.query(StatusHeader):
            self.apply_header(header)

    # ------------------------------------------------------------------ change feed

    @work(exclusive=True, group="follow", exit_on_error=False)
    async def _follow(self) -> None:
        """Follow the change feed; batches accumulate and post one coalescing message."""
        self._last_change_id = await self.service.changes.latest_id()
        stream: AsyncIterator[list[Change]] = self.service.changes.follow(self._last_change_id)
        async for batch in stream:
            if batch:
                self.accumulate(batch)

    def accumulate(self, batch: list[Change]) -> None:
        """Merge a batch of changes into the pending set and post :class:`FeedChanged`."""
        for change in batch:
            self._last_change_id = max(self._last_change_id, change.id)
            self._pending_kinds.add(change.kind)
            if change.group_id:
                self._pending_groups.add(change.group_id)
                if change.kind != "group.read":
                    self._pending_content.add(change.group_id)
                if change.kind == "message.received":
                    self._new_message_groups.add(change.group_id)
        self.post_message(FeedChanged(len(batch)))

    def on_feed_changed(self, message: FeedChanged) -> None:
        """Hand everything accumulated since the last repaint to the screens at once."""
        groups, self._pending_groups = self._pending_groups, set()
        content, self._pending_content = self._pending_content, set()
        kinds, self._pending_kinds = self._pending_kinds, set()
        new, self._new_message_groups = self._new_message_groups, set()
        if not groups and not kinds:
            return
        self.changes_applied += 1
        screen = self.screen
        open_group = screen.group_id if isinstance(screen, ShowsGroup) else None
        if self.bell_enabled and new - {open_group}:
            self.bells += 1
            self.bell()
        reset = "store.reset" in kinds
        for follower in self.screen_stack:
            if isinstance(follower, FollowsChanges):
                # A read mark (the operator opened a group) only changes inbox counts.
                follower.apply_changes(groups if follower.FOLLOWS_READ_MARKS else content, reset)
        self._load_header()
        if reset or "cost.charged" in kinds:
            self._load_pricing_evidence()

    # ------------------------------------------------------------------ errors

    async def on_event(self, event: Event) -> None:
        """Keys that arrived with the key opening a box (``/book`` in one read over SSH)
        are its text: Textual hands queued keys to the widget focused when they were read
        (the inbox list would run ``o``, ``c``...), so a text key bubbling back here while
        a text box has the focus (a box keeps every text key it gets) goes to the box."""
        if isinstance(event, Key) and event.is_forwarded and event.is_printable:
            focused = self.focused
            if text_box(focused):
                event.stop()
                focused.post_message(Key(event.key, event.character))
                return
        await super().on_event(event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report a failed app-level worker."""
        report_worker_error(self, event)

    def report_error(self, error: BaseException) -> None:
        """Show a failed service call to the operator (plain text, never markup)."""
        if isinstance(error, ServiceError):
            text = error.message
        else:
            text = f"{type(error).__name__}: {error}"
        self.notify(fit(text, 300), title="Failed", severity="error", markup=False, timeout=8)

    # ------------------------------------------------------------------ actions

    def inbox_rows_snapshot(self, containing: str = "") -> Iterable[InboxRow]:
        """The inbox rows held whose haystack contains ``containing`` (folded), or none."""
        inbox = self.navigation.inbox()
        return inbox.rows_containing(containing) if inbox is not None else []

    async def initial_inbox_page(self) -> tuple[RowTable, InboxCursor | None]:
        """The inbox's first screen of rows read at start-up (once), else a fresh read;
        and where the rest begins."""
        task, self._inbox_prefetch = self._inbox_prefetch, None
        reading = self.service.reading
        try:
            page = await (task if task is not None else reading.inbox_page(limit=FIRST_SCREEN_ROWS))
        except BaseException:
            self.inbox_complete()  # no rows come: what waits for them starts now
            raise
        finally:
            if self._freeze_heap:  # whether or not the rows came (the collector is off)
                self._freeze_heap = False
                self._freeze_rest = True
                self.call_after_refresh(self.freeze_heap)
        if page[1] is None:
            self._freeze_rest = False
            self.inbox_complete()
        return page

    def inbox_complete(self) -> None:
        """Every inbox row is in memory (or none will come): freeze the rest too when start-up
        froze the first screen's (:meth:`freeze_heap`); then, once, read the pricing evidence
        and start ``on_started``'s work (until every row is in, the CPU goes to the rows)."""
        if self._freeze_rest:
            self._freeze_rest = False
            self.call_after_refresh(self.freeze_heap)
        if not self._evidence_requested:
            self._evidence_requested = True
            self.call_after_refresh(self._load_header)
            self.call_after_refresh(self._load_pricing_evidence)
        if self._on_started is not None:
            started, self._on_started = self._on_started, None
            kwargs = {"name": "on-started", "group": "on-started", "exit_on_error": False}
            self.call_after_refresh(self.run_worker, started, **kwargs)

    def freeze_heap(self) -> None:
        """Put what start-up left alive (modules, styles, the inbox index) out of the
        cyclic collector's reach: at 10,000 groups a full collection walks ~90,000 objects
        (~50 ms), in whichever keystroke triggers it. Reference counting still frees them.
        Nothing is collected first (~27 ms for the ~3,500 left in cycles, which stay)."""
        gc.freeze()
        gc.enable()  # the runner holds the collector off until now (groups_tui.tui_runner)

    def open_group(
        self, group_id: str, message_id: str | None = None, at: int | None = None
    ) -> None:
        """Open a group's conversation on top of the inbox (the palette; see
        :meth:`Navigation.open_group`)."""
        self.navigation.open_group(group_id, message_id, at)

    async def action_inbox_sort(self, mode: str) -> None:
        """Sort the inbox (palette)."""
        inbox = self.navigation.inbox()
        if inbox is not None:
            await inbox.run_action(f"sort_by('{mode}')")

    async def action_inbox_filter(self, name: str) -> None:
        """Toggle an inbox quick filter, or clear them with an empty name (palette)."""
        inbox = self.navigation.inbox()
        if inbox is not None:
            await inbox.run_action(f"quick_filter('{name}')")

    async def action_inbox_number(self, position: int) -> None:
        """Toggle the inbox's filter on the number at ``position`` (palette)."""
        inbox = self.navigation.inbox()
        if inbox is not None:
            await inbox.run_action(f"number_filter({position})")

    async def action_inbox_number_column(self) -> None:
        """Show or hide the inbox's number column (palette)."""
        inbox = self.navigation.inbox()
        if inbox is not None:
            await inbox.run_action("toggle_number_column")

    def action_spend_by_number(self) -> None:
        """Show each number's spend and allowance."""
        self.navigation.open_spend_by_number()

    def action_search(self) -> None:
        """Open full-text search."""
        self.navigation.open_search()

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        self.navigation.open_help()

    # ------------------------------------------------------------------ administration
    # Shortcuts to :attr:`navigation` for the palette, the app's keys and scripts.

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out creating a group when the operator's role does not allow it."""
        if action == "new_group" and not self.service.permits("admin.create_group"):
            return None
        return True

    def action_new_group(self) -> None:
        """Ask for a new group; then show its invite link screen (pending until Meta)."""
        inbox = self.navigation.inbox()
        self.navigation.new_group(inbox.number_filter if inbox is not None else None)

    def open_members(self, group_id: str) -> None:
        """Show a group's members."""
        self.navigation.open_members(group_id)

    def open_join_requests(self, group_id: str) -> None:
        """Show a group's pending join requests."""
        self.navigation.open_join_requests(group_id)

    def open_invite_link(self, group_id: str) -> None:
        """Show a group's invite link and QR code."""
        self.navigation.open_invite_link(group_id)

    def open_invite_people(self, detail: GroupDetail) -> None:
        """Send a group's invite link 1:1 to chosen people."""
        self.navigation.open_invite_people(detail)

    def action_group_settings(self) -> None:
        """Change the subject, description or picture of the open group, or of the
        group highlighted in the inbox (palette)."""
        screen = self.screen
        group_id: str | None = None
        if isinstance(screen, ShowsGroup):
            group_id = screen.group_id
        else:
            inbox = self.navigation.inbox()
            if inbox is not None and screen is inbox and inbox.group_list.highlighted:
                group_id = inbox.group_list.highlighted.group_id
        if group_id is None:
            self.notify("Open or highlight a group first", markup=False)
            return
        self.navigation.open_group_settings(group_id)

    def action_moderation_queue(self) -> None:
        """Show the moderation queue."""
        self.navigation.open_moderation_queue()

    def action_automations(self) -> None:
        """Show the automations (invite rules, forwarding targets, runs)."""
        self.navigation.open_automations()

    def action_audit_log(self) -> None:
        """Show the audit log."""
        self.navigation.open_audit_log()

    def delete_group(self, group_id: str) -> None:
        """Ask for the typed subject, then delete the group (pending until the webhook)."""
        self.navigation.delete_group(group_id)

    def action_reset_sandbox(self) -> None:
        """Start the sandbox afresh from its seed, after confirming (sandbox only): the
        app exits and the runner forgets the kept world and database, then reopens."""
        if not self.sandbox_resettable:
            self.notify("Only the sandbox can be reset.", severity="warning")
            return
        from rich.text import Text

        from groups_tui.ui.screens.confirm import ConfirmModal

        question = Text(
            "Start the sandbox afresh? Its groups, messages, audit log and spend are "
            "forgotten and it starts again from its seed (the app reopens)."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.restart_sandbox_afresh = True
                self.exit()

        self.push_screen(ConfirmModal(question, yes="Start afresh"), answered)

    def action_toggle_bell(self) -> None:
        """Switch the new-message bell on or off."""
        self.bell_enabled = not self.bell_enabled
        state = "on" if self.bell_enabled else "off"
        self.notify(f"Bell {state}", markup=False)


def make_app(
    service: InboxService,
    *,
    clock: Callable[[], float],
    bell: bool = True,
    sandbox_note: str | None = None,
    sandbox_resettable: bool = False,
    automations: AutomationsPanel | None = None,
    freeze_heap: bool = False,
    preferences: PreferencesFile | None = None,
    keymap: Mapping[str, str] | None = None,
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> GroupsApp:
    """Build the application.

    Args:
        service: The façade (a real :class:`InboxService`, or a fake in tests).
        clock: Returns now as epoch seconds; every countdown reads it.
        bell: Ring the terminal bell on new messages in groups that are not open.
        sandbox_note: Shown in the header when running against the sandbox.
        sandbox_resettable: The embedded sandbox runs here and may be started afresh.
        automations: Status and pause switches of configured automations, if any.
        freeze_heap: Freeze the start-up heap once the inbox is drawn (the real run
            does; tests do not, as frozen objects outlive the app).
        preferences: Where the operator's choices are kept (the data directory's
            ``preferences.json``); ``None`` keeps them for the run only.
        keymap: The ``[keys]`` table of the config: binding id to keys.
        on_started: Run once every inbox row is in.

    Returns:
        The app, not yet running.
    """
    return GroupsApp(
        service,
        clock=clock,
        bell=bell,
        sandbox_note=sandbox_note,
        sandbox_resettable=sandbox_resettable,
        automations=automations,
        freeze_heap=freeze_heap,
        preferences=preferences,
        keymap=keymap,
        on_started=on_started,
    )
