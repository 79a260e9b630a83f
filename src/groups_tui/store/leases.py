"""Runner leases: at most one process runs the automations and the moderation watcher.

A lease is a row (name, holder pid, holder, expiry). A process takes it when it is free,
expired, or already its own, and renews it well before it expires; a process that dies
simply stops renewing, and the lease is free again once it expires.
"""

from __future__ import annotations

import sqlite3

from groups_tui.store.repository import Repository

__all__ = ["Leases"]


class Leases(Repository):
    """The ``runner_lease`` table."""

    async def acquire(
        self, name: str, *, pid: int, holder: str, ttl: float, now: float
    ) -> int | None:
        """Take or renew lease `name` for process `pid` until ``now + ttl``.

        Returns:
            ``None`` when this process holds the lease now; otherwise the pid of the
            process that holds it.
        """

        def run(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT holder_pid, expires_at FROM runner_lease WHERE name = ?", (name,)
            ).fetchone()
            if row is not None and row[0] != pid and row[1] > now:
                return int(row[0])
            conn.execute(
                "INSERT INTO runner_lease(name, holder_pid, holder, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "holder_pid = excluded.holder_pid, holder = excluded.holder, "
                "expires_at = excluded.expires_at",
                (name, pid, holder, now + ttl),
            )
            return None

        return await self.db.execute_write_fn(run)

    async def release(self, name: str, *, pid: int) -> None:
        """Give lease `name` up if process `pid` holds it."""
        await self.db.execute_write(
            "DELETE FROM runner_lease WHERE name = ? AND holder_pid = ?", (name, pid)
        )

    async def holder(self, name: str, *, now: float) -> int | None:
        """The pid holding lease `name` unexpired, or ``None``."""
        row = await self._one(
            "SELECT holder_pid FROM runner_lease WHERE name = ? AND expires_at > ?", (name, now)
        )
        return None if row is None else int(row[0])
