"""Applying domain events: matching, ordering rules and idempotency."""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from groups_tui.domain.events import (
    EventError,
    FailedParticipant,
    GroupCreateFailed,
    GroupDeleted,
    GroupSuspendCleared,
    GroupSuspended,
    ParticipantRef,
    ParticipantsRemoveFailed,
    SettingFailure,
    SettingsChanged,
    SettingsChangeFailed,
)
from groups_tui.domain.models import DeliveryState, GroupState, JoinApproval, JoinVia, MessageKind
from groups_tui.store import Pricing, Store

from .conftest import (
    G1,
    G2,
    Clock,
    RawLog,
    created,
    flat_cost,
    inbound,
    join_request,
    join_revoked,
    joined,
    left,
    pricing,
    removed,
    status,
)

# ------------------------------------------------------------------ lifecycle


async def test_create_webhook_completes_pending_group(store: Store) -> None:
    await store.groups.create_pending(
        "req-1", "Order 1042", description="d", join_approval=JoinApproval.APPROVAL_REQUIRED
    )
    pending = await store.groups.get_by_request("req-1")
    assert pending is not None and pending.id is None and pending.state is GroupState.PENDING
    assert [op.request_id for op in await store.operations.pending()] == ["req-1"]

    await store.raw.apply_events(
        None, [created(at=100, subject="Order 1042", invite_link="https://chat/x")]
    )
    group = await store.groups.get(G1)
    assert group is not None
    assert group.state is GroupState.ACTIVE and group.request_id == "req-1"
    assert group.invite_link == "https://chat/x" and group.created_at == 100
    assert group.join_approval is JoinApproval.APPROVAL_REQUIRED
    assert await store.operations.pending() == []
    op = await store.operations.get("req-1")
    assert op is not None and op.state == "done" and op.group_id == G1
    kinds = [c.kind for c in await store.feed.since(0)]
    assert "group.created" in kinds and "operation.resolved" in kinds


async def test_create_webhook_without_pending_row_creates_group(store: Store) -> None:
    await store.raw.apply_events(None, [created(request_id="foreign", subject="Theirs")])
    group = await store.groups.get(G1)
    assert group is not None and group.subject == "Theirs" and group.state is GroupState.ACTIVE


async def test_create_failure_marks_pending_group_failed(store: Store) -> None:
    await store.groups.create_pending("req-9", "Too many")
    await store.raw.apply_events(
        None,
        [
            GroupCreateFailed(
                request_id="req-9",
                errors=(EventError(code=131211, title="Group create limit reached"),),
                at=50,
            )
        ],
    )
    group = await store.groups.get_by_request("req-9")
    assert group is not None and group.state is GroupState.FAILED and group.id is None
    op = await store.operations.get("req-9")
    assert op is not None and op.state == "failed" and "131211" in (op.error or "")


async def test_events_before_create_are_merged_into_one_group(store: Store) -> None:
    await store.groups.create_pending("req-1", "Local subject")
    await store.raw.apply_events(None, [joined("111", at=120)])  # overtook the create webhook
    await store.raw.apply_events(None, [created(at=100, invite_link="L")])
    groups, _ = await store.groups.page()
    assert len(groups) == 1
    group = groups[0]
    assert group.id == G1 and group.request_id == "req-1" and group.invite_link == "L"
    assert group.subject == "Local subject" and group.participant_count == 1


async def test_delete_is_terminal(store: Store) -> None:
    await store.raw.apply_events(None, [GroupDeleted(group_id=G1, at=500)])
    await store.raw.apply_events(None, [created(at=100)])
    group = await store.groups.get(G1)
    assert group is not None and group.state is GroupState.DELETED


async def test_delete_resolves_pending_delete_by_group(store: Store) -> None:
    await store.raw.apply_events(None, [created()])
    await store.operations.add("del-local", "delete", group_id=G1)
    await store.raw.apply_events(None, [GroupDeleted(group_id=G1, request_id="other", at=200)])
    op = await store.operations.get("del-local")
    assert op is not None and op.state == "done"


# ------------------------------------------------------------------ membership


async def test_join_leave_in_order(store: Store) -> None:
    await store.raw.apply_events(None, [created(), joined("111", 200), joined("222", 210)])
    assert {p.wa_id for p in await store.groups.members(G1)} == {"111", "222"}
    await store.raw.apply_events(None, [left("111", 300)])
    members = await store.groups.members(G1)
    assert [p.wa_id for p in members] == ["222"]
    assert members[0].joined_via is JoinVia.INVITE_LINK and members[0].joined_at == 210


async def test_older_leave_does_not_remove_newer_join(store: Store) -> None:
    await store.raw.apply_events(None, [created(), joined("111", 300)])
    await store.raw.apply_events(None, [left("111", 200)])
    await store.raw.apply_events(None, [removed("+1 11", 250)])
    assert [p.wa_id for p in await store.groups.members(G1)] == ["111"]
    actions = [(h.action, h.at) for h in await store.groups.member_history(G1)]
    assert actions == [("leave", 200), ("remove", 250), ("join", 300)]


async def test_older_join_does_not_readd_after_leave(store: Store) -> None:
    await store.raw.apply_events(None, [created(), left("111", 300)])
    await store.raw.apply_events(None, [joined("111", 200)])
    assert await store.groups.members(G1) == []


async def test_rejoin_after_leave(store: Store) -> None:
    await store.raw.apply_events(None, [created(), joined("111", 100), left("111", 200)])
    await store.raw.apply_events(None, [joined("111", 300)])
    assert [p.joined_at for p in await store.groups.members(G1)] == [300]


async def test_equal_times_resolve_the_same_in_any_order(db_path: Path, tmp_path: Path) -> None:
    a = await Store.open(tmp_path / "a.db")
    b = await Store.open(tmp_path / "b.db")
    try:
        await a.raw.apply_events(None, [created(), joined("111", 200), left("111", 200)])
        await b.raw.apply_events(None, [created(), left("111", 200), joined("111", 200)])
        assert await a.groups.members(G1) == [] == await b.groups.members(G1)
        assert await a.raw.state_digest() == await b.raw.state_digest()
    finally:
        await a.close()
        await b.close()


async def test_removal_by_input_matches_wa_id_and_resolves(store: Store) -> None:
    await store.raw.apply_events(None, [created(), joined("16505551234", 200)])
    await store.operations.add("rm-1", "remove", group_id=G1)
    await store.raw.apply_events(None, [removed("+1 650-555-1234", 300, request_id="rm-1")])
    assert await store.groups.members(G1) == []
    [join, remove] = await store.groups.member_history(G1)
    assert remove.participant_key == "16505551234" and remove.initiated_by == "business"
    op = await store.operations.get("rm-1")
    assert op is not None and op.state == "done"


async def test_failed_removal_is_recorded(store: Store) -> None:
    await store.raw.apply_events(None, [created(), joined("15550001111", 200)])
    await store.operations.add("rm-2", "remove", group_id=G1)
    failure = ParticipantsRemoveFailed(
        group_id=G1,
        failed=(
            FailedParticipant(
                ParticipantRef(input="+15550001111"),
                (EventError(code=131212, title="Participant is not a part of the group."),),
            ),
        ),
        errors=(EventError(code=131201, title="Not All Participants Remove Succeeded"),),
        initiated_by="business",
        request_id="rm-2",
        at=300,
    )
    await store.raw.apply_events(None, [failure])
    history = await store.groups.member_history(G1)
    assert history[-1].action == "remove_failed" and history[-1].error_code == 131212
    assert [p.wa_id for p in await store.groups.members(G1)] == ["15550001111"]
    op = await store.operations.get("rm-2")
    assert op is not None and op.state == "failed"


async def test_user_id_is_the_member_key_when_present(store: Store) -> None:
    ref = ParticipantRef(wa_id="447700900123", user_id="US.1", username="ann")
    from groups_tui.domain.events import ParticipantsJoined, ParticipantsLeft

    await store.raw.apply_events(
        None, [created(), ParticipantsJoined(group_id=G1, participants=(ref,), at=200)]
    )
    [member] = await store.groups.members(G1)
    assert member.key == "US.1" and member.username == "ann"
    # a later leave naming only the phone number finds the same row
    await store.raw.apply_events(
        None,
        [ParticipantsLeft(group_id=G1, participants=(ParticipantRef("447700900123"),), at=300)],
    )
    assert await store.groups.members(G1) == []


# ------------------------------------------------------------------ join requests


async def test_join_request_created_and_revoked(store: Store) -> None:
    await store.raw.apply_events(None, [created(), join_request("jr1", "447700900123", 200)])
    [req] = await store.groups.join_requests(G1)
    assert req.join_request_id == "jr1" and req.wa_id == "447700900123" and req.created_at == 200
    group = await store.groups.get(G1)
    assert group is not None and group.pending_requests == 1
    await store.raw.apply_events(None, [join_revoked("jr1", "447700900123", 250)])
    assert await store.groups.join_requests(G1) == []
    assert [r.join_request_id for r in await store.groups.join_requests(G1, "revoked")] == ["jr1"]


async def test_revoke_overtaking_create_keeps_it_off_the_list(store: Store) -> None:
    await store.raw.apply_events(None, [created(), join_revoked("jr1", "447700900123", 250)])
    await store.raw.apply_events(None, [join_request("jr1", "447700900123", 200)])
    assert await store.groups.join_requests(G1) == []
    [req] = await store.groups.join_requests(G1, "revoked")
    assert req.created_at == 200


async def test_join_after_request_is_an_approval(store: Store) -> None:
    await store.raw.apply_events(None, [created(), join_request("jr1", "447700900123", 200)])
    await store.raw.apply_events(None, [joined("447700900123", 260)])
    assert await store.groups.join_requests(G1) == []
    assert len(await store.groups.join_requests(G1, "approved")) == 1
    [member] = await store.groups.members(G1)
    assert member.joined_via is JoinVia.APPROVAL


async def test_join_overtaking_its_request_is_still_an_approval(store: Store) -> None:
    await store.raw.apply_events(None, [created(), joined("447700900123", 260)])
    await store.raw.apply_events(None, [join_request("jr1", "447700900123", 200)])
    assert await store.groups.join_requests(G1) == []
    [member] = await store.groups.members(G1)
    assert member.joined_via is JoinVia.APPROVAL


async def test_rejection_is_local_and_survives_replay(store: Store) -> None:
    log = RawLog(store)
    await log.deliver(created())
    await log.deliver(join_request("jr1", "447700900123", 200))
    await store.groups.decide_join_requests(["jr1"], "rejected", 230)
    assert await store.groups.join_requests(G1) == []
    digest = await store.raw.state_digest()
    await store.raw.reset_derived_state()
    await store.raw.replay(log.parse)
    assert [r.join_request_id for r in await store.groups.join_requests(G1, "rejected")] == ["jr1"]
    assert await store.raw.state_digest() == digest


# ------------------------------------------------------------------ settings, suspension


async def test_settings_change_applies_newest_and_resolves(store: Store) -> None:
    await store.raw.apply_events(None, [created(subject="Old")])
    await store.operations.add("set-1", "settings", group_id=G1)
    await store.raw.apply_events(
        None,
        [SettingsChanged(group_id=G1, request_id="set-1", subject="New", description="D", at=300)],
    )
    await store.raw.apply_events(None, [SettingsChanged(group_id=G1, subject="Stale", at=250)])
    group = await store.groups.get(G1)
    assert group is not None and group.subject == "New" and group.description == "D"
    op = await store.operations.get("set-1")
    assert op is not None and op.state == "done"


async def test_settings_failure_resolves_operation(store: Store) -> None:
    await store.raw.apply_events(None, [created(subject="Keep")])
    await store.operations.add("set-2", "settings", group_id=G1)
    failure = SettingsChangeFailed(
        group_id=G1,
        request_id="set-2",
        failures=(SettingFailure("subject", "Bad", (EventError(code=131200, title="x"),)),),
        at=300,
    )
    await store.raw.apply_events(None, [failure])
    group = await store.groups.get(G1)
    assert group is not None and group.subject == "Keep"
    op = await store.operations.get("set-2")
    assert op is not None and op.state == "failed" and "subject" in (op.error or "")


async def test_suspension_newest_wins(store: Store) -> None:
    await store.raw.apply_events(None, [created(), GroupSuspended(group_id=G1, at=300)])
    group = await store.groups.get(G1)
    assert group is not None and group.suspended
    await store.raw.apply_events(None, [GroupSuspendCleared(group_id=G1, at=200)])
    group = await store.groups.get(G1)
    assert group is not None and group.suspended
    await store.raw.apply_events(None, [GroupSuspendCleared(group_id=G1, at=400)])
    group = await store.groups.get(G1)
    assert group is not None and not group.suspended
    kinds = [c.kind for c in await store.feed.since(0)]
    assert kinds.count("group.suspended") == 1 and kinds.count("group.suspend_cleared") == 1


# ------------------------------------------------------------------ messages


async def test_inbound_message_inserted_once_and_renews_window(store: Store) -> None:
    await store.raw.apply_events(None, [created(), inbound("wamid.1", 1000, name="Sheena")])
    await store.raw.apply_events(None, [inbound("wamid.1", 1000, name="Sheena")])
    group = await store.groups.get(G1)
    assert group is not None
    assert group.unread == 1 and group.last_inbound_at == 1000
    assert group.last_inbound_by == "Sheena" and group.last_message_preview == "hello"
    # an older message arriving late counts as unread but does not move the window back
    await store.raw.apply_events(None, [inbound("wamid.0", 900, text="earlier", name="Bob")])
    group = await store.groups.get(G1)
    assert group is not None
    assert group.unread == 2 and group.last_inbound_at == 1000
    assert group.last_inbound_by == "Sheena" and group.last_message_preview == "hello"
    kinds = [c.kind for c in await store.feed.since(0)]
    assert kinds.count("message.received") == 2


async def test_a_system_notice_never_opens_or_renews_the_window(store: Store) -> None:
    # GIVEN a group whose window a member opened at 1000
    await store.raw.apply_events(None, [created(), inbound("wamid.1", 1000, name="Sheena")])
    # WHEN a system notice arrives later (and another at the very same second)
    notice = replace(inbound("wamid.9", 5000, text="Ana changed the subject", name=None),
                     kind=MessageKind.SYSTEM, type="system")  # fmt: skip
    same_second = replace(notice, wamid="wamid.z", at=1000)
    await store.raw.apply_events(None, [notice, same_second])
    # THEN the window still dates from the member's message, by the member
    group = await store.groups.get(G1)
    assert group is not None
    assert group.last_inbound_at == 1000 and group.last_inbound_by == "Sheena"
    # AND the notices are kept, counted unread and shown as the newest activity
    assert group.unread == 3 and group.last_activity_at == 5000


async def test_mark_read_clears_unread_and_holds_on_replay(store: Store) -> None:
    log = RawLog(store)
    await log.deliver(created(), inbound("w1", 1000), inbound("w2", 1010))
    await store.groups.mark_read(G1)
    await log.deliver(inbound("w3", 1020))
    group = await store.groups.get(G1)
    assert group is not None and group.unread == 1
    digest = await store.raw.state_digest()
    await store.raw.reset_derived_state()
    await store.raw.replay(log.parse)
    assert await store.raw.state_digest() == digest


async def test_status_never_moves_backward(store: Store) -> None:
    await store.raw.apply_events(None, [created(), status("wamid.o", "read", 300, "111")])
    await store.raw.apply_events(None, [status("wamid.o", "delivered", 290, "111")])
    await store.raw.apply_events(None, [status("wamid.o", "sent", 280)])
    [rs] = await store.messages.recipient_statuses("wamid.o")
    assert rs.state is DeliveryState.READ and rs.at == 300
    assert await store.messages.state("wamid.o") is DeliveryState.READ
    summary = (await store.messages.statuses(["wamid.o", "wamid.none"]))["wamid.o"]
    assert (summary.delivered, summary.read, summary.failed) == (1, 1, 0)


async def test_group_level_sent_and_failure(store: Store) -> None:
    await store.raw.apply_events(None, [created(), status("wamid.s", "sent", 100)])
    assert await store.messages.state("wamid.s") is DeliveryState.SENT
    error = EventError(code=131020, title="Bad Group")
    await store.raw.apply_events(None, [status("wamid.f", "failed", 100, errors=[error])])
    assert await store.messages.state("wamid.f") is DeliveryState.FAILED
    await store.raw.apply_events(None, [status("wamid.p", "failed", 100, "111", errors=[error])])
    [rs] = await store.messages.recipient_statuses("wamid.p")
    assert rs.state is DeliveryState.FAILED and rs.error_code == 131020


async def test_ledger_charges_delivered_and_read_once(db_path: Path) -> None:
    store = await Store.open(db_path, pricing=Pricing(flat_cost, lambda wa: "US"))
    try:
        await store.raw.apply_events(
            None,
            [
                created(),
                status("wamid.u", "delivered", 1000, "111", pricing=pricing()),
                status("wamid.u", "delivered", 1001, "222", pricing=pricing()),
            ],
        )
        await store.raw.apply_events(
            None, [status("wamid.u", "read", 1100, "111", pricing=pricing())]
        )
        lines = await store.ledger.for_message("wamid.u")
        assert [(line.participant_key, line.amount) for line in lines] == [
            ("111", Decimal("0.0040")),
            ("222", Decimal("0.0040")),
        ]
        assert lines[0].market == "US" and lines[0].billable is True
        spend = await store.ledger.spend_between(0, 2000)
        assert spend.total == Decimal("0.0080") and (spend.charges, spend.unknown) == (2, 0)
        kinds = [c.kind for c in await store.feed.since(0)]
        assert kinds.count("cost.charged") == 2
    finally:
        await store.close()


async def test_unknown_cost_stays_unknown(store: Store) -> None:
    await store.raw.apply_events(
        None, [created(), status("wamid.m", "delivered", 1000, "111", pricing=pricing("x"))]
    )
    [line] = await store.ledger.for_message("wamid.m")
    assert line.amount is None
    spend = await store.ledger.spend_between(0, 2000)
    assert spend.total == Decimal(0) and spend.unknown == 1


async def test_service_messages_counted_per_month(store: Store) -> None:
    oct_2026 = 1_790_812_800  # 2026-10-01T00:00:00Z
    events = [created()]
    for i, wa in enumerate(["111", "222", "333"]):
        events.append(
            status(f"w{i}", "delivered", oct_2026 + i, wa, pricing=pricing("group_service"))
        )
    events.append(status("w9", "delivered", oct_2026 - 1, "111", pricing=pricing("group_service")))
    events.append(status("w8", "delivered", oct_2026 + 5, "111", pricing=pricing()))
    await store.raw.apply_events(None, events)
    assert await store.ledger.service_messages_delivered_in_month(2026, 10) == 3
    assert await store.ledger.service_messages_delivered_in_month(2026, 9) == 1
    assert await store.ledger.service_messages_delivered_in_month(2026, 12) == 0


# ------------------------------------------------------------------ idempotency, replay


def _scenario() -> list[list[object]]:
    """A varied webhook history, one inner list per webhook body."""
    return [
        [created(at=100, subject="Order 1042", invite_link="L")],
        [created(group_id=G2, request_id="req-2", at=110, subject="Other")],
        [joined("111", 200), joined("222", 201)],
        [join_request("jr1", "333", 205)],
        [joined("333", 210)],
        [inbound("in1", 300, text="I'm at the gate", wa_id="111", name="Ann")],
        [inbound("in2", 310, text="Leave it at reception", wa_id="222", name="Bo")],
        [left("222", 320)],
        [left("111", 150)],  # older than the join: ignored
        [status("out1", "sent", 400)],
        [status("out1", "delivered", 401, "111", pricing=pricing())],
        [status("out1", "read", 402, "111", pricing=pricing())],
        [status("out1", "delivered", 403, "333", pricing=pricing())],
        [SettingsChanged(group_id=G1, request_id="set-1", subject="Order 1042 - done", at=500)],
        [GroupSuspended(group_id=G2, at=600)],
        [removed("+333", 700, request_id="rm-1")],
        [GroupDeleted(group_id=G2, at=800)],
    ]


async def _seed_local(store: Store) -> None:
    await store.groups.create_pending("req-1", "Order 1042")
    await store.operations.add("set-1", "settings", group_id=G1)
    await store.operations.add("rm-1", "remove", group_id=G1)
    item = await store.outbox.enqueue(G1, "text", {"text": {"body": "On my way"}}, text="hi")
    await store.outbox.mark_accepted(item.id, "out1")


async def test_applying_everything_twice_gives_the_same_state(store: Store) -> None:
    await _seed_local(store)
    for events in _scenario():
        await store.raw.apply_events(None, events)
    digest = await store.raw.state_digest()
    for events in _scenario():
        await store.raw.apply_events(None, events)
    assert await store.raw.state_digest() == digest


async def test_reset_and_replay_rebuilds_the_same_state(db_path: Path) -> None:
    store = await Store.open(db_path, pricing=Pricing(flat_cost), clock=Clock())
    try:
        await _seed_local(store)
        log = RawLog(store)
        for events in _scenario():
            await log.deliver(*events)
        await log.deliver(*_scenario()[5])  # a retried delivery: duplicate, not re-applied
        await store.groups.annotate(G1, flagged=True, note="VIP")
        digest = await store.raw.state_digest()
        before_members = await store.groups.members(G1)

        await store.raw.reset_derived_state()
        assert await store.groups.get(G1) is None
        pending = await store.groups.get_by_request("req-1")
        assert pending is not None and pending.state is GroupState.PENDING
        assert (await store.raw.stats()).applied == 0
        assert await store.messages.get("out1") is not None  # outbound kept

        replayed = await store.raw.replay(log.parse, batch_size=4)
        assert replayed == len(_scenario())
        assert await store.raw.state_digest() == digest
        assert await store.groups.members(G1) == before_members
        assert (await store.groups.annotations(G1)).note == "VIP"
        assert [c.kind for c in await store.feed.since(0)].count("store.reset") == 1
    finally:
        await store.close()


async def test_apply_batch_equals_one_by_one(tmp_path: Path) -> None:
    a = await Store.open(tmp_path / "a.db")
    b = await Store.open(tmp_path / "b.db")
    try:
        for events in _scenario():
            await a.raw.apply_events(None, events)
        changes = await b.raw.apply_batch([(None, events) for events in _scenario()])
        assert changes == await b.feed.latest_id()
        assert await a.raw.state_digest() == await b.raw.state_digest()
    finally:
        await a.close()
        await b.close()


async def test_replay_records_parser_errors(store: Store) -> None:
    log = RawLog(store)
    await log.deliver(created())
    await store.raw.reset_derived_state()

    def broken(body: bytes) -> list[object]:
        raise ValueError("bad json")

    await store.raw.replay(broken)
    stats = await store.raw.stats()
    assert stats.errors == 1 and await store.raw.unapplied() == []


async def test_replay_applies_in_one_transaction_per_batch_with_the_same_digest(
    db_path: Path,
) -> None:
    store = await Store.open(db_path, pricing=Pricing(flat_cost), clock=Clock())
    try:
        await _seed_local(store)
        log = RawLog(store)
        for events in _scenario():
            await log.deliver(*events)
        digest = await store.raw.state_digest()
        await store.raw.reset_derived_state()
        writer = await store.db.execute_write_fn(lambda _: threading.get_ident())
        began: list[str] = []
        await store.db.execute_write_fn(
            lambda conn: conn.set_trace_callback(
                lambda sql: began.append(sql) if sql.startswith("BEGIN") else None
            )
        )
        parsed_on: set[int] = set()

        def parse(body: bytes) -> Any:
            parsed_on.add(threading.get_ident())
            return log.parse(body)

        # WHEN the log is replayed in batches of 3 (the next batch read and parsed while
        # the writer applies the current one)
        replayed = await store.raw.replay(parse, batch_size=3)
        await store.db.execute_write_fn(lambda conn: conn.set_trace_callback(None))
        # THEN every raw event went through, one write transaction per batch, and the
        # state is the one the deliveries built
        assert replayed == len(_scenario())
        assert len(began) == -(-len(_scenario()) // 3) + 1  # + the trace-removing write
        assert await store.raw.state_digest() == digest
        assert (await store.raw.stats()).applied == len(_scenario())
        # AND the bodies were parsed outside the writer's transactions
        assert parsed_on and writer not in parsed_on
    finally:
        await store.close()
