"""Who got a message, and what happened in the group, in the conversation (real stack).

A sent message's status line names the failure's reason; ``[``/``]`` select the
business's own messages too and Enter on one opens its per-member state: member,
delivered and read times, Meta's failure reason, the charge booked. Joins, leaves,
removals, requests and settings changes are event lines between the messages.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from groups_tui.domain.models import DeliveryState, TemplateCategory
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.message_state import MessageStateScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from tests.integration.e2e.support import DE, MX, OP_DELAY, STATUS_HORIZON, US, Stack
from tests.ui.conftest import screen_text, settle

from .snapshots import SIZES, matches_snapshot
from .support import app_for, until

REASON = "This message was not delivered to maintain healthy ecosystem engagement."


async def _sent_with_a_failure(stack: Stack) -> tuple[str, str]:
    """A marketing template to a German and a US member: the US copy fails (131049)."""
    group_id = await stack.create_group("Weekly offers")
    await stack.join(group_id, DE, US)
    await stack.say(group_id, DE, "What is on offer this week?")
    await stack.settle(60)  # our message is the newest
    marketing = await stack.template(TemplateCategory.MARKETING)
    params = [f"value {i}" for i in range(1, marketing.body_params + 1)]
    sent = await stack.service.sending.send_template(group_id, marketing, params)
    await stack.settle(STATUS_HORIZON)
    assert sent.wamid is not None
    return group_id, sent.wamid


async def _open(app: GroupsApp, pilot: object, group_id: str) -> ConversationScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.open_group(group_id)
    await until(
        pilot,  # type: ignore[arg-type]
        lambda: isinstance(app.screen, ConversationScreen) and app.screen.log_view.loaded,
        "the conversation",
    )
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    return screen


async def test_the_status_line_names_why_a_copy_failed(stack: Stack) -> None:
    group_id, _ = await _sent_with_a_failure(stack)
    # THEN the message's view carries Meta's reason for the failed copy
    [view] = await stack.outbound(group_id)
    assert view.delivery is not None and view.delivery.failed == 1
    assert view.error == f"131049 {REASON}"
    app = app_for(stack)
    async with app.run_test(size=(160, 40)) as pilot:
        await _open(app, pilot, group_id)
        await until(pilot, lambda: "failed 1 — 131049 This message" in screen_text(app), "why")


async def test_the_service_lists_each_recipient_failures_first(stack: Stack) -> None:
    group_id, wamid = await _sent_with_a_failure(stack)
    rows = await stack.service.reading.message_recipients(wamid)
    assert [r.wa_id for r in rows] == [US, DE]
    failed, reached = rows
    assert failed.state is DeliveryState.FAILED
    assert (failed.error_code, failed.error) == (131049, REASON)
    assert failed.failed_at is not None and failed.delivered_at is None
    assert reached.state in (DeliveryState.DELIVERED, DeliveryState.READ)
    assert reached.delivered_at is not None and reached.error is None
    # AND the charge booked for the delivered copy is the ledger's line for it
    [line] = await stack.store.ledger.for_message(wamid)
    assert reached.charge == line and failed.charge is None


async def test_enter_on_a_sent_message_shows_who_got_it(stack: Stack) -> None:
    group_id, wamid = await _sent_with_a_failure(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot, group_id)
        # WHEN [ selects our message (the newest) and Enter opens it
        await pilot.press("left_square_bracket")
        assert screen.selected_view() is not None
        assert screen.selected_view().message.id == wamid  # type: ignore[union-attr]
        assert "Selected your message" in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MessageStateScreen), "the state screen")
        state = app.screen
        assert isinstance(state, MessageStateScreen)
        await until(pilot, lambda: state.query_one(MarkTable).row_count == 2, "the recipients")
        text = screen_text(app)
        # THEN each member is listed: the failure first, with Meta's code and reason
        lines = [ln for ln in text.splitlines() if f"+{US}" in ln or f"+{DE}" in ln]
        assert f"+{US}" in lines[0] and "✗ failed" in lines[0] and "131049 This message" in lines[0]
        assert f"+{DE}" in lines[1] and "delivered" in lines[1] and "$" in lines[1]
        assert "2 recipients · delivered 1, read 0, failed 1" in text
        # AND Escape goes back to the conversation, the selection kept
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back")
        assert screen.selected_view() is not None
        # AND Escape again clears the selection, then leaves
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.selected_view() is None


async def test_enter_without_a_selection_still_writes(stack: Stack) -> None:
    group_id, _ = await _sent_with_a_failure(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot, group_id)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.composer.has_focus


async def test_members_leaving_joining_and_removed_show_as_event_lines(stack: Stack) -> None:
    # GIVEN a group where people join, one writes, one leaves and one is removed
    group_id = await stack.create_group("Order 7007")
    await stack.join(group_id, DE, MX)
    await stack.say(group_id, DE, "Where is my parcel?")
    await stack.settle(60)  # (times are in seconds: at the same second events come first)
    stack.world.persons.leave(group_id, MX)
    await stack.settle(60)
    await stack.service.admin.remove_participants(group_id, [DE])
    await stack.settle(OP_DELAY)
    await stack.service.admin.update_settings(group_id, subject="Order 7007 – done")
    await stack.settle(OP_DELAY)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, group_id)
        text = screen_text(app)
        # THEN the conversation shows each event where it happened
        order = [
            "Group created as “Order 7007”",
            f"+{DE} joined",
            f"+{MX} joined",
            "Where is my parcel?",
            f"+{MX} left",
            f"+{DE} was removed by you",
            "Subject changed to “Order 7007 – done”",
        ]
        positions = [text.find(line) for line in order]
        assert all(p >= 0 for p in positions), (positions, text)
        assert positions == sorted(positions), text


@pytest.mark.parametrize("size", list(SIZES))
async def test_message_state_snapshot(stack: Stack, snapshot: SnapshotAssertion, size: str) -> None:
    group_id, _ = await _sent_with_a_failure(stack)
    app = app_for(stack)
    async with app.run_test(size=SIZES[size]) as pilot:
        await _open(app, pilot, group_id)
        await pilot.press("left_square_bracket", "enter")
        await until(pilot, lambda: isinstance(app.screen, MessageStateScreen), "the state screen")
        await until(pilot, lambda: app.screen.query_one(MarkTable).row_count == 2, "rows")
        await settle(pilot)
        assert await matches_snapshot(pilot, snapshot)


@pytest.mark.parametrize("size", list(SIZES))
async def test_conversation_events_snapshot(
    stack: Stack, snapshot: SnapshotAssertion, size: str
) -> None:
    group_id = await stack.create_group("Order 7007")
    await stack.join(group_id, DE, MX)
    await stack.say(group_id, DE, "Where is my parcel?")
    await stack.settle(60)
    stack.world.persons.leave(group_id, MX)
    await stack.settle(60)
    app = app_for(stack)
    async with app.run_test(size=SIZES[size]) as pilot:
        await _open(app, pilot, group_id)
        await settle(pilot)
        assert await matches_snapshot(pilot, snapshot)
