"""The automations screen: rules and targets with pause switches, runs and failures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from groups_tui.service import InboxService
from groups_tui.service.types import AutomationRun, AutomationStatus, RuleView, TargetView
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.automations import AutomationsScreen
from tests.ui.conftest import screen_text, settle
from tests.ui.world import FrozenClock, World

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


class FakePanel:
    """Automations status in memory; records pause switches."""

    def __init__(self, now: float) -> None:
        self.paused: set[str] = set()
        self.calls: list[tuple[str, bool]] = []
        self.now = now

    async def status(self, recent: int = 20) -> AutomationStatus:
        rules = (
            RuleView(
                "invite-on-keyword",
                "'join', 'invite'",
                "Book club",
                "invite-on-keyword" in self.paused,
                12,
                self.now - 300,
                None,
            ),
            RuleView(
                "[@click=app.quit]vip[/]",
                "+44 7700 900123",
                "new: VIP lounge",
                "[@click=app.quit]vip[/]" in self.paused,
                1,
                None,
                None,
            ),
        )
        targets = (
            TargetView(
                "crm",
                "https://crm.example/hook",
                "crm" in self.paused,
                3,
                410,
                self.now - 60,
                "crm: connection refused (unreachable)",
            ),
        )
        runs = (
            AutomationRun(
                1, "invite-on-keyword", "invite", self.now - 300, True, "sent to +49 151"
            ),
        )
        failures = (AutomationRun(2, "crm", "forward", self.now - 60, False, "connection refused"),)
        return AutomationStatus(True, rules, targets, runs, failures)

    async def set_paused(self, name: str, paused: bool) -> None:
        self.calls.append((name, paused))
        (self.paused.add if paused else self.paused.discard)(name)


def _app(service: InboxService, clock: FrozenClock) -> tuple[GroupsApp, FakePanel]:
    panel = FakePanel(clock())
    return make_app(service, clock=clock, bell=False), panel


async def test_rules_targets_and_failures_are_listed_literally(
    service: InboxService, clock: FrozenClock
) -> None:
    # GIVEN an app with two rules (one with a hostile name), a target and a failure
    app, panel = _app(service, clock)
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


async def test_p_pauses_the_selected_rule_then_resumes_it(
    service: InboxService, clock: FrozenClock
) -> None:
    app, panel = _app(service, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(AutomationsScreen(panel))
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert panel.calls == [("invite-on-keyword", True)]
        assert "paused" in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        assert panel.calls[-1] == ("invite-on-keyword", False)


async def test_pause_applies_to_the_focused_targets_table(
    service: InboxService, clock: FrozenClock
) -> None:
    app, panel = _app(service, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(AutomationsScreen(panel))
        await settle(pilot)
        app.screen.query_one("#auto-targets").focus()
        await pilot.press("p")
        await settle(pilot)
        assert panel.calls == [("crm", True)]


async def _open(pilot: Pilot[None]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, GroupsApp)
    app.push_screen(AutomationsScreen(FakePanel(app.now())))
    await settle(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_automations_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    world = snapshot_worlds()
    app, _panel = _app(world.service, world.clock)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=world.in_app(_open))


async def test_ctrl_o_opens_the_screen_or_says_none_are_configured(
    service: InboxService, clock: FrozenClock
) -> None:
    # GIVEN an app without automations WHEN Ctrl+O is pressed THEN it says so and stays
    bare = make_app(service, clock=clock, bell=False)
    async with bare.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(bare.screen, AutomationsScreen)
        assert any("No automations" in str(n.message) for n in bare._notifications)
    # GIVEN an app with automations WHEN Ctrl+O is pressed THEN the screen opens
    panel = FakePanel(clock())
    app = make_app(service, clock=clock, bell=False, automations=panel)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, AutomationsScreen)
