"""The inbox's filter box: an :class:`Input` whose typing repaints only itself."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input

__all__ = ["FilterInput"]


class FilterInput(Input):
    """An :class:`Input` that does not lay out the whole screen on every keystroke.

    On each change of value, Textual's ``Input`` assigns its ``virtual_size``, and that
    reactive asks for a screen layout -- which repaints every widget, including the
    10,000-row inbox, on each key typed into the filter. This box has a fixed size and
    no scrollbars, so while the value is being applied the layout is downgraded to a
    repaint of the box itself (everything else ``Input`` does is left as it is).
    """

    _applying_value = False
    on_value: Callable[[str], None] | None = None
    """Called with each new value in the same turn as the keystroke (before the
    ``Changed`` message is delivered), so the box and what it filters repaint in one
    frame."""

    def _watch_value(self, value: str) -> None:
        self._applying_value = True
        try:
            super()._watch_value(value)
        finally:
            self._applying_value = False
        if self.on_value is not None:
            self.on_value(value)

    def refresh(
        self,
        *regions: object,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> FilterInput:
        if layout and self._applying_value and not self.styles.auto_dimensions:
            layout = False
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)  # type: ignore[arg-type]
        return self
