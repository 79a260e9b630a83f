"""The audit log: every operator action, newest first, read by keyset.

Who (the OS user), what, which group and people, when, the API's answer and the cost of
sends. Pages of :data:`PAGE` entries are read as the cursor nears the end of what is
loaded (``id < oldest``), so a long history never loads whole. ``groups-tui audit
--json`` prints the same entries for scripts.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from groups_tui.service.types import AuditEntry
from groups_tui.ui.formatting import money, stamp
from groups_tui.ui.screens._keyset import KeysetTableScreen
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["AuditLogScreen", "audit_cells", "result_summary"]

PAGE = 100
"""Entries per keyset page."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("when", "When"),
    ("who", "Who"),
    ("action", "Action"),
    ("group", "Group"),
    ("targets", "People / targets"),
    ("result", "API answer"),
    ("cost", "Cost"),
)


def result_summary(result: Any) -> str:
    """The API's answer in one line: an error first, else the compact JSON."""
    if result is None:
        return "—"
    if isinstance(result, dict) and "error" in result:
        code = f"#{result['code']} " if result.get("code") else ""
        return f"✗ {code}{result['error']}"
    if isinstance(result, str):
        return result
    return json.dumps(result, separators=(",", ":"), default=str)


def audit_cells(entry: AuditEntry, subject: str | None, now: float) -> list[Text]:
    """The cells of one audit row (untrusted text through ``safe``)."""
    targets = ", ".join(str(t) for t in entry.targets) if entry.targets else "—"
    answer = result_summary(entry.api_result)
    return [
        Text(stamp(entry.at, now)),
        safe(fit(entry.os_user, 12)),
        Text(entry.action),
        safe(fit(subject or entry.group_id or "—", 22)),
        safe(fit(targets, 30)),
        safe(fit(answer, 40), "bold" if answer.startswith("✗") else ""),
        Text(money(entry.cost) if entry.cost is not None else "", justify="right"),
    ]


class AuditLogScreen(KeysetTableScreen[AuditEntry]):
    """Every operator action, newest first; Enter shows an entry in full."""

    PAGE: ClassVar[int] = PAGE

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="audit.back", tooltip="Back"),
        Binding("enter", "show", "Details", id="audit.show", tooltip="The whole entry"),
        Binding("r", "reload", "Reload", id="audit.reload", tooltip="Newest entries"),
    ]
    """Audit keys; the table scrolls with the arrows, PgUp/PgDn, Home/End."""

    def compose(self) -> ComposeResult:
        """Header, title, table, detail line and key bar."""
        yield StatusHeader()
        yield Static(Text("Audit log · newest first", style="bold"), id="audit-title")
        yield MarkTable(COLUMNS, markable=False, id="audit")
        yield Static("", id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Load the newest page."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.table.focus()
        self.load()

    async def fetch_page(self, before_id: int | None, limit: int) -> list[AuditEntry]:
        """A page of the audit log."""
        return await self.app.service.admin.audit_page(before_id=before_id, limit=limit)

    def cells(self, record: AuditEntry, subject: str | None, now: float) -> list[Text]:
        """One audit row."""
        return audit_cells(record, subject, now)

    def page_shown(self) -> None:
        """Say how many entries are shown and whether more load."""
        more = "" if self.exhausted else " · more load as you scroll"
        count = len(self.records)
        noun = "entry" if count == 1 else "entries"
        self.query_one("#status", Static).update(Text(f"{count} {noun} shown{more}"))

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        """Enter on a row (the table handles Enter before the screen's binding)."""
        self.action_show()

    def action_show(self) -> None:
        """Show the highlighted entry in full in the status line."""
        entry = self.current
        if entry is None:
            return
        text = Text(f"#{entry.id} {stamp(entry.at, self.app.now())} ", style="bold")
        text.append_text(safe(entry.os_user))
        if entry.role is not None:  # team mode: the role the daemon saw
            text.append(f" ({entry.role})")
        text.append(f" {entry.action} ")
        text.append_text(safe(entry.group_id or ""))
        text.append("\ntargets: ").append_text(safe(json.dumps(list(entry.targets), default=str)))
        text.append("\nanswer: ").append_text(safe(result_summary(entry.api_result)))
        if entry.cost is not None:
            text.append(f"\ncost: {money(entry.cost)}")
        self.query_one("#status", Static).update(text)

    def action_reload(self) -> None:
        """Read the newest page again."""
        self.load()

    def action_back(self) -> None:
        """Back to the inbox."""
        self.dismiss()
