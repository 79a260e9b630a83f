"""Keys read together stay in order: text first, then the key that submits it.

The terminal driver queues every key of one read (a fast typist, a paste, a batch over
SSH) before the first is handled. A priority binding (Ctrl+S to send or save) runs the
moment the app reads its key, while the letters read just before it are still on their
way: in the focused box's queue, or bubbling up from a widget that had the focus when
they were read. A submit action that reads a box's text therefore runs through
:func:`after_keys_in_flight`, which calls it once those letters are in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeGuard

from textual.app import App
from textual.dom import DOMNode
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.widgets import TextArea

__all__ = ["after_keys_in_flight", "text_box"]


def text_box(widget: object) -> TypeGuard[Input | TextArea]:
    """Whether ``widget`` is a box that keeps every text key it gets (``TextArea`` is
    imported here, not at start: a focused one exists only once a screen imported it)."""
    from textual.widgets import TextArea

    return isinstance(widget, (Input, TextArea))


def after_keys_in_flight(app: App[Any], then: Callable[[], object]) -> None:
    """Call ``then`` once every key the app has handed out so far has arrived.

    Message queues are first in, first out. Keys handed to a focused text box are
    handled in its queue, so ``then`` is queued behind them there. Keys handed to
    another widget (the focus moved meanwhile, as with "i" and the text read together)
    bubble from it up to the app, which gives the text ones to the focused box
    (``GroupsApp.on_event``); ``then`` follows the same hops, behind them, and is queued
    behind them in the box at the end. Keys read after the submitting one are handed
    out later, so they come after ``then``. A screen closed meanwhile (a second Ctrl+S
    read in the same burst) is not submitted again.
    """
    screen = app.screen
    handed_to: DOMNode = app.focused or screen

    def call() -> None:
        if screen in app.screen_stack:
            then()

    if text_box(handed_to):
        handed_to.call_later(call)
        return

    def at_app() -> None:
        box = app.focused
        if text_box(box) and box is not handed_to:
            box.call_later(call)
        else:
            call()

    def hop(node: DOMNode) -> None:
        parent = node.parent
        if node is app or parent is None:
            at_app()
        else:
            parent.call_later(hop, parent)

    handed_to.call_later(hop, handed_to)
