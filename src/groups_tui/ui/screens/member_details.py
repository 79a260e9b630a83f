"""Local details about a member: a display name and a note, kept only in the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from groups_tui.service.types import MemberRow
from groups_tui.ui.key_order import after_keys_in_flight
from groups_tui.ui.screens._base import AppModal
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["MemberDetails", "MemberDetailsModal"]


@dataclass(frozen=True, slots=True)
class MemberDetails:
    """Local details the operator keeps about a member (never sent to Meta).

    Attributes:
        display_name: The name to show instead of their profile name (empty: none).
        note: Free text (empty: none).
    """

    display_name: str
    note: str


class MemberDetailsModal(AppModal[MemberDetails | None]):
    """Edit a member's local name and note; Enter or Ctrl+S saves, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="details.save", priority=True, tooltip="Save"),
        Binding("escape", "cancel", "Cancel", id="details.cancel", tooltip="Discard"),
    ]
    """Modal keys."""

    def __init__(self, row: MemberRow) -> None:
        """Create the modal.

        Args:
            row: The member, with the details saved so far.
        """
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        """Who, then the two fields."""
        m = self.row.member
        with Vertical(id="details", classes="admin-modal"):
            title = Text("Local details of ", style="bold")
            title.append_text(safe(fit(m.display_name, 40), "bold"))
            if m.wa_id:
                title.append(f"  +{m.wa_id}")
            yield Static(title, classes="modal-title")
            yield Label("Display name (only you see it)")
            yield Input(self.row.contact_name or "", id="display-name", max_length=100)
            yield Label("Note")
            yield Input(self.row.note or "", id="note", max_length=500)
            yield Static(Text("Enter or Ctrl+S saves · Esc cancels"), classes="modal-help")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        """Dismiss with the typed details.

        Run once the keys read before it are in the boxes (see
        :func:`~groups_tui.ui.key_order.after_keys_in_flight`).
        """
        after_keys_in_flight(self.app, self._save_now)

    def _save_now(self) -> None:
        self.dismiss(
            MemberDetails(
                self.query_one("#display-name", Input).value.strip(),
                self.query_one("#note", Input).value.strip(),
            )
        )

    def action_cancel(self) -> None:
        """Dismiss without saving."""
        self.dismiss(None)
