"""The keys of the screen underneath, listed from its bindings."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from groups_tui.ui.keys import KeyEntry, Scope, screen_keys
from groups_tui.ui.screens._base import AppModal, permitted, role_needed

__all__ = ["HelpScreen", "help_table"]

KEY_WIDTH = 14
"""Cells of the key column; the description takes the rest and wraps, never cut."""


def help_table(entries: list[KeyEntry]) -> Table:
    """The entries in sections (this screen, moving around, everywhere), one row each.

    Each row is the keys, then the description and what it does as one wrapping column,
    so a narrow terminal wraps the sentence instead of squeezing it away.

    Args:
        entries: The screen's keys (see :func:`~groups_tui.ui.keys.screen_keys`).

    Returns:
        A two-column table.
    """
    table = Table(box=None, expand=True, show_header=False, padding=(0, 1), pad_edge=False)
    table.add_column("Key", style="bold", no_wrap=True, width=KEY_WIDTH)
    table.add_column("What it does", ratio=1, overflow="fold")
    for scope in Scope.ORDER:
        rows = [e for e in entries if e.scope == scope]
        if not rows:
            continue
        if table.row_count:
            table.add_row("", "")
        table.add_row(Text(scope, style="bold underline"), "")
        for entry in rows:
            what = Text(entry.description, style="bold" if entry.enabled else "dim")
            if entry.tooltip and entry.tooltip != entry.description:
                what.append(" — " + entry.tooltip, style="" if entry.enabled else "dim")
            if not entry.enabled:
                what.append(" (not available now)", style="dim italic")
            table.add_row(Text(" ".join(entry.keys)), what)
    return table


class HelpScreen(AppModal[None]):
    """A modal listing every key of the screen it was opened from.

    It reads the screen's bindings when opened (those of the focused widget and its
    ancestors, the screen's and the app's, hidden ones included), so what it lists is
    what works there, with any key the operator remapped in ``[keys]``.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,q,question_mark", "close", "Close", id="help.close", tooltip="Close the help"
        ),
    ]
    """Keys that close the help."""

    def __init__(self, under: Screen[Any]) -> None:
        """Collect the keys of ``under``.

        Args:
            under: The screen whose keys to list.
        """
        super().__init__()
        self.entries = screen_keys(under)
        """The keys listed."""
        for entry in self.entries:
            if entry.node is under and not permitted(under, entry.action):
                role = role_needed(under, entry.action)
                entry.tooltip = f"{entry.tooltip or entry.description} (needs the {role} role)"
        self.title_text = getattr(under, "SCREEN_NAME", None) or (
            type(under).__name__.removesuffix("Screen").removesuffix("Modal") or "Screen"
        )

    def compose(self) -> ComposeResult:
        """The key table."""
        with VerticalScroll(id="help"):
            yield Static(Text(f"Keys — {self.title_text}", style="bold"), id="help-title")
            yield Static(help_table(self.entries), id="help-keys")
            yield Static(
                Text("Esc, q or ? closes this help · : or Ctrl+P finds any action by name"),
                id="help-foot",
            )

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
