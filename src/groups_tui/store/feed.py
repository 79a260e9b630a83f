"""The change feed (what changed, in commit order) and the followers' bookkeeping.

Every write that changes what a screen shows appends a ``change_feed`` row in the same
transaction (:func:`append_change`); a follower (the TUI, the automation runner, another
process) remembers the last id it saw and asks for the rows after it. ``meta`` keeps
small named values such as the followers' positions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from groups_tui.store.codec import dumps, loads
from groups_tui.store.records import Change
from groups_tui.store.repository import Repository

__all__ = ["Feed", "append_change", "set_meta"]

_EMPTY = dumps({})


def append_change(
    conn: sqlite3.Connection,
    kind: str,
    *,
    group_id: str | None = None,
    entity: str | None = None,
    at: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Append one change-feed row inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO change_feed(kind, group_id, entity, at, payload) VALUES (?, ?, ?, ?, ?)",
        (kind, group_id, entity, at, _EMPTY if payload is None else dumps(payload)),
    )


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Store a named value inside the caller's write transaction."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


class Feed(Repository):
    """The change feed, ``PRAGMA data_version`` and the ``meta`` values."""

    async def since(self, after_id: int = 0, limit: int = 1000) -> list[Change]:
        """Change-feed rows with ``id > after_id``, in id order."""
        rows = await self._all(
            "SELECT id, kind, group_id, entity, at, raw_id, payload FROM change_feed "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [Change(r[0], r[1], r[2], r[3], r[4], r[5], loads(r[6], {})) for r in rows]

    async def latest_id(self) -> int:
        """Id of the newest change-feed row (0 when empty)."""
        row = await self._one("SELECT coalesce(max(id), 0) FROM change_feed")
        return int(row[0])

    async def data_version(self) -> int:
        """``PRAGMA data_version`` of the reader: changes when another connection commits."""
        row = await self._one("PRAGMA data_version")
        return int(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        """Store a named value (a follower's position, a heartbeat)."""
        await self.db.execute_write_fn(lambda conn: set_meta(conn, key, value))

    async def get_meta(self, key: str, default: str | None = None) -> str | None:
        """Read a named value."""
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else default
