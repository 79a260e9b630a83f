"""Several business numbers in the inbox: the number column, the 1-9 filters, the header,
spend by number, the moderation queue, and creating a group on a number.

Over the real service: a three-number store (:mod:`tests.ui.numbered`), and for creating
a group the whole in-process stack on a three-number sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Select

from groups_tui.runtime import SandboxOptions, sandbox_stack
from groups_tui.sandbox import ManualClock, SandboxKnobs
from groups_tui.store import Store
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.create_group import CreateGroupModal
from groups_tui.ui.screens.inbox import InboxScreen
from groups_tui.ui.screens.moderation_queue import ModerationQueueScreen
from groups_tui.ui.screens.spend_by_number import SpendByNumberModal
from groups_tui.ui.widgets.group_list import GroupList
from groups_tui.ui.widgets.status_header import StatusHeader
from tests.ui.conftest import screen_text, settle
from tests.ui.numbered import NOW, NUMBERS, numbered_app

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture
def numbered(tmp_path: Path) -> Iterator[tuple[GroupsApp, Store]]:
    app, store, _clock = numbered_app(tmp_path / "numbers.db")
    yield app, store
    asyncio.run(store.close())


def _inbox(app: GroupsApp) -> InboxScreen:
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    return screen


def _numbers_shown(app: GroupsApp) -> set[str]:
    group_list = app.screen.query_one(GroupList)
    return {group_list.row_at(i).phone_number_id for i in range(len(group_list.shown))}


async def test_the_number_column_shows_each_groups_label_and_can_be_hidden(
    numbered: tuple[GroupsApp, Store],
) -> None:
    app, _ = numbered
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # GIVEN three numbers THEN every row says its number, under a "No." title
        text = screen_text(app)
        assert text.splitlines()[4].startswith("  No. Subject")
        row_line = next(ln for ln in text.splitlines() if "Pedido 3003" in ln)
        # (the first two cells are the marks: "!" when the group has open moderation flags)
        assert row_line[2:].startswith("BR  Pedido 3003")
        # WHEN L is pressed THEN the column goes, and the app remembers it
        await pilot.press("L")
        await settle(pilot)
        assert not app.screen.query_one(GroupList).number_column
        assert app.number_column is False
        line = next(ln for ln in screen_text(app).splitlines() if "Pedido 3003" in ln)
        assert line[2:].startswith("Pedido 3003")
        # AND it stays hidden after a conversation and back
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not app.screen.query_one(GroupList).number_column
        # WHEN L is pressed again THEN it is back
        await pilot.press("L")
        await settle(pilot)
        assert app.screen.query_one(GroupList).number_column


async def test_keys_1_to_9_filter_by_number(numbered: tuple[GroupsApp, Store]) -> None:
    app, _ = numbered
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert _numbers_shown(app) == {n.phone_number_id for n in NUMBERS}
        # WHEN 2 is pressed THEN only BR's groups are shown, and the counts say so
        await pilot.press("2")
        await settle(pilot)
        assert _numbers_shown(app) == {NUMBERS[1].phone_number_id}
        assert "3/9" in screen_text(app) and "· BR" in screen_text(app)
        # WHEN 3 THEN DE's; WHEN 3 again THEN every number's
        await pilot.press("3")
        await settle(pilot)
        assert _numbers_shown(app) == {NUMBERS[2].phone_number_id}
        await pilot.press("3")
        await settle(pilot)
        assert len(_numbers_shown(app)) == 3
        # AND a digit beyond the numbers does nothing; x clears a number filter too
        await pilot.press("4")
        await settle(pilot)
        assert len(_numbers_shown(app)) == 3
        await pilot.press("1", "x")
        await settle(pilot)
        assert len(_numbers_shown(app)) == 3
        # AND the number filter combines with filtering as you type
        await pilot.press("1", "slash", *"book", "enter")
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        assert [group_list.row_at(i).subject for i in range(len(group_list.shown))] == [
            "Book club #7 📚"
        ]


async def test_the_keys_do_not_exist_with_one_number(app: GroupsApp) -> None:
    # GIVEN the seeded single-number account
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        keys = set(app.screen.active_bindings)
        # THEN neither the digits, L nor $ are bound, and no number column is drawn
        assert not keys & {"1", "2", "L", "N"}
        assert not app.screen.query_one(GroupList).number_column


async def test_the_header_gives_the_total_and_each_number(
    numbered: tuple[GroupsApp, Store],
) -> None:
    app, store = numbered
    spend = await store.ledger.spend_by_number(NOW - 43_200, NOW + 43_200)
    total = sum(s.total for s in spend.values())
    # 180 columns: the header also counts the open moderation flag of this world.
    async with app.run_test(size=(180, 40)) as pilot:
        await settle(pilot)
        line = screen_text(app).splitlines()[0]
        assert "3 numbers" in line
        assert f"today ${total:.4f}" in line
        for number in NUMBERS:
            assert f"{number.label} ${spend[number.phone_number_id].total:.4f}" in line
        assert "free service 9/3,000" in line


async def test_at_80_columns_the_header_keeps_the_total_and_dollar_details(
    numbered: tuple[GroupsApp, Store],
) -> None:
    app, store = numbered
    spend = await store.ledger.spend_by_number(NOW - 43_200, NOW + 43_200)
    total = sum(s.total for s in spend.values())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = screen_text(app).splitlines()[0]
        # At 80 columns the total and the allowance stay, each number's goes to `$`
        assert f"${total:.4f} today" in line and "svc 9/3,000" in line
        assert "US $" not in line
        assert len(app.screen.query_one(StatusHeader).render().plain) <= 80
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, SpendByNumberModal)
        text = screen_text(app)
        for number in NUMBERS:
            assert number.label in text and number.phone_number_id in text
        # Each number's own allowance: one service delivery per group of it this month.
        for number, used in zip(NUMBERS, (4, 3, 2), strict=True):
            row = next(ln for ln in text.splitlines() if number.phone_number_id in ln)
            assert f"{used} of 1,000" in row


async def test_the_moderation_queue_says_which_number(numbered: tuple[GroupsApp, Store]) -> None:
    app, _ = numbered
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ModerationQueueScreen)
        text = screen_text(app)
        assert "Number" in text
        row = next(ln for ln in text.splitlines() if "link_flood" in ln)
        assert "BR" in row


async def test_creating_a_group_asks_the_number(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    options = SandboxOptions(
        db_path=tmp_path / "stack.db",
        clock=clock,
        receipt_clock=clock.now,
        simulate=False,
        numbers=3,
        knobs=SandboxKnobs(op_delay=1.0, messages_per_second=0, group_ops_per_second=0),
    )
    async with sandbox_stack(options) as stack:
        app = make_app(stack.service, clock=clock.now, bell=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            # WHEN n is pressed with no number filter on
            await pilot.press("n")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, CreateGroupModal)
            # THEN the modal asks the number, none chosen, and refuses to create without one
            assert modal.query_one("#number", Select).value is Select.NULL
            await pilot.press(*"Sem número", "ctrl+s")
            await settle(pilot)
            assert "Choose the number" in screen_text(app)
            assert not any(w.groups for w in stack.sandbox.worlds)
            await pilot.press("escape")
            await settle(pilot)
            # WHEN the inbox shows BR's groups only and n is pressed
            await pilot.press("2", "n")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, CreateGroupModal)
            # THEN BR is chosen already, and the group is created on BR
            br = stack.numbers[1]
            assert modal.query_one("#number", Select).value == br.phone_number_id
            await pilot.press(*"Clube novo", "ctrl+s")
            await settle(pilot)
            await stack.settle(5)
            [group] = stack.world_of("BR").groups.values()
            assert group.subject == "Clube novo"
            assert not stack.world_of("US").groups and not stack.world_of("DE").groups


@pytest.mark.parametrize("size", list(SIZES))
def test_inbox_with_three_numbers_snapshot(
    snap_compare: Callable[..., bool], tmp_path: Path, size: str
) -> None:
    app, store, _ = numbered_app(tmp_path / "snap.db")
    try:
        assert snap_compare(app, terminal_size=SIZES[size])
    finally:
        asyncio.run(store.close())


def test_spend_by_number_snapshot(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    app, store, _ = numbered_app(tmp_path / "snap.db")

    async def open_spend(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)

    try:
        assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_spend)
    finally:
        asyncio.run(store.close())


async def test_the_first_screen_comes_first_and_the_filter_covers_the_rest(
    numbered: tuple[GroupsApp, Store],
) -> None:
    app, _ = numbered
    service = app.service
    released = asyncio.Event()
    read_rest = service.reading.inbox_page

    async def slow_rest(after: object = None, limit: int | None = None) -> object:
        if after is not None:
            await released.wait()  # the rest is still being read
        return await read_rest(after, limit)  # type: ignore[arg-type]

    service.reading.inbox_page = slow_rest  # type: ignore[method-assign,assignment]
    import groups_tui.ui.app as app_module

    first_screen = app_module.FIRST_SCREEN_ROWS
    app_module.FIRST_SCREEN_ROWS = 4
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            group_list = app.screen.query_one(GroupList)
            # GIVEN the first screen's rows are drawn while the rest is being read
            await pilot.pause()
            assert group_list.total == 4
            assert "loading" in screen_text(app)
            # WHEN the operator filters for a group that is not on the first screen
            await pilot.press("slash", *"elternabend")
            await pilot.pause()
            assert group_list.shown == []
            # THEN once the rest is in, the filter covers it too
            released.set()
            await settle(pilot)
            assert group_list.total == 9
            assert [group_list.row_at(i).subject for i in range(len(group_list.shown))] == [
                "Elternabend Klasse 4b"
            ]
            assert "loading" not in screen_text(app)
    finally:
        app_module.FIRST_SCREEN_ROWS = first_screen


async def test_the_rows_read_after_the_first_screen_are_frozen_too(
    numbered: tuple[GroupsApp, Store],
) -> None:
    import gc

    import groups_tui.ui.app as app_module

    # GIVEN the app as `run` builds it (freezing the start-up heap), the first screen
    # being four rows of the nine
    plain, _ = numbered
    service = plain.service
    released = asyncio.Event()
    read_rest = service.reading.inbox_page

    async def slow_rest(after: object = None, limit: int | None = None) -> object:
        if after is not None:
            await released.wait()  # the rest arrives once the first screen is frozen
        return await read_rest(after, limit)  # type: ignore[arg-type]

    service.reading.inbox_page = slow_rest  # type: ignore[method-assign,assignment]
    first_screen = app_module.FIRST_SCREEN_ROWS
    app_module.FIRST_SCREEN_ROWS = 4
    app = make_app(service, clock=plain.clock, bell=False, freeze_heap=True)
    gc.unfreeze()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()  # (not settle: the rest is held back)
            group_list = app.screen.query_one(GroupList)
            await pilot.pause()
            assert group_list.total == 4 and gc.get_freeze_count() > 0
            # WHEN the rest arrives
            released.set()
            await settle(pilot)
            assert _inbox(app).all_loaded and group_list.total == 9
            # THEN every row, the rest's too, sits in the permanent generation: a full
            # collection during a keystroke does not walk them
            rows = [group_list.row_at(i) for i in range(group_list.total)]
            assert all(gc.is_tracked(r) for r in rows)
            collected = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
            assert [r.subject for r in rows if id(r) in collected] == []
    finally:
        gc.unfreeze()
        app_module.FIRST_SCREEN_ROWS = first_screen


async def test_the_spend_report_is_by_number_or_of_one(
    numbered: tuple[GroupsApp, Store],
) -> None:
    from datetime import UTC, datetime

    app, store = numbered
    reading = app.service.reading
    today = datetime.fromtimestamp(NOW, UTC).date()
    per_number = {s.label: s.today for s in await reading.spend_by_number()}
    assert all(per_number.values())
    # WHEN spend is reported by number THEN one row per number, labelled, as the ledger says
    report = await reading.spend_report(today, today, "number")
    assert {r.label: r.amount for r in report.rows} == per_number
    assert [r.key for r in report.rows] == sorted(n.phone_number_id for n in NUMBERS)
    # AND of one number (by label or id), only its spend
    one = await reading.spend_report(today, today, "day", "br")
    assert one.total == per_number["BR"]
    by_id = await reading.spend_report(today, today, "category", NUMBERS[2].phone_number_id)
    assert by_id.total == per_number["DE"]
