"""Group administration through the service, settled by the sandbox's webhooks."""

from __future__ import annotations

import pytest

from groups_tui.domain.models import GroupState
from groups_tui.service import ServiceError

from .support import BR, DE, MX, OP_DELAY, Stack


def people(n: int, *, offset: int = 0) -> list[str]:
    """Mexican numbers (a market on the rate card) for groups that need many members."""
    return [f"5215512345{i:03d}" for i in range(offset, offset + n)]


async def test_removal_is_pending_until_the_webhook_confirms_it(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group with three members
    group_id = await stack.create_group("Order 3003")
    await stack.join(group_id, DE, BR, MX)

    # WHEN the operator removes one of them
    op = await service.admin.remove_participants(group_id, [BR])

    # THEN the removal is pending and the member is still listed
    assert op.kind == "remove" and op.state == "pending"
    assert not op.request_id.startswith("local:")
    detail = await service.reading.group_detail(group_id)
    assert [o.request_id for o in detail.pending_operations] == [op.request_id]
    assert BR in {m.wa_id for m in detail.members}

    # WHEN the participants webhook arrives
    await stack.settle(OP_DELAY)

    # THEN the operation is done, the member is gone and the history shows the removal
    resolved = await stack.store.operations.get(op.request_id)
    assert resolved is not None and resolved.state == "done"
    detail = await service.reading.group_detail(group_id)
    assert {m.wa_id for m in detail.members} == {DE, MX}
    assert detail.pending_operations == ()
    assert (await stack.row(group_id)).participant_count == 2
    removals = [
        h for h in await stack.store.groups.member_history(group_id) if h.action == "remove"
    ]
    assert [(h.participant_key, h.initiated_by, h.request_id) for h in removals] == [
        (BR, "business", op.request_id)
    ]
    assert BR not in stack.world.groups[group_id].members
    [entry] = [e for e in await stack.audit() if e.action == "participants.remove"]
    assert (entry.group_id, entry.targets, entry.api_result) == (group_id, [BR], op.request_id)


async def test_join_requests_are_approved_and_rejected(stack: Stack) -> None:
    service = stack.service
    # GIVEN an approval group with one member and three people asking to join
    group_id = await stack.create_group("Members only", approval=True)
    first, second, third = people(3)
    for wa_id in (first, second, third):
        stack.world.persons.request_join(group_id, wa_id)
    await stack.settle()
    requests = {
        v.request.wa_id: v.request.join_request_id
        for v in await service.reading.join_requests(group_id)
    }
    assert set(requests) == {first, second, third}
    assert (await stack.row(group_id)).pending_requests == 3

    # WHEN the operator approves the first and rejects the second
    approved = await service.admin.approve_join_requests(group_id, [requests[first]])
    rejected = await service.admin.reject_join_requests(group_id, [requests[second]])
    await stack.settle()

    # THEN each decision is reported done, and only the third request is still pending
    assert approved.done == (requests[first],) and approved.failed == ()
    assert rejected.done == (requests[second],) and rejected.failed == ()
    assert [v.request.wa_id for v in await service.reading.join_requests(group_id)] == [third]
    assert [m.wa_id for m in await service.reading.members(group_id)] == [first]
    assert [r.wa_id for r in await stack.store.groups.join_requests(group_id, "approved")] == [
        first
    ]
    assert [r.wa_id for r in await stack.store.groups.join_requests(group_id, "rejected")] == [
        second
    ]
    assert (await stack.row(group_id)).pending_requests == 1
    # AND Meta agrees
    sim = stack.world.groups[group_id]
    assert list(sim.members) == [first]
    assert [jr.wa_id for jr in sim.join_requests.values()] == [third]
    audited = {e.action: e for e in await stack.audit() if e.action.startswith("join_requests.")}
    assert audited["join_requests.approve"].group_id == group_id
    assert audited["join_requests.approve"].targets == [requests[first]]
    assert audited["join_requests.approve"].api_result["approved"] == [requests[first]]
    assert audited["join_requests.reject"].targets == [requests[second]]
    assert audited["join_requests.reject"].api_result["rejected"] == [requests[second]]


async def test_approving_into_a_full_group_is_refused_without_an_api_call(stack: Stack) -> None:
    service = stack.service
    # GIVEN an approval group already holding eight members, and a ninth person asking
    group_id = await stack.create_group("Full house", approval=True)
    eight = people(8)
    for wa_id in eight:
        stack.world.persons.request_join(group_id, wa_id)
    await stack.settle()
    ids = [v.request.join_request_id for v in await service.reading.join_requests(group_id)]
    assert len((await service.admin.approve_join_requests(group_id, ids)).done) == 8
    await stack.settle()
    [ninth] = people(1, offset=8)
    ninth_request = stack.world.persons.request_join(group_id, ninth)
    await stack.settle()
    audit_before = await stack.audit()

    # WHEN the operator approves the ninth
    with pytest.raises(ServiceError) as caught:
        await service.admin.approve_join_requests(group_id, [ninth_request])

    # THEN the service refuses with the capacity rule and nothing reached the API
    assert caught.value.refusal is not None
    assert caught.value.refusal.code == "group_full"
    assert caught.value.refusal.api_code == 131204
    assert await stack.audit() == audit_before
    assert ninth_request in stack.world.groups[group_id].join_requests
    assert len(stack.world.groups[group_id].members) == 8
    assert [v.request.join_request_id for v in await service.reading.join_requests(group_id)] == [
        ninth_request
    ]
    assert len(await service.reading.members(group_id)) == 8


async def test_subject_change_is_confirmed_by_the_settings_webhook(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group
    group_id = await stack.create_group("Order 4004")

    # WHEN the operator renames it
    op = await service.admin.update_settings(group_id, subject="Order 4004 - rescheduled")

    # THEN the change is pending and the old subject is still shown
    assert op.kind == "settings" and op.state == "pending"
    assert [
        o.request_id for o in (await service.reading.group_detail(group_id)).pending_operations
    ] == [op.request_id]
    assert (await stack.row(group_id)).subject == "Order 4004"

    # WHEN the settings webhook arrives
    await stack.settle(OP_DELAY)

    # THEN the operation is done and the new subject is shown everywhere
    resolved = await stack.store.operations.get(op.request_id)
    assert resolved is not None and resolved.state == "done"
    assert (await stack.row(group_id)).subject == "Order 4004 - rescheduled"
    detail = await service.reading.group_detail(group_id)
    assert detail.group.subject == "Order 4004 - rescheduled"
    assert detail.pending_operations == ()
    [entry] = [e for e in await stack.audit() if e.action == "group.settings"]
    assert (entry.group_id, entry.api_result) == (group_id, op.request_id)


async def test_delete_is_pending_until_the_lifecycle_webhook(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group with a member
    group_id = await stack.create_group("Order 5005")
    await stack.join(group_id, DE)

    # WHEN the operator deletes it
    op = await service.admin.delete_group(group_id)

    # THEN the delete is pending and the group is still active
    assert op.kind == "delete" and op.state == "pending"
    assert (await stack.row(group_id)).state == "active"

    # WHEN the lifecycle webhook arrives
    await stack.settle(OP_DELAY)

    # THEN the group is deleted, the operation done, and sending is refused
    resolved = await stack.store.operations.get(op.request_id)
    assert resolved is not None and resolved.state == "done"
    assert (await stack.row(group_id)).state == "deleted"
    assert (await service.reading.group_detail(group_id)).group.state is GroupState.DELETED
    assert stack.world.groups[group_id].deleted
    with pytest.raises(ServiceError):
        await service.admin.delete_group(group_id)
    [entry] = [e for e in await stack.audit() if e.action == "group.delete"]
    assert (entry.group_id, entry.targets) == (group_id, ["Order 5005"])
    assert entry.api_result is None  # Meta answers {"success": true}: nothing to keep
