"""Spend: a sparkline of daily spend over the last 30 days, and the days in a table.

Opened with ``$`` from the inbox. The figures are the cost ledger's (what Meta's status
webhooks priced), by UTC day, as ``groups-tui report spend`` prints them; charges whose
amount is unknown are counted beside the sums, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Sparkline, Static

from groups_tui.service.types import SpendReport
from groups_tui.ui.formatting import money
from groups_tui.ui.screens._base import AppScreen
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["DAYS", "SpendScreen", "spend_summary"]

DAYS = 30
"""Days the sparkline covers, today included."""


def spend_summary(report: SpendReport) -> Text:
    """One line under the chart: total, daily average, the busiest day, unknown charges."""
    days = len(report.rows) or 1
    busiest = max(report.rows, key=lambda r: r.amount, default=None)
    text = Text()
    text.append(f"{money(report.total)}", style="bold")
    text.append(f" in {days} days · {money(report.total / days)} a day")
    if busiest is not None and busiest.amount > 0:
        text.append(f" · most {money(busiest.amount)} on {busiest.key}")
    if report.unknown:
        text.append(f" · {report.unknown} charge(s) of unknown amount", style="bold")
    return text


class SpendScreen(AppScreen):
    """Daily spend as a sparkline (oldest left, today right) and a table of days."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="spend.back", tooltip="Back to the inbox"),
        Binding("r", "reload", "Reload", id="spend.reload", tooltip="Read the ledger again"),
    ]
    """Keys of the spend screen; the table scrolls with the arrows."""

    @dataclass
    class Loaded(Message):
        """The report was read."""

        report: SpendReport

    def compose(self) -> ComposeResult:
        """Header, title, sparkline, summary, days table, keys."""
        yield StatusHeader()
        yield Static(
            Text(f"Spend · last {DAYS} days (UTC) · from the cost ledger", style="bold"),
            id="spend-title",
        )
        yield Sparkline([], id="spend-chart")
        yield Static("", id="spend-axis")
        yield Static("", id="spend-summary")
        yield DataTable(id="spend-days", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        """Columns, then the report."""
        self.app.apply_header(self.query_one(StatusHeader))
        table = self.query_one("#spend-days", DataTable)
        table.add_column("Day", key="day")
        table.add_column("Spend", key="spend")
        table.add_column("Charges", key="charges")
        table.add_column("Unknown", key="unknown")
        table.focus()
        self.action_reload()

    @work(exclusive=True, group="spend-report", exit_on_error=False)
    async def action_reload(self) -> None:
        """Read the last :data:`DAYS` days of the ledger."""
        today = datetime.fromtimestamp(self.app.now(), UTC).date()
        since = today - timedelta(days=DAYS - 1)
        report = await self.app.service.reading.spend_report(since, today, "day")
        self.post_message(self.Loaded(report))

    def on_spend_screen_loaded(self, event: Loaded) -> None:
        """Draw the chart, the summary and the days (newest first)."""
        report = event.report
        self.query_one("#spend-chart", Sparkline).data = [float(r.amount) for r in report.rows]
        self.query_one("#spend-axis", Static).update(
            Text.assemble(str(report.since), " … ", str(report.until))
        )
        self.query_one("#spend-summary", Static).update(spend_summary(report))
        table = self.query_one("#spend-days", DataTable)
        table.clear()
        for row in reversed(report.rows):
            table.add_row(
                Text(row.key or "—"),
                Text(money(row.amount) if row.charges else "—", justify="right"),
                Text(str(row.charges), justify="right"),
                Text(str(row.unknown) if row.unknown else "", justify="right"),
                key=row.key,
            )

    def action_back(self) -> None:
        """Back to the inbox."""
        self.dismiss()
