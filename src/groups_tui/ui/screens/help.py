"""The keys of the screen underneath, listed."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from groups_tui.ui.screens._base import AppModal, permitted, role_needed

__all__ = ["HelpScreen", "NAVIGATION"]

NAVIGATION: tuple[tuple[str, str], ...] = (
    ("↑ ↓  k j", "Move"),
    ("g G  Home End", "First / last"),
    ("PgUp PgDn", "Page (PgUp at the top of a conversation loads older messages)"),
    ("Enter", "Open the group / write"),
    ("Esc", "Back"),
    (": or Ctrl+P", "Command palette: every action"),
)
"""Keys hidden from the footer, listed here."""


class HelpScreen(AppModal[None]):
    """A modal listing the keys of the screen it was opened from.

    It reads the screen's active bindings when opened, so what it lists is what works
    there, plus the hidden navigation keys.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help"
        ),
    ]
    """Keys that close the help."""

    def __init__(self, under: Screen[object]) -> None:
        """Collect the keys of ``under``.

        Args:
            under: The screen whose keys to list.
        """
        super().__init__()
        rows: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        for active in under.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            display = binding.key_display or self.app.get_key_display(binding)
            tooltip = active.tooltip or binding.tooltip
            role = None if permitted(under, binding.action) else role_needed(under, binding.action)
            if role is not None:
                tooltip = f"{tooltip} (needs the {role} role)"
            rows.append((display, binding.description, tooltip, active.enabled))
        self.rows = rows
        self.title_text = type(under).__name__.removesuffix("Screen") or "Screen"

    def compose(self) -> ComposeResult:
        """The key table."""
        table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
        table.add_column("Key", style="bold", no_wrap=True, min_width=13)
        table.add_column("Action", no_wrap=True)
        table.add_column("What it does", ratio=1)
        for key, description, tooltip, enabled in self.rows:
            style = "" if enabled else "dim"  # greyed as in the footer
            table.add_row(Text(key, style), Text(description, style), Text(tooltip, style))
        for key, description in NAVIGATION:
            table.add_row(Text(key), Text(description), Text(""))
        with VerticalScroll(id="help"):
            yield Static(Text(f"Keys — {self.title_text}", style="bold"), id="help-title")
            yield Static(table, id="help-keys")
            yield Static(Text("Esc, q or ? closes this help."), id="help-foot")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
