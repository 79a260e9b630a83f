"""The outbox: an outbound message is written here before its API call, and its fate
(accepted with a wamid, failed with the API's reason, unknown after a crash) stays
visible on its timeline row."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from groups_tui.domain.models import Media, MessageKind
from groups_tui.store.codec import dumps, loads, media_to_json
from groups_tui.store.feed import append_change
from groups_tui.store.records import NUMBER_OF_GROUP, OutboxItem
from groups_tui.store.repository import Repository, marks

__all__ = ["Outbox"]

_OUTBOX_COLUMNS = (
    "o.id, o.group_id, o.kind, o.payload, o.state, o.wamid, o.error_code, o.error_message, "
    "o.created_at, o.updated_at, coalesce(o.wamid, 'local:' || o.id)"
)
_GET_SQL = f"SELECT {_OUTBOX_COLUMNS} FROM outbox o WHERE o.id = ?"
_NUMBER = NUMBER_OF_GROUP.format(explicit="NULL", group="?1")
"""A send goes through its group's number."""


def _outbox_from_row(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        group_id=row[1],
        kind=row[2],
        payload=loads(row[3], {}),
        state=row[4],
        wamid=row[5],
        error_code=row[6],
        error_message=row[7],
        created_at=row[8],
        updated_at=row[9],
        message_id=row[10],
    )


def _changed(conn: sqlite3.Connection, local_id: int, group_id: str | None, state: str) -> None:
    append_change(
        conn, "outbox.updated", group_id=group_id, entity=str(local_id), payload={"state": state}
    )


class Outbox(Repository):
    """Outbound messages and their fate."""

    async def enqueue(
        self,
        group_id: str,
        kind: MessageKind | str,
        payload: Mapping[str, Any],
        *,
        text: str | None = None,
        media: Media | None = None,
        template_name: str | None = None,
        template_category: str | None = None,
        at: int | None = None,
    ) -> OutboxItem:
        """Write an outbound message before the API call.

        Creates the outbox row and the outbound timeline row (local id ``local:<n>``
        until :meth:`mark_accepted` gives it the wamid).

        Args:
            group_id: Target group.
            kind: Message kind.
            payload: Request body.
            text: Text shown in the timeline (body or caption).
            media: Attached media.
            template_name: Template name, for template sends.
            template_category: Template category at send time.
            at: Timeline time; defaults to the clock.

        Returns:
            The queued item.
        """
        now = self._clock()
        at = int(now) if at is None else at
        body = dumps(payload)

        def write(conn: sqlite3.Connection) -> Any:
            row = conn.execute(
                "INSERT INTO outbox(group_id, kind, payload, created_at, updated_at, "
                f"phone_number_id) VALUES (?1, ?2, ?3, ?4, ?5, {_NUMBER}) RETURNING id",
                (group_id, str(kind), body, now, now),
            ).fetchone()
            local_id = int(row[0])
            conn.execute(
                "INSERT INTO messages(id, group_id, direction, kind, at, text, media, "
                "template_name, template_category, origin, outbox_id) "
                "VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, 'outbox', ?)",
                (
                    f"local:{local_id}",
                    group_id,
                    str(kind),
                    at,
                    text,
                    media_to_json(media),
                    template_name,
                    template_category,
                    local_id,
                ),
            )
            _changed(conn, local_id, group_id, "queued")
            return conn.execute(_GET_SQL, (local_id,)).fetchone()

        return _outbox_from_row(await self.db.execute_write_fn(write))

    async def _update(
        self, local_id: int, state: str, sets: str, params: Sequence[Any]
    ) -> OutboxItem | None:
        now = self._clock()

        def write(conn: sqlite3.Connection) -> Any:
            row = conn.execute(
                f"UPDATE outbox SET state = ?, updated_at = ?{sets} WHERE id = ? "
                "RETURNING group_id",
                (state, now, *params, local_id),
            ).fetchone()
            if row is None:
                return None
            if state == "accepted":
                conn.execute(
                    "UPDATE messages SET id = ? WHERE outbox_id = ?", (params[0], local_id)
                )
            _changed(conn, local_id, row[0], state)
            return conn.execute(_GET_SQL, (local_id,)).fetchone()

        row = await self.db.execute_write_fn(write)
        return _outbox_from_row(row) if row is not None else None

    async def mark_accepted(self, local_id: int, wamid: str) -> OutboxItem | None:
        """The API accepted the send and returned ``wamid``."""
        return await self._update(local_id, "accepted", ", wamid = ?", (wamid,))

    async def mark_failed(
        self, local_id: int, code: int | None, message: str | None
    ) -> OutboxItem | None:
        """The API refused the send."""
        return await self._update(
            local_id, "failed", ", error_code = ?, error_message = ?", (code, message)
        )

    async def mark_unknown(self, local_id: int) -> OutboxItem | None:
        """The send's fate is unknown (crash or timeout after the call began)."""
        return await self._update(local_id, "unknown", "", ())

    async def get(self, local_id: int) -> OutboxItem | None:
        """One outbox item."""
        row = await self._one(_GET_SQL, (local_id,))
        return _outbox_from_row(row) if row else None

    async def pending(
        self, states: Sequence[str] = ("queued", "unknown"), limit: int = 500
    ) -> list[OutboxItem]:
        """Items whose fate is open (queued, or unknown after a crash), oldest first."""
        rows = await self._all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox o WHERE o.state IN ({marks(len(states))}) "
            "ORDER BY o.id LIMIT ?",
            [*states, limit],
        )
        return [_outbox_from_row(r) for r in rows]

    async def for_group(
        self, group_id: str, *, before_id: int | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        """A group's outbox, newest first (keyset on id)."""
        rows = await self._all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox o WHERE o.group_id = ? AND o.id < ? "
            "ORDER BY o.id DESC LIMIT ?",
            (group_id, before_id if before_id is not None else 2**62, limit),
        )
        return [_outbox_from_row(r) for r in rows]
