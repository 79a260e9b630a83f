"""Clocks for the sandbox: real time, scaled time for demos, and a manual clock for tests.

Every simulated timestamp (webhook ``timestamp`` fields, group creation times, the 24-hour
window, the charging rules of the simulated date) comes from one :class:`Clock`. A clock is
anything with ``now() -> float`` returning UTC epoch seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "ScaledClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the simulated time."""

    def now(self) -> float:
        """Return the current simulated time as UTC epoch seconds."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()


class ManualClock:
    """A clock that only moves when told to; the clock for tests.

    Args:
        start: Initial epoch seconds.
    """

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def now(self) -> float:
        """Return the current manual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward.

        Args:
            seconds: How far to move; must not be negative.

        Returns:
            The new time.

        Raises:
            ValueError: If ``seconds`` is negative (time never runs backward here).
        """
        if seconds < 0:
            raise ValueError("a manual clock cannot move backward")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        """Jump to ``when`` (epoch seconds), forward only.

        Raises:
            ValueError: If ``when`` is earlier than the current time.
        """
        if when < self._now:
            raise ValueError("a manual clock cannot move backward")
        self._now = float(when)


class ScaledClock:
    """Simulated time that runs ``speed`` times faster than real time.

    ``now() = start + (monotonic() - t0) * speed``, so the simulated clock never jumps when
    the wall clock is adjusted.

    Args:
        start: Simulated epoch seconds at construction; defaults to the real time.
        speed: Simulated seconds per real second (``--speed 60`` makes a minute a second).
        monotonic: Source of real elapsed time (injectable for tests).
    """

    def __init__(
        self,
        start: float | None = None,
        speed: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = time.time() if start is None else float(start)
        self._speed = float(speed)
        self._monotonic = monotonic
        self._t0 = monotonic()

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        return self._speed

    def __getstate__(self) -> dict[str, float]:
        """What a kept sandbox world saves: the simulated time, when, and the speed (the
        monotonic clock's origin means nothing in another process)."""
        return {"now": self.now(), "wall": time.time(), "speed": self._speed}

    def __setstate__(self, state: dict[str, float]) -> None:
        """Resume where it was saved, plus the real time elapsed since, scaled."""
        self._speed = float(state["speed"])
        elapsed = max(time.time() - float(state["wall"]), 0.0)
        self._start = float(state["now"]) + elapsed * self._speed
        self._monotonic = time.monotonic
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Return the scaled simulated time."""
        return self._start + (self._monotonic() - self._t0) * self._speed

    def advance(self, seconds: float) -> float:
        """Skip ahead by ``seconds`` of simulated time (a demo fast-forward).

        Returns:
            The new time.
        """
        if seconds < 0:
            raise ValueError("the clock cannot move backward")
        self._start += seconds
        return self.now()
