"""The conversation's composer: the text to send, a file path to attach, a status line.

The composer never calls the service: the conversation screen decides whether free-form
sending is refused (and shows why through :meth:`Composer.refuse`) and sends. A path typed
in the attach box is reported upward as :class:`Composer.PathSubmitted`.

Keys typed into a box are text. Tab in the attach box completes the path (as a shell
does) instead of leaving it; when focus leaves the box anyway (a click, Shift+Tab), the box
closes, says so on the status line and keeps the half-typed path for the next ``a``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static, TextArea

from groups_tui.ui.widgets.safe_text import safe

__all__ = ["HINT", "Composer", "complete_path"]

HINT = "Ctrl+S send · t template · a attach · Esc back"
"""The status line while sending is allowed and nothing else is to be said."""


MAX_LISTED = 2_000
"""Directory entries read for one completion (a huge directory is not read whole)."""


def complete_path(typed: str) -> tuple[str, list[str]]:
    """Complete a typed path as far as it is unambiguous, as a shell's Tab does.

    Args:
        typed: The path as typed (``~`` is expanded only to look the directory up).

    Returns:
        The completed text (``typed`` itself when nothing matches or the entries share
        nothing more), and the names of the entries that match, sorted.
    """
    head, _, prefix = typed.rpartition("/")
    directory = Path(os.path.expanduser(head + "/" if head or typed.startswith("/") else "."))
    try:
        with os.scandir(directory) as entries:
            names = []
            for count, entry in enumerate(entries):
                if count >= MAX_LISTED:
                    break
                if entry.name.startswith(prefix) and (prefix or not entry.name.startswith(".")):
                    names.append(entry.name + ("/" if entry.is_dir() else ""))
    except OSError:
        return typed, []
    names.sort()
    if not names:
        return typed, []
    common = os.path.commonprefix(names)
    base = typed[: len(typed) - len(prefix)]
    return base + common, names


class Composer(Vertical):
    """A text area, an attach-by-path box (hidden until asked for) and a status line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "tab",
            "complete_path",
            "Complete",
            id="composer.complete_path",
            show=False,
            tooltip="Complete the file path (in the attach box)",
        ),
    ]
    """Tab completes in the attach box; elsewhere it moves focus as usual."""

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
        # Not selected on focus: a kept path is continued, never replaced by the next key.
        yield Input(
            placeholder="path of the file to send (Tab completes, Enter sends, Esc cancels)",
            id="attach-path",
            select_on_focus=False,
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
        """Show the attach box (with the path kept from last time, if any) and focus it."""
        box = self.attach_box
        box.display = True
        box.cursor_position = len(box.value)
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Tab completes only in the attach box (elsewhere it moves focus)."""
        if action == "complete_path":
            return self.attach_box.has_focus
        return True

    def action_complete_path(self) -> None:
        """Complete the path in the attach box; list the candidates when several fit."""
        box = self.attach_box
        completed, names = complete_path(box.value)
        if completed != box.value:
            box.value = completed
            box.cursor_position = len(completed)
        if not names:
            self.status("No file matches that path")
        elif len(names) > 1:
            shown = "  ".join(names[:12]) + ("  …" if len(names) > 12 else "")
            self.status(f"{len(names)} match: {shown}")
        else:
            self.status("Enter sends it · Esc cancels")

    @on(Input.Blurred, "#attach-path")
    def _left_attach(self, event: Input.Blurred) -> None:
        box = event.input
        if not box.display:
            return  # closed by Enter or Esc
        box.display = False
        kept = box.value.strip()
        if kept:
            self.status(f"Attach closed; its path is kept: a reopens it ({kept})")
        else:
            self.status("Attach closed")

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
