"""Helpers for driving the app over the full stack."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from groups_tui.ui.app import GroupsApp, make_app
from tests.integration.e2e.support import Stack
from tests.ui.conftest import screen_text, settle

UI_WITHIN = 400
"""Pilot pauses (of ~20 ms) an expectation may take before the test fails."""


def app_for(stack: Stack) -> GroupsApp:
    """The app over the stack's service and manual clock."""
    return make_app(stack.service, clock=stack.clock.now, bell=False)


async def until(pilot: Pilot[None], check: Callable[[], bool], what: str) -> None:
    """Pause until `check()` holds (the change feed is polled in real time), bounded.

    Args:
        pilot: The running app's pilot.
        check: The expectation.
        what: Said when it never holds.
    """
    for _ in range(UI_WITHIN):
        await settle(pilot, rounds=1)
        if check():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}\n{screen_text(pilot.app)}")  # type: ignore[arg-type]


def shows(pilot: Pilot[None], text: str) -> Callable[[], bool]:
    """An expectation: the active screen shows `text`."""
    return lambda: text in screen_text(pilot.app)  # type: ignore[arg-type]
