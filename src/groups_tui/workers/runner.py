"""The automation runner: follows the change feed and drives invite flows and forwarding.

It runs beside the listener (``groups-tui automations run`` next to ``groups-tui
listen``) or inside the TUI's loop, and reaches the account through the service only:

* the **change feed** (``service.changes``) is queued per forwarding target; the feed
  position moves in the same transaction as the queue (position
  :data:`FEED_POSITION_KEY`);
* the **raw log** is read for 1:1 messages, which the inbox state does not keep, and
  the invite rules are applied to them (position :data:`RAW_POSITION_KEY`);
* waiting invites (new groups) are resolved and due forwards are delivered.

On its first run the runner starts at the newest change and raw event: it forwards and
answers what happens from then on, not the history. Pauses are persisted per rule or
target name (``service.automations.set_paused``), and so is the status a screen shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from groups_tui.automations.config import AutomationsConfig
from groups_tui.automations.pacing import Pacer
from groups_tui.cloud.webhooks import parse_payload
from groups_tui.domain.events import InboundMessage
from groups_tui.service import InboxService
from groups_tui.service.types import AutomationStatus
from groups_tui.workers.forwarding import Forwarder
from groups_tui.workers.invite_flows import InviteFlows, Trigger

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FEED_POSITION_KEY",
    "RAW_POSITION_KEY",
    "AutomationRunner",
    "StepResult",
]

log = logging.getLogger(__name__)

FEED_POSITION_KEY = "automations.feed_position"
RAW_POSITION_KEY = "automations.raw_position"
BATCH = 500


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one pass did."""

    changes_seen: int
    queued: int
    messages_seen: int
    invites_started: int
    delivered: int
    delivery_failures: int


class AutomationRunner:
    """Follows the change feed and runs the configured automations.

    Args:
        service: The service (the change feed, sends, the automations' rows, clock).
        config: Rules and targets (named to ``service.automations`` for its status).
        clock: Epoch seconds for forwarding backoff (the service clock by default).
        poll_interval: Real seconds between passes when started as a task.
        http: HTTP client for forwarding (created for the first HTTP delivery when
            ``None``).
        pacer: Paces invite sends (from ``config.pacing`` when ``None``).
    """

    def __init__(
        self,
        service: InboxService,
        config: AutomationsConfig,
        *,
        clock: Callable[[], float] | None = None,
        poll_interval: float = 0.5,
        http: httpx.AsyncClient | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.service = service
        self.config = config
        service.automations.configure(config.setup())
        self.poll_interval = poll_interval
        self.forwarder = Forwarder(service, config.forward, clock=clock or service.clock, http=http)
        self.invites = InviteFlows(
            service,
            config.invite_rules,
            pacer or Pacer(config.pacing.messages_per_second, config.pacing.burst),
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._step_lock = asyncio.Lock()

    @property
    def names(self) -> set[str]:
        """Every rule and target name."""
        return {r.name for r in self.config.invite_rules} | {t.name for t in self.config.forward}

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Run passes in a background task of the current loop (idempotent)."""
        if self._task is not None:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="automation-runner")
        self.service.automations.running = True

    async def stop(self) -> None:
        """Stop the background task after its current pass, and close the HTTP client."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self.service.automations.running = False
        await self.forwarder.aclose()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except Exception as exc:  # keep following; the failure is listed in status
                log.exception("automation pass failed")
                await self.service.automations.add_run(
                    "runner", "runner", False, f"{type(exc).__name__}: {exc}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    # --- one pass --------------------------------------------------------------------
    async def _position(self, key: str, latest: Callable[[], Awaitable[int]]) -> int:
        position = await self.service.changes.position(key)
        if position is not None:
            return position
        start = await latest()
        await self.service.changes.set_position(key, start)
        return start

    async def step(self) -> StepResult:
        """One pass: queue new changes, answer new 1:1 messages, deliver what is due."""
        async with self._step_lock:
            feed_changes = self.service.changes
            paused = await self.service.automations.paused()
            feed = await self._position(FEED_POSITION_KEY, feed_changes.latest_id)
            seen = queued = 0
            for _ in range(1000):
                changes = await feed_changes.since(feed, BATCH)
                if not changes:
                    break
                seen += len(changes)
                if self.forwarder.targets:
                    queued += await self.forwarder.enqueue(changes, position_key=FEED_POSITION_KEY)
                else:
                    await feed_changes.set_position(FEED_POSITION_KEY, changes[-1].id)
                feed = changes[-1].id

            messages = started = 0
            raw_pos = await self._position(RAW_POSITION_KEY, feed_changes.latest_raw_id)
            for _ in range(1000):
                raws = await feed_changes.raw_since(raw_pos, BATCH)
                if not raws:
                    break
                served = {n.phone_number_id for n in self.service.numbers}
                for raw in raws:
                    if self.invites.rules and not raw.other_number:
                        for trigger in _triggers(raw.body, served):
                            messages += 1
                            started += await self.invites.on_message(trigger, paused)
                    raw_pos = raw.id
                    await feed_changes.set_position(RAW_POSITION_KEY, raw_pos)
            if self.invites.rules:
                await self.invites.resolve_waiting(paused)

            passes = await self.forwarder.deliver(paused)
            return StepResult(
                changes_seen=seen,
                queued=queued,
                messages_seen=messages,
                invites_started=started,
                delivered=sum(p.delivered for p in passes),
                delivery_failures=sum(p.failed for p in passes),
            )

    # --- control and status -------------------------------------------------------------
    async def pause(self, name: str) -> None:
        """Pause a rule or target (persisted; forwarding keeps queueing its events).

        Raises:
            KeyError: No rule or target has this name.
        """
        await self.service.automations.set_paused(name, True)

    async def resume(self, name: str) -> None:
        """Resume a paused rule or target.

        Raises:
            KeyError: No rule or target has this name.
        """
        await self.service.automations.set_paused(name, False)

    async def status(self, recent: int = 20) -> AutomationStatus:
        """Rules, targets, paused flags, recent runs and failures."""
        return await self.service.automations.status(recent)


def _triggers(body: bytes, served: set[str] | frozenset[str] = frozenset()) -> list[Trigger]:
    """The 1:1 messages of a raw body to the numbers served (any, when none is)."""
    try:
        events = parse_payload(json.loads(body))
    except (ValueError, TypeError):
        return []
    out = []
    for event in events:
        if isinstance(event, InboundMessage):
            if served and event.phone_number_id and event.phone_number_id not in served:
                continue  # another number's message: not this account's to answer
            trigger = Trigger.from_event(event)
            if trigger is not None:
                out.append(trigger)
    return out
