"""Fixtures for the UI tests: a frozen clock, the real service over a seeded store (see
:mod:`tests.ui.world`), UTC local time."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp, make_app
from tests.ui.seed import Seed
from tests.ui.world import FrozenClock, World

FEED_WITHIN = 250
"""Pilot pauses (of ~20 ms) the change feed may take to reach the app before a test fails."""
FEED_ROUNDS = 10
"""Rounds of work and feed reads one settle may take (the work can write new changes)."""


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
    """The frozen clock shared by the store, the service and the app."""
    return FrozenClock()


@pytest.fixture
async def worlds(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    """Opens seeded worlds (``await worlds(Seed(...), clock)``) in the test's event loop,
    and closes them there after the test."""
    opened: list[World] = []

    async def open_world(seed: Seed | None = None, clock: FrozenClock | None = None) -> World:
        directory = tmp_path / f"world-{len(opened)}"
        directory.mkdir()
        world = await World.open(directory, seed, clock)
        opened.append(world)
        return world

    yield open_world
    for world in opened:
        await world.aclose()


@pytest.fixture
def snapshot_worlds(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """Opens seeded worlds for synchronous (snapshot) tests; run their apps with
    :meth:`World.in_app`. Closed after the test."""
    opened: list[World] = []

    def open_world(seed: Seed | None = None, clock: FrozenClock | None = None) -> World:
        directory = tmp_path / f"world-{len(opened)}"
        directory.mkdir()
        world = World.open_aside(directory, seed, clock)
        opened.append(world)
        return world

    yield open_world
    for world in opened:
        world.close()


@pytest.fixture
async def world(worlds: Callable[..., Awaitable[World]], clock: FrozenClock) -> World:
    """The seeded world at the clock's now."""
    return await worlds(Seed(now=int(clock())), clock)


@pytest.fixture
def service(world: World) -> InboxService:
    """The real service of the world."""
    return world.service


@pytest.fixture
def app(service: InboxService, clock: FrozenClock) -> GroupsApp:
    """The app over the real service (bell on, counted not rung)."""
    return make_app(service, clock=clock, bell=True, sandbox_note="SANDBOX — simulated users")


async def settle(pilot: Pilot[None], rounds: int = 4) -> None:
    """Let workers, messages and the change feed finish (the feed follower never does).

    What the service writes reaches the app through the change feed, which the app polls:
    this waits (bounded) until the app has read the newest change, then lets the work
    that causes run, until a round starts with every change already read.
    """
    app = pilot.app
    service = getattr(app, "service", None)
    for _ in range(FEED_ROUNDS):
        read = getattr(app, "_last_change_id", 0)
        await _drain(pilot, rounds)
        if not isinstance(service, InboxService):
            return
        latest = await service.changes.latest_id()
        if read >= latest:
            return  # everything was read before this drain, which handled it
        for _ in range(FEED_WITHIN):
            if getattr(app, "_last_change_id", 0) >= latest:
                break
            await pilot.pause(0.02)
        else:
            raise AssertionError("the app never caught up with the change feed")
    raise AssertionError("the change feed kept growing while the app settled")


async def _drain(pilot: Pilot[None], rounds: int) -> None:
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
