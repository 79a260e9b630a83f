"""What an operator trips on in the inbox (issue 16): resizes, markers, mouse."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.events import MouseScrollDown
from textual.pilot import Pilot

from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.inbox import InboxScreen
from groups_tui.ui.widgets.group_list import Columns, GroupList, row_columns
from tests.helpers import meta
from tests.helpers.meta import Person
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, RUNNERS
from tests.ui.world import World

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def _list(app: GroupsApp) -> GroupList:
    return app.screen.query_one(GroupList)


def _expected_lines(group_list: GroupList) -> list[str]:
    """The visible rows as laid out for the list's width now."""
    cols = Columns.for_width(group_list.scrollable_content_region.width)
    lines = []
    for position in range(min(len(group_list.shown), group_list.scrollable_content_region.height)):
        cells = row_columns(group_list.row_at(position), group_list._now, cols)
        lines.append((cells[0] + cells[1] + " " + " ".join(cells[2:])).rstrip())
    return lines


async def test_rows_re_lay_out_on_every_resize(app: GroupsApp) -> None:
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        # WHEN the terminal is resized 120 -> 80 -> 60 -> 120 columns
        for width, height in ((120, 35), (80, 24), (60, 20), (120, 35)):
            await pilot.resize_terminal(width, height)
            await settle(pilot)
            # THEN every visible row is laid out for the new width (Act and Window kept)
            text = screen_text(app)
            assert "Window" in text
            for line in _expected_lines(group_list):
                assert line in text, f"{width}x{height}: row not re-laid out: {line!r}\n{text}"


async def _resized(pilot: Pilot[None]) -> None:
    """Go through 60 and 120 columns, then back to the snapshot's own size."""
    await settle(pilot)
    final = pilot.app.size
    for width, height in ((60, 20), (120, 35)):
        await pilot.resize_terminal(width, height)
        await settle(pilot)
    await pilot.resize_terminal(final.width, final.height)
    await settle(pilot)


def _app(world: World) -> GroupsApp:
    return make_app(
        world.service,
        clock=world.clock,
        bell=False,
        sandbox_note="SANDBOX — simulated users",
        sandbox_resettable=True,
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_inbox_after_resizes_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    world = snapshot_worlds()
    run_before = world.in_app(_resized)
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)


async def test_the_palette_resets_the_sandbox_after_confirming(world: World) -> None:
    app = _app(world)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # WHEN the operator picks "Reset the sandbox" in the palette and says no
        await pilot.press("colon", *"reset the sandbox")
        await settle(pilot)
        assert "Reset the sandbox (start afresh)" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert "Start the sandbox afresh?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        # THEN nothing happens
        assert app.is_running and not app.restart_sandbox_afresh
        # WHEN the operator confirms THEN the app exits asking for a fresh sandbox
        await app.run_action("reset_sandbox")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.restart_sandbox_afresh
    assert app.return_code == 0


async def test_a_live_account_has_no_sandbox_to_reset(service: InboxService, world: World) -> None:
    app = make_app(service, clock=world.clock, bell=False, sandbox_note=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.run_action("reset_sandbox")
        await settle(pilot)
        assert app.is_running and not app.restart_sandbox_afresh


async def _delete_runners(world: World) -> None:
    """Meta deleted Runners Lisbon (its lifecycle webhook)."""
    await world.webhook(meta.group_deleted(RUNNERS, int(world.clock()) - 60, "req-del"))


async def test_deleted_groups_are_hidden_unless_asked_with_a_legend(
    app: GroupsApp, world: World
) -> None:
    await _delete_runners(world)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        shown = {group_list.row_at(i).group_id for i in range(len(group_list.shown))}
        # THEN the deleted group is not listed, and the counts say one is hidden
        assert RUNNERS not in shown and len(shown) == group_list.total - 1
        assert "Runners Lisbon" not in screen_text(app)
        assert "1 deleted hidden · d shows" in screen_text(app)
        # WHEN d THEN it is listed, marked ✗, with the legend
        await pilot.press("d")
        await settle(pilot)
        assert len(group_list.shown) == group_list.total
        assert "✗ deleted group · d hides" in screen_text(app)
        await pilot.press("slash", *"runners", "enter")
        await settle(pilot)
        assert "✗ Runners Lisbon" in screen_text(app)
        # WHEN d again THEN it is hidden again, filter or not
        await pilot.press("d")
        await settle(pilot)
        assert len(group_list.shown) == 0


@pytest.mark.parametrize("size", list(SIZES))
def test_inbox_with_a_deleted_group_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    world = snapshot_worlds()
    world.sync(lambda: _delete_runners(world))
    run_before = world.in_app(settle)
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)


async def test_an_emoji_terminals_disagree_on_keeps_the_window_column(
    app: GroupsApp, world: World
) -> None:
    # GIVEN a member whose name has emoji terminals disagree on writes to the book club
    ana = Person("Ana ❤️✈️🇧🇷✨", "5511900000001")
    await world.join(BOOK_CLUB, ana)
    await world.receive(BOOK_CLUB, ana, "hi ❤️")
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        # THEN they are drawn in their one-cell text form, and every row keeps its columns
        assert "\ufe0f" not in text
        assert "Ana ❤✈🇧🇷✨: hi ❤" in text
        for line in _expected_lines(_list(app)):
            assert line in text


async def test_the_members_flags_column_stays_in_view_after_removals(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.navigation.open_members(BOOK_CLUB)
        await settle(pilot)
        # THEN at 80 columns the flagged member's rule shows (Bruno posted a burst)
        assert "Flags" in screen_text(app) and "burst" in screen_text(app)
        # WHEN a member is removed ("removing…" widens the names)
        await pilot.press("x", "y")
        await settle(pilot)
        text = screen_text(app)
        assert "removing…" in text
        # THEN the Flags column is still on screen
        assert "Flags" in text and "burst" in text


async def test_click_selects_a_row_and_a_second_click_or_a_double_click_opens_it(
    app: GroupsApp,
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        # WHEN the operator clicks the fourth row
        assert await pilot.click(GroupList, offset=(10, 3))
        await settle(pilot)
        # THEN it is selected, nothing opens
        assert group_list.cursor == 3 and isinstance(app.screen, InboxScreen)
        chosen = group_list.row_at(3).group_id
        # WHEN they click it again THEN it opens
        assert await pilot.click(GroupList, offset=(10, 3))
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.group_id == chosen
        await pilot.press("escape")
        await settle(pilot)
        # WHEN they double-click another row THEN it opens at once
        assert await pilot.double_click(GroupList, offset=(10, 5))
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.group_id == group_list.row_at(5).group_id
        await pilot.press("escape")
        await settle(pilot)
        # WHEN they click below the last row THEN nothing happens
        await pilot.press("slash", *"book club", "enter")
        await settle(pilot)
        assert len(group_list.shown) == 1
        await pilot.click(GroupList, offset=(10, 10))
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen) and group_list.cursor == 0


async def test_the_wheel_scrolls_the_list(app: GroupsApp) -> None:
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        assert group_list.scroll_y == 0
        # WHEN the wheel turns down over the list
        for _ in range(3):
            group_list.post_message(MouseScrollDown(group_list, 5, 5, 0, 1, 0, False, False, False))
            await settle(pilot)
        # THEN the rows scroll (drawn by the Line API, nothing mounted per row)
        assert group_list.scroll_y > 0
        assert "Neighbourhood 0" in screen_text(app)
        assert len(group_list.children) == 0
