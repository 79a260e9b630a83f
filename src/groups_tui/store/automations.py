"""Local state of the automations package: bulk jobs, announcements, the forwarding
queue, invite flows, runs and pauses.

Job rows are written before their API call, so a crash never leaves a call unaccounted
for; see :mod:`groups_tui.automations`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from groups_tui.domain.numbers import UNASSIGNED
from groups_tui.store.codec import dec_or_none, dumps, loads
from groups_tui.store.feed import set_meta
from groups_tui.store.records import NUMBER_OF_GROUP
from groups_tui.store.repository import Repository

__all__ = [
    "AnnounceRow",
    "AutomationJob",
    "AutomationRun",
    "Automations",
    "BulkInvite",
    "BulkRow",
    "ForwardItem",
    "InviteFlowSend",
]


@dataclass(frozen=True, slots=True)
class AutomationJob:
    """A bulk creation or announcement job."""

    id: str
    kind: str
    fingerprint: str
    params: dict[str, Any]
    state: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class BulkRow:
    """One CSV row of a bulk creation (``state`` as in the ``bulk_create_rows`` table)."""

    row_no: int
    subject: str
    description: str = ""
    join_approval: bool = False
    tag: str | None = None
    invitees: tuple[str, ...] = ()
    state: str = "planned"
    request_id: str | None = None
    group_id: str | None = None
    error: str | None = None
    called_at: float | None = None


@dataclass(frozen=True, slots=True)
class BulkInvite:
    """One invite sent for a bulk row."""

    job_id: str
    row_no: int
    wa_id: str
    state: str
    wamid: str | None
    error: str | None
    cost: Decimal | None


@dataclass(frozen=True, slots=True)
class AnnounceRow:
    """One group of an announcement."""

    job_id: str
    seq: int
    group_id: str
    state: str
    outbox_id: int | None
    wamid: str | None
    error: str | None
    cost: Decimal | None
    called_at: float | None


@dataclass(frozen=True, slots=True)
class ForwardItem:
    """One queued event for one forwarding target."""

    id: int
    target: str
    change_id: int
    lane: str
    body: bytes
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class InviteFlowSend:
    """An invite sent (or being sent) by an invite-flow rule."""

    id: int
    rule: str
    person: str
    group_key: str
    group_id: str | None
    request_id: str | None
    trigger_id: str | None
    state: str
    wamid: str | None
    error: str | None
    cost: Decimal | None
    at: float


@dataclass(frozen=True, slots=True)
class AutomationRun:
    """One run or failure of a rule or forwarding target."""

    id: int
    name: str
    kind: str
    at: float
    ok: bool
    detail: str


_JOB_COLUMNS = "id, kind, fingerprint, params, state, created_at, updated_at"
_BULK_COLUMNS = (
    "row_no, subject, description, join_approval, tag, invitees, state, request_id, group_id, "
    "error, called_at"
)
_FORWARD_COLUMNS = (
    "f.id, f.target, f.change_id, f.lane, f.body, f.state, f.attempts, f.next_attempt_at, "
    "f.last_error, f.delivered_at"
)


def _job_from_row(row: Any) -> AutomationJob:
    return AutomationJob(row[0], row[1], row[2], loads(row[3], {}), row[4], row[5], row[6])


def _bulk_from_row(row: Any) -> BulkRow:
    return BulkRow(
        row_no=row[0],
        subject=row[1],
        description=row[2],
        join_approval=bool(row[3]),
        tag=row[4],
        invitees=tuple(loads(row[5], [])),
        state=row[6],
        request_id=row[7],
        group_id=row[8],
        error=row[9],
        called_at=row[10],
    )


def _forward_from_row(row: Any) -> ForwardItem:
    return ForwardItem(
        row[0], row[1], row[2], row[3], bytes(row[4]), row[5], row[6], row[7], row[8], row[9]
    )


def _money(cost: Decimal | None) -> str | None:
    return None if cost is None else str(cost)


_FLOW_NUMBER = NUMBER_OF_GROUP.format(explicit="?10", group="?4")
"""An invite-flow send is its group's number's unless told."""


class Automations(Repository):
    """Jobs, bulk rows and invites, announcements, forwarding, invite flows, runs."""

    # ------------------------------------------------------------------ jobs

    async def create_job(
        self,
        job_id: str,
        kind: str,
        fingerprint: str,
        params: Mapping[str, Any],
        *,
        phone_number_id: str = UNASSIGNED,
    ) -> AutomationJob:
        """Create a job (idempotent on ``job_id``) and return it.

        Args:
            job_id: The job's id.
            kind: ``bulk_create`` or ``announce``.
            fingerprint: What makes two runs the same job.
            params: The job's parameters.
            phone_number_id: The business number the job works through.
        """
        now = self._clock()
        body = dumps(dict(params))

        def write(conn: sqlite3.Connection) -> Any:
            conn.execute(
                "INSERT INTO automation_jobs(id, kind, fingerprint, params, created_at, "
                "updated_at, phone_number_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO NOTHING",
                (job_id, kind, fingerprint, body, now, now, phone_number_id),
            )
            return conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM automation_jobs WHERE id = ?", (job_id,)
            ).fetchone()

        return _job_from_row(await self.db.execute_write_fn(write))

    async def job(self, job_id: str) -> AutomationJob | None:
        """One job by id."""
        row = await self._one(f"SELECT {_JOB_COLUMNS} FROM automation_jobs WHERE id = ?", (job_id,))
        return _job_from_row(row) if row else None

    async def jobs_by_fingerprint(self, kind: str, fingerprint: str) -> list[AutomationJob]:
        """Jobs of ``kind`` with the same inputs, newest first."""
        rows = await self._all(
            f"SELECT {_JOB_COLUMNS} FROM automation_jobs WHERE kind = ? AND fingerprint = ? "
            "ORDER BY created_at DESC, id",
            (kind, fingerprint),
        )
        return [_job_from_row(r) for r in rows]

    async def set_job_state(self, job_id: str, state: str) -> None:
        """Mark a job ``running`` or ``done``."""
        await self.db.execute_write(
            "UPDATE automation_jobs SET state = ?, updated_at = ? WHERE id = ?",
            (state, self._clock(), job_id),
        )

    # ------------------------------------------------------------------ bulk creation

    async def bulk_rows_insert(self, job_id: str, rows: Sequence[BulkRow]) -> None:
        """Add CSV rows to a job; rows already present keep their state."""
        now = self._clock()
        values = [
            (
                job_id,
                r.row_no,
                r.subject,
                r.description,
                int(r.join_approval),
                r.tag,
                dumps(list(r.invitees)),
                r.state,
                r.error,
                now,
            )
            for r in rows
        ]
        await self.db.execute_write_fn(
            lambda conn: conn.executemany(
                "INSERT INTO bulk_create_rows(job_id, row_no, subject, description, "
                "join_approval, tag, invitees, state, error, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, row_no) DO NOTHING",
                values,
            )
        )

    async def bulk_rows(self, job_id: str) -> list[BulkRow]:
        """Every row of a bulk job, in CSV order."""
        rows = await self._all(
            f"SELECT {_BULK_COLUMNS} FROM bulk_create_rows WHERE job_id = ? ORDER BY row_no",
            (job_id,),
        )
        return [_bulk_from_row(r) for r in rows]

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
        """Move a bulk row to ``state``; the given fields are set, the others kept."""
        await self.db.execute_write(
            "UPDATE bulk_create_rows SET state = ?, "
            "request_id = coalesce(?, request_id), group_id = coalesce(?, group_id), "
            "error = ?, called_at = coalesce(?, called_at), updated_at = ? "
            "WHERE job_id = ? AND row_no = ?",
            (state, request_id, group_id, error, called_at, self._clock(), job_id, row_no),
        )

    async def bulk_find_created(
        self, subject: str, tag: str | None, *, exclude_job: str | None = None
    ) -> list[tuple[str, str]]:
        """``(job id, group id)`` of groups bulk jobs created with this subject and tag."""
        rows = await self._all(
            "SELECT job_id, group_id FROM bulk_create_rows WHERE subject = ? AND state = "
            "'created' AND tag IS ? AND job_id IS NOT ? AND group_id IS NOT NULL "
            "ORDER BY updated_at",
            (subject, tag, exclude_job),
        )
        return [(r[0], r[1]) for r in rows]

    async def bulk_invite_begin(self, job_id: str, row_no: int, wa_id: str) -> bool:
        """Reserve an invite before its API call; ``False`` when it was reserved before."""
        params = (job_id, row_no, wa_id, self._clock())
        row = await self.db.execute_write_fn(
            lambda conn: conn.execute(
                "INSERT INTO bulk_invites(job_id, row_no, wa_id, state, updated_at) "
                "VALUES (?, ?, ?, 'calling', ?) ON CONFLICT DO NOTHING RETURNING 1",
                params,
            ).fetchone()
        )
        return row is not None

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
        """Record what became of a reserved invite."""
        await self.db.execute_write(
            "UPDATE bulk_invites SET state = ?, wamid = ?, error = ?, cost = ?, "
            "updated_at = ? WHERE job_id = ? AND row_no = ? AND wa_id = ?",
            (state, wamid, error, _money(cost), self._clock(), job_id, row_no, wa_id),
        )

    async def bulk_invites(self, job_id: str) -> list[BulkInvite]:
        """Every invite of a bulk job."""
        rows = await self._all(
            "SELECT job_id, row_no, wa_id, state, wamid, error, cost FROM bulk_invites "
            "WHERE job_id = ? ORDER BY row_no, wa_id",
            (job_id,),
        )
        return [BulkInvite(r[0], r[1], r[2], r[3], r[4], r[5], dec_or_none(r[6])) for r in rows]

    # ------------------------------------------------------------------ announcements

    async def announce_rows_insert(self, job_id: str, group_ids: Sequence[str]) -> None:
        """Add the selected groups to an announcement (existing rows are kept)."""
        now = self._clock()
        values = [(job_id, i, gid, now) for i, gid in enumerate(group_ids)]
        await self.db.execute_write_fn(
            lambda conn: conn.executemany(
                "INSERT INTO announce_rows(job_id, seq, group_id, state, updated_at) "
                "VALUES (?, ?, ?, 'planned', ?) ON CONFLICT(job_id, group_id) DO NOTHING",
                values,
            )
        )

    async def announce_rows(self, job_id: str) -> list[AnnounceRow]:
        """Every group of an announcement, in selection order."""
        rows = await self._all(
            "SELECT job_id, seq, group_id, state, outbox_id, wamid, error, cost, called_at "
            "FROM announce_rows WHERE job_id = ? ORDER BY seq",
            (job_id,),
        )
        return [
            AnnounceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], dec_or_none(r[7]), r[8])
            for r in rows
        ]

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
        """Move an announcement row to ``state``; the given fields are set."""
        await self.db.execute_write(
            "UPDATE announce_rows SET state = ?, outbox_id = coalesce(?, outbox_id), "
            "wamid = coalesce(?, wamid), error = ?, cost = coalesce(?, cost), "
            "called_at = coalesce(?, called_at), updated_at = ? "
            "WHERE job_id = ? AND group_id = ?",
            (
                state,
                outbox_id,
                wamid,
                error,
                _money(cost),
                called_at,
                self._clock(),
                job_id,
                group_id,
            ),
        )

    # ------------------------------------------------------------------ forwarding

    async def forward_enqueue(
        self,
        items: Sequence[tuple[str, int, str, bytes]],
        *,
        position_key: str,
        position: int,
    ) -> int:
        """Queue ``(target, change_id, lane, body)`` items and move the feed position.

        Both happen in one transaction, so a crash never loses or doubles an event.

        Returns:
            How many items were new.
        """
        now = self._clock()
        values = [(t, c, lane, body, now) for t, c, lane, body in items]

        def write(conn: sqlite3.Connection) -> int:
            added = conn.executemany(
                "INSERT INTO forward_outbox(target, change_id, lane, body, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(target, change_id) DO NOTHING",
                values,
            ).rowcount
            set_meta(conn, position_key, str(position))
            return max(added, 0)

        return await self.db.execute_write_fn(write)

    async def forward_items(
        self,
        target: str | None = None,
        state: str | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> list[ForwardItem]:
        """Queued items (optionally of one target and state) after ``after_id``, in order."""
        cond: list[str] = ["f.id > ?"]
        params: list[Any] = [after_id]
        if target is not None:
            cond.append("target = ?")
            params.append(target)
        if state is not None:
            cond.append("state = ?")
            params.append(state)
        rows = await self._all(
            f"SELECT {_FORWARD_COLUMNS} FROM forward_outbox f WHERE {' AND '.join(cond)} "
            "ORDER BY id LIMIT ?",
            [*params, limit],
        )
        return [_forward_from_row(r) for r in rows]

    async def forward_next_attempt(self, target: str) -> float | None:
        """When the earliest pending item of a target may be tried again."""
        row = await self._one(
            "SELECT min(next_attempt_at) FROM forward_outbox "
            "WHERE target = ? AND state = 'pending'",
            (target,),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def forward_mark_delivered(self, item_id: int) -> None:
        """Record a successful delivery."""
        await self.db.execute_write(
            "UPDATE forward_outbox SET state = 'delivered', delivered_at = ?, "
            "attempts = attempts + 1, last_error = NULL WHERE id = ?",
            (self._clock(), item_id),
        )

    async def forward_mark_failed(self, item_id: int, error: str, next_attempt_at: float) -> None:
        """Record a failed attempt and when to try again."""
        await self.db.execute_write(
            "UPDATE forward_outbox SET attempts = attempts + 1, last_error = ?, "
            "next_attempt_at = ? WHERE id = ?",
            (error, next_attempt_at, item_id),
        )

    async def forward_counts(self, target: str) -> tuple[int, int]:
        """``(pending, delivered)`` items of a target."""
        row = await self._one(
            "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'delivered'), 0) "
            "FROM forward_outbox WHERE target = ?",
            (target,),
        )
        return int(row[0]), int(row[1])

    # ------------------------------------------------------------------ invite flows

    async def invite_flow_recent(
        self, rule: str, person: str, group_key: str, since: float
    ) -> bool:
        """Whether the rule already sent (or is sending) this invite to this person since."""
        row = await self._one(
            "SELECT 1 FROM invite_flow_sends WHERE rule = ? AND person = ? AND group_key = ? "
            "AND at >= ? AND state IN ('waiting', 'calling', 'sent', 'unknown') LIMIT 1",
            (rule, person, group_key, since),
        )
        return row is not None

    async def invite_flow_begin(
        self,
        rule: str,
        person: str,
        group_key: str,
        *,
        state: str,
        at: float,
        group_id: str | None = None,
        request_id: str | None = None,
        trigger_id: str | None = None,
        phone_number_id: str | None = None,
    ) -> int:
        """Record an invite before its API call (``calling``) or before its group exists.

        The send is the number's it goes through (by default its group's).
        """
        params = (
            rule,
            person,
            group_key,
            group_id,
            request_id,
            trigger_id,
            state,
            at,
            self._clock(),
            phone_number_id,
        )
        row = await self.db.execute_write_fn(
            lambda conn: conn.execute(
                "INSERT INTO invite_flow_sends(rule, person, group_key, group_id, request_id, "
                "trigger_id, state, at, updated_at, phone_number_id) "
                f"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, {_FLOW_NUMBER}) RETURNING id",
                params,
            ).fetchone()
        )
        return int(row[0])

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
        await self.db.execute_write(
            "UPDATE invite_flow_sends SET state = ?, group_id = coalesce(?, group_id), "
            "request_id = coalesce(?, request_id), wamid = coalesce(?, wamid), error = ?, "
            "cost = coalesce(?, cost), updated_at = ? WHERE id = ?",
            (
                state,
                group_id,
                request_id,
                wamid,
                error,
                _money(cost),
                self._clock(),
                send_id,
            ),
        )

    async def invite_flow_sends(
        self, *, state: str | None = None, rule: str | None = None, limit: int = 500
    ) -> list[InviteFlowSend]:
        """Invite-flow sends, oldest first (optionally of one state or rule)."""
        cond, params = ["1 = 1"], []
        if state is not None:
            cond.append("state = ?")
            params.append(state)
        if rule is not None:
            cond.append("rule = ?")
            params.append(rule)
        rows = await self._all(
            "SELECT id, rule, person, group_key, group_id, request_id, trigger_id, state, "
            f"wamid, error, cost, at FROM invite_flow_sends WHERE {' AND '.join(cond)} "
            "ORDER BY id LIMIT ?",
            [*params, limit],
        )
        return [
            InviteFlowSend(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                dec_or_none(r[10]),
                r[11],
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ runs and pauses

    async def add_run(self, name: str, kind: str, ok: bool, detail: str = "") -> None:
        """Record one run (or failure) of a rule or target."""
        await self.db.execute_write(
            "INSERT INTO automation_runs(name, kind, at, ok, detail) VALUES (?, ?, ?, ?, ?)",
            (name, kind, self._clock(), int(ok), detail),
        )

    async def runs(
        self, *, name: str | None = None, failures_only: bool = False, limit: int = 50
    ) -> list[AutomationRun]:
        """Recent runs, newest first."""
        cond, params = ["1 = 1"], []
        if name is not None:
            cond.append("name = ?")
            params.append(name)
        if failures_only:
            cond.append("ok = 0")
        rows = await self._all(
            f"SELECT id, name, kind, at, ok, detail FROM automation_runs "
            f"WHERE {' AND '.join(cond)} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [AutomationRun(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    async def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a rule or target by name (persisted)."""
        if paused:
            await self.db.execute_write(
                "INSERT INTO automation_paused(name, paused_at) VALUES (?, ?) "
                "ON CONFLICT(name) DO NOTHING",
                (name, self._clock()),
            )
        else:
            await self.db.execute_write("DELETE FROM automation_paused WHERE name = ?", (name,))

    async def paused(self) -> set[str]:
        """Names of the paused rules and targets."""
        return {r[0] for r in await self._all("SELECT name FROM automation_paused")}
