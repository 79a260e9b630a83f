"""Today's spend and this month's free service allowance, number by number (``$``).

The header has room for the total (and, on a wide screen, each number's spend); this
modal lists every number of the account with its charges today, how many of them have
an unknown amount, and how much of its own monthly allowance it has used.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from groups_tui.service.types import NumberSpend
from groups_tui.ui.formatting import money
from groups_tui.ui.screens._base import AppModal
from groups_tui.ui.widgets.safe_text import fit

__all__ = ["SpendByNumberModal", "spend_table"]


def spend_table(rows: tuple[NumberSpend, ...]) -> Table:
    """The numbers' spend and allowance as a table (labels are configuration, not
    trusted either: fitted and never parsed as markup)."""
    table = Table(box=None, expand=True, padding=(0, 1))
    table.add_column("Number", no_wrap=True)
    table.add_column("Id", no_wrap=True, style="dim")
    table.add_column("Today", justify="right", no_wrap=True)
    table.add_column("Free service this month", justify="right", no_wrap=True)
    for row in rows:
        today = money(row.today) + (f" (+{row.unknown} unknown)" if row.unknown else "")
        if row.allowance is None:
            allowance = f"{row.service_used:,} (no allowance yet: free)"
        else:
            allowance = f"{row.service_used:,} of {row.allowance:,}"
        table.add_row(Text(fit(row.label, 16)), Text(row.phone_number_id), today, allowance)
    if rows:
        total = sum((r.today for r in rows), rows[0].today * 0)
        table.add_row(Text("Total", style="bold"), "", Text(money(total), style="bold"), "")
    return table


class SpendByNumberModal(AppModal[None]):
    """Each number's spend today and its use of the monthly free service allowance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,dollar_sign", "close", "Close", id="spend.close", tooltip="Close"),
    ]
    """Keys that close it."""

    def compose(self) -> ComposeResult:
        """Title, the table (filled by a worker) and a hint."""
        with Vertical(id="spend-by-number", classes="admin-modal"):
            yield Static(Text("Spend by number", style="bold"), classes="modal-title")
            yield Static(Text("…"), id="spend-table")
            yield Static(Text("Esc closes."), classes="modal-help")

    def on_mount(self) -> None:
        """Read the figures."""
        self._load()

    @work(exclusive=True, group="spend-by-number", exit_on_error=False)
    async def _load(self) -> None:
        rows = await self.app.service.reading.spend_by_number()
        self.query_one("#spend-table", Static).update(spend_table(rows))

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)
