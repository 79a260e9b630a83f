"""Team mode in the TUI: what the operator's role does not allow is greyed out.

In footer, help and palette alike; in single-user mode nothing is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from groups_tui.domain.roles import Role, required_role
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.help import HelpScreen
from groups_tui.ui.screens.members import MembersScreen
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import FrozenClock, World


def _as_agent(
    operation: str,
    group_id: str | None = None,
    tag: str | None = None,
    arguments: Mapping[str, Any] | None = None,
) -> bool:
    """What a team daemon's client answers when its operator is an agent."""
    needed = required_role(operation, arguments or {})
    return needed is None or needed <= Role.AGENT


def _app(world: World, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> GroupsApp:
    monkeypatch.setattr(world.service, "permits", _as_agent)
    return make_app(world.service, clock=clock, bell=False, sandbox_note="team: sam (agent)")


def _disabled(app: GroupsApp) -> set[str]:
    return {a.binding.action for a in app.screen.active_bindings.values() if not a.enabled}


async def test_an_agent_sees_admin_and_moderator_keys_greyed(
    world: World, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(world, clock, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # the inbox: creating and deleting groups need an admin (the app's key too)
        assert {"new_group", "delete_group"} <= _disabled(app)
        assert app.check_action("new_group", ()) is None
        app.open_members(BOOK_CLUB)
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)
        greyed = _disabled(app)
        assert {"remove", "remove_everywhere", "settings"} <= greyed
        assert "edit" not in greyed and "invite_people" not in greyed
        # the help lists them greyed, naming the role they need
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = {e.description: (e.tooltip, e.enabled) for e in app.screen.entries}
        tip, enabled = rows["Remove"]
        assert not enabled and tip.endswith("(needs the moderator role)")
        assert rows["Details"][1] is True


async def test_single_user_mode_greys_nothing(app: GroupsApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not {"new_group", "delete_group"} & _disabled(app)
        assert app.check_action("new_group", ()) is True


async def test_the_audit_log_names_the_operators_role(
    world: World, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an action the daemon audited for an agent
    await world.store.audit.append("sam", "send.text", group_id=BOOK_CLUB, role="agent")
    app = _app(world, clock, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        # WHEN its details are opened THEN they say who, as which role
        await pilot.press("home", "enter")
        await settle(pilot)
        assert "sam (agent) send.text" in screen_text(app)
