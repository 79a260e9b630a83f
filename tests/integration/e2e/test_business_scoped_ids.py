"""Members known only by a business-scoped user id, through the whole stack.

The sandbox runs with 2026 payloads (BSUID knob on): someone who hides their number
reaches the store by ``user_id`` alone. The service removes them in the same call as a
member with a number, and the sandbox, as strict as Meta, accepts the request only if
each is named in the field Meta defines for it.
"""

from __future__ import annotations

import dataclasses

import pytest

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import RateCard
from groups_tui.sandbox.people import Person
from groups_tui.service import ServiceError

from .conftest import StackFactory
from .support import DE, OP_DELAY, Stack, default_knobs

CARD = RateCard.load_default()


async def bsuid_stack(make_stack: StackFactory) -> Stack:
    return await make_stack(knobs=dataclasses.replace(default_knobs(), bsuid=True))


def hidden_person(stack: Stack) -> Person:
    """Someone who hides their number, from a country with a marketing rate."""
    return next(
        p
        for p in stack.world.population.phone_hidden
        if CARD.match(p.user_id).rate(TemplateCategory.MARKETING) is not None
    )


async def test_a_member_known_only_by_bsuid_is_priced_and_removed(
    make_stack: StackFactory,
) -> None:
    stack = await bsuid_stack(make_stack)
    service = stack.service
    # GIVEN a group with a member who has a number and one known only by a BSUID
    group_id = await stack.create_group("Usernames")
    hidden = hidden_person(stack)
    await stack.join(group_id, DE, hidden.wa_id)
    members = {m.key: m for m in await service.reading.members(group_id)}
    assert members[hidden.user_id].wa_id is None
    [numbered] = [m for m in members.values() if m.wa_id == DE]

    # THEN a template's cost prices the hidden member by the country the BSUID names
    template = await stack.template(TemplateCategory.MARKETING)
    preview = await service.sending.preview_cost(group_id, template)
    [line] = [ln for ln in preview.lines if ln.member_key == hidden.user_id]
    expected = CARD.match(hidden.user_id)
    assert (line.country, line.market) == (hidden.country, expected.market)
    assert line.amount == expected.rate(TemplateCategory.MARKETING)
    assert hidden.wa_id not in repr(await service.admin.member_rows(group_id))

    # WHEN the operator removes both in one call
    op = await service.admin.remove_participants(group_id, [numbered.key, hidden.user_id])
    await stack.settle(OP_DELAY)

    # THEN Meta accepted the request (number in `user`, BSUID in `user_id`) and both left
    resolved = await stack.store.operations.get(op.request_id)
    assert resolved is not None and resolved.state == "done"
    assert op.payload["users"] == [DE, hidden.user_id]
    assert await service.reading.members(group_id) == []
    assert stack.world.groups[group_id].members == {}
    removals = [
        h for h in await stack.store.groups.member_history(group_id) if h.action == "remove"
    ]
    assert sorted(h.participant_key for h in removals) == sorted([numbered.key, hidden.user_id])


async def test_a_key_that_names_no_one_is_refused_before_the_api(stack: Stack) -> None:
    group_id = await stack.create_group("Typos")
    audit_before = await stack.audit()
    with pytest.raises(ServiceError) as caught:
        await stack.service.admin.remove_participants(group_id, ["US.ENT.1181"])
    assert caught.value.refusal is not None
    assert "neither a phone number nor a business-scoped user id" in str(caught.value)
    assert await stack.audit() == audit_before
