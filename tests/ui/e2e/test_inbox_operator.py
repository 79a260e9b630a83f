"""The inbox over the full stack: what the operator finds and sees (issue 16)."""

from __future__ import annotations

from groups_tui.sandbox.people import Person
from groups_tui.ui.widgets.group_list import GroupList
from tests.integration.e2e.support import BR, DE, Stack
from tests.ui.conftest import settle

from .support import app_for, until


async def test_filter_as_you_type_finds_member_names_with_or_without_accents(
    stack: Stack,
) -> None:
    # GIVEN a group where Sofía Castro and Björn Åkesson wrote (participant webhooks carry
    # numbers only: names arrive with messages), and a group without them
    stack.world.population.add(Person("34611222333", "Sofía Castro", "ES", "ES.34611222333"))
    stack.world.population.add(Person("46701234567", "Björn Åkesson", "SE", "SE.46701234567"))
    wedding = await stack.create_group("Wedding")
    other = await stack.create_group("Other")
    await stack.join(wedding, "34611222333", "46701234567", DE)
    await stack.join(other, BR)
    await stack.say(wedding, "34611222333", "hola")
    await stack.say(wedding, "46701234567", "hej")
    await stack.say(other, BR, "oi")
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        await until(pilot, lambda: group_list.total == 2, "both groups")
        for typed in ("castro", "Björn", "sofía", "SOFIA", "bjorn akesson", "akesson"):
            # WHEN the operator types a member's name in the filter
            await pilot.press("slash", *typed)
            await settle(pilot)
            # THEN the group they are in is shown, and only it
            shown = [group_list.row_at(i).group_id for i in range(len(group_list.shown))]
            assert shown == [wedding], typed
            await pilot.press("escape", "escape")
            await settle(pilot)
            assert len(group_list.shown) == 2
