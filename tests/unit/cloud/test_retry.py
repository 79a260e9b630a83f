"""Backoff policy and the parsing of the server's wait hints."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups_tui.cloud.retry import (
    RetryPolicy,
    business_use_case_wait,
    parse_retry_after,
    server_wait_hint,
    usage_exhausted,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=False)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_full_jitter_scales_the_ceiling_by_the_injected_random() -> None:
    draws = iter([0.0, 0.5, 0.999])
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, random=lambda: next(draws))
    assert [policy.backoff(n) for n in (1, 2, 3)] == [0.0, 1.0, 3.996]


@given(attempt=st.integers(min_value=1, max_value=10_000), draw=st.floats(0.0, 0.999999))
def test_jittered_backoff_stays_within_zero_and_the_cap(attempt: int, draw: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0, random=lambda: draw)
    assert 0.0 <= policy.backoff(attempt) <= 30.0


def test_delay_stops_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=False)
    assert policy.delay(1) == 0.5
    assert policy.delay(2) == 1.0
    assert policy.delay(3) is None
    assert RetryPolicy.disabled().delay(1) is None


def test_delay_prefers_server_hint_and_refuses_long_ones() -> None:
    policy = RetryPolicy(max_delay=30.0, jitter=False)
    assert policy.delay(1, retry_after=12.0) == 12.0
    assert policy.delay(1, retry_after=0.0) == 0.0
    assert policy.delay(1, retry_after=31.0) is None


def test_pair_rate_limit_uses_powers_of_four_capped() -> None:
    policy = RetryPolicy(max_delay=30.0)
    assert [policy.delay(n, code=131056) for n in (1, 2, 3, 4)] == [1.0, 4.0, 16.0, 30.0]


def test_exhausted_usage_waits_max_delay() -> None:
    assert RetryPolicy(max_delay=20.0).delay(1, exhausted=True) == 20.0


def test_policy_validates() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=-1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=lambda: NOW) == expected


def test_business_use_case_wait_takes_the_largest_entry_in_seconds() -> None:
    header = json.dumps(
        {
            "102290129340398": [
                {"type": "whatsapp_business_messaging", "estimated_time_to_regain_access": 0},
                {"type": "whatsapp_business_management", "estimated_time_to_regain_access": "2"},
            ],
            "999": {"estimated_time_to_regain_access": 1},
        }
    )
    assert business_use_case_wait(header) == 120.0
    assert business_use_case_wait("not json") is None
    assert business_use_case_wait(None) is None
    assert business_use_case_wait('{"1": [{"call_count": 5}]}') is None


def test_usage_exhausted_reads_both_headers() -> None:
    assert usage_exhausted(httpx.Headers({"X-App-Usage": '{"call_count": 100}'}))
    assert not usage_exhausted(httpx.Headers({"X-App-Usage": '{"call_count": 99}'}))
    assert usage_exhausted(
        httpx.Headers({"X-Business-Use-Case-Usage": '{"1": [{"total_time": 104}]}'})
    )
    assert not usage_exhausted(httpx.Headers())


def test_server_wait_hint_precedence() -> None:
    buc = '{"1": [{"estimated_time_to_regain_access": 1}]}'
    both = httpx.Headers({"Retry-After": "4", "X-Business-Use-Case-Usage": buc})
    assert server_wait_hint(both) == 4.0
    assert server_wait_hint(both, 80007) == 60.0
    assert server_wait_hint(httpx.Headers({"X-Business-Use-Case-Usage": buc})) == 60.0
    assert server_wait_hint(httpx.Headers()) is None
