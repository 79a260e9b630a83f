"""The automations screen: rules and targets with pause switches, runs and failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from groups_tui.service.types import AutomationSetup, ConfiguredRule, ConfiguredTarget
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.automations import AutomationsPanel, AutomationsScreen
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


RULES = (
    ConfiguredRule("invite-on-keyword", "'join', 'invite'", "Book club"),
    ConfiguredRule("[@click=app.quit]vip[/]", "+44 7700 900123", "new: VIP lounge"),
)
TARGETS = (ConfiguredTarget("crm", "https://crm.example/hook"),)
POSITION_KEY = "automations.test.position"


async def _configured(world: World) -> AutomationsPanel:
    """The service's automations with two rules and a target, and their history as the
    runner records it: twelve invites sent by the keyword rule (its last run five
    minutes ago), one by the VIP rule, 410 events forwarded to the CRM and three waiting,
    the last attempt a minute ago refused."""
    automations = world.service.automations
    automations.configure(AutomationSetup(RULES, TARGETS))
    automations.running = True
    now = world.clock()
    try:
        world.clock.set(now - 3_600)
        sends = [("invite-on-keyword", f"49151000{i:04d}") for i in range(12)]
        for rule, person in [*sends, ("[@click=app.quit]vip[/]", "447700900123")]:
            send_id = await automations.invite_flow_begin(
                rule, person, BOOK_CLUB, state="calling", at=world.clock()
            )
            await automations.invite_flow_update(send_id, "sent", wamid=f"wamid.{person}")
        items = [("crm", change, "events", b"{}") for change in range(1, 414)]
        await automations.forward_enqueue(items, position_key=POSITION_KEY, position=413)
        queued = await automations.forward_items("crm", "pending", limit=1_000, after_id=0)
        for item in queued[:410]:
            await automations.forward_delivered(item.id)
        world.clock.set(now - 300)
        await automations.add_run("invite-on-keyword", "invite", True, "sent to +49 151")
        world.clock.set(now - 60)
        await automations.add_run("crm", "forward", False, "connection refused")
    finally:
        world.clock.set(now)
    return automations


async def _paused(world: World) -> set[str]:
    return await world.service.automations.paused()


def _app(world: World, panel: AutomationsPanel) -> GroupsApp:
    return make_app(world.service, clock=world.clock, bell=False, automations=panel)


async def test_rules_targets_and_failures_are_listed_literally(world: World) -> None:
    # GIVEN an app with two rules (one with a hostile name), a target and a failure
    panel = await _configured(world)
    app = _app(world, panel)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # WHEN the automations screen opens
        app.push_screen(AutomationsScreen(panel))
        await settle(pilot)
        text = screen_text(app)
        # THEN every rule, target and failure is shown, markup as text, and nothing quit
        assert "invite-on-keyword" in text
        assert "[@click=app.quit]vip[/]" in text
        assert "crm" in text and "https://crm.example/hook" in text
        assert "failed: connection refused" in text
        assert app.is_running


async def test_p_pauses_the_selected_rule_then_resumes_it(world: World) -> None:
    panel = await _configured(world)
    app = _app(world, panel)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(AutomationsScreen(panel))
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert await _paused(world) == {"invite-on-keyword"}
        assert "paused" in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        assert await _paused(world) == set()


async def test_pause_applies_to_the_focused_targets_table(world: World) -> None:
    panel = await _configured(world)
    app = _app(world, panel)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(AutomationsScreen(panel))
        await settle(pilot)
        app.screen.query_one("#auto-targets").focus()
        await pilot.press("p")
        await settle(pilot)
        assert await _paused(world) == {"crm"}


async def _open(pilot: Pilot[None]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, GroupsApp) and app.automations is not None
    app.push_screen(AutomationsScreen(app.automations))
    await settle(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_automations_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    world = snapshot_worlds()
    panel = world.sync(lambda: _configured(world))
    assert snap_compare(
        _app(world, panel), terminal_size=SIZES[size], run_before=world.in_app(_open)
    )


async def test_ctrl_o_opens_the_screen_or_says_none_are_configured(world: World) -> None:
    # GIVEN an app without automations WHEN Ctrl+O is pressed THEN it says so and stays
    bare = make_app(world.service, clock=world.clock, bell=False)
    async with bare.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(bare.screen, AutomationsScreen)
        assert any("No automations" in str(n.message) for n in bare._notifications)
    # GIVEN an app with automations WHEN Ctrl+O is pressed THEN the screen opens
    app = _app(world, await _configured(world))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, AutomationsScreen)
