"""The keys of a screen, read from its bindings: what the help lists and the palette runs.

Nothing here is a second list of keys: every entry comes from a ``BINDINGS`` declaration
as Textual resolves it for the screen right now (the focused widget and its ancestors,
the screen, the app, with the operator's ``[keys]`` remapping applied), so a key added to
a screen is listed, and a remapped key is shown as remapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

__all__ = ["NAVIGATION_ACTIONS", "KeyEntry", "Scope", "screen_keys"]

NAVIGATION_ACTIONS = frozenset(
    {
        "cursor_up",
        "cursor_down",
        "scroll_up",
        "scroll_down",
        "scroll_home",
        "scroll_end",
        "page_up",
        "page_down",
        "older_or_page_up",
        "first",
        "last",
        "top",
        "bottom",
        "focus_next",
        "focus_previous",
        "app.focus_next",
        "app.focus_previous",
        "select_message(-1)",
        "select_message(1)",
    }
)
"""Actions that move around rather than act: listed together under "Moving around"."""


class Scope:
    """Where an entry belongs in the help."""

    SCREEN = "This screen"
    APP = "Everywhere"
    NAVIGATION = "Moving around"

    ORDER = (SCREEN, NAVIGATION, APP)
    """The order of the help's sections."""


@dataclass(slots=True)
class KeyEntry:
    """One action of a screen and every key that runs it.

    Attributes:
        keys: How each key is shown (``?``, ``^s``, ``↑``), in binding order.
        description: The binding's short description.
        tooltip: What the action does, in a sentence.
        action: The action string, run in ``node``.
        node: The node that declares the binding (the namespace of the action).
        binding_id: The binding's id (what ``[keys]`` remaps), if it has one.
        scope: :class:`Scope` the entry is listed under.
        enabled: False while the action is shown but not available.
    """

    keys: list[str]
    description: str
    tooltip: str
    action: str
    node: DOMNode
    binding_id: str | None
    scope: str
    enabled: bool = True


def _scope(binding: Binding, node: DOMNode, app: App[Any]) -> str:
    if binding.action in NAVIGATION_ACTIONS:
        return Scope.NAVIGATION
    if node is app:
        return Scope.APP
    return Scope.SCREEN


def screen_keys(screen: Screen[Any]) -> list[KeyEntry]:
    """Every action a key runs on ``screen`` right now, with all its keys.

    Bindings of one node for one action are one entry (``i`` and ``Enter`` both write);
    an action its node's ``check_action`` hides is left out, one it disables is kept and
    marked. Only bindings that carry an id are listed (every binding of groups-tui does,
    conventions item 1), plus Textual's moving-around keys (Tab); the widgets' own
    internals (Ctrl+PgUp scrolling sideways, copying a selection) are not.
    Order: as Textual resolves keys, from the focused widget up to the app.

    Args:
        screen: The screen (it need not be the active one: the help reads the screen
            it was opened from).

    Returns:
        The entries.
    """
    app = screen.app
    entries: dict[tuple[int, str], KeyEntry] = {}
    seen: set[tuple[int, str, str]] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        node = active.node
        if binding.id is None and binding.action not in NAVIGATION_ACTIONS:
            continue
        slot = (id(node), binding.action)
        shown = binding.key_display or app.get_key_display(binding)
        entry = entries.get(slot)
        if entry is None:
            entry = KeyEntry(
                keys=[],
                description=binding.description or binding.action,
                tooltip=active.tooltip or binding.tooltip or "",
                action=binding.action,
                node=node,
                binding_id=binding.id,
                scope=_scope(binding, node, app),
                enabled=active.enabled,
            )
            entries[slot] = entry
        if (*slot, shown) not in seen:
            seen.add((*slot, shown))
            entry.keys.append(shown)
    return list(entries.values())
