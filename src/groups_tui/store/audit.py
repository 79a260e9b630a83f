"""The audit log: who did what, as which OS user, with what result and cost."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from groups_tui.store.codec import dec_or_none, dumps, loads
from groups_tui.store.records import NUMBER_OF_GROUP, AuditEntry
from groups_tui.store.repository import Repository

__all__ = ["Audit"]

_NUMBER = NUMBER_OF_GROUP.format(explicit="?8", group="?4")


class Audit(Repository):
    """Append-only record of operator actions."""

    async def append(
        self,
        os_user: str,
        action: str,
        *,
        group_id: str | None = None,
        targets: Sequence[Any] = (),
        api_result: Any = None,
        cost: Decimal | None = None,
        phone_number_id: str | None = None,
        role: str | None = None,
    ) -> int:
        """Append an audit entry and return its id.

        The entry is the number's the action went through (by default its group's);
        `role` is the operator's in team mode.
        """
        params = (
            self._clock(),
            os_user,
            action,
            group_id,
            dumps(list(targets)),
            None if api_result is None else dumps(api_result),
            None if cost is None else str(cost),
            phone_number_id,
            role,
        )
        row = await self.db.execute_write_fn(
            lambda conn: conn.execute(
                "INSERT INTO audit_log(at, os_user, action, group_id, targets, api_result, "
                f"cost, phone_number_id, role) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, {_NUMBER}, ?9) "
                "RETURNING id",
                params,
            ).fetchone()
        )
        return int(row[0])

    async def entries(
        self,
        *,
        group_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
        phone_number_id: str | None = None,
    ) -> list[AuditEntry]:
        """Audit entries (of a group, of a number), newest first (keyset on id)."""
        cond = ["id < ?"]
        params: list[Any] = [before_id if before_id is not None else 2**62]
        if group_id is not None:
            cond.append("group_id = ?")
            params.append(group_id)
        if phone_number_id is not None:
            cond.append("phone_number_id = ?")
            params.append(phone_number_id)
        rows = await self._all(
            "SELECT id, at, os_user, action, group_id, targets, api_result, cost, "
            f"phone_number_id, role FROM audit_log WHERE {' AND '.join(cond)} "
            "ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [
            AuditEntry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                loads(r[5], []),
                loads(r[6]),
                dec_or_none(r[7]),
                r[8],
                r[9],
            )
            for r in rows
        ]

    async def cost_since(self, os_user: str, since: float) -> Decimal:
        """What `os_user`'s audited actions were previewed to cost since `since`."""
        rows = await self._all(
            "SELECT cost FROM audit_log WHERE os_user = ? AND at >= ? AND cost IS NOT NULL",
            (os_user, since),
        )
        return sum((dec_or_none(r[0]) or Decimal(0) for r in rows), Decimal(0))
