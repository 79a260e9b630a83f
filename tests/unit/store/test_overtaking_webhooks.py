"""A lifecycle webhook that arrives before the API's answer still settles the operation."""

from __future__ import annotations

from groups_tui.domain.events import (
    EventError,
    FailedParticipant,
    GroupCreateFailed,
    GroupDeleted,
    ParticipantRef,
    ParticipantsRemoveFailed,
    SettingFailure,
    SettingsChanged,
    SettingsChangeFailed,
)
from groups_tui.store import Store

from .conftest import G1, created, joined, removed


async def test_a_create_announced_before_the_answer_is_done(store: Store) -> None:
    # GIVEN the create webhook applied before the service recorded the request
    await store.raw.apply_events(None, [created(G1, at=100, request_id="req-9")])
    # WHEN the service records it
    await store.groups.create_pending("req-9", "Order 9")
    # THEN the operation is done, on the group Meta created, and one row exists
    op = await store.operations.get("req-9")
    assert op is not None and (op.state, op.group_id) == ("done", G1)
    group = await store.groups.get_by_request("req-9")
    assert group is not None and group.id == G1


async def test_a_failure_announced_before_the_answer_fails_with_its_reason(store: Store) -> None:
    failed = GroupCreateFailed(
        request_id="req-7",
        subject="Order 7",
        errors=(EventError(code=131211, title="Group limit reached"),),
        at=100,
    )
    await store.raw.apply_events(None, [failed])
    await store.groups.create_pending("req-7", "Order 7")
    op = await store.operations.get("req-7")
    assert op is not None and op.state == "failed"
    assert op.error is not None and "131211" in op.error


async def test_a_create_still_pending_stays_pending(store: Store) -> None:
    await store.groups.create_pending("req-5", "Order 5")
    op = await store.operations.get("req-5")
    assert op is not None and op.state == "pending"


async def test_a_delete_announced_before_the_answer_is_done(store: Store) -> None:
    await store.raw.apply_events(None, [created(G1, at=100, request_id="req-1")])
    await store.raw.apply_events(None, [GroupDeleted(group_id=G1, at=200)])
    await store.operations.add("local:delete:1", "delete", group_id=G1)
    op = await store.operations.get("local:delete:1")
    assert op is not None and op.state == "done"


async def test_a_delete_of_a_live_group_stays_pending(store: Store) -> None:
    await store.raw.apply_events(None, [created(G1, at=100, request_id="req-1")])
    await store.operations.add("local:delete:2", "delete", group_id=G1)
    op = await store.operations.get("local:delete:2")
    assert op is not None and op.state == "pending"


async def test_a_removal_announced_before_the_answer_is_done(store: Store) -> None:
    # GIVEN the removal webhook applied before the service recorded the request
    await store.raw.apply_events(None, [created(G1, at=100), joined("15550001111", at=150)])
    await store.raw.apply_events(None, [removed("15550001111", at=200, request_id="rm-1")])
    # WHEN the service records it
    await store.operations.add("rm-1", "remove", group_id=G1)
    # THEN it is done at the webhook's time, and the kept outcome is used up
    op = await store.operations.get("rm-1")
    assert op is not None and (op.state, op.resolved_at) == ("done", 200)
    changes = await store.feed.since(0)
    assert [c.entity for c in changes if c.kind == "operation.resolved"] == ["rm-1"]
    await store.operations.add("rm-2", "remove", group_id=G1)
    op2 = await store.operations.get("rm-2")
    assert op2 is not None and op2.state == "pending"


async def test_a_partial_removal_announced_before_the_answer_fails_with_its_reason(
    store: Store,
) -> None:
    await store.raw.apply_events(None, [created(G1, at=100), joined("15550001111", at=150)])
    failed = ParticipantsRemoveFailed(
        group_id=G1,
        failed=(FailedParticipant(ParticipantRef(input="15550002222")),),
        errors=(EventError(code=131203, title="Recipient not in group"),),
        request_id="rm-3",
        at=200,
    )
    # GIVEN the failed part, then the succeeded part, both before the answer
    await store.raw.apply_events(None, [failed])
    await store.raw.apply_events(None, [removed("15550001111", at=201, request_id="rm-3")])
    await store.operations.add("rm-3", "remove", group_id=G1)
    # THEN the failure outranks the success and keeps Meta's reason
    op = await store.operations.get("rm-3")
    assert op is not None and op.state == "failed"
    assert op.error is not None and "131203" in op.error


async def test_settings_announced_before_the_answer_settle_it(store: Store) -> None:
    now = 1_767_225_600  # the store fixture's clock: both outcomes are recent
    await store.raw.apply_events(None, [created(G1, at=now - 1_000)])
    await store.raw.apply_events(
        None, [SettingsChanged(group_id=G1, request_id="st-1", subject="New", at=now - 200)]
    )
    refused = SettingsChangeFailed(
        group_id=G1,
        request_id="st-2",
        failures=(SettingFailure("subject", "x" * 200, (EventError(code=100, title="Too long"),)),),
        at=now - 190,
    )
    await store.raw.apply_events(None, [refused])
    await store.operations.add("st-1", "settings", group_id=G1)
    await store.operations.add("st-2", "settings", group_id=G1)
    done = await store.operations.get("st-1")
    failed = await store.operations.get("st-2")
    assert done is not None and done.state == "done"
    assert failed is not None and failed.state == "failed"
    assert failed.error is not None and "Too long" in failed.error


async def test_a_replay_after_an_overtaken_removal_gives_the_same_state(store: Store) -> None:
    from groups_tui.store import RawEventIn

    # GIVEN an overtaken removal that went through the raw log like any webhook
    bodies = {b"c": [created(G1, at=100)], b"r": [removed("15550001111", at=200, request_id="rm")]}
    for key in bodies:
        rows = await store.raw.insert(
            [RawEventIn(body=key, dedupe_key=key.decode(), received_at=1.0)]
        )
        await store.raw.apply_logged([(rows[0].raw_id, lambda key=key: bodies[key])])
    await store.operations.add("rm", "remove", group_id=G1)
    before = await store.raw.state_digest()
    # WHEN derived state is rebuilt from the raw log
    await store.raw.reset_derived_state()
    await store.raw.replay(lambda body: bodies[body])
    # THEN the operation is settled the same way
    assert await store.raw.state_digest() == before
    op = await store.operations.get("rm")
    assert op is not None and op.state == "done"


async def test_an_outcome_no_operation_claims_within_a_day_is_dropped(store: Store) -> None:
    now = 1_767_225_600  # the store fixture's clock
    await store.raw.apply_events(None, [created(G1, at=now - 3 * 86_400)])
    # GIVEN two removal webhooks nobody recorded an operation for: one old, one recent
    await store.raw.apply_events(
        None, [removed("15550001111", at=now - 2 * 86_400, request_id="rm-old")]
    )
    await store.raw.apply_events(None, [removed("15550002222", at=now - 60, request_id="rm-new")])
    # WHEN another operation is recorded
    await store.operations.add("rm-other", "remove", group_id=G1)
    # THEN only the recent outcome is still waiting, and it still settles its operation
    assert [r[0] for r in await store.db.fetch_all("SELECT request_id FROM early_outcomes")] == [
        "rm-new"
    ]
    await store.operations.add("rm-new", "remove", group_id=G1)
    op = await store.operations.get("rm-new")
    assert op is not None and op.state == "done"
