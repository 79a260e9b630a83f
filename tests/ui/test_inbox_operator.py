"""What an operator trips on in the inbox (issue 16): resizes, markers, mouse."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.inbox import InboxScreen
from groups_tui.ui.widgets.group_list import Columns, GroupList, row_columns
from tests.ui.conftest import screen_text, settle
from tests.ui.fake_service import FakeService, FrozenClock

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


def _app() -> GroupsApp:
    clock = FrozenClock()
    return make_app(
        FakeService(clock), clock=clock, bell=False, sandbox_note="SANDBOX — simulated users"
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_inbox_after_resizes_snapshot(snap_compare: Callable[..., bool], size: str) -> None:
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_resized)


async def test_the_palette_resets_the_sandbox_after_confirming(app: GroupsApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # WHEN the operator picks "Reset the sandbox" in the palette and says no
        actions = {title: action for title, action, _ in InboxScreen.PALETTE_ACTIONS}
        assert actions["Reset the sandbox (start afresh)…"] == "reset_sandbox"
        await app.screen.run_action("reset_sandbox")
        await settle(pilot)
        assert "Start the sandbox afresh?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        # THEN nothing happens
        assert app.is_running and not app.restart_sandbox_afresh
        # WHEN the operator confirms THEN the app exits asking for a fresh sandbox
        await app.screen.run_action("reset_sandbox")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.restart_sandbox_afresh
    assert app.return_code == 0


async def test_a_live_account_has_no_sandbox_to_reset(service: FakeService) -> None:
    app = make_app(service, clock=service.clock, bell=False, sandbox_note=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.screen.run_action("reset_sandbox")
        await settle(pilot)
        assert app.is_running and not app.restart_sandbox_afresh
