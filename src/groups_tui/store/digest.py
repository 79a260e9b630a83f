"""Resetting derived state and hashing it canonically.

Replaying the raw log in id order after :func:`reset_derived_state` must produce the
same :func:`feed_digest` as the original run; the digest therefore leaves out local
surrogate ids, receipt and bookkeeping times, and the change feed. It covers every table
the applier writes (``DIGEST_QUERIES``), the cost ledger's market and amount included.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any, Protocol

from groups_tui.domain.numbers import UNASSIGNED
from groups_tui.store.codec import loads

__all__ = ["DIGEST_QUERIES", "feed_digest", "reset_derived_state", "seed_pending_group"]


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


DIGEST_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "groups",
        "SELECT id, request_id, subject, subject_at, description, description_at, "
        "join_approval, state, state_at, error_code, error_message, suspended, "
        "suspended_reason, suspended_at, created_at, invite_link, last_inbound_at, "
        "last_inbound_by, last_activity_at, picture_sha256, picture_at, unread, "
        "invite_link_at, join_approval_at, last_msg_at, last_msg_preview, last_msg_sender, "
        "last_msg_outbound, member_count, member_text, pending_requests, phone_number_id "
        "FROM groups "
        "ORDER BY id IS NULL, id, request_id",
    ),
    ("participants", "SELECT * FROM participants ORDER BY group_id, participant_key"),
    (
        "participant_history",
        "SELECT group_id, participant_key, action, at, initiated_by, via, request_id, "
        "error_code, error_message FROM participant_history "
        "ORDER BY group_id, participant_key, action, at",
    ),
    ("join_requests", "SELECT * FROM join_requests ORDER BY id"),
    (
        "messages",
        "SELECT id, group_id, direction, kind, sender_key, sender_name, sender_wa_id, at, "
        "text, media, template_name, template_category, system_event, extras, reply_to, "
        "error_code, error_title, origin, outbox_id FROM messages ORDER BY id",
    ),
    ("message_delivery", "SELECT * FROM message_delivery ORDER BY message_id"),
    ("recipient_status", "SELECT * FROM recipient_status ORDER BY message_id, participant_key"),
    (
        "cost_ledger",
        "SELECT message_id, participant_key, group_id, participant_wa_id, category, "
        "pricing_type, pricing_model, billable, market, amount, at, phone_number_id "
        "FROM cost_ledger "
        "ORDER BY message_id, participant_key",
    ),
    (
        "group_events",
        "SELECT group_id, at, kind, value, request_id FROM group_events "
        "ORDER BY group_id, at, kind, value",
    ),
    (
        "pending_operations",
        "SELECT request_id, kind, group_id, payload, state, error, resolved_at, resolved_by, "
        "phone_number_id FROM pending_operations ORDER BY request_id",
    ),
    (
        "early_outcomes",
        "SELECT request_id, kind, group_id, state, error, at FROM early_outcomes "
        "ORDER BY request_id",
    ),
    (
        "event_failures",
        "SELECT r.dedupe_key, f.idx, f.kind, f.group_id, f.event_key, f.at, f.reason "
        # CROSS JOIN keeps the (few) failures the outer loop: ordered by the raw key,
        # SQLite walked every raw event's key to find them (33 ms at 100,000, for none).
        "FROM event_failures f CROSS JOIN raw_events r ON r.id = f.raw_id "
        "ORDER BY r.dedupe_key, f.idx",
    ),
    (
        "raw_events",
        "SELECT dedupe_key, parse_state, error, applied_at IS NOT NULL, phone_number_id, "
        "other_number FROM raw_events ORDER BY dedupe_key",
    ),
)


def _as_json_rows(conn: sqlite3.Connection, sql: str) -> str:
    """``sql`` rewritten to give each row as one JSON array (SQLite's ``json_array``).

    ``SELECT *`` is spelt out with the table's columns, so a column a migration adds is
    covered without editing the query.
    """
    head, _, tail = sql.partition(" FROM ")
    columns = head.removeprefix("SELECT ")
    if columns == "*":
        table = tail.split()[0]
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        columns = ", ".join('"' + name.replace('"', '""') + '"' for name in names)
    return f"SELECT json_array({columns}) FROM {tail}"


def _blob_as_hex(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not a column value: {type(value).__name__}")


# The same lines from Python, for a table holding a BLOB (which ``json_array`` refuses):
# canonical JSON as ``codec.dumps`` writes it, a BLOB as its hex text.
_ROW_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_blob_as_hex).encode


def _table_lines(conn: sqlite3.Connection, sql: str) -> list[bytes]:
    """The digest lines of one query's rows, in chunks."""
    out: list[bytes] = []
    try:
        cur = conn.execute(_as_json_rows(conn, sql))
        while rows := cur.fetchmany(2000):
            lines = "\n".join([row[0] for row in rows])
            out.append(f"{lines}\n".encode())
        return out
    except sqlite3.OperationalError:  # "JSON cannot hold BLOB values"
        out.clear()
    cur = conn.execute(sql)
    while rows := cur.fetchmany(2000):
        lines = "\n".join(map(_ROW_JSON, rows))
        out.append(f"{lines}\n".encode())
    return out


def feed_digest(conn: sqlite3.Connection, hasher: _Hasher) -> None:
    """Feed every derived table, canonically serialised, into ``hasher``.

    Each row is one line: the JSON array of its values, written by SQLite (compact, text
    as UTF-8) so the rows never become Python objects. Reads inside one transaction so
    the tables form a consistent snapshot.
    """
    conn.execute("BEGIN")
    try:
        for name, sql in DIGEST_QUERIES:
            hasher.update(f"#{name}\n".encode())
            for chunk in _table_lines(conn, sql):
                hasher.update(chunk)
    finally:
        conn.execute("COMMIT")


def seed_pending_group(
    conn: sqlite3.Connection,
    request_id: str,
    payload: Mapping[str, Any],
    state: str = "pending",
    error: str | None = None,
    *,
    phone_number_id: str = UNASSIGNED,
) -> None:
    """Insert the local row of a group whose creation is pending (no-op if present)."""
    conn.execute(
        "INSERT INTO groups(request_id, subject, description, join_approval, state, "
        "error_message, phone_number_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(request_id) DO NOTHING",
        (
            request_id,
            str(payload.get("subject") or ""),
            str(payload.get("description") or ""),
            str(payload.get("join_approval") or "auto_approve"),
            state,
            error,
            phone_number_id,
        ),
    )


def reset_derived_state(conn: sqlite3.Connection) -> None:
    """Delete webhook-derived state inside the caller's transaction.

    Outbound messages written through the outbox, operator annotations, decisions on
    join requests, audit, contacts, blocklist and the change feed are kept. Operations
    a webhook resolved go back to pending; pending-create rows are re-seeded from the
    operations table. Every raw event is marked unapplied.
    """
    for table in (
        "participant_history",
        "participants",
        "join_requests",
        "message_delivery",
        "recipient_status",
        "cost_ledger",
        "group_events",
        "early_outcomes",
        "event_failures",
    ):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM messages WHERE origin = 'webhook'")
    conn.execute("DELETE FROM groups")
    conn.execute(
        "UPDATE pending_operations SET state = 'pending', error = NULL, resolved_at = NULL, "
        "resolved_by = NULL, group_id = CASE WHEN kind = 'create' THEN NULL ELSE group_id END "
        "WHERE resolved_by = 'webhook'"
    )
    creates = conn.execute(
        "SELECT request_id, payload, state, error, phone_number_id FROM pending_operations "
        "WHERE kind = 'create' ORDER BY created_at, request_id"
    ).fetchall()
    for request_id, payload, state, error, number in creates:
        seed_pending_group(
            conn,
            request_id,
            loads(payload, {}),
            "failed" if state == "failed" else "pending",
            error,
            phone_number_id=number,
        )
    conn.execute(
        "UPDATE raw_events SET applied_at = NULL, parse_state = 'pending', error = NULL, "
        "other_number = 0"
    )
