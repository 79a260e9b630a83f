"""Automations: their pause switches, runs and status, and the durable rows of their work.

The automations themselves live above the service: the batch jobs the CLI runs
(:mod:`groups_tui.automations`: bulk creation, announcements, pruning) and the workers
that follow the change feed (:mod:`groups_tui.workers`: invite flows, forwarding). They
keep their progress in the store through this sub-API only: every row is written before
the API call it stands for, so an interruption never leaves a call unaccounted for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from groups_tui.service.core import ServiceCore
from groups_tui.service.types import AutomationSetup, AutomationStatus, RuleView, TargetView

if TYPE_CHECKING:
    from groups_tui.service.types import (
        AnnounceRow,
        AutomationJob,
        AutomationRun,
        BulkInvite,
        BulkRow,
        ForwardItem,
        InviteFlowSend,
    )

__all__ = ["RUNNER_LEASE", "RUNNER_LEASE_TTL", "Automations"]

RUNNER_LEASE = "automations"
"""The lease of the one process that runs the automations and the moderation watcher."""
RUNNER_LEASE_TTL = 30.0
"""Seconds a runner lease lasts unrenewed (renewed every third of it)."""


class Automations:
    """Status and control of the automations, and the store of their jobs and queues.

    Args:
        core: The store, client and clock shared by the service's parts.
    """

    def __init__(self, core: ServiceCore) -> None:
        self._core = core
        self._store = core.store
        self.setup = AutomationSetup()
        """The rules and targets configured here (none until :meth:`configure`)."""
        self.running = False
        """Whether a runner follows the feed in this process (its own switch)."""

    # --- control and status ----------------------------------------------------------------
    def configure(self, setup: AutomationSetup) -> None:
        """Name the rules and targets configured for this account."""
        self.setup = setup

    @property
    def configured(self) -> bool:
        """True when at least one invite rule or forwarding target is configured."""
        return bool(self.setup.rules or self.setup.targets)

    async def status(self, recent: int = 20) -> AutomationStatus:
        """Rules, targets, pause flags, recent runs and failures."""
        automations = self._store.automations
        paused = await automations.paused()

        async def last(name: str) -> tuple[float | None, str | None]:
            runs = await automations.runs(name=name, limit=1)
            fails = await automations.runs(name=name, failures_only=True, limit=1)
            return (runs[0].at if runs else None), (fails[0].detail if fails else None)

        rules = []
        for rule in self.setup.rules:
            at, error = await last(rule.name)
            sent = await automations.invite_flow_sends(state="sent", rule=rule.name, limit=100_000)
            rules.append(
                RuleView(
                    rule.name, rule.trigger, rule.group, rule.name in paused, len(sent), at, error
                )
            )
        targets = []
        for target in self.setup.targets:
            at, error = await last(target.name)
            pending, delivered = await automations.forward_counts(target.name)
            targets.append(
                TargetView(
                    target.name,
                    target.destination,
                    target.name in paused,
                    pending,
                    delivered,
                    at,
                    error,
                )
            )
        runs = await automations.runs(limit=recent)
        fails = await automations.runs(failures_only=True, limit=recent)
        return AutomationStatus(
            self.running, tuple(rules), tuple(targets), tuple(runs), tuple(fails)
        )

    async def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a rule or target (persisted, so every runner obeys; audited).

        Raises:
            KeyError: `name` is not a configured rule or target.
        """
        names = self.setup.names
        if name not in names:
            known = ", ".join(sorted(names)) or "none configured"
            raise KeyError(f"no rule or target named {name!r} (known: {known})")
        await self._store.automations.set_paused(name, paused)
        await self._core.audit("automation.pause" if paused else "automation.resume", None, [name])

    async def claim_runner(
        self, pid: int, holder: str, ttl: float = RUNNER_LEASE_TTL
    ) -> int | None:
        """Take or renew the runner lease for process `pid` (real time, not the clock).

        Returns:
            ``None`` when `pid` may run the automations and the moderation watcher now;
            otherwise the pid of the process that runs them.
        """
        return await self._store.leases.acquire(
            RUNNER_LEASE, pid=pid, holder=holder, ttl=ttl, now=time.time()
        )

    async def release_runner(self, pid: int) -> None:
        """Give the runner lease up (on a clean stop)."""
        await self._store.leases.release(RUNNER_LEASE, pid=pid)

    async def runner_pid(self) -> int | None:
        """The process that runs the automations now, if any."""
        return await self._store.leases.holder(RUNNER_LEASE, now=time.time())

    async def paused(self) -> set[str]:
        """Names of the paused rules and targets."""
        return await self._store.automations.paused()

    async def runs(
        self, *, name: str | None = None, failures_only: bool = False, limit: int = 50
    ) -> list[AutomationRun]:
        """Recent runs, newest first."""
        return await self._store.automations.runs(
            name=name, failures_only=failures_only, limit=limit
        )

    async def add_run(self, name: str, kind: str, ok: bool, detail: str = "") -> None:
        """Record one run (or failure) of a rule, target or job."""
        await self._store.automations.add_run(name, kind, ok, detail)

    async def audit(
        self,
        action: str,
        *,
        group_id: str | None = None,
        targets: Sequence[Any] = (),
        result: Any = None,
        cost: Decimal | None = None,
    ) -> None:
        """Append an automation's action to the audit log, as this OS user."""
        await self._core.audit(action, group_id, targets, result, cost)

    # --- invite flows ----------------------------------------------------------------------
    async def invite_flow_recent(
        self, rule: str, person: str, group_key: str, since: float
    ) -> bool:
        """Whether the rule already sent (or is sending) this invite to this person since."""
        return await self._store.automations.invite_flow_recent(rule, person, group_key, since)

    async def invite_flow_begin(
        self,
        rule: str,
        person: str,
        group_key: str,
        *,
        state: str,
        at: float,
        group_id: str | None = None,
        trigger_id: str | None = None,
        phone_number_id: str | None = None,
    ) -> int:
        """Record an invite before its API call (``calling``) or before its group exists
        (under the number it goes through: by default its group's)."""
        return await self._store.automations.invite_flow_begin(
            rule,
            person,
            group_key,
            state=state,
            at=at,
            group_id=group_id,
            trigger_id=trigger_id,
            phone_number_id=phone_number_id,
        )

    async def invite_flow_update(
        self,
        send_id: int,
        state: str,
        *,
        group_id: str | None = None,
        request_id: str | None = None,
        wamid: str | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        """Record what became of an invite-flow send."""
        await self._store.automations.invite_flow_update(
            send_id,
            state,
            group_id=group_id,
            request_id=request_id,
            wamid=wamid,
            error=error,
            cost=cost,
        )

    async def invite_flow_sends(self, *, state: str | None = None) -> list[InviteFlowSend]:
        """Invite-flow sends, oldest first (optionally of one state)."""
        return await self._store.automations.invite_flow_sends(state=state)

    # --- forwarding ------------------------------------------------------------------------
    async def forward_enqueue(
        self, items: Sequence[tuple[str, int, str, bytes]], *, position_key: str, position: int
    ) -> int:
        """Queue ``(target, change_id, lane, body)`` items and move the feed position
        `position_key` to `position`, in one transaction (a crash never loses or doubles
        an event).

        Returns:
            How many items were queued.
        """
        return await self._store.automations.forward_enqueue(
            items, position_key=position_key, position=position
        )

    async def forward_items(
        self, target: str, state: str, *, limit: int, after_id: int
    ) -> list[ForwardItem]:
        """A target's queued items in feed order, after the item `after_id`."""
        return await self._store.automations.forward_items(
            target, state, limit=limit, after_id=after_id
        )

    async def forward_delivered(self, item_id: int) -> None:
        """Record a successful delivery."""
        await self._store.automations.forward_mark_delivered(item_id)

    async def forward_failed(self, item_id: int, error: str, next_attempt_at: float) -> None:
        """Record a failed attempt and when to try again."""
        await self._store.automations.forward_mark_failed(item_id, error, next_attempt_at)

    # --- jobs (bulk creation, announcements) -----------------------------------------------
    async def create_job(
        self,
        job_id: str,
        kind: str,
        fingerprint: str,
        params: Mapping[str, Any],
        *,
        number: str | None = None,
    ) -> AutomationJob:
        """Record a new job (an existing one with this id is kept), working through a
        number (label or id; unassigned when none is named)."""
        pnid = self._core.number_id(number) or ""
        return await self._store.automations.create_job(
            job_id, kind, fingerprint, params, phone_number_id=pnid
        )

    async def job(self, job_id: str) -> AutomationJob | None:
        """One job by id."""
        return await self._store.automations.job(job_id)

    async def jobs_by_fingerprint(self, kind: str, fingerprint: str) -> list[AutomationJob]:
        """Jobs of `kind` run on the same inputs, newest first."""
        return await self._store.automations.jobs_by_fingerprint(kind, fingerprint)

    async def set_job_state(self, job_id: str, state: str) -> None:
        """Move a job to `state` (``running``, ``done``)."""
        await self._store.automations.set_job_state(job_id, state)

    async def bulk_rows_insert(self, job_id: str, rows: Sequence[BulkRow]) -> None:
        """Record a bulk creation's rows before anything is called (existing rows kept)."""
        await self._store.automations.bulk_rows_insert(job_id, rows)

    async def bulk_rows(self, job_id: str) -> list[BulkRow]:
        """A bulk creation's rows, in file order."""
        return await self._store.automations.bulk_rows(job_id)

    async def bulk_row_update(
        self,
        job_id: str,
        row_no: int,
        state: str,
        *,
        request_id: str | None = None,
        group_id: str | None = None,
        error: str | None = None,
        called_at: float | None = None,
    ) -> None:
        """Move a bulk row to `state`; the given fields are set, the others kept."""
        await self._store.automations.bulk_row_update(
            job_id,
            row_no,
            state,
            request_id=request_id,
            group_id=group_id,
            error=error,
            called_at=called_at,
        )

    async def bulk_find_created(
        self, subject: str, tag: str | None, *, exclude_job: str | None = None
    ) -> list[tuple[str, str]]:
        """``(job id, group id)`` of groups bulk jobs created with this subject and tag."""
        return await self._store.automations.bulk_find_created(
            subject, tag, exclude_job=exclude_job
        )

    async def bulk_invite_begin(self, job_id: str, row_no: int, wa_id: str) -> bool:
        """Reserve an invite before its API call; ``False`` when it was reserved before."""
        return await self._store.automations.bulk_invite_begin(job_id, row_no, wa_id)

    async def bulk_invite_update(
        self,
        job_id: str,
        row_no: int,
        wa_id: str,
        state: str,
        *,
        wamid: str | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        """Record what became of a bulk row's invite."""
        await self._store.automations.bulk_invite_update(
            job_id, row_no, wa_id, state, wamid=wamid, error=error, cost=cost
        )

    async def bulk_invites(self, job_id: str) -> list[BulkInvite]:
        """A bulk creation's invites."""
        return await self._store.automations.bulk_invites(job_id)

    async def announce_rows_insert(self, job_id: str, group_ids: Sequence[str]) -> None:
        """Record an announcement's groups before anything is sent."""
        await self._store.automations.announce_rows_insert(job_id, group_ids)

    async def announce_rows(self, job_id: str) -> list[AnnounceRow]:
        """An announcement's groups, in order."""
        return await self._store.automations.announce_rows(job_id)

    async def announce_row_update(
        self,
        job_id: str,
        group_id: str,
        state: str,
        *,
        outbox_id: int | None = None,
        wamid: str | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
        called_at: float | None = None,
    ) -> None:
        """Move an announcement row to `state`; the given fields are set."""
        await self._store.automations.announce_row_update(
            job_id,
            group_id,
            state,
            outbox_id=outbox_id,
            wamid=wamid,
            error=error,
            cost=cost,
            called_at=called_at,
        )
