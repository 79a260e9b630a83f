"""The group's 24-hour customer service window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups_tui.domain.models import Direction, Message, MessageKind
from groups_tui.domain.window import (
    CLOSING_SOON,
    WINDOW_SECONDS,
    format_countdown,
    is_closing_soon,
    last_inbound_after,
    renewed_window,
    window_closes_at,
    window_state,
)

T0 = 1_790_000_000
DAY = 24 * 60 * 60


def test_window_is_24_hours() -> None:
    assert WINDOW_SECONDS == DAY
    assert window_closes_at(T0) == T0 + DAY
    assert window_closes_at(None) is None


def test_never_opened() -> None:
    state = window_state(None, T0)
    assert not state.open
    assert state.closes_at is None
    assert state.remaining == 0


def test_one_second_before_24h_is_open() -> None:
    state = window_state(T0, T0 + DAY - 1, opened_by="Ana")
    assert state.open
    assert state.remaining == 1
    assert state.opened_by == "Ana"


def test_exactly_24h_is_closed() -> None:
    state = window_state(T0, T0 + DAY)
    assert not state.open
    assert state.closes_at == T0 + DAY
    assert state.remaining == 0


def test_one_second_after_24h_is_closed() -> None:
    assert not window_state(T0, T0 + DAY + 1).open


def test_open_right_after_the_message() -> None:
    state = window_state(T0, T0)
    assert state.open
    assert state.remaining == DAY


@pytest.mark.parametrize(
    ("remaining", "label"),
    [
        (23 * 3600 + 12 * 60 + 59, "23h 12m"),
        (DAY, "24h 00m"),
        (3600, "1h 00m"),
        (3599, "59m"),
        (60, "1m"),
        (59, "<1m"),
        (1, "<1m"),
        (0, "closed"),
        (-5, "closed"),
    ],
)
def test_format_countdown(remaining: int, label: str) -> None:
    assert format_countdown(remaining) == label


def test_closing_soon() -> None:
    assert is_closing_soon(window_state(T0, T0 + DAY - CLOSING_SOON))
    assert not is_closing_soon(window_state(T0, T0 + DAY - CLOSING_SOON - 1))
    assert not is_closing_soon(window_state(T0, T0 + DAY))


def test_older_inbound_never_shortens() -> None:
    assert renewed_window(T0, T0 - 600) == T0
    assert renewed_window(T0, T0 + 600) == T0 + 600
    assert renewed_window(None, T0) == T0


def _message(direction: Direction, at: int, kind: MessageKind = MessageKind.TEXT) -> Message:
    return Message("m1", "g1", direction, kind, "k", "Ana", None, at=at)


def test_outbound_does_not_renew() -> None:
    later = T0 + 3600
    assert last_inbound_after(T0, _message(Direction.OUTBOUND, later)) == T0
    assert last_inbound_after(None, _message(Direction.OUTBOUND, later)) is None
    assert last_inbound_after(T0, _message(Direction.INBOUND, later, MessageKind.SYSTEM)) == T0


def test_inbound_renews() -> None:
    later = T0 + 3600
    assert last_inbound_after(T0, _message(Direction.INBOUND, later)) == later
    assert last_inbound_after(later, _message(Direction.INBOUND, T0)) == later


@given(
    st.lists(
        st.tuples(st.sampled_from(list(Direction)), st.integers(0, 10 * DAY)),
        max_size=30,
    )
)
def test_window_never_shortens(events: list[tuple[Direction, int]]) -> None:
    last: int | None = None
    for direction, offset in events:
        nxt = last_inbound_after(last, _message(direction, T0 + offset))
        if last is not None:
            assert nxt is not None and nxt >= last
        last = nxt
    inbound = [T0 + o for d, o in events if d is Direction.INBOUND]
    assert last == (max(inbound) if inbound else None)


@given(st.integers(0, 3 * DAY), st.integers(-DAY, 3 * DAY))
def test_open_iff_before_close(last: int, now: int) -> None:
    state = window_state(last, now)
    assert state.open == (now < last + DAY)
    assert state.remaining == max(0, last + DAY - now)
