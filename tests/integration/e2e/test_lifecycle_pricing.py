"""From creating a group to the cost of a template, through the service only."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from groups_tui.domain.models import DeliveryState, TemplateCategory

from .conftest import StackFactory
from .support import (
    BR,
    DE,
    IN,
    NOV_02,
    OP_DELAY,
    SEPT_15,
    STATUS_HORIZON,
    US,
    Stack,
    default_knobs,
    money,
)
from .support import params_for as params


async def test_group_lifecycle_window_and_template_costs(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group the operator asks Meta to create
    op = await service.admin.create_group("Order 1042 - delivery", "Driver, warehouse, customer")

    # THEN it shows as a pending row until the lifecycle webhook arrives
    pending = await stack.row(f"pending:{op.request_id}")
    assert pending.state == "pending"
    assert pending.subject == "Order 1042 - delivery"
    assert [o.request_id for o in await stack.store.operations.pending("pending")] == [
        op.request_id
    ]

    # WHEN the group_create webhook arrives
    await stack.settle(OP_DELAY)

    # THEN the row carries Meta's group id and invite link, and the operation is done
    created = await stack.store.groups.get_by_request(op.request_id)
    assert created is not None and created.id
    group_id = created.id
    row = await stack.row(group_id)
    assert row.state == "active"
    assert created.invite_link == stack.world.groups[group_id].invite_link
    assert created.invite_link and created.invite_link.startswith("https://chat.whatsapp.com/")
    done = await stack.store.operations.get(op.request_id)
    assert done is not None and done.state == "done"
    assert not (await service.reading.group_detail(group_id)).window.open

    # WHEN four people join by link and one of them writes
    await stack.join(group_id, DE, BR, IN, US)
    await stack.say(group_id, BR, "Is the driver on the way?")

    # THEN the members are listed and the window is open, opened by the writer
    detail = await service.reading.group_detail(group_id)
    assert {m.wa_id for m in detail.members} == {DE, BR, IN, US}
    assert detail.window.open
    row = await stack.row(group_id)
    assert row.participant_count == 4
    writer = stack.world.population.get(BR)
    assert writer is not None
    assert row.last_inbound_by == writer.name
    assert detail.window.opened_by == writer.name
    assert row.last_text == "Is the driver on the way?"

    # WHEN a marketing and a utility template are sent
    marketing = await stack.template(TemplateCategory.MARKETING)
    utility = await stack.template(TemplateCategory.UTILITY)
    marketing_preview = await service.sending.preview_cost(group_id, marketing)
    utility_preview = await service.sending.preview_cost(group_id, utility)
    sent_marketing = await service.sending.send_template(group_id, marketing, params(marketing))
    sent_utility = await service.sending.send_template(group_id, utility, params(utility))
    assert sent_marketing.state == "accepted" and sent_marketing.wamid
    assert sent_utility.state == "accepted" and sent_utility.wamid

    # AND every status with its pricing has arrived
    await stack.settle(STATUS_HORIZON)

    # THEN marketing reached everyone but the US member (Meta pauses US marketing) ...
    states = {
        s.participant_key: s
        for s in await stack.store.messages.recipient_statuses(sent_marketing.wamid)
    }
    assert {k for k, s in states.items() if s.state is DeliveryState.DELIVERED} == {DE, BR, IN}
    assert states[US].state is DeliveryState.FAILED
    assert states[US].error_code == 131049

    # ... and its ledger equals the preview of the members it was delivered to
    delivered = {DE, BR, IN}
    expected = sum(
        (money(line.amount) for line in marketing_preview.lines if line.wa_id in delivered),
        Decimal(0),
    )
    assert expected > 0
    views = {v.message.id: v for v in await stack.outbound(group_id)}
    marketing_view = views[sent_marketing.wamid]
    assert marketing_view.cost == expected
    assert not marketing_view.cost_unknown
    ledger = await stack.store.ledger.for_message(sent_marketing.wamid)
    assert {line.participant_key for line in ledger} == delivered
    assert {line.participant_key: line.amount for line in ledger} == {
        line.wa_id: line.amount for line in marketing_preview.lines if line.wa_id in delivered
    }
    assert marketing_view.delivery is not None
    assert marketing_view.delivery.label().startswith("delivered 3/4")
    assert "failed 1" in marketing_view.delivery.label()

    # AND the utility template, inside the open window before 2026-10-01, cost nothing
    utility_view = views[sent_utility.wamid]
    assert utility_view.delivery is not None
    assert utility_view.delivery.label().startswith("delivered 4/4")
    assert utility_preview.total == Decimal(0)
    assert utility_view.cost == utility_preview.total
    assert len(await stack.store.ledger.for_message(sent_utility.wamid)) == 4


@pytest.mark.parametrize(
    ("start", "charged"),
    [pytest.param(SEPT_15, False, id="2026-09-15"), pytest.param(NOV_02, True, id="2026-11-02")],
)
async def test_utility_inside_window_is_free_before_october_and_charged_after(
    make_stack: StackFactory, start: float, charged: bool
) -> None:
    # GIVEN a group with four members, one of whom just wrote (window open)
    stack = await make_stack(start=start)
    service = stack.service
    group_id = await stack.create_group("Pickup 77")
    await stack.join(group_id, DE, BR, IN, US)
    await stack.say(group_id, IN, "Ready when you are")
    assert (await service.reading.group_detail(group_id)).window.open
    utility = await stack.template(TemplateCategory.UTILITY)
    preview = await service.sending.preview_cost(group_id, utility)

    # WHEN the utility template is sent and its statuses arrive
    sent = await service.sending.send_template(group_id, utility, params(utility))
    await stack.settle(STATUS_HORIZON)

    # THEN it was delivered to all four, and the ledger equals the preview
    assert sent.wamid
    view = {v.message.id: v for v in await stack.outbound(group_id)}[sent.wamid]
    assert view.delivery is not None and view.delivery.label().startswith("delivered 4/4")
    ledger = await stack.store.ledger.for_message(sent.wamid)
    assert {line.participant_key for line in ledger} == {DE, BR, IN, US}
    assert {line.participant_key: line.amount for line in ledger} == {
        line.wa_id: line.amount for line in preview.lines
    }
    assert view.cost == preview.total
    assert not view.cost_unknown
    # free before the 2026-10-01 rules, charged at each member's utility rate after
    if charged:
        assert preview.total > 0
        assert all(line.charged and money(line.amount) > 0 for line in preview.lines)
    else:
        assert preview.total == Decimal(0)
        assert not any(line.charged for line in preview.lines)


async def test_create_webhook_overtaking_the_response_leaves_one_active_row(
    make_stack: StackFactory,
) -> None:
    # GIVEN a Meta that announces a new group at once, possibly before the service has
    # recorded the create request
    stack = await make_stack(knobs=dataclasses.replace(default_knobs(), op_delay=0))

    # WHEN the operator creates a group and the webhooks settle
    op = await stack.service.admin.create_group("Order 8008")
    await stack.settle()

    # THEN the inbox holds exactly one row for it, active with Meta's id, and the create
    # operation is done
    rows = await stack.service.reading.inbox_rows()
    assert [(r.subject, r.state) for r in rows] == [("Order 8008", "active")]
    group = await stack.store.groups.get_by_request(op.request_id)
    assert group is not None and group.id == rows[0].group_id
    assert group.id in stack.world.groups
    resolved = await stack.store.operations.get(op.request_id)
    assert resolved is not None and resolved.state == "done"
    assert await stack.store.operations.pending("pending") == []
