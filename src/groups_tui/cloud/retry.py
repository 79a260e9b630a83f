"""Backoff policy and the server's wait hints (``Retry-After`` and Meta's usage headers).

Which errors may be retried is decided in :mod:`groups_tui.cloud.errors` (by Graph error
code, not HTTP status) and by the client (whether an operation may be repeated at all).
This module only answers "how long to wait before the next attempt, if at all".
"""

from __future__ import annotations

import json
import math
import random as _random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = [
    "PAIR_RATE_LIMIT_CODE",
    "WABA_RATE_LIMIT_CODE",
    "RetryPolicy",
    "SleepFn",
    "business_use_case_wait",
    "parse_retry_after",
    "server_wait_hint",
    "usage_exhausted",
]

SleepFn = Callable[[float], Awaitable[None]]
"""An awaitable sleep, ``asyncio.sleep`` in production and a recorder in tests."""

PAIR_RATE_LIMIT_CODE = 131056
"""Pair rate limit: Meta asks for waits of 4^X seconds (X = 0, 1, 2, ...)."""

WABA_RATE_LIMIT_CODE = 80007
"""WABA rate limit: the wait is ``estimated_time_to_regain_access`` when present."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter.

    Attributes:
        max_attempts: Total attempts including the first; 1 disables retries.
        base_delay: Ceiling of the first backoff, in seconds.
        max_delay: Largest wait the client performs itself. A server hint above it makes
            the client give up and raise, leaving ``retry_after`` to the caller.
        jitter: Draw each backoff uniformly from ``[0, ceiling]`` ("full jitter").
        random: Source of uniform floats in ``[0, 1)``; injectable for tests.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays must not be negative")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """Return the backoff after the ``attempt``-th failed attempt (1-based).

        Args:
            attempt: How many attempts have failed so far.

        Returns:
            Seconds to wait: ``min(max_delay, base_delay * 2**(attempt-1))``, scaled by a
            uniform draw when jitter is on.
        """
        exponent = min(max(attempt - 1, 0), 60)
        ceiling = min(self.max_delay, self.base_delay * 2.0**exponent)
        if not self.jitter:
            return ceiling
        return ceiling * self.random()

    def delay(
        self,
        attempt: int,
        *,
        retry_after: float | None = None,
        code: int | None = None,
        exhausted: bool = False,
    ) -> float | None:
        """Decide the wait before the next attempt, or that there is none.

        Args:
            attempt: How many attempts have failed so far (1-based).
            retry_after: The server's own hint in seconds, if it gave one.
            code: Graph error code of the failure, if any.
            exhausted: The usage headers report a quota at 100 % without a wait time.

        Returns:
            Seconds to sleep, or ``None`` when attempts are used up or the server asks
            for a longer wait than ``max_delay``.
        """
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_delay else None
        if code == PAIR_RATE_LIMIT_CODE:
            return min(self.max_delay, 4.0 ** min(attempt - 1, 30))
        if exhausted:
            return self.max_delay
        return self.backoff(attempt)


def parse_retry_after(
    value: str | None, *, now: Callable[[], datetime] | None = None
) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or an HTTP date).

    Args:
        value: The header value, or ``None``.
        now: Clock for the HTTP-date form; defaults to the current UTC time.

    Returns:
        Seconds to wait (never negative), or ``None`` when absent or unparseable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _load_json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _business_entries(value: str | None) -> list[dict[str, Any]]:
    data = _load_json(value)
    if not isinstance(data, dict):
        return []
    entries: list[dict[str, Any]] = []
    for item in data.values():
        items = item if isinstance(item, list) else [item]
        entries.extend(e for e in items if isinstance(e, dict))
    return entries


def business_use_case_wait(value: str | None) -> float | None:
    """Read ``estimated_time_to_regain_access`` from ``X-Business-Use-Case-Usage``.

    Args:
        value: The header value: a JSON object of business id to a list of usage entries.

    Returns:
        The largest positive wait across entries, converted from minutes to seconds, or
        ``None``.
    """
    waits = [
        minutes * 60.0
        for entry in _business_entries(value)
        if (minutes := _number(entry.get("estimated_time_to_regain_access"))) is not None
        and minutes > 0
    ]
    return max(waits) if waits else None


_USAGE_METRICS = ("call_count", "total_cputime", "total_time")


def usage_exhausted(headers: Mapping[str, str]) -> bool:
    """Tell whether ``X-App-Usage`` or ``X-Business-Use-Case-Usage`` reports 100 %.

    Args:
        headers: Response headers (``httpx.Headers`` looks names up case-insensitively).

    Returns:
        True when any usage percentage has reached 100.
    """
    entries = _business_entries(headers.get("x-business-use-case-usage"))
    app = _load_json(headers.get("x-app-usage"))
    if isinstance(app, dict):
        entries.append(app)
    return any(
        (pct := _number(entry.get(metric))) is not None and pct >= 100
        for entry in entries
        for metric in _USAGE_METRICS
    )


def server_wait_hint(
    headers: Mapping[str, str],
    code: int | None = None,
    *,
    now: Callable[[], datetime] | None = None,
) -> float | None:
    """Return how long the server asked us to wait, in seconds.

    ``Retry-After`` wins, except for code 80007 whose authoritative wait is the
    business-use-case ``estimated_time_to_regain_access``.

    Args:
        headers: Response headers.
        code: Graph error code of the response, if any.
        now: Clock for HTTP-date ``Retry-After`` values.

    Returns:
        Seconds, or ``None`` when the server gave no hint.
    """
    retry_after = parse_retry_after(headers.get("retry-after"), now=now)
    regain = business_use_case_wait(headers.get("x-business-use-case-usage"))
    if code == WABA_RATE_LIMIT_CODE and regain is not None:
        return regain
    if retry_after is not None:
        return retry_after
    return regain
