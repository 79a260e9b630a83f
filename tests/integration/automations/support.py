"""The full stack for the automation tests: store, listener, sandbox, client, service.

The stack is :func:`groups_tui.runtime.sandbox_stack`, the one ``make run`` starts;
everything talks over real loopback HTTP. One manual clock is shared by the sandbox, the
store and the service; the sandbox's rate limiters run on the same simulated time, so a
pacer that sleeps on :class:`groups_tui.automations.pacing.VirtualClock` moves the whole
world and the configured rate can be checked in simulated seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from groups_tui.automations.pacing import Pacer, VirtualClock
from groups_tui.cloud import RetryPolicy
from groups_tui.runtime import SandboxOptions, SandboxStack, sandbox_stack
from groups_tui.sandbox import ManualClock, SandboxKnobs, WebhookKnobs
from groups_tui.store.records import RawStats

APP_SECRET = "automations-app-secret"
TOKEN = "automations-token"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
OPERATOR = "automations-operator"
SETTLE_WITHIN = 15.0
SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC).timestamp()

DE = "4915112345678"
BR = "5511987654321"
IN = "919876543210"


class Crash(BaseException):
    """Simulates the process dying (not caught by ``except Exception``)."""


@dataclass
class Stack(SandboxStack):
    """The running parts of one automation test."""

    calls: list[tuple[float, str]] = field(default_factory=list)

    async def settle(self, seconds: float = 0.0, *, within: float = SETTLE_WITHIN) -> RawStats:
        """Advance simulated time, run what became due, wait until it is applied."""
        return await super().settle(seconds, within=within)

    def virtual(self) -> VirtualClock:
        """A virtual clock whose sleeps move the sandbox's manual clock too."""
        last = [0.0]

        def follow(now: float) -> None:
            # Move the world by what was slept, so its limiters see the same spacing.
            delta, last[0] = now - last[0], now
            if delta > 0:
                self.world.advance(delta)

        return VirtualClock(0.0, on_advance=follow)

    def pacer(self, rate: float, vclock: VirtualClock) -> Pacer:
        """A pacer on ``vclock``."""
        return Pacer(rate, 1.0, clock=vclock.now, sleep=vclock.sleep)

    async def sleep_settle(self, seconds: float) -> None:
        """A ``sleep`` for the engines: moves simulated time and applies the webhooks."""
        await self.settle(seconds)

    async def make_groups(
        self, n: int, prefix: str = "Group", members: int = 1, people: list[str] | None = None
    ) -> list[str]:
        """Groups created in the sandbox (no pacing) and known to the store."""
        pool = people or [DE, BR, IN]
        ids = []
        for i in range(n):
            group = self.world.groups.add(f"{prefix} {i + 1:03d}")
            for wa in pool[:members]:
                group.members[wa] = self.clock.now()
            ids.append(group.id)
        await self.service.reading.sync_groups()
        return ids


@asynccontextmanager
async def running_stack(
    db_path: Path, *, knobs: SandboxKnobs | None = None, start: float = SEPT_15
) -> AsyncIterator[Stack]:
    """Start store, listener, sandbox, client and service; stop them in reverse order."""
    clock = ManualClock(start)
    options = SandboxOptions(
        db_path=db_path,
        clock=clock,
        receipt_clock=clock.now,
        limiter_time=clock.now,
        simulate=False,
        knobs=knobs or default_knobs(),
        webhook_knobs=WebhookKnobs(backoff_initial=0.01, backoff_max=0.05),
        population_size=300,
        app_secret=APP_SECRET,
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        retry=RetryPolicy(jitter=False, max_attempts=2, base_delay=0.01, max_delay=0.05),
        operator=OPERATOR,
    )
    async with sandbox_stack(options, handle=Stack) as running:
        yield running


def default_knobs(**overrides: Any) -> SandboxKnobs:
    """Deterministic Meta-side behaviour: immediate operations, no random failures."""
    values: dict[str, Any] = {
        "op_delay": 0.0,
        "failure_rate": 0.0,
        "read_rate": 0.0,
        "messages_per_second": 0,
        "group_ops_per_second": 0,
        "aggregate_rate": 0.0,
    }
    values.update(overrides)
    return SandboxKnobs(**values)
