"""What a filter keystroke and the start-up draw: only what changed, once.

No timing here (figures belong in ``bench/ui.py``): these count the drawing a key asks
for, check that kept filter results are the results, and when background work starts.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from rich.style import Style

import groups_tui.ui.app as app_module
from groups_tui.domain.models import GroupState
from groups_tui.service import InboxService
from groups_tui.service.types import InboxCursor, InboxRow
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.widgets.group_list import GroupList, QuickFilter, SortMode, passes
from tests.ui.conftest import screen_text, settle
from tests.ui.world import FrozenClock

GROUPS = 30
"""Groups in the seeded world."""


def _list(app: GroupsApp) -> GroupList:
    return app.screen.query_one(GroupList)


class _Drawn:
    """Counts the list's line requests and reads of its base style."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lines = 0
        self.passes = 0
        self.base_reads = 0
        render_line, render_lines = GroupList.render_line, GroupList.render_lines
        rich_style = GroupList.rich_style

        def line(view: GroupList, y: int) -> Any:
            self.lines += 1
            return render_line(view, y)

        def lines(view: GroupList, crop: Any) -> Any:
            self.passes += 1
            return render_lines(view, crop)

        def base(view: GroupList) -> Style:
            self.base_reads += 1
            return rich_style.fget(view)  # type: ignore[attr-defined,no-any-return]

        monkeypatch.setattr(GroupList, "render_line", line)
        monkeypatch.setattr(GroupList, "render_lines", lines)
        monkeypatch.setattr(GroupList, "rich_style", property(base))

    def reset(self) -> None:
        self.lines = self.passes = self.base_reads = 0


async def test_a_filter_key_that_keeps_the_rows_on_screen_draws_no_list_line(
    app: GroupsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = _Drawn(monkeypatch)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        height = group_list.scrollable_content_region.height
        # GIVEN the filter narrowed to the twenty "Neighbourhood" groups (more than a screen)
        await pilot.press("slash", *"neighbour")
        await settle(pilot)
        on_screen = [group_list.row_at(i) for i in range(height)]
        assert len(group_list.shown) == 20 > height
        drawn.reset()
        # WHEN a letter they all contain is typed (they stay on screen, in order)
        await pilot.press("h")
        await settle(pilot)
        # THEN the filter applies, and no line of the list is drawn again
        assert group_list.filter_text == "neighbourh"
        assert [group_list.row_at(i) for i in range(len(on_screen))] == on_screen
        assert drawn.lines == 0
        # WHEN a text that hides rows is typed THEN the lines that changed are drawn
        await pilot.press(*"zzq")
        await settle(pilot)
        assert group_list.shown == []
        assert 0 < drawn.lines <= height
        assert on_screen[0].subject not in screen_text(app)


async def test_the_list_works_out_its_base_style_once_a_drawing_pass(
    app: GroupsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = _Drawn(monkeypatch)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        drawn.reset()
        # WHEN every line of the list is drawn again
        _list(app).refresh()
        await settle(pilot)
        # THEN the base style (derived from every ancestor's styles) was read once a pass,
        # not once a line
        assert drawn.lines >= 10
        assert 1 <= drawn.base_reads <= drawn.passes < drawn.lines


def _expected(group_list: GroupList) -> list[int]:
    """The rows a fresh filter shows: the order, then every filter (none kept)."""
    rows = group_list.rows
    if group_list.sort_mode is SortMode.UNREAD:
        order = sorted(
            range(len(rows)), key=lambda i: (-rows[i].unread, -(rows[i].last_activity_at or 0))
        )
    else:
        order = sorted(range(len(rows)), key=lambda i: -(rows[i].last_activity_at or 0))
    text = group_list.filter_text
    return [
        i
        for i in order
        if text in rows[i].haystack
        and (group_list.show_deleted or rows[i].state != GroupState.DELETED)
        and passes(rows[i], group_list.quick_filters, 0)
    ]


async def test_kept_filter_results_are_what_a_fresh_filter_shows(
    app: GroupsApp,
) -> None:
    seed = random.randrange(2**32)
    print(f"seed={seed}")
    rng = random.Random(seed)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        text = ""
        # Typing, deleting, pasting and clearing, among sorts and (clock-free) filters.
        for step in range(300):
            roll = rng.random()
            if roll < 0.45:
                text += rng.choice("eoanrbkhclu ")
            elif roll < 0.75:
                text = text[:-1]
            elif roll < 0.8:
                text += rng.choice(["book", "neigh", "club", "ö", "zz"])
            elif roll < 0.84:
                text = ""
            elif roll < 0.89:
                group_list.toggle_quick_filter(
                    rng.choice([QuickFilter.UNREAD, QuickFilter.FLAGGED])
                )
            elif roll < 0.94:
                group_list.set_show_deleted(not group_list.show_deleted)
            else:
                group_list.set_sort(rng.choice([SortMode.ACTIVITY, SortMode.UNREAD]))
            group_list.set_query(text)
            assert group_list.shown == _expected(group_list), (seed, step, text)
        await pilot.pause()


async def test_background_work_and_header_figures_wait_until_every_row_is_in(
    service: InboxService, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a first screen of four rows, the rest held back
    monkeypatch.setattr(app_module, "FIRST_SCREEN_ROWS", 4)
    released = asyncio.Event()
    read = service.reading.inbox_page

    async def slow_rest(
        after: InboxCursor | None = None, limit: int | None = None
    ) -> tuple[list[InboxRow], InboxCursor | None]:
        if after is not None:
            await released.wait()
        return await read(after, limit)

    monkeypatch.setattr(service.reading, "inbox_page", slow_rest)
    header_reads: list[str] = []
    listener_status = service.reading.listener_status

    async def counted_status() -> Any:
        header_reads.append("listener")
        return await listener_status()

    monkeypatch.setattr(service.reading, "listener_status", counted_status)
    seen: list[int] = []
    app: GroupsApp | None = None

    async def started() -> None:
        assert app is not None
        seen.append(_list(app).total)

    app = make_app(service, clock=clock, bell=False, on_started=started)
    async with app.run_test(size=(100, 24)) as pilot:
        for _ in range(5):
            await pilot.pause()
        # THEN the first screen is drawn; the background work and the header's figures wait
        assert _list(app).total == 4
        assert seen == []
        assert header_reads == []
        # WHEN the rest arrives THEN the work starts, once, with every row in, and the
        # header reads its figures
        released.set()
        await settle(pilot)
        await settle(pilot)
        assert seen == [GROUPS]
        assert header_reads


async def test_background_work_starts_when_the_rest_of_the_rows_cannot_be_read(
    service: InboxService, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a first screen of four rows, and a database that fails reading the rest
    monkeypatch.setattr(app_module, "FIRST_SCREEN_ROWS", 4)
    read = service.reading.inbox_page

    async def failing_rest(
        after: InboxCursor | None = None, limit: int | None = None
    ) -> tuple[list[InboxRow], InboxCursor | None]:
        if after is not None:
            raise RuntimeError("disk I/O error")
        return await read(after, limit)

    monkeypatch.setattr(service.reading, "inbox_page", failing_rest)
    seen: list[str] = []

    async def started() -> None:
        seen.append("started")

    app = make_app(service, clock=clock, bell=False, on_started=started)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await settle(pilot)
        # THEN the watcher and the runner still start (they do not need the inbox)
        assert seen == ["started"]
        assert _list(app).total == 4
