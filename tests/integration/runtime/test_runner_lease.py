"""Exactly one runner in single-user mode: a lease in the database, renewed and expiring.

Two services on one database file stand for two processes (each its own store and pid):
the first to ask runs the workers, the second runs nothing and knows who does, and takes
over once the first stops (or dies, and its lease expires).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from groups_tui.service import InboxService
from groups_tui.service.types import AccountInfo, Mode
from groups_tui.store import Store
from groups_tui.tui_runner import RUNNER_ELSEWHERE
from groups_tui.workers.lease import RunnerLease

ACCOUNT = AccountInfo(display_phone_number="1", phone_number_id="1", mode=Mode.LIVE)


@pytest.fixture
async def two_services(tmp_path: Path) -> AsyncIterator[tuple[InboxService, InboxService]]:
    path = tmp_path / "shared.db"
    first = await Store.open(path)
    second = await Store.open(path)
    try:
        yield (
            InboxService(first, None, account=ACCOUNT),
            InboxService(second, None, account=ACCOUNT),
        )
    finally:
        await first.close()
        await second.close()


class Workers:
    """Counts how often the workers were started and stopped."""

    def __init__(self) -> None:
        self.running = 0
        self.starts = 0

    async def start(self) -> None:
        self.running += 1
        self.starts += 1

    async def stop(self) -> None:
        self.running -= 1


async def _until(check: object, within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if callable(check) and check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("gave up waiting")


async def test_one_process_runs_the_workers_the_other_takes_over(
    two_services: tuple[InboxService, InboxService],
) -> None:
    one, two = two_services
    first, second = Workers(), Workers()
    lease_one = RunnerLease(one, first.start, first.stop, holder="tui", ttl=0.3, pid=4001)
    lease_two = RunnerLease(two, second.start, second.stop, holder="tui", ttl=0.3, pid=4002)
    # GIVEN the first process took the lease
    assert await lease_one.start() is None
    # WHEN a second one starts THEN it runs nothing and names the first
    assert await lease_two.start() == 4001
    assert (first.running, second.running) == (1, 0)
    assert RUNNER_ELSEWHERE.format(pid=lease_two.other_pid) == "automations run in process 4001"
    # renewals keep it with the first, past several lifetimes of the lease
    await asyncio.sleep(1.0)
    assert (first.running, second.running) == (1, 0)
    assert await two.automations.runner_pid() == 4001
    # WHEN the first stops THEN the second takes over (once)
    await lease_one.stop()
    await _until(lambda: second.running == 1)
    assert (first.running, second.starts) == (0, 1)
    await lease_two.stop()
    assert second.running == 0 and await one.automations.runner_pid() is None


async def test_a_dead_holders_lease_expires(
    two_services: tuple[InboxService, InboxService],
) -> None:
    one, two = two_services
    # GIVEN a process that took the lease and died without giving it up
    assert await one.automations.claim_runner(999_999, "tui", ttl=0.3) is None
    second = Workers()
    lease = RunnerLease(two, second.start, second.stop, holder="tui", ttl=0.3, pid=os.getpid())
    assert await lease.start() == 999_999
    # THEN once it expires the survivor runs the workers
    await _until(lambda: second.running == 1)
    await lease.stop()
