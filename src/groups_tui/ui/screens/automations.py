"""Automations: invite rules and forwarding targets, their pause switches and recent runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from groups_tui.service.types import AutomationStatus
from groups_tui.ui.formatting import ago
from groups_tui.ui.screens._base import AppScreen, Needs
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.safe_text import safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["AutomationsPanel", "AutomationsScreen"]

REFRESH_SECONDS = 5.0


class AutomationsPanel(Protocol):
    """What the screen calls (`service.automations`, or a fake in tests)."""

    async def status(self, recent: int = 20) -> AutomationStatus:
        """Rules, targets, pause flags, runs and failures."""
        ...

    async def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a rule or target."""
        ...


class AutomationsScreen(AppScreen):
    """Invite rules and forwarding targets with their state, runs and failures.

    The tables are small (a handful of rules and targets, the last 20 runs), so plain
    `DataTable`s are used; the screen re-reads the status every few seconds while open.
    """

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {"toggle_pause": "automations.set_paused"}
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="auto.back", tooltip="Back to the inbox"),
        Binding(
            "p",
            "toggle_pause",
            "Pause/resume",
            id="auto.pause",
            tooltip="Pause or resume the selected rule or target",
        ),
        Binding("R", "refresh", "Refresh", id="auto.refresh", tooltip="Read the status again"),
        Binding("tab", "focus_next", "Next table", show=False, id="auto.next"),
    ]
    """Keys of the automations screen."""

    @dataclass
    class StatusLoaded(Message):
        """The status was read."""

        status: AutomationStatus

    def __init__(self, panel: AutomationsPanel) -> None:
        """Show `panel`'s rules and targets.

        Args:
            panel: Status and pause switches of the automations.
        """
        super().__init__()
        self.panel = panel
        self.status: AutomationStatus | None = None

    def compose(self) -> ComposeResult:
        """Header, the rules and targets tables, runs, failures, keys."""
        yield StatusHeader()
        yield Static(Text("Invite rules", style="bold"), classes="auto-title")
        yield DataTable(id="auto-rules", cursor_type="row", zebra_stripes=True)
        yield Static(Text("Forwarding targets", style="bold"), classes="auto-title")
        yield DataTable(id="auto-targets", cursor_type="row", zebra_stripes=True)
        yield Static(Text("Recent runs and failures", style="bold"), classes="auto-title")
        yield DataTable(id="auto-runs", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        """Set up the columns, load, and refresh periodically."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.query_one("#auto-rules", DataTable).add_columns(
            "Rule", "When", "Group", "State", "Sent", "Last run", "Last error"
        )
        self.query_one("#auto-targets", DataTable).add_columns(
            "Target", "Destination", "State", "Queued", "Delivered", "Last run", "Last error"
        )
        self.query_one("#auto-runs", DataTable).add_columns("When", "Name", "Kind", "Result")
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self.action_refresh)

    @work(exclusive=True, group="automations-status", exit_on_error=False)
    async def action_refresh(self) -> None:
        """Read the status again."""
        self.post_message(self.StatusLoaded(await self.panel.status()))

    def on_automations_screen_status_loaded(self, event: StatusLoaded) -> None:
        """Fill the tables, keeping each cursor where it was."""
        self.status = event.status
        now = self.app.now()

        def when(at: float | None) -> Text:
            return Text(ago(at, now))

        def state(paused: bool) -> Text:
            return Text("paused", style="bold") if paused else Text("active")

        rules = self.query_one("#auto-rules", DataTable)
        row = rules.cursor_row
        rules.clear()
        for r in event.status.rules:
            rules.add_row(
                safe(r.name),
                safe(r.trigger),
                safe(r.group),
                state(r.paused),
                Text(str(r.sent)),
                when(r.last_run_at),
                safe(r.last_error or ""),
                key=r.name,
            )
        if event.status.rules:
            rules.move_cursor(row=min(row, len(event.status.rules) - 1))
        targets = self.query_one("#auto-targets", DataTable)
        row = targets.cursor_row
        targets.clear()
        for t in event.status.targets:
            targets.add_row(
                safe(t.name),
                safe(t.destination),
                state(t.paused),
                Text(str(t.pending)),
                Text(str(t.delivered)),
                when(t.last_run_at),
                safe(t.last_error or ""),
                key=t.name,
            )
        if event.status.targets:
            targets.move_cursor(row=min(row, len(event.status.targets) - 1))
        runs = self.query_one("#auto-runs", DataTable)
        runs.clear()
        seen: set[tuple[str, float, str]] = set()
        for run in sorted((*event.status.failures, *event.status.recent_runs), key=lambda r: -r.at):
            key = (run.name, run.at, run.detail)
            if key in seen:
                continue
            seen.add(key)
            result = safe(run.detail)
            if not run.ok:
                result = Text("failed: ", style="bold") + result
            runs.add_row(when(run.at), safe(run.name), safe(run.kind), result)

    def _selected(self) -> tuple[str, bool] | None:
        """The name and pause state of the selected rule or target."""
        if self.status is None:
            return None
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id == "auto-targets":
            items = [(t.name, t.paused) for t in self.status.targets]
            index = focused.cursor_row
        else:
            table = self.query_one("#auto-rules", DataTable)
            items = [(r.name, r.paused) for r in self.status.rules]
            index = table.cursor_row
        if not items or index < 0 or index >= len(items):
            return None
        return items[index]

    @work(exclusive=True, group="automations-pause", exit_on_error=False)
    async def action_toggle_pause(self) -> None:
        """Pause the selected rule or target, or resume it when paused."""
        selected = self._selected()
        if selected is None:
            self.notify("No rule or target selected", markup=False)
            return
        name, paused = selected
        await self.panel.set_paused(name, not paused)
        self.notify(f"{name}: {'resumed' if paused else 'paused'}", markup=False)
        self.post_message(self.StatusLoaded(await self.panel.status()))

    def action_back(self) -> None:
        """Back to the inbox."""
        self.dismiss()
