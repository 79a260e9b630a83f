"""Delivery state ordering and the small record helpers."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups_tui.domain.models import (
    DeliveryState,
    DeliverySummary,
    Direction,
    JoinRequest,
    Message,
    MessageKind,
    Participant,
    advance,
)

S = DeliveryState


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        (None, S.QUEUED, S.QUEUED),
        (S.QUEUED, S.ACCEPTED, S.ACCEPTED),
        (S.ACCEPTED, S.SENT, S.SENT),
        (S.SENT, S.DELIVERED, S.DELIVERED),
        (S.DELIVERED, S.READ, S.READ),
        (S.READ, S.DELIVERED, S.READ),
        (S.DELIVERED, S.SENT, S.DELIVERED),
        (S.SENT, S.ACCEPTED, S.SENT),
        (S.QUEUED, S.FAILED, S.FAILED),
        (S.ACCEPTED, S.FAILED, S.FAILED),
        (S.SENT, S.FAILED, S.FAILED),
        (S.FAILED, S.SENT, S.FAILED),
        (S.FAILED, S.ACCEPTED, S.FAILED),
        (S.DELIVERED, S.FAILED, S.DELIVERED),
        (S.READ, S.FAILED, S.READ),
    ],
)
def test_advance_never_moves_backward(
    current: DeliveryState | None, new: DeliveryState, expected: DeliveryState
) -> None:
    assert advance(current, new) is expected


def test_rank_orders_the_happy_path() -> None:
    path = [S.QUEUED, S.ACCEPTED, S.SENT, S.DELIVERED, S.READ]
    assert [s.rank for s in path] == sorted(s.rank for s in path)
    assert len({s.rank for s in S}) == len(S)


@given(st.lists(st.sampled_from(list(S)), min_size=1, max_size=12))
def test_advance_is_order_independent(reports: list[DeliveryState]) -> None:
    results = set()
    for perm in itertools.islice(itertools.permutations(reports), 24):
        state: DeliveryState | None = None
        for report in perm:
            state = advance(state, report)
        results.add(state)
    assert len(results) == 1


@given(st.lists(st.sampled_from(list(S)), min_size=1, max_size=12))
def test_state_rank_is_monotonic(reports: list[DeliveryState]) -> None:
    state: DeliveryState | None = None
    for report in reports:
        nxt = advance(state, report)
        assert state is None or nxt.rank >= state.rank
        state = nxt


def test_participant_key_prefers_user_id() -> None:
    assert Participant(wa_id="16505551234", user_id="US.123").key == "US.123"
    assert Participant(wa_id="16505551234").key == "16505551234"
    assert Participant(wa_id=None, user_id=None).key == ""
    assert JoinRequest("jr1", "g1", wa_id="447700900123", user_id=None).key == "447700900123"


def test_delivery_summary_label() -> None:
    summary = DeliverySummary.from_states([S.READ, S.READ, S.DELIVERED, S.DELIVERED, S.SENT])
    assert summary == DeliverySummary(total=5, delivered=4, read=2, failed=0)
    assert summary.label() == "delivered 4/5, read 2/5"
    with_failure = DeliverySummary.from_states([S.READ, S.FAILED, S.SENT], total=4)
    assert with_failure.label() == "delivered 1/4, read 1/4, failed 1"


def test_only_inbound_member_messages_renew_the_window() -> None:
    def msg(direction: Direction, kind: MessageKind) -> Message:
        return Message("m", "g", direction, kind, None, None, None, at=1)

    assert msg(Direction.INBOUND, MessageKind.TEXT).renews_window
    assert msg(Direction.INBOUND, MessageKind.STICKER).renews_window
    assert not msg(Direction.OUTBOUND, MessageKind.TEXT).renews_window
    assert not msg(Direction.OUTBOUND, MessageKind.TEMPLATE).renews_window
    assert not msg(Direction.INBOUND, MessageKind.SYSTEM).renews_window


def test_a_value_outside_an_enum_is_kept_as_unknown() -> None:
    from groups_tui.domain.models import JoinApproval, Unknown, known_or_unknown

    assert known_or_unknown(JoinApproval, "approval_required") is JoinApproval.APPROVAL_REQUIRED
    odd = known_or_unknown(JoinApproval, "AUTO_APPROVE")
    assert odd == Unknown("AUTO_APPROVE") and odd.value == "AUTO_APPROVE"
    assert str(odd) == odd.label == "unknown: AUTO_APPROVE"
    assert JoinApproval.APPROVAL_REQUIRED.label == "approval required"
    assert JoinApproval.AUTO_APPROVE.label == "invite link"
