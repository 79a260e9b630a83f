"""Events of the same second give the same state in either arrival order.

Each case applies two events A-then-B and B-then-A (each in its own transaction, as two
deliveries would be) and compares the whole derived state, then checks the tie rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from groups_tui.domain.events import (
    EventError,
    ParticipantRef,
    ParticipantsRemoved,
    PictureChange,
    SettingsChanged,
)
from groups_tui.domain.models import JoinApproval, Unknown
from groups_tui.store import Pricing, Store

from .conftest import (
    G1,
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

AT = 500


async def _state(events: list[Any]) -> tuple[str, Store]:
    store = await Store.open(":memory:", pricing=Pricing(flat_cost))
    try:
        for event in events:
            await store.raw.apply_events(None, [event])
        return await store.raw.state_digest(), store
    except BaseException:
        await store.close()
        raise


async def both_orders(first: list[Any], a: Any, b: Any) -> Store:
    """Apply ``first`` then a,b and, on another store, b,a; the states must be equal.

    Returns:
        The a-then-b store, open, for checking the rule itself.
    """
    digest_ab, store_ab = await _state([*first, a, b])
    digest_ba, store_ba = await _state([*first, b, a])
    await store_ba.close()
    assert digest_ab == digest_ba
    return store_ab


async def test_last_inbound_sender_at_the_same_second_is_the_greater_message_id() -> None:
    alice = inbound("wamid.A", AT, wa_id="111", name="Alice")
    bob = inbound("wamid.B", AT, wa_id="222", name="Bob")
    store = await both_orders([created(at=1)], alice, bob)
    try:
        group = await store.groups.get(G1)
        assert group is not None
        assert (group.last_inbound_at, group.last_inbound_by) == (AT, "Bob")
        assert group.unread == 2
    finally:
        await store.close()


@pytest.mark.parametrize("participant", [None, "111"], ids=["group-level", "per-member"])
async def test_two_failures_in_the_same_second_keep_the_greater_error(
    participant: str | None,
) -> None:
    one = status("out1", "failed", AT, participant, errors=[EventError(131000, "Something")])
    two = status("out1", "failed", AT, participant, errors=[EventError(131049, "Other")])
    store = await both_orders([created(at=1)], one, two)
    try:
        if participant is None:
            assert str(await store.messages.state("out1")) == "failed"
        else:
            [row] = await store.messages.recipient_statuses("out1")
            assert row.state.value == "failed"
    finally:
        await store.close()


async def test_delivered_and_read_in_the_same_second_keep_read() -> None:
    store = await both_orders(
        [created(at=1)], status("out1", "delivered", AT, "111"), status("out1", "read", AT, "111")
    )
    try:
        [row] = await store.messages.recipient_statuses("out1")
        assert row.state.value == "read"
    finally:
        await store.close()


async def test_two_pictures_in_the_same_second_keep_the_greater_hash() -> None:
    one = SettingsChanged(group_id=G1, picture=PictureChange("image/png", "aaa"), at=AT)
    two = SettingsChanged(group_id=G1, picture=PictureChange("image/png", "bbb"), at=AT)
    await (await both_orders([created(at=1)], one, two)).close()


async def test_two_subjects_in_the_same_second_keep_the_greater_text() -> None:
    one = SettingsChanged(group_id=G1, subject="Alpha", at=AT)
    two = SettingsChanged(group_id=G1, subject="Beta", at=AT)
    store = await both_orders([created(at=1, subject="S")], one, two)
    try:
        group = await store.groups.get(G1)
        assert group is not None and group.subject == "Beta"
    finally:
        await store.close()


async def test_two_creates_keep_the_newest_values_and_the_earliest_time() -> None:
    # GIVEN the create webhook and a later sync of the same group, in either order
    webhook = created(at=100, invite_link="https://l/new", join_approval_mode="approval_required")
    older = created(at=90, request_id=None, invite_link="https://l/old", join_approval_mode="x")
    store = await both_orders([], webhook, older)
    try:
        group = await store.groups.get(G1)
        assert group is not None
        assert group.invite_link == "https://l/new"
        assert group.join_approval is JoinApproval.APPROVAL_REQUIRED
        assert group.created_at == 90
    finally:
        await store.close()


async def test_a_newest_create_without_values_does_not_erase_older_ones() -> None:
    bare = created(at=100, request_id=None)
    full = created(at=90, invite_link="https://l/1", join_approval_mode="AUTO_APPROVE")
    store = await both_orders([], bare, full)
    try:
        group = await store.groups.get(G1)
        assert group is not None and group.invite_link == "https://l/1"
        assert group.join_approval == Unknown("AUTO_APPROVE")
    finally:
        await store.close()


async def test_two_creates_in_the_same_second_keep_the_greater_values() -> None:
    one = created(at=100, invite_link="https://l/a", join_approval_mode="approval_required")
    two = created(at=100, request_id=None, invite_link="https://l/b", join_approval_mode="zzz")
    store = await both_orders([], one, two)
    try:
        group = await store.groups.get(G1)
        assert group is not None and group.invite_link == "https://l/b"
        assert group.join_approval == Unknown("zzz")
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (joined("111", AT), left("111", AT)),
        (joined("111", AT), removed("+111", AT)),
        (left("111", AT), removed("+111", AT)),
    ],
    ids=["join-leave", "join-remove", "leave-remove"],
)
async def test_member_moves_in_the_same_second_end_with_the_exit(a: Any, b: Any) -> None:
    store = await both_orders([created(at=1)], a, b)
    try:
        assert await store.groups.members(G1) == []
    finally:
        await store.close()


async def test_two_removals_in_the_same_second_keep_the_greater_request() -> None:
    def removal(request_id: str) -> ParticipantsRemoved:
        return ParticipantsRemoved(
            group_id=G1,
            participants=(ParticipantRef(input="+111"),),
            initiated_by="business",
            request_id=request_id,
            at=AT,
        )

    store = await both_orders([created(at=1), joined("111", 10)], removal("r-1"), removal("r-2"))
    try:
        history = await store.groups.member_history(G1)
        assert [(h.action, h.request_id) for h in history if h.action == "remove"] == [
            ("remove", "r-2")
        ]
    finally:
        await store.close()


async def test_a_request_revoked_twice_is_closed_at_the_earliest_revoke() -> None:
    store = await both_orders(
        [created(at=1), join_request("jr1", "111", 10)],
        join_revoked("jr1", "111", 20),
        join_revoked("jr1", "111", 30),
    )
    await store.close()


async def test_two_priced_statuses_in_the_same_second_give_one_line_either_way() -> None:
    delivered = status("out1", "delivered", AT, "111", pricing=pricing("group_utility"))
    read = status("out1", "read", AT, "111", pricing=pricing("group_marketing"))
    store = await both_orders([created(at=1)], delivered, read)
    try:
        [line] = await store.ledger.for_message("out1")
        assert line.category == "group_marketing"  # the smaller category
    finally:
        await store.close()
