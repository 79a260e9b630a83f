"""Time and identity in the sandbox: the scheduler, the rate limiters and the id makers.

:class:`Timeline` is the simulated clock with the actions due on it; asynchronous
operations take effect ``op_delay`` simulated seconds after they were asked for, through
:meth:`Timeline.later`. :class:`TokenBucket` limits requests on real (or injected) time.
:class:`Ids` makes every identifier Meta hands out, shaped like Meta's, from the world's
seeded random source.
"""

from __future__ import annotations

import base64
import heapq
import random
import string
from collections.abc import Callable, Container

from .clock import Clock
from .errors import SandboxError

__all__ = ["INVITE_PREFIX", "Ids", "Scheduler", "Timeline", "TokenBucket"]

INVITE_PREFIX = "https://chat.whatsapp.com/"

_ALNUM = string.ascii_letters + string.digits


class TokenBucket:
    """A token bucket on a real (monotonic) time source.

    Args:
        rate: Tokens per second; ``<= 0`` disables the limit.
        burst: Bucket size; defaults to ``max(rate, 1)``.
        now: Time source (injectable so tests can freeze it).
    """

    def __init__(self, rate: float, burst: float | None, now: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._now = now
        self._tokens = self.burst
        self._last = now()

    def take(self) -> bool:
        """Take one token; ``False`` when the caller is going too fast."""
        if self.rate <= 0:
            return True
        t = self._now()
        self._tokens = min(self.burst, self._tokens + (t - self._last) * self.rate)
        self._last = t
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Scheduler:
    """Actions due at simulated times, run in (time, insertion) order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = 0

    def at(self, when: float, action: Callable[[float], None]) -> None:
        """Schedule ``action(when)`` to run once the clock reaches ``when``."""
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, action))

    def run_due(self, now: float, limit: int = 100_000) -> int:
        """Run every action due by ``now`` (actions may schedule more).

        Args:
            now: The simulated time.
            limit: Upper bound on actions run in one call.

        Returns:
            How many actions ran.
        """
        ran = 0
        while self._heap and self._heap[0][0] <= now and ran < limit:
            when, _, action = heapq.heappop(self._heap)
            action(when)
            ran += 1
        return ran

    def discard(self, unwanted: Callable[[Callable[[float], None]], bool]) -> int:
        """Drop the scheduled actions ``unwanted(action)`` picks; returns how many."""
        kept = [entry for entry in self._heap if not unwanted(entry[2])]
        dropped = len(self._heap) - len(kept)
        heapq.heapify(kept)
        self._heap = kept
        return dropped

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def next_due(self) -> float | None:
        """When the next action is due, if any."""
        return self._heap[0][0] if self._heap else None


class Timeline:
    """The simulated clock and the actions scheduled on it.

    Args:
        clock: Simulated time.
        scheduler: The due actions (a new one when omitted).
    """

    def __init__(self, clock: Clock, scheduler: Scheduler | None = None) -> None:
        self.clock = clock
        self.scheduler = scheduler or Scheduler()

    def now(self) -> float:
        """The simulated time."""
        return self.clock.now()

    def at(self, when: float, action: Callable[[float], None]) -> None:
        """Run ``action(when)`` once the clock reaches ``when``."""
        self.scheduler.at(when, action)

    def later(self, delay: float, action: Callable[[float], None]) -> None:
        """Run ``action`` ``delay`` simulated seconds from now (at once when ``<= 0``)."""
        if delay <= 0:
            action(self.now())
        else:
            self.scheduler.at(self.now() + delay, action)

    def tick(self) -> int:
        """Run every scheduled action that is due; returns how many ran."""
        return self.scheduler.run_due(self.now())

    def advance(self, seconds: float) -> int:
        """Move a manual or scaled clock forward and run what became due.

        Args:
            seconds: Simulated seconds.

        Returns:
            How many scheduled actions ran.

        Raises:
            SandboxError: If the clock cannot be moved.
        """
        mover = getattr(self.clock, "advance", None)
        if mover is None:
            raise SandboxError("this clock cannot be advanced")
        # Step through due actions so each runs with the clock at (or after) its time.
        target = self.now() + seconds
        ran = 0
        for _ in range(1_000_000):
            nxt = self.scheduler.next_due
            if nxt is None or nxt > target:
                break
            if nxt > self.now():
                mover(nxt - self.now())
            ran += self.scheduler.run_due(self.now(), limit=1000)
        if target > self.now():
            mover(target - self.now())
        return ran + self.tick()


class Ids:
    """Identifiers shaped like Meta's, drawn from the world's random source.

    Every id comes from the one ``rng`` the world shares, so a seed gives the same ids in
    the same order.

    Args:
        rng: The world's random source.
        display_phone_number: The business number (group ids encode it).
    """

    def __init__(self, rng: random.Random, display_phone_number: str) -> None:
        self._rng = rng
        self._display_phone_number = display_phone_number

    def request_id(self) -> str:
        """A request id as Meta returns for asynchronous operations."""
        return str(self._rng.randrange(10**14, 10**15))

    def wamid(self, who: str) -> str:
        """A message id shaped like Meta's ``wamid.<base64>``."""
        wa = who.encode()[:40]
        raw = (
            b"\x1c\x18"
            + bytes([len(wa)])
            + wa
            + b"\x15\x02\x00\x11\x18\x12"
            + f"{self._rng.getrandbits(72):018X}".encode()
            + b"\x00"
        )
        return "wamid." + base64.b64encode(raw).decode()

    def group_id(self, taken: Container[str]) -> str:
        """A group id not in ``taken``."""
        for _ in range(100):
            number = 120363000000000000 + self._rng.getrandbits(44)
            raw = f"capi_group:{self._display_phone_number}:{number}".encode()
            gid = base64.urlsafe_b64encode(raw).decode().rstrip("=") + "ZD"
            if gid not in taken:
                return gid
        raise RuntimeError("could not find a free group id")

    def invite_link(self, taken: Container[str]) -> str:
        """An invite link not in ``taken``."""
        for _ in range(100):
            link = INVITE_PREFIX + "".join(self._rng.choice(_ALNUM) for _ in range(22))
            if link not in taken:
                return link
        raise RuntimeError("could not find a free invite link")

    def join_request_id(self, wa_id: str) -> str:
        """A join request id (it encodes who asked, as Meta's do)."""
        raw = f"{wa_id}:{self._rng.randrange(10**17, 10**18)}".encode()
        return base64.b64encode(raw).decode().rstrip("=")

    def media_id(self, taken: Container[str]) -> str:
        """A media id not in ``taken``."""
        for _ in range(100):
            mid = str(self._rng.randrange(10**15, 10**16))
            if mid not in taken:
                return mid
        raise RuntimeError("could not find a free media id")
