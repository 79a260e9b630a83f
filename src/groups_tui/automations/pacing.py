"""Pacing API calls to a configured rate, on an injectable clock and sleep.

Tests pass a virtual clock whose ``sleep`` moves time forward, so the rate is asserted on
simulated seconds (or on the sleeps requested), never on wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["Pacer", "VirtualClock"]

Sleep = Callable[[float], Awaitable[None]]
_EPSILON = 1e-9
_MARGIN = 1e-5


class Pacer:
    """A token bucket: at most ``rate`` calls per second after an initial ``burst``.

    Args:
        rate: Calls per second (positive).
        burst: Calls allowed back to back (at least 1).
        clock: Returns seconds (monotonic in production).
        sleep: Awaitable sleep.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = max(1.0, float(burst))
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self.waits: list[float] = []
        """Every wait requested, in seconds (for reports and tests)."""

    async def acquire(self) -> None:
        """Wait until one more call is allowed, then take it."""
        for _ in range(1000):  # each pass refills; more than two passes means a clock stall
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0 - _EPSILON:
                self._tokens = max(0.0, self._tokens - 1.0)
                return
            # A hair more than the exact wait, so that rounding (here or in the server's
            # own bucket) never lands a call a fraction of a microsecond too early.
            wait = (1.0 - self._tokens) / self.rate + _MARGIN
            self.waits.append(wait)
            await self._sleep(wait)
        raise RuntimeError("the pacing clock does not advance")


class VirtualClock:
    """Simulated seconds that move only when something sleeps on them.

    Args:
        start: Initial value.
        on_advance: Called with the new time after every sleep (tests move a sandbox's
            manual clock along with it).
    """

    def __init__(
        self, start: float = 0.0, on_advance: Callable[[float], None] | None = None
    ) -> None:
        self._now = float(start)
        self._on_advance = on_advance
        self.sleeps: list[float] = []

    def now(self) -> float:
        """The simulated time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock by ``seconds`` and let other tasks run once."""
        self.sleeps.append(seconds)
        self._now += max(0.0, seconds)
        if self._on_advance is not None:
            self._on_advance(self._now)
        await asyncio.sleep(0)
