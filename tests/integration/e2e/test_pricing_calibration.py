"""Marketing inside an open group window, on a sandbox that prices it either way.

Meta's pages disagree on whether it is free. Before any evidence, the preview shows the
range with both readings; once the status webhooks of a send say how Meta priced it, the
next preview applies that (and says so), and the header's contradiction list names it
when it is not what the configuration says.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import DisputedRule, Origin

from .conftest import StackFactory
from .support import BR, DE, IN, NOV_02, STATUS_HORIZON, default_knobs, money
from .support import params_for as params


@pytest.mark.parametrize("mode", ["free", "charged"])
async def test_marketing_in_window_is_calibrated_by_what_the_sandbox_charged(
    make_stack: StackFactory, mode: str
) -> None:
    # GIVEN a sandbox that prices in-window marketing as `mode`, and a group whose
    # window one member just opened
    knobs = dataclasses.replace(default_knobs(), marketing_in_window=mode)
    stack = await make_stack(start=NOV_02, knobs=knobs)
    service = stack.service
    group_id = await stack.create_group("Weekend offers")
    await stack.join(group_id, DE, BR, IN)
    await stack.say(group_id, DE, "Any deals this week?")
    assert (await service.reading.group_detail(group_id)).window.open
    marketing = await stack.template(TemplateCategory.MARKETING)

    # THEN before any evidence the preview is the configured figure, shown as a range
    before = await service.sending.preview_cost(group_id, marketing)
    charged_total = sum((money(line.rate) for line in before.lines), Decimal(0))
    assert before.total == before.high_total == charged_total > 0
    assert before.low_total == 0 and before.is_range
    [note] = before.disputes
    assert note.origin is Origin.CONFIGURATION
    assert "free per Meta's Groups pricing page (2025-10-22)" in note.reason
    assert (await service.sending.pricing_calibration()).contradictions == ()

    # WHEN the template is sent and every status with its pricing arrives
    sent = await service.sending.send_template(group_id, marketing, params(marketing))
    assert sent.wamid
    await stack.settle(STATUS_HORIZON)

    # THEN the ledger holds what the sandbox charged, one line per member
    ledger = await stack.store.ledger.for_message(sent.wamid)
    assert {line.participant_key for line in ledger} == {DE, BR, IN}
    assert {line.category for line in ledger} == {"group_marketing"}
    if mode == "free":
        assert {(line.pricing_type, line.billable) for line in ledger} == {
            ("free_group_customer_service", False)
        }
        assert all(line.amount == 0 for line in ledger)
    else:
        assert {(line.pricing_type, line.billable) for line in ledger} == {("regular", True)}
        assert {line.participant_key: line.amount for line in ledger} == {
            line.wa_id: line.amount for line in before.lines
        }

    # AND the next preview applies what Meta did, and says so
    after = await service.sending.preview_cost(group_id, marketing)
    sent_on = datetime.fromtimestamp(NOV_02, UTC).date().isoformat()
    [note] = after.disputes
    assert note.origin is Origin.EVIDENCE and not after.is_range
    assert note.reason == f"as charged on {sent_on}: {mode} in window"
    assert {line.origin for line in after.lines} == {Origin.EVIDENCE}
    calibration = await service.sending.pricing_calibration()
    evidence = calibration.for_rule(DisputedRule.MARKETING_IN_WINDOW)
    assert evidence is not None
    if mode == "free":
        assert after.total == after.low_total == after.high_total == 0
        assert (evidence.free, evidence.charged) == (3, 0)
        # The configuration charges it: the evidence contradicts it.
        assert calibration.contradictions == (evidence,)
    else:
        assert after.total == after.high_total == after.low_total == charged_total
        assert (evidence.free, evidence.charged) == (0, 3)
        assert calibration.contradictions == ()


async def test_marketing_outside_the_window_is_charged_in_either_mode(
    make_stack: StackFactory,
) -> None:
    # GIVEN a sandbox that makes in-window marketing free, and a group nobody wrote to
    knobs = dataclasses.replace(default_knobs(), marketing_in_window="free")
    stack = await make_stack(start=NOV_02, knobs=knobs)
    group_id = await stack.create_group("Quiet group")
    await stack.join(group_id, DE, BR, IN)
    marketing = await stack.template(TemplateCategory.MARKETING)
    preview = await stack.service.sending.preview_cost(group_id, marketing)
    assert not preview.is_range and preview.total > 0

    # WHEN marketing is sent with the window closed
    sent = await stack.service.sending.send_template(group_id, marketing, params(marketing))
    assert sent.wamid
    await stack.settle(STATUS_HORIZON)

    # THEN it is charged, the preview was right, and nothing settles the dispute
    ledger = await stack.store.ledger.for_message(sent.wamid)
    assert {line.pricing_type for line in ledger} == {"regular"}
    assert sum((money(line.amount) for line in ledger), Decimal(0)) == preview.total
    evidence = (await stack.service.sending.pricing_calibration()).for_rule(
        DisputedRule.MARKETING_IN_WINDOW
    )
    assert evidence is not None and (evidence.free, evidence.charged) == (0, 0)
