"""Resizing a line-drawn list without laying out the whole screen."""

from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.widget import Widget

__all__ = ["set_virtual_height"]


def set_virtual_height(view: ScrollView, height: int) -> None:
    """Give ``view`` a scrollable height of ``height`` lines.

    Assigning ``virtual_size`` lays out the whole screen and repaints every widget on it.
    That is only needed when the vertical scrollbar appears or disappears. The inbox and
    the message log keep theirs (``overflow-y: scroll``), so loading rows or filtering
    only updates the scrollbar and the view's own lines.
    """
    new = Size(0, height)
    old = view.virtual_size
    if new == old:
        return
    if view.styles.overflow_y != "scroll":
        visible = view.scrollable_content_region.height
        if not view.is_mounted or visible <= 0 or (old.height > visible) != (height > visible):
            view.virtual_size = new
            return
    view.set_reactive(Widget.virtual_size, new)
    view._scroll_update(new)
    view.refresh()
