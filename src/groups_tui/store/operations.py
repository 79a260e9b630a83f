"""Asynchronous operations (create, remove, settings, delete) awaiting their webhook.

An operation is recorded when the API accepts the request and settled by its webhook
(``apply/operations.py``), a re-query or a timeout. A webhook may overtake the API's answer: the
applier keeps its outcome (``early_outcomes``, or the group row for creates and deletes)
and recording the operation settles it at once (:func:`settle_overtaken`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from groups_tui.store.codec import dumps, loads
from groups_tui.store.feed import append_change
from groups_tui.store.records import NUMBER_OF_GROUP, PendingOperation
from groups_tui.store.repository import Repository

__all__ = ["EARLY_OUTCOME_KEPT", "Operations", "settle_overtaken"]

EARLY_OUTCOME_KEPT = 86_400
"""Seconds an overtaking webhook's outcome waits for its operation to be recorded."""

_OP_COLUMNS = (
    "request_id, kind, group_id, payload, state, error, created_at, resolved_at, phone_number_id"
)


_NUMBER = NUMBER_OF_GROUP.format(explicit="?6", group="?3")


def _op_from_row(row: Any) -> PendingOperation:
    return PendingOperation(
        request_id=row[0],
        kind=row[1],
        group_id=row[2],
        payload=loads(row[3], {}),
        state=row[4],
        error=row[5],
        created_at=row[6],
        resolved_at=row[7],
        phone_number_id=row[8],
    )


def settle_overtaken(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any], request_id: str
) -> None:
    """Run an ``UPDATE ... RETURNING group_id, state, error`` that settles an operation
    from what its overtaking webhook left, and tell the change feed if it did."""
    row = conn.execute(sql, params).fetchone()
    if row is not None:
        append_change(
            conn,
            "operation.resolved",
            group_id=row[0],
            entity=request_id,
            payload={"state": row[1], "error": row[2]},
        )


class Operations(Repository):
    """The ``pending_operations`` table."""

    async def add(
        self,
        request_id: str,
        kind: str,
        *,
        group_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
        phone_number_id: str | None = None,
    ) -> None:
        """Record an asynchronous operation (remove, settings, delete) awaiting its webhook.

        Use :meth:`groups_tui.store.groups.Groups.create_pending` for creates. The
        operation is the number's it was sent through (by default its group's).
        """
        # Imported here: the applier and the webhook events it loads are not needed by
        # the store's readers (the TUI's inbox imports this module through ``groups``).
        from groups_tui.store.apply import EARLY_OUTCOME_KINDS

        now = self._clock()
        body = dumps(payload or {})

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO pending_operations(request_id, kind, group_id, payload, created_at, "
                f"phone_number_id) VALUES (?1, ?2, ?3, ?4, ?5, {_NUMBER}) "
                "ON CONFLICT(request_id) DO NOTHING",
                (request_id, kind, group_id, body, now, phone_number_id),
            )
            append_change(
                conn,
                "operation.pending",
                group_id=group_id,
                entity=request_id,
                payload={"kind": kind},
            )
            if kind in EARLY_OUTCOME_KINDS:
                # Its webhook may have overtaken the API's answer (kept by the applier).
                settle_overtaken(
                    conn,
                    "UPDATE pending_operations SET state = o.state, error = o.error, "
                    "resolved_at = o.at, resolved_by = 'webhook', "
                    "group_id = coalesce(pending_operations.group_id, o.group_id) "
                    "FROM early_outcomes o WHERE pending_operations.request_id = ?1 "
                    "AND o.request_id = ?1 AND pending_operations.state = 'pending' "
                    "RETURNING pending_operations.group_id, pending_operations.state, "
                    "pending_operations.error",
                    (request_id,),
                    request_id,
                )
                # Used up; and outcomes nobody recorded an operation for within a day (an
                # answer without a request id, a request made elsewhere) are dropped.
                conn.execute(
                    "DELETE FROM early_outcomes WHERE request_id = ? OR at < ?",
                    (request_id, int(now) - EARLY_OUTCOME_KEPT),
                )
            if kind == "delete" and group_id is not None:
                # The delete webhook may have overtaken the API's answer.
                settle_overtaken(
                    conn,
                    "UPDATE pending_operations SET state = 'done', resolved_by = 'webhook', "
                    "resolved_at = coalesce(g.state_at, ?2) FROM groups g "
                    "WHERE pending_operations.request_id = ?1 "
                    "AND pending_operations.state = 'pending' AND g.id = ?3 "
                    "AND g.state = 'deleted' RETURNING pending_operations.group_id, "
                    "pending_operations.state, pending_operations.error",
                    (request_id, int(now), group_id),
                    request_id,
                )

        await self.db.execute_write_fn(write)

    async def resolve(
        self, request_id: str, state: str, error: str | None = None, at: int | None = None
    ) -> bool:
        """Settle an operation locally (re-query, timeout or synchronous failure).

        Returns:
            True if a pending operation was settled.
        """
        if state not in ("done", "failed"):
            raise ValueError(f"bad state {state!r}")
        when = at if at is not None else int(self._clock())

        def write(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "UPDATE pending_operations SET state = ?, error = ?, resolved_at = ?, "
                "resolved_by = 'local' WHERE request_id = ? AND state = 'pending' "
                "RETURNING group_id, kind",
                (state, error, when, request_id),
            ).fetchone()
            if row is None:
                return False
            if row[1] == "create" and state == "failed":
                conn.execute(
                    "UPDATE groups SET state = 'failed', error_message = ? "
                    "WHERE request_id = ? AND id IS NULL",
                    (error, request_id),
                )
            append_change(
                conn,
                "operation.resolved",
                group_id=row[0],
                entity=request_id,
                payload={"state": state, "error": error},
            )
            return True

        return await self.db.execute_write_fn(write)

    async def pending(
        self, state: str | None = "pending", limit: int = 500
    ) -> list[PendingOperation]:
        """Operations in a state (all when ``state`` is None), oldest first."""
        cond, params = ("WHERE state = ?", [state]) if state else ("", [])
        rows = await self._all(
            f"SELECT {_OP_COLUMNS} FROM pending_operations {cond} "
            "ORDER BY created_at, request_id LIMIT ?",
            [*params, limit],
        )
        return [_op_from_row(r) for r in rows]

    async def get(self, request_id: str) -> PendingOperation | None:
        """One operation by request id."""
        row = await self._one(
            f"SELECT {_OP_COLUMNS} FROM pending_operations WHERE request_id = ?", (request_id,)
        )
        return _op_from_row(row) if row else None
