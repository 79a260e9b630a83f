"""Sending through the service: local refusals, accepted sends and visible API failures."""

from __future__ import annotations

import dataclasses

import pytest

from groups_tui.cloud.errors import ApiError
from groups_tui.domain.models import TemplateCategory
from groups_tui.service import ServiceError

from .support import BR, DE, IN, MX, STATUS_HORIZON, Stack
from .support import params_for as params

DAY = 86_400


async def test_free_form_text_needs_an_open_window(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group with three members, none of whom has written yet
    group_id = await stack.create_group("Order 2001")
    await stack.join(group_id, DE, BR, MX)

    # WHEN the operator sends free-form text
    with pytest.raises(ServiceError) as closed:
        await service.sending.send_text(group_id, "Your order left the warehouse")

    # THEN the service refuses before calling the API: nothing is queued or sent
    assert closed.value.refusal is not None
    assert closed.value.refusal.code == "window_closed"
    assert closed.value.refusal.api_code == 131047
    assert await stack.store.outbox.for_group(group_id) == []
    assert stack.world.log.sent == {}

    # WHEN a member writes and the operator sends the text again
    await stack.say(group_id, MX, "Where is my order?")
    sent = await service.sending.send_text(group_id, "Your order left the warehouse")
    await stack.settle(STATUS_HORIZON)

    # THEN the outbox row is accepted with Meta's id and every member got it
    assert sent.state == "accepted" and sent.wamid
    assert sent.wamid in stack.world.log.sent
    [view] = await stack.outbound(group_id)
    assert view.message.id == sent.wamid
    assert view.message.text == "Your order left the warehouse"
    assert view.outbox_state == "accepted"
    assert view.error is None
    assert view.delivery is not None
    assert view.delivery.label().startswith("delivered 3/3")
    [entry] = [e for e in await stack.audit() if e.action == "send.text"]
    assert entry.group_id == group_id
    assert entry.api_result == {"wamid": sent.wamid}

    # WHEN a day passes with nobody writing
    await stack.settle(DAY)

    # THEN free-form text is refused again
    with pytest.raises(ServiceError) as reclosed:
        await service.sending.send_text(group_id, "Anyone there?")
    assert reclosed.value.refusal is not None
    assert reclosed.value.refusal.code == "window_closed"
    assert len(stack.world.log.sent) == 1


async def test_send_to_a_group_with_only_the_business_is_refused_locally(stack: Stack) -> None:
    service = stack.service
    # GIVEN a freshly created group nobody has joined
    group_id = await stack.create_group("Nobody here yet")
    utility = await stack.template(TemplateCategory.UTILITY)

    # WHEN the operator sends a template to it
    with pytest.raises(ServiceError) as caught:
        await service.sending.send_template(group_id, utility, params(utility))

    # THEN it is refused locally with Meta's reason, and nothing reached the API
    assert caught.value.refusal is not None
    assert caught.value.refusal.code == "no_members"
    assert caught.value.refusal.api_code == 131020
    assert stack.world.log.sent == {}
    assert await stack.store.outbox.for_group(group_id) == []
    assert not [e for e in await stack.audit() if e.action.startswith("send.")]


async def test_an_api_failure_stays_visible_with_metas_code_and_reason(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group with members, and a marketing template the service knows as approved
    group_id = await stack.create_group("Weekly offers")
    await stack.join(group_id, DE, BR)
    marketing = await stack.template(TemplateCategory.MARKETING)
    # AND Meta pauses that template after the service cached it
    stack.world.templates.defs = [
        dataclasses.replace(t, status="PAUSED") if t.name == marketing.name else t
        for t in stack.world.templates.defs
    ]

    # WHEN the operator sends it
    result = await service.sending.send_template(group_id, marketing, params(marketing))
    await stack.settle(STATUS_HORIZON)

    # THEN the outbox row failed with Meta's code, and the conversation shows why
    assert result.state == "failed"
    assert result.wamid is None
    assert result.error_code == 132015
    assert result.error is not None and "132015" in result.error
    [view] = await stack.outbound(group_id)
    assert view.outbox_state == "failed"
    assert view.error is not None
    assert view.error.startswith("(#132015)")
    assert "paused" in view.error.lower()
    assert view.message.template_name == marketing.name
    assert stack.world.log.sent == {}
    # AND the audit log records the failed call with the same code
    [entry] = [e for e in await stack.audit() if e.action == "send.template"]
    assert entry.group_id == group_id
    assert entry.api_result["code"] == 132015


async def test_delivery_tally_counts_the_members_at_send_time(stack: Stack) -> None:
    service = stack.service
    # GIVEN a text delivered to all three members of a group
    group_id = await stack.create_group("Order 6006")
    await stack.join(group_id, DE, BR, MX)
    await stack.say(group_id, DE, "Any news?")
    sent = await service.sending.send_text(group_id, "Out for delivery")
    await stack.settle(STATUS_HORIZON)
    [before] = await stack.outbound(group_id)
    assert before.delivery is not None
    assert before.delivery.label() == "delivered 3/3, read 0/3"

    # WHEN a fourth person joins afterwards
    await stack.join(group_id, IN)

    # THEN the earlier message still counts three recipients, all of them reached
    [after] = await stack.outbound(group_id)
    assert after.message.id == sent.wamid
    assert after.delivery is not None
    assert after.delivery.label() == "delivered 3/3, read 0/3"
    assert len(await service.reading.members(group_id)) == 4


async def test_a_blank_template_parameter_is_refused_before_the_api(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group and a utility template with two body parameters
    group_id = await stack.create_group("Order 2002")
    await stack.join(group_id, DE, BR)
    template = await service.reading.find_template("delivery_update_group")
    assert template.body_params == 2

    # WHEN the second parameter is blank (spaces only)
    with pytest.raises(ServiceError) as blank:
        await service.sending.send_template(group_id, template, ["1042", "  "])

    # THEN the service refuses, naming the placeholder, and nothing is queued or sent
    assert blank.value.refusal is not None
    assert blank.value.refusal.code == "template_param_empty"
    assert "{{2}}" in blank.value.message
    assert await stack.store.outbox.for_group(group_id) == []
    assert stack.world.log.sent == {}


async def test_the_sandbox_refuses_a_blank_text_parameter_as_meta_would(stack: Stack) -> None:
    # GIVEN a group; the request is made with the client directly (no service check)
    group_id = await stack.create_group("Order 2003")
    await stack.join(group_id, DE, BR)
    components = [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "1042"}, {"type": "text", "text": ""}],
        }
    ]
    # WHEN a template goes out with an empty text parameter
    with pytest.raises(ApiError) as refused:
        await stack.client.messages.send_template(
            group_id, "delivery_update_group", "en_US", components=components
        )
    # THEN the sandbox refuses it as a missing parameter value
    assert refused.value.code == 131008
    assert stack.world.log.sent == {}
