"""How a member joined does not depend on the order join events and requests arrive in."""

from __future__ import annotations

from itertools import permutations
from typing import Any

import pytest

from groups_tui.domain.events import DomainEvent, ParticipantRef, ParticipantsJoined
from groups_tui.domain.models import JoinVia
from groups_tui.store import RawEventIn, Store

from .conftest import G1, created, join_request, join_revoked, joined, left, removed

PHONE = "447700900123"


async def _state(store: Store) -> tuple[Any, ...]:
    """Membership as the operator sees it: member rows, join history, requests."""
    members = tuple((m.key, m.joined_at, m.joined_via) for m in await store.groups.members(G1))
    history = tuple(
        (h.participant_key, h.action, h.at, h.via, h.request_id)
        for h in await store.groups.member_history(G1)
    )
    return members, history, await _requests(store)


async def _requests(store: Store, state: str | None = None) -> tuple[tuple[Any, ...], ...]:
    """``(id, state, state_at)`` of the group's requests (``JoinRequest`` has no state_at)."""
    rows = await store.db.fetch_all(
        "SELECT id, state, state_at FROM join_requests WHERE group_id = ? "
        "AND coalesce(?, state) = state ORDER BY id",
        (G1, state),
    )
    return tuple(tuple(r) for r in rows)


async def _apply_each(store: Store, events: list[DomainEvent]) -> tuple[Any, ...]:
    await store.raw.reset_derived_state()
    await store.raw.apply_events(None, [created()])
    for event in events:
        await store.raw.apply_events(None, [event])
    return await _state(store)


async def _all_orders_agree(store: Store, events: list[DomainEvent]) -> tuple[Any, ...]:
    results = {await _apply_each(store, list(order)) for order in permutations(events)}
    assert len(results) == 1, results
    [result] = results
    return result


@pytest.mark.parametrize("request_first", [True, False], ids=["request-first", "join-first"])
async def test_join_after_a_request_is_an_approval_in_either_order(
    store: Store, request_first: bool
) -> None:
    # GIVEN a join request at 200 and the join (reported as invite_link) at 260
    events = [join_request("jr1", PHONE, 200), joined(PHONE, 260, via="invite_link")]
    # WHEN they arrive in either order
    await store.raw.apply_events(None, [created()])
    for event in events if request_first else reversed(events):
        await store.raw.apply_events(None, [event])
    # THEN the member, the history row and the request all say approval
    [member] = await store.groups.members(G1)
    assert member.joined_via is JoinVia.APPROVAL and member.joined_at == 260
    [entry] = await store.groups.member_history(G1)
    assert (entry.action, entry.via, entry.request_id) == ("join", "approval", "jr1")
    assert await _requests(store) == (("jr1", "approved", 260),)
    assert await store.groups.join_requests(G1) == []


async def test_request_arriving_after_join_and_removal_still_marks_the_approval(
    store: Store,
) -> None:
    # The listener's reverse-order case: the removal and the join overtake the request.
    ordered = await _apply_each(
        store, [join_request("jr1", PHONE, 200), joined(PHONE, 260), removed("+" + PHONE, 300)]
    )
    reverse = await _apply_each(
        store, [removed("+" + PHONE, 300), joined(PHONE, 260), join_request("jr1", PHONE, 200)]
    )
    assert reverse == ordered
    members, history, requests = ordered
    assert members == ()  # removed
    assert (PHONE, "join", 260, "approval", "jr1") in history
    assert requests == (("jr1", "approved", 260),)


async def test_every_order_of_request_revoke_and_joins_gives_one_state(store: Store) -> None:
    # Revoked at 250: the join at 240 approved the request, the one at 400 came by link.
    events: list[DomainEvent] = [
        join_request("jr1", PHONE, 200),
        joined(PHONE, 240),
        join_revoked("jr1", PHONE, 250),
        left(PHONE, 300),
        joined(PHONE, 400),
    ]
    members, history, requests = await _all_orders_agree(store, events)
    assert requests == (("jr1", "approved", 240),)
    joins = [(at, via, rid) for _, action, at, via, rid in history if action == "join"]
    assert joins == [(240, "approval", "jr1"), (400, "invite_link", None)]
    assert members == ((PHONE, 400, JoinVia.INVITE_LINK),)


async def test_a_revoke_before_the_join_leaves_an_invite_link_join(store: Store) -> None:
    events: list[DomainEvent] = [
        join_request("jr1", PHONE, 200),
        join_revoked("jr1", PHONE, 250),
        joined(PHONE, 300),
    ]
    members, history, requests = await _all_orders_agree(store, events)
    assert requests == (("jr1", "revoked", 250),)
    assert members == ((PHONE, 300, JoinVia.INVITE_LINK),)
    assert [(h[3], h[4]) for h in history] == [("invite_link", None)]


async def test_the_webhooks_own_reason_is_kept(store: Store) -> None:
    # A stated approval needs no request; an absent reason without one is the invite
    # link (the only other way in); a reason this version does not know stays unknown.
    await store.raw.apply_events(
        None,
        [
            created(),
            joined("111", 200, via="approval"),
            joined("222", 200, via="unknown"),
            joined("333", 200, via="added_by_magic"),
        ],
    )
    vias = {m.key: m.joined_via for m in await store.groups.members(G1)}
    assert vias == {"111": JoinVia.APPROVAL, "222": JoinVia.INVITE_LINK, "333": JoinVia.UNKNOWN}
    # A later request does not rewrite a stated reason.
    await store.raw.apply_events(None, [join_request("jr3", "333", 100)])
    assert {m.key: m.joined_via for m in await store.groups.members(G1)}["333"] is JoinVia.UNKNOWN


async def test_local_decision_wins_and_the_join_after_it_is_an_approval(store: Store) -> None:
    await store.raw.apply_events(None, [created(), join_request("jr1", PHONE, 200)])
    await store.groups.decide_join_requests(["jr1"], "approved", 230)
    await store.raw.apply_events(None, [joined(PHONE, 260)])
    [member] = await store.groups.members(G1)
    assert member.joined_via is JoinVia.APPROVAL
    assert await _requests(store) == (("jr1", "approved", 230),)


async def test_a_failing_batch_is_rolled_back_as_a_whole(store: Store) -> None:
    # GIVEN two logged raw events, the second of which cannot be applied
    results = await store.raw.insert(
        [RawEventIn(body=b"a", dedupe_key=k, received_at=1.0) for k in ("a", "b")]
    )
    bad: Any = object()  # not a domain event: the applier raises TypeError
    ok = ParticipantsJoined(group_id=G1, participants=(ParticipantRef(wa_id="111"),), at=200)
    # WHEN they are applied in one batch
    with pytest.raises(TypeError):
        await store.raw.apply_batch(
            [(results[0].raw_id, [created(), ok]), (results[1].raw_id, [bad])]
        )
    # THEN nothing of the batch is kept, and the store goes on working
    assert await store.groups.get(G1) is None
    assert (await store.raw.stats()).applied == 0
    assert await store.feed.latest_id() == 0
    assert await store.raw.apply_batch([(results[0].raw_id, [created(), ok])]) > 0
    assert [m.key for m in await store.groups.members(G1)] == ["111"]
    assert (await store.raw.stats()).applied == 1
