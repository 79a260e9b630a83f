"""Fixtures for the UI tests: a frozen clock, a seeded fake service, UTC local time."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from groups_tui.ui.app import GroupsApp, make_app
from tests.ui.fake_service import FakeService, FrozenClock


@pytest.fixture(autouse=True, scope="session")
def _utc() -> Iterator[None]:
    """Show local times as UTC so snapshots do not depend on the machine."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cursor blink off, so snapshots are stable."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture
def clock() -> FrozenClock:
    """The frozen clock shared by the fake service and the app."""
    return FrozenClock()


@pytest.fixture
def service(clock: FrozenClock) -> FakeService:
    """The seeded fake service."""
    return FakeService(clock)


@pytest.fixture
def app(service: FakeService, clock: FrozenClock) -> GroupsApp:
    """The app over the fake service (bell on, counted not rung)."""
    return make_app(service, clock=clock, bell=True, sandbox_note="SANDBOX — simulated users")


async def settle(pilot: Pilot[None], rounds: int = 4) -> None:
    """Let workers and messages finish (the change-feed follower never does)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        pending = [w for w in app.workers if w.group != "follow" and not w.is_finished]
        if pending:
            await app.workers.wait_for_complete(pending)
    await pilot.pause()


def screen_text(app: GroupsApp) -> str:
    """What the active screen shows, as plain text lines (modals composited in)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)
