"""The automation runner: follows the store and drives invite flows and forwarding.

It runs beside the listener (``groups-tui listen``) or inside the TUI's loop:

* the **change feed** (``store.feed.since``) is queued per forwarding target; the
  feed position moves in the same transaction as the queue (meta key
  :data:`FEED_POSITION_KEY`);
* the **raw log** is read for 1:1 messages, which the inbox state does not keep, and
  the invite rules are applied to them (position in :data:`RAW_POSITION_KEY`);
* waiting invites (new groups) are resolved and due forwards are delivered.

On its first run the runner starts at the newest change and raw event: it forwards and
answers what happens from then on, not the history. Pauses are persisted per rule or
target name; :meth:`AutomationRunner.status` returns plain dataclasses for a screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from groups_tui.automations.config import AutomationsConfig
from groups_tui.automations.forwarding import Forwarder
from groups_tui.automations.invite_flows import InviteFlows, Trigger
from groups_tui.automations.pacing import Pacer
from groups_tui.cloud.webhooks import parse_payload
from groups_tui.domain.events import InboundMessage
from groups_tui.service import InboxService

__all__ = [
    "FEED_POSITION_KEY",
    "RAW_POSITION_KEY",
    "AutomationRunner",
    "AutomationStatus",
    "RunView",
    "RuleView",
    "StepResult",
    "TargetView",
]

log = logging.getLogger(__name__)

FEED_POSITION_KEY = "automations.feed_position"
RAW_POSITION_KEY = "automations.raw_position"
BATCH = 500


@dataclass(frozen=True, slots=True)
class RuleView:
    """An invite rule as the automations screen shows it."""

    name: str
    trigger: str
    group: str
    paused: bool
    sent: int
    last_run_at: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class TargetView:
    """A forwarding target as the automations screen shows it."""

    name: str
    destination: str
    paused: bool
    pending: int
    delivered: int
    last_run_at: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class RunView:
    """One recorded run or failure."""

    name: str
    kind: str
    at: float
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class AutomationStatus:
    """Everything the automations screen renders."""

    running: bool
    rules: tuple[RuleView, ...]
    targets: tuple[TargetView, ...]
    recent_runs: tuple[RunView, ...]
    failures: tuple[RunView, ...]


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
    """Follows the store and runs the configured automations.

    Args:
        service: The service (store, client, clock, audit user).
        config: Rules and targets.
        clock: Epoch seconds for forwarding backoff (the service clock by default).
        poll_interval: Real seconds between passes when started as a task.
        http: HTTP client for forwarding (created when ``None``).
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
        self.poll_interval = poll_interval
        self.forwarder = Forwarder(
            service.store, config.forward, clock=clock or service.clock, http=http
        )
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

    async def stop(self) -> None:
        """Stop the background task after its current pass, and close the HTTP client."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.forwarder.aclose()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except Exception as exc:  # keep following; the failure is listed in status
                log.exception("automation pass failed")
                await self.service.store.automations.add_run(
                    "runner", "runner", False, f"{type(exc).__name__}: {exc}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    # --- one pass --------------------------------------------------------------------
    async def _position(self, key: str, latest: Callable[[], Awaitable[int]]) -> int:
        value = await self.service.store.feed.get_meta(key)
        if value is not None:
            return int(value)
        start = await latest()
        await self.service.store.feed.set_meta(key, str(start))
        return start

    async def step(self) -> StepResult:
        """One pass: queue new changes, answer new 1:1 messages, deliver what is due."""
        async with self._step_lock:
            store = self.service.store
            paused = await store.automations.paused()
            feed = await self._position(FEED_POSITION_KEY, store.feed.latest_id)
            seen = queued = 0
            for _ in range(1000):
                changes = await store.feed.since(feed, BATCH)
                if not changes:
                    break
                seen += len(changes)
                if self.forwarder.targets:
                    queued += await self.forwarder.enqueue(changes, position_key=FEED_POSITION_KEY)
                else:
                    await store.feed.set_meta(FEED_POSITION_KEY, str(changes[-1].id))
                feed = changes[-1].id

            messages = started = 0
            raw_pos = await self._position(RAW_POSITION_KEY, store.raw.latest_id)
            for _ in range(1000):
                raws = await store.raw.events(raw_pos, BATCH)
                if not raws:
                    break
                for raw in raws:
                    if self.invites.rules:
                        for trigger in _triggers(raw.body):
                            messages += 1
                            started += await self.invites.on_message(trigger, paused)
                    raw_pos = raw.id
                    await store.feed.set_meta(RAW_POSITION_KEY, str(raw_pos))
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
        await set_paused(self.service, self.names, name, True)

    async def resume(self, name: str) -> None:
        """Resume a paused rule or target.

        Raises:
            KeyError: No rule or target has this name.
        """
        await set_paused(self.service, self.names, name, False)

    async def status(self, recent: int = 20) -> AutomationStatus:
        """Rules, targets, paused flags, recent runs and failures."""
        return await automation_status(
            self.service, self.config, running=self._task is not None, recent=recent
        )


def _triggers(body: bytes) -> list[Trigger]:
    try:
        events = parse_payload(json.loads(body))
    except (ValueError, TypeError):
        return []
    out = []
    for event in events:
        if isinstance(event, InboundMessage):
            trigger = Trigger.from_event(event)
            if trigger is not None:
                out.append(trigger)
    return out


async def set_paused(service: InboxService, names: set[str], name: str, paused: bool) -> None:
    """Pause or resume ``name`` and audit it.

    Raises:
        KeyError: ``name`` is not a configured rule or target.
    """
    if name not in names:
        known = ", ".join(sorted(names)) or "none configured"
        raise KeyError(f"no rule or target named {name!r} (known: {known})")
    await service.store.automations.set_paused(name, paused)
    await service.store.audit.append(
        service.os_user, "automation.pause" if paused else "automation.resume", targets=[name]
    )


async def automation_status(
    service: InboxService, config: AutomationsConfig, *, running: bool, recent: int = 20
) -> AutomationStatus:
    """The status of every rule and target, read from the store."""
    store = service.store
    paused = await store.automations.paused()

    async def last(name: str) -> tuple[float | None, str | None]:
        runs = await store.automations.runs(name=name, limit=1)
        fails = await store.automations.runs(name=name, failures_only=True, limit=1)
        return (runs[0].at if runs else None), (fails[0].detail if fails else None)

    rules = []
    for rule in config.invite_rules:
        at, error = await last(rule.name)
        sent = len(
            await store.automations.invite_flow_sends(state="sent", rule=rule.name, limit=100_000)
        )
        trigger = ", ".join([*(repr(k) for k in rule.keywords), *rule.numbers])
        rules.append(
            RuleView(
                rule.name,
                trigger,
                rule.group_id or f"new: {rule.new_group_subject}",
                rule.name in paused,
                sent,
                at,
                error,
            )
        )
    targets = []
    for target in config.forward:
        at, error = await last(target.name)
        pending, delivered = await store.automations.forward_counts(target.name)
        destination = target.url or " ".join(target.command or ())
        targets.append(
            TargetView(
                target.name,
                destination,
                target.name in paused,
                pending,
                delivered,
                at,
                error,
            )
        )
    runs = [
        RunView(r.name, r.kind, r.at, r.ok, r.detail)
        for r in await store.automations.runs(limit=recent)
    ]
    fails = [
        RunView(r.name, r.kind, r.at, r.ok, r.detail)
        for r in await store.automations.runs(failures_only=True, limit=recent)
    ]
    return AutomationStatus(running, tuple(rules), tuple(targets), tuple(runs), tuple(fails))


class AutomationsControl:
    """What the automations screen needs: status, pause and resume, by name.

    Works whether or not a runner is active in this process (another process may run
    `groups-tui automations run`); pause flags live in the store, so every runner obeys
    them.

    Args:
        service: The service (its store holds runs, queues and pause flags).
        config: The configured invite rules and forwarding targets.
        runner: The runner active in this process, if any.
    """

    def __init__(
        self,
        service: InboxService,
        config: AutomationsConfig,
        runner: AutomationRunner | None = None,
    ) -> None:
        self.service = service
        self.config = config
        self.runner = runner

    @property
    def names(self) -> set[str]:
        """Every configured rule and target name."""
        return {r.name for r in self.config.invite_rules} | {t.name for t in self.config.forward}

    async def status(self, recent: int = 20) -> AutomationStatus:
        """Rules, targets, pause flags, recent runs and failures."""
        return await automation_status(
            self.service, self.config, running=self.runner is not None, recent=recent
        )

    async def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a rule or target (audited)."""
        await set_paused(self.service, self.names, name, paused)
