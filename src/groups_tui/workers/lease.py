"""The runner lease: at most one process runs the automations and the moderation watcher.

The daemon (team mode) and, in single-user mode, every TUI or ``automations run`` ask for
the lease in the database before starting their workers, and renew it every third of its
lifetime. A second process finds it held and starts nothing (the TUI says "automations
run in process N"); it keeps asking, so it takes over once the holder stops or dies and
its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from groups_tui.service import InboxService, ServiceError
from groups_tui.service.automations import RUNNER_LEASE_TTL

__all__ = ["RunnerLease"]

log = logging.getLogger("groups_tui.workers.lease")


class RunnerLease:
    """Hold the runner lease and run the workers while it is held.

    Args:
        service: The service (its database holds the lease).
        start: Starts the workers (called when the lease is taken).
        stop: Stops them (called when it is lost or given up).
        holder: What the lease row calls this process (``tui``, ``daemon``...).
        ttl: Seconds the lease lasts unrenewed.
        pid: This process's id (the real one by default).
    """

    def __init__(
        self,
        service: InboxService,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        *,
        holder: str,
        ttl: float = RUNNER_LEASE_TTL,
        pid: int | None = None,
    ) -> None:
        self._service = service
        self._start = start
        self._stop = stop
        self._holder = holder
        self._ttl = ttl
        self.pid = pid if pid is not None else os.getpid()
        self.running = False
        """Whether this process runs the workers now."""
        self.other_pid: int | None = None
        """The process that holds the lease instead, when one does."""
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int | None:
        """Ask for the lease once, start the workers if it is ours, then keep renewing.

        Returns:
            ``None`` when this process runs the workers; otherwise the holder's pid.
        """
        await self._claim()
        self._task = asyncio.get_running_loop().create_task(self._renew(), name="runner-lease")
        return self.other_pid

    async def _claim(self) -> None:
        try:
            other = await self._service.automations.claim_runner(self.pid, self._holder, self._ttl)
        except ServiceError as exc:  # the database is busy or gone: try again later
            log.warning("runner lease: %s", exc)
            return
        self.other_pid = other
        if other is None and not self.running:
            self.running = True
            await self._start()
            log.info("runner lease taken by process %d (%s)", self.pid, self._holder)
        elif other is not None and self.running:
            self.running = False
            await self._stop()
            log.warning("runner lease lost to process %d", other)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await self._claim()
            except Exception:
                log.exception("runner lease renewal failed")

    async def stop(self) -> None:
        """Stop renewing, stop the workers, give the lease up."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.running:
            self.running = False
            await self._stop()
            await self._service.automations.release_runner(self.pid)
