"""Who got a message the business sent: one row per member, what became of their copy.

The conversation's status line says ``✓ delivered 6/7, read 0/7, failed 1``; this screen
says who: each member the message went to (those present when it was sent), when their
copy was delivered and read, why it failed as Meta said, and the charge booked for it.
Failures come first. It follows the change feed, so statuses arriving while it is open
fill it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from groups_tui.domain.models import DeliveryState, DeliverySummary
from groups_tui.service.types import MessageView, RecipientView
from groups_tui.ui.formatting import money, stamp
from groups_tui.ui.screens._admin import GroupScreen
from groups_tui.ui.widgets.group_banner import GroupBanner
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["MessageStateScreen", "recipient_cells", "recipient_detail"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("member", "Member"),
    ("state", "State"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("charge", "Charge"),
    ("reason", "Why it failed"),
)

_STATE_LABEL = {
    DeliveryState.FAILED: "✗ failed",
    DeliveryState.SENT: "sent",
    DeliveryState.DELIVERED: "✓ delivered",
    DeliveryState.READ: "✓✓ read",
}


def _who(row: RecipientView) -> Text:
    who = safe(fit(row.name, 24)) if row.name else Text("")
    number = f"+{row.wa_id}" if row.wa_id else ("" if row.name else row.member_key)
    if number:
        who.append(f" {number}" if row.name else number)
    if not row.still_member:
        who.append(" (left)", style="italic")
    return who


def _reason(row: RecipientView) -> str:
    code = f"{row.error_code} " if row.error_code is not None else ""
    return code + (row.error or "no reason given")


def _charge(row: RecipientView) -> str:
    if row.charge is None:
        return "—"
    if row.charge.billable is False:
        return "free"
    return money(row.charge.amount)


def recipient_cells(row: RecipientView, now: float) -> list[Text]:
    """The cells of one recipient (names and Meta's reasons through ``safe``).

    Args:
        row: The member's copy.
        now: The app clock, for the times.

    Returns:
        Cells in :data:`COLUMNS` order.
    """
    failed = row.state is DeliveryState.FAILED
    state = Text(
        _STATE_LABEL.get(row.state, "no news yet") if row.state else "no news yet",
        style="bold" if failed else "",
    )
    return [
        _who(row),
        state,
        Text(stamp(row.delivered_at, now) if row.delivered_at is not None else "—"),
        Text(stamp(row.read_at, now) if row.read_at is not None else "—"),
        Text(_charge(row), justify="right"),
        safe(fit(_reason(row), 48), "bold") if failed else Text(""),
    ]


def recipient_detail(row: RecipientView, now: float) -> Text:
    """Everything about one recipient in full, for the line under the table."""
    line = _who(row)
    line.append(" · ")
    if row.state is DeliveryState.FAILED:
        line.append("failed")
        if row.failed_at is not None:
            line.append(f" {stamp(row.failed_at, now)}")
        line.append(": ").append_text(safe(fit(_reason(row), 300), "bold"))
    else:
        line.append(_STATE_LABEL.get(row.state, "no news yet") if row.state else "no news yet")
    if row.delivered_at is not None:
        line.append(f" · delivered {stamp(row.delivered_at, now)}")
    if row.read_at is not None:
        line.append(f" · read {stamp(row.read_at, now)}")
    charge = row.charge
    if charge is None:
        line.append(" · no charge booked")
    else:
        line.append(f" · charge {_charge(row)}")
        details = [d for d in (charge.category, charge.market) if d]
        if details:
            line.append(" (").append_text(safe(fit(", ".join(details), 60))).append(")")
    return line


class MessageStateScreen(GroupScreen):
    """Member by member, what became of one message the business sent; the line under
    the table tells everything about the highlighted member; Escape goes back."""

    SCREEN_NAME: ClassVar[str] = "Who got it"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="state.back", tooltip="Back to the conversation"),
        Binding("r", "reload", "Reload", id="state.reload", tooltip="Read the states again"),
    ]
    """Keys; the table scrolls with the arrows, PgUp/PgDn, Home/End."""

    @dataclass
    class RecipientsLoaded(Message):
        """The recipients of the message arrived.

        Attributes:
            rows: One per member, failures first.
        """

        rows: list[RecipientView]

    def __init__(self, view: MessageView) -> None:
        """Open the screen on a message we sent.

        Args:
            view: The message as the conversation shows it.
        """
        super().__init__(view.message.group_id)
        self.view = view
        self.rows: list[RecipientView] = []

    def compose(self) -> ComposeResult:
        """Header, banner, the message, the table, status line and key bar."""
        yield StatusHeader()
        yield GroupBanner(id="banner")
        yield Static(self._title(), id="state-title")
        yield MarkTable(COLUMNS, markable=False, id="recipients")
        yield Static("", id="state-detail")
        yield Static("", id="status")
        yield KeyBar()

    def _title(self) -> Text:
        message = self.view.message
        text = message.text or (message.media.filename if message.media else "") or ""
        title = Text(f"Sent {stamp(message.at, self.app.now())} · ", style="bold")
        if message.template_name:
            title.append("template ").append_text(safe(fit(message.template_name, 40)))
            title.append(" · ")
        title.append_text(safe(fit(text, 120)))
        return title

    @property
    def table(self) -> MarkTable:
        """The recipient table."""
        return self.query_one(MarkTable)

    def on_mount(self) -> None:
        """Focus the table and load."""
        self.table.focus()
        super().on_mount()

    def reload(self) -> None:
        """Load the group and the message's recipients."""
        super().reload()
        self._load_recipients()

    @work(exclusive=True, group="state-load", exit_on_error=False)
    async def _load_recipients(self) -> None:
        rows = await self.app.service.reading.message_recipients(self.view.message.id)
        self.post_message(self.RecipientsLoaded(rows))

    @on(RecipientsLoaded)
    def _recipients_loaded(self, event: RecipientsLoaded) -> None:
        self.rows = event.rows
        now = self.app.now()
        self.table.set_rows((r.member_key, recipient_cells(r, now)) for r in event.rows)
        tally = DeliverySummary.from_states(r.state for r in event.rows if r.state is not None)
        charged = [r.charge.amount for r in event.rows if r.charge and r.charge.billable]
        line = Text(
            f"{len(event.rows)} recipients · delivered {tally.delivered}, read {tally.read}, "
            f"failed {tally.failed}, no news {len(event.rows) - tally.delivered - tally.failed}"
        )
        if charged:
            known = [a for a in charged if a is not None]
            line.append(f" · charged {money(sum(known, Decimal(0))) if known else money(None)}")
            if len(known) < len(charged):
                line.append(" + unknown")
        self.status_text(line)
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self.table.current_key
        row = next((r for r in self.rows if r.member_key == key), None)
        detail = self.query_one("#state-detail", Static)
        detail.update(recipient_detail(row, self.app.now()) if row else Text(""))

    def action_reload(self) -> None:
        """Read the states again."""
        self.reload()

    def action_back(self) -> None:
        """Back to the conversation."""
        self.dismiss()
