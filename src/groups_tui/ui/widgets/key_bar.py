"""A one-line key bar: the footer, drawn as text instead of a widget per key."""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

__all__ = ["KeyBar"]


class KeyBar(Widget):
    """The keys that work right now, in one line.

    Textual's ``Footer`` mounts a widget per binding, which costs tens of milliseconds
    each time a screen opens; this bar renders the same information as one line of
    text and repaints when the screen's bindings change (focus moves, modals open).
    """

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $panel;
        color: $foreground;
        & > .key-bar--key { color: $accent; text-style: bold; }
        & > .key-bar--disabled { color: $text-muted; }
    }
    """

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--disabled"}

    def on_mount(self) -> None:
        """Follow the screen's binding changes."""
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        """Stop following."""
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def render(self) -> Text:
        """`key description` pairs for the shown bindings, de-duplicated by action."""
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen or not binding.description:
                continue
            seen.add(binding.action)
            key = binding.key_display or self.app.get_key_display(binding)
            text.append(" ")
            text.append(key, style=key_style if active.enabled else off_style)
            text.append(" " + binding.description + " ", style="" if active.enabled else off_style)
        return text
