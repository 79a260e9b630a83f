"""Fixtures for the UI tests: a frozen clock, the real service over a seeded store (see
:mod:`tests.ui.world`), UTC local time."""

from __future__ import annotations

import asyncio
import html
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.conversation import ConversationScreen
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
        # A worker that a newer one of its exclusive group replaced ends cancelled (a
        # reload overtaken by the next one): the app working as meant, not a failure.
        ended = await asyncio.gather(*(w.wait() for w in pending), return_exceptions=True)
        for outcome in ended:
            if isinstance(outcome, BaseException) and not isinstance(outcome, WorkerCancelled):
                raise outcome
    await pilot.pause()


async def open_conversation(
    app: GroupsApp, pilot: Pilot[None], group_id: str
) -> ConversationScreen:
    """Open ``group_id``'s conversation once the inbox has settled; its screen."""
    await settle(pilot)
    app.open_group(group_id)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    return screen


def screen_text(app: GroupsApp) -> str:
    """What the active screen shows, as plain text lines (modals composited in)."""
    return "\n".join(line.rstrip() for line in screen_lines(app))


_SVG_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)"[^>]*?clip-path="url\(#[\w-]+-line-(\d+)\)">(.*?)</text>'
)
_SVG_BACKGROUND = re.compile(
    r'<rect fill="[^"]*" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" '
    r'shape-rendering="crispEdges"/>'
)
_SVG_CHAR_WIDTH = 12.2
"""Rich's SVG export places a cell every 0.61 × 20 px ..."""
_SVG_LINE_HEIGHT = 24.4
"""... and a line every 1.22 × 20 px, its background 1.5 px below the line's top."""


def screen_lines(app: App[Any]) -> list[str]:
    """Every line of the running app's screen as drawn (modals composited in), read
    from the app's public screenshot (an SVG), each up to the end of its background.

    The export draws each run of text at its column (whitespace-only runs are left
    out), so the spaces between runs are put back here, and those after the last one up
    to the end of the line's painted background. Columns are counted as Rich counts
    cells (as the export does).
    """
    svg = app.export_screenshot()
    height = app.size.height
    runs: list[list[tuple[int, str]]] = [[] for _ in range(height)]
    ends = [0] * height
    for x, y, width in _SVG_BACKGROUND.findall(svg):
        row = round((float(y) - 1.5) / _SVG_LINE_HEIGHT)
        end = round((float(x) + float(width)) / _SVG_CHAR_WIDTH)
        ends[row] = max(ends[row], end)
    for x, row, content in _SVG_TEXT.findall(svg):
        text = html.unescape(content.replace("&#160;", " "))
        runs[int(row)].append((round(float(x) / _SVG_CHAR_WIDTH), text))
    lines = []
    for row_runs, end in zip(runs, ends, strict=True):
        line = ""
        for column, text in sorted(row_runs, key=lambda run: run[0]):
            line += " " * (column - cell_len(line)) + text
        lines.append(line + " " * (end - cell_len(line)))
    return lines
