"""The baseline of ``bench/ui.py``: an empty Textual app (one Input, one line of text).

Started exactly as ``groups-tui`` is (a fresh interpreter in a tmux pane), so the paired
figures show what Textual itself costs on this machine. It imports nothing but Textual.
"""

from textual.app import App, ComposeResult
from textual.widgets import Input, Static


class Empty(App[None]):
    """An Input (focused) and a Static: typing repaints the box, as the inbox filter does."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="type here")
        yield Static("empty app ready")


if __name__ == "__main__":
    Empty().run()
