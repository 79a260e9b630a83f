"""A lifecycle webhook that arrives before the API's answer still settles the operation."""

from __future__ import annotations

from groups_tui.domain.events import EventError, GroupCreateFailed, GroupDeleted
from groups_tui.store import Store

from .conftest import G1, created


async def test_a_create_announced_before_the_answer_is_done(store: Store) -> None:
    # GIVEN the create webhook applied before the service recorded the request
    await store.apply_events(None, [created(G1, at=100, request_id="req-9")])
    # WHEN the service records it
    await store.create_pending_group("req-9", "Order 9")
    # THEN the operation is done, on the group Meta created, and one row exists
    op = await store.get_operation("req-9")
    assert op is not None and (op.state, op.group_id) == ("done", G1)
    group = await store.get_group_by_request("req-9")
    assert group is not None and group.id == G1


async def test_a_failure_announced_before_the_answer_fails_with_its_reason(store: Store) -> None:
    failed = GroupCreateFailed(
        request_id="req-7",
        subject="Order 7",
        errors=(EventError(code=131211, title="Group limit reached"),),
        at=100,
    )
    await store.apply_events(None, [failed])
    await store.create_pending_group("req-7", "Order 7")
    op = await store.get_operation("req-7")
    assert op is not None and op.state == "failed"
    assert op.error is not None and "131211" in op.error


async def test_a_create_still_pending_stays_pending(store: Store) -> None:
    await store.create_pending_group("req-5", "Order 5")
    op = await store.get_operation("req-5")
    assert op is not None and op.state == "pending"


async def test_a_delete_announced_before_the_answer_is_done(store: Store) -> None:
    await store.apply_events(None, [created(G1, at=100, request_id="req-1")])
    await store.apply_events(None, [GroupDeleted(group_id=G1, at=200)])
    await store.add_pending_operation("local:delete:1", "delete", group_id=G1)
    op = await store.get_operation("local:delete:1")
    assert op is not None and op.state == "done"


async def test_a_delete_of_a_live_group_stays_pending(store: Store) -> None:
    await store.apply_events(None, [created(G1, at=100, request_id="req-1")])
    await store.add_pending_operation("local:delete:2", "delete", group_id=G1)
    op = await store.get_operation("local:delete:2")
    assert op is not None and op.state == "pending"
