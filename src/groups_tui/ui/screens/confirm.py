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

    The keys are written on the buttons and on a line below them, read from the
    bindings (so a remapped key shows as remapped). The question is a :class:`~rich.text.Text` (build it with
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

    def _keys_of(self, action: str) -> str:
        """How the keys bound to ``action`` here are shown (``n/esc``)."""
        keys = [
            self.app.get_key_display(active.binding)
            for active in self.active_bindings.values()
            if active.node is self and active.binding.action == action
        ]
        return "/".join(dict.fromkeys(keys))

    def compose(self) -> ComposeResult:
        """Question, two buttons with their keys, and the keys in words."""
        yes_keys = self._keys_of("answer(True)")
        no_keys = self._keys_of("answer(False)")
        with Vertical(id="confirm"):
            yield Static(self.question, id="question")
            with Horizontal(id="confirm-buttons"):
                yield Button(Text(f"{self.yes_label} ({yes_keys})"), id="yes", variant="primary")
                yield Button(Text(f"{self.no_label} ({no_keys})"), id="no")
            hint = Text()
            hint.append(yes_keys, style="bold").append(f" {self.yes_label.lower()} · ")
            hint.append(no_keys, style="bold").append(" cancel · ")
            hint.append("Enter", style="bold").append(" presses the focused button")
            yield Static(hint, id="confirm-keys")

    def on_mount(self) -> None:
        """Focus No, so Enter alone never confirms by accident."""
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer with the button pressed."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        """Answer from a key."""
        self.dismiss(value)
