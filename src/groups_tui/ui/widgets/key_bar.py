"""A one-line key bar: the footer, drawn as text instead of a widget per key."""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

__all__ = ["ALWAYS_SHOWN", "KeyBar"]

ALWAYS_SHOWN = frozenset({"app.help", "app.palette"})
"""Ids of the bindings the bar never drops: the help and the palette find the rest."""


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
        """`key description` pairs for the shown bindings, de-duplicated by action.

        When they do not fit, the last ones give way (the line ends with ``…``), but
        never those of :data:`ALWAYS_SHOWN`: ``? Help`` lists every key that was cut.
        """
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        pairs: list[tuple[Text, bool]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or binding.action in seen or not binding.description:
                continue
            seen.add(binding.action)
            key = binding.key_display or self.app.get_key_display(binding)
            pair = Text(" ")
            pair.append(key, style=key_style if active.enabled else off_style)
            pair.append(" " + binding.description + " ", style="" if active.enabled else off_style)
            pairs.append((pair, binding.id in ALWAYS_SHOWN))
        width = self.size.width or 10_000
        total = sum(pair.cell_len for pair, _ in pairs)
        cut = False
        while total + (2 if cut else 0) > width:
            droppable = [i for i, (_, always) in enumerate(pairs) if not always]
            if not droppable:
                break
            dropped, _ = pairs.pop(droppable[-1])
            total -= dropped.cell_len
            cut = True
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for pair, _ in pairs:
            text.append_text(pair)
        if cut:
            text.append(" …")
        return text
