"""A template goes out exactly as the operator read it (real service, sandbox over HTTP).

Each test types into the picker's fields by keyboard and asserts the JSON body the
sandbox received for the send, so a keystroke that lands in the wrong field (or none)
fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from groups_tui.sandbox.state import OutboundMessage
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.template_picker import TemplatePicker
from groups_tui.ui.widgets.cost_preview import CostPreview
from tests.integration.e2e.support import BR, DE, Stack
from tests.ui.conftest import screen_text, settle

from .snapshots import SIZES, matches_snapshot
from .support import app_for, shows, until


def _template_sends(stack: Stack) -> list[OutboundMessage]:
    return [m for m in stack.world.log.sent.values() if m.type == "template"]


def _body(group_id: str, name: str, params: list[str]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": group_id,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ],
        },
    }


async def _group(stack: Stack) -> str:
    group_id = await stack.create_group("Order 4004")
    await stack.join(group_id, DE, BR)
    await stack.say(group_id, DE, "When does it arrive?")
    return group_id


async def _picker(app: GroupsApp, pilot: Any, group_id: str) -> TemplatePicker:
    """Open the group, then the picker, and wait until its first template is shown."""
    await settle(pilot)
    app.open_group(group_id)
    await until(
        pilot,
        lambda: isinstance(app.screen, ConversationScreen) and app.screen.detail is not None,
        "the conversation",
    )
    await pilot.press("t")
    await until(
        pilot,
        lambda: isinstance(app.screen, TemplatePicker) and app.screen.selected is not None,
        "the picker with a template",
    )
    picker = app.screen
    assert isinstance(picker, TemplatePicker)
    return picker


async def test_down_tab_and_typing_fill_the_parameters_in_order(stack: Stack) -> None:
    # GIVEN a group with an open window and the picker on weekly_offers (the first)
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await _picker(app, pilot, group_id)
        # WHEN the operator goes down to delivery_update_group, tabs once and types each
        # parameter, tabbing between them (the keys of the report, with no pause)
        await pilot.press("down", "tab", *"today 15:00", "tab", *"Van 7")
        await settle(pilot)
        # THEN every field holds what was typed into it, labelled with its placeholder
        assert picker.selected is not None and picker.selected.name == "delivery_update_group"
        assert picker.params() == ("today 15:00", "Van 7")
        text = screen_text(app)
        assert "{{1}}" in text and "{{2}}" in text
        # AND the message is shown as the members will read it, beside its cost
        assert "Order today 15:00 arrives at Van 7." in text
        await until(pilot, lambda: picker.query_one(CostPreview).preview is not None, "cost")
        assert "Total $" in screen_text(app)
        # WHEN it is sent
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(_template_sends(stack)), "the template send")
        # THEN the sandbox received exactly that message
        (sent,) = _template_sends(stack)
        assert sent.body == _body(group_id, "delivery_update_group", ["today 15:00", "Van 7"])
        # AND the conversation shows the rendered text
        await until(pilot, shows(pilot, "Order today 15:00 arrives at Van 7."), "the sent row")


async def test_enter_moves_through_the_fields_then_sends(stack: Stack) -> None:
    # GIVEN the picker on delivery_update_group
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await _picker(app, pilot, group_id)
        # WHEN Enter chooses it, each value is typed and Enter goes on, then sends
        await pilot.press("down", "enter", *"1042", "enter", *"the back door", "enter")
        await until(pilot, lambda: bool(_template_sends(stack)), "the template send")
        # THEN the body holds both values in order
        (sent,) = _template_sends(stack)
        assert sent.body == _body(group_id, "delivery_update_group", ["1042", "the back door"])


async def test_shift_tab_goes_back_and_the_value_is_corrected(stack: Stack) -> None:
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await _picker(app, pilot, group_id)
        # WHEN {{1}} is typed wrong, {{2}} right, then Shift+Tab goes back to fix {{1}}
        await pilot.press("down", "tab", *"10", "tab", *"noon", "shift+tab", "backspace")
        await pilot.press("backspace", *"2077", "ctrl+s")
        await until(pilot, lambda: bool(_template_sends(stack)), "the template send")
        # THEN what was sent is the corrected text
        (sent,) = _template_sends(stack)
        assert sent.body == _body(group_id, "delivery_update_group", ["2077", "noon"])
        assert picker.is_attached is False


async def test_a_blank_parameter_is_refused_and_nothing_is_sent(stack: Stack) -> None:
    # GIVEN delivery_update_group with only {{1}} filled in
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        picker = await _picker(app, pilot, group_id)
        await pilot.press("down", "tab", *"1042", "tab", "space", "ctrl+s")
        await settle(pilot)
        # THEN the picker stays open, says which parameter is blank and shows it unfilled
        assert app.screen is picker
        text = screen_text(app)
        assert "parameter {{2}}" in text and "is empty" in text
        assert "Order 1042 arrives at {{2}}." in text
        # AND nothing reached the sandbox, nor the outbox
        assert _template_sends(stack) == []
        assert await stack.outbound(group_id) == []


@pytest.mark.parametrize("size", list(SIZES))
async def test_picker_snapshot(stack: Stack, snapshot: SnapshotAssertion, size: str) -> None:
    # The picker on delivery_update_group with {{1}} filled and {{2}} focused, blank.
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=SIZES[size]) as pilot:
        picker = await _picker(app, pilot, group_id)
        await pilot.press("down", "tab", *"1042", "tab")
        await until(pilot, lambda: picker.query_one(CostPreview).preview is not None, "cost")
        assert await matches_snapshot(pilot, snapshot)
