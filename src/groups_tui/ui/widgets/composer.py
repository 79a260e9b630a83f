"""The conversation's composer: the text to send, a file path to attach, a status line.

The composer never calls the service: the conversation screen decides whether free-form
sending is refused (and shows why through :meth:`Composer.refuse`) and sends. A path typed
in the attach box is reported upward as :class:`Composer.PathSubmitted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static, TextArea

from groups_tui.ui.widgets.safe_text import safe

__all__ = ["HINT", "Composer"]

HINT = "Ctrl+S send · t template · a attach · Esc back"
"""The status line while sending is allowed and nothing else is to be said."""


class Composer(Vertical):
    """A text area, an attach-by-path box (hidden until asked for) and a status line."""

    @dataclass
    class PathSubmitted(Message):
        """The attach box was submitted (and closed).

        Attributes:
            composer: The composer.
            path: The file to send, or ``None`` when the box was left empty.
        """

        composer: Composer
        path: Path | None

        @property
        def control(self) -> Composer:
            """The composer the path was typed in."""
            return self.composer

    def compose(self) -> ComposeResult:
        """The text area (disabled until the screen allows sending), the box, the status."""
        yield TextArea(id="composer-text", soft_wrap=True, show_line_numbers=False, disabled=True)
        yield Input(
            placeholder="path of the file to send (Enter sends, Esc cancels)", id="attach-path"
        )
        yield Static("Loading…", id="composer-status")

    @property
    def text_area(self) -> TextArea:
        """Where the message is written."""
        return self.query_one("#composer-text", TextArea)

    @property
    def attach_box(self) -> Input:
        """Where a file path is typed."""
        return self.query_one("#attach-path", Input)

    def status(self, text: str) -> None:
        """Say `text` (untrusted text is shown literally) on the status line."""
        self.query_one("#composer-status", Static).update(safe(text))

    def allow(self, allowed: bool) -> None:
        """Enable writing, or disable it (while free-form sending is refused)."""
        self.text_area.disabled = not allowed

    def show_hint(self) -> None:
        """Show the keys that send, on the status line."""
        self.query_one("#composer-status", Static).update(Text(HINT))

    def open_attach(self) -> None:
        """Show the attach box and focus it."""
        box = self.attach_box
        box.display = True
        box.focus()

    def close_attach(self) -> bool:
        """Hide the attach box; True if it was open."""
        box = self.attach_box
        was_open = bool(box.display)
        box.display = False
        return was_open

    @on(Input.Submitted, "#attach-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        raw = event.value.strip()
        box = event.input
        box.display = False
        box.value = ""
        self.post_message(self.PathSubmitted(self, Path(raw).expanduser() if raw else None))
