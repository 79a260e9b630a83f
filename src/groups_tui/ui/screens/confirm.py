"""A yes/no question, reused by every action that needs confirming."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from groups_tui.ui.screens._base import AppModal

__all__ = ["ConfirmModal"]


class ConfirmModal(AppModal[bool]):
    """Ask a question; dismiss with ``True`` (y, Enter on Yes) or ``False`` (n, Esc).

    The question is a :class:`~rich.text.Text` (build it with
    :func:`~groups_tui.ui.widgets.safe_text.safe` when it contains untrusted names), so
    nothing in it is parsed as markup.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Confirm"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Cancel"),
        Binding("left,right", "app.focus_next", show=False, id="confirm.switch"),
    ]
    """Answer keys."""

    def __init__(self, question: Text, *, yes: str = "Yes", no: str = "No") -> None:
        """Create the modal.

        Args:
            question: What to ask.
            yes: Label of the confirming button.
            no: Label of the cancelling button.
        """
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        """Question and two buttons."""
        with Vertical(id="confirm"):
            yield Static(self.question, id="question")
            with Horizontal(id="confirm-buttons"):
                yield Button(Text(self.yes_label), id="yes", variant="primary")
                yield Button(Text(self.no_label), id="no")

    def on_mount(self) -> None:
        """Focus No, so Enter alone never confirms by accident."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer with the button pressed."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        """Answer from a key."""
        self.dismiss(value)
