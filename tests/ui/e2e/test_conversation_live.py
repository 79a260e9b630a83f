"""A conversation follows its group live over the full stack (real HTTP sandbox)."""

from __future__ import annotations

from groups_tui.ui.screens.conversation import ConversationScreen
from tests.integration.e2e.support import BR, DE, US, Stack
from tests.ui.conftest import settle

from .support import app_for, shows, until


async def test_a_sent_message_shows_its_delivery_live(stack: Stack) -> None:
    # GIVEN a group with three members, one of whom just wrote (the window is open)
    group_id = await stack.create_group("Order 4004")
    await stack.join(group_id, DE, BR, US)
    await stack.say(group_id, DE, "Where do I leave the parcel?")
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # WHEN the operator opens it and sends a reply
        app.open_group(group_id)
        await until(pilot, shows(pilot, "Where do I leave the parcel?"), "the conversation")
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("i", *"At the gate", "ctrl+s")
        await until(pilot, shows(pilot, "At the gate"), "the sent message")
        # AND Meta delivers it to the members (simulated minutes later)
        await stack.settle(120)
        assert [v.delivery.delivered for v in await stack.outbound(group_id) if v.delivery] == [3]
        # THEN the open conversation shows the delivery without being reopened
        await until(pilot, shows(pilot, "delivered 3/3"), "live delivery state")
        # AND a member's new message appears in it too
        await stack.say(group_id, BR, "Thanks!")
        await until(pilot, shows(pilot, "Thanks!"), "a new message, live")
