"""Delete a group, confirmed by typing its subject.

Deleting removes every member and cannot be undone, so a yes/no is not enough: the
Delete button only works once the typed text equals the subject exactly. The deletion
is pending until the lifecycle webhook confirms it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from groups_tui.ui.screens._base import AppModal
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["DeleteGroupModal"]


class DeleteGroupModal(AppModal[bool]):
    """Dismisses with ``True`` only after the operator typed the subject exactly."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="delete.cancel", tooltip="Keep the group"),
    ]
    """Modal keys; Enter in the box deletes once the subject matches."""

    def __init__(self, subject: str, members: int) -> None:
        """Create the modal.

        Args:
            subject: The group's subject, which the operator must type.
            members: Current members (all of them are removed).
        """
        super().__init__()
        self.subject = subject
        self.members = members

    def compose(self) -> ComposeResult:
        """Warning, the box, and the buttons."""
        with Vertical(id="delete-group", classes="admin-modal"):
            title = Text("Delete ", style="bold")
            title.append_text(safe(fit(self.subject, 60), "bold"))
            title.append("?", style="bold")
            yield Static(title, classes="modal-title")
            yield Static(
                Text(
                    f"All {self.members} member(s) are removed and the group is gone for "
                    "good. Type the subject to confirm:"
                )
            )
            yield Input(placeholder="the subject, exactly", id="typed")
            yield Static("", id="delete-status")
            with Horizontal(classes="modal-buttons"):
                yield Button("Delete", id="delete", variant="error", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Focus the box."""
        self.query_one("#typed", Input).focus()

    @property
    def matches(self) -> bool:
        """The typed text equals the subject."""
        return self.query_one("#typed", Input).value == self.subject

    @on(Input.Changed, "#typed")
    def _typed(self) -> None:
        self.query_one("#delete", Button).disabled = not self.matches

    @on(Input.Submitted, "#typed")
    def _submitted(self) -> None:
        if self.matches:
            self.dismiss(True)
        else:
            self.query_one("#delete-status", Static).update(
                Text("The text does not match the subject")
            )

    @on(Button.Pressed, "#delete")
    def _delete(self) -> None:
        if self.matches:
            self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        """Keep the group."""
        self.dismiss(False)
