"""Opening, pragmas and migrations."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from groups_tui.store import SchemaTooNewError, Store, StoreClosedError
from groups_tui.store.schema import LATEST_VERSION, MIGRATIONS, NUMBERED_TABLES
from groups_tui.store.sqlite import migrate, split_statements
from tests.helpers.schema_files import schema_at

EXPECTED_TABLES = {
    "meta",
    "counters",
    "raw_events",
    "groups",
    "group_local",
    "participants",
    "participant_history",
    "join_requests",
    "join_request_decisions",
    "messages",
    "messages_fts",
    "message_delivery",
    "recipient_status",
    "cost_ledger",
    "outbox",
    "change_feed",
    "audit_log",
    "pending_operations",
    "templates",
    "contacts",
    "blocklist",
    "runner_lease",
}


V9_INDEXES = {
    "groups_inbox_order",
    "groups_number_order",
    "cost_ledger_number_at",
    "raw_events_other_number",
}
"""The indexes schema v9 adds (the inbox's order, spend per number, other numbers)."""


def _exists(path: Path) -> bool:
    return path.exists()


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


async def test_open_creates_file_and_migrates_to_latest(db_path: Path) -> None:
    assert not _exists(db_path)
    store = await Store.open(db_path)
    await store.close()
    assert _exists(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert EXPECTED_TABLES <= _tables(db_path)


async def test_open_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.db"
    store = await Store.open(path)
    await store.close()
    assert _exists(path)


async def test_reopen_is_idempotent_and_keeps_data(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.feed.set_meta("k", "v")
    await store.close()
    store = await Store.open(db_path)
    try:
        assert await store.feed.get_meta("k") == "v"
    finally:
        await store.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION


def _pragmas(conn: sqlite3.Connection) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("foreign_keys", "busy_timeout", "synchronous")
    )


async def test_connection_pragmas(store: Store) -> None:
    # The writer, seen from inside a write, and the reader.
    foreign_keys, busy_timeout, synchronous = await store.db.execute_write_fn(_pragmas)
    assert foreign_keys == 1
    assert busy_timeout > 0
    assert synchronous == 1  # NORMAL between raw-log commits
    foreign_keys, busy_timeout, _ = await store.db.execute_fn(_pragmas)
    assert foreign_keys == 1
    assert busy_timeout > 0


async def test_reads_cannot_write(store: Store) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await store.db.execute_fn(lambda conn: conn.execute("DELETE FROM meta"))


def test_migrate_twice_is_a_no_op(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        assert migrate(conn) == LATEST_VERSION
        assert migrate(conn) == LATEST_VERSION
    finally:
        conn.close()


async def test_newer_schema_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(SchemaTooNewError):
        await Store.open(db_path)


async def test_readonly_follower_reads_but_cannot_write(db_path: Path) -> None:
    writer = await Store.open(db_path)
    await writer.feed.set_meta("k", "v")
    follower = await Store.open_readonly(db_path)
    try:
        assert await follower.feed.get_meta("k") == "v"
        with pytest.raises(StoreClosedError):
            await follower.feed.set_meta("k", "w")
    finally:
        await follower.close()
        await writer.close()


async def test_closed_store_refuses_use(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    await store.close()
    with pytest.raises(StoreClosedError):
        await store.feed.get_meta("k")


async def test_in_memory_store_works(tmp_path: Path) -> None:
    store = await Store.open(":memory:")
    try:
        await store.feed.set_meta("k", "v")
        assert await store.feed.get_meta("k") == "v"
        assert len(await store.raw.state_digest()) == 64
    finally:
        await store.close()


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    statements = list(split_statements(MIGRATIONS[0]))
    triggers = [s for s in statements if s.startswith("CREATE TRIGGER")]
    assert len(triggers) == 3
    assert all(s.rstrip().endswith("END;") for s in triggers)
    assert all(sqlite3.complete_statement(s) for s in statements)


async def test_v6_marks_groups_whose_newest_message_is_ours(db_path: Path) -> None:
    # GIVEN a file at version 5 where one group's newest message is outbound
    with sqlite3.connect(db_path) as conn:
        schema_at(conn, 5)
        conn.executemany(
            "INSERT INTO groups(id, subject, created_at) VALUES (?, ?, 1)",
            [("g-ours", "Ours"), ("g-theirs", "Theirs"), ("g-empty", "Empty")],
        )
        conn.executemany(
            "INSERT INTO messages(id, group_id, direction, kind, sender_name, at, text) "
            "VALUES (?, ?, ?, 'text', ?, ?, ?)",
            [
                ("m1", "g-ours", "inbound", "Ann", 10, "hello"),
                ("m2", "g-ours", "outbound", None, 20, "hi Ann"),
                ("m3", "g-theirs", "outbound", None, 10, "welcome"),
                ("m4", "g-theirs", "inbound", "Bo", 20, "thanks"),
            ],
        )
    # WHEN the store opens it
    store = await Store.open(db_path)
    try:
        rows = {r.group_id: r for r in await store.groups.inbox_row_list()}
    finally:
        await store.close()
    # THEN the existing rows say whose message is newest
    assert (rows["g-ours"].last_outbound, rows["g-ours"].last_text) == (True, "hi Ann")
    assert (rows["g-theirs"].last_outbound, rows["g-theirs"].last_sender) == (False, "Bo")
    assert rows["g-empty"].last_outbound is False


def _v6_file_with_data(db_path: Path) -> None:
    """A version-6 file holding a bit of everything, as an earlier release left it."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        schema_at(conn, 6)
        conn.executemany(
            "INSERT INTO groups(id, request_id, subject, join_approval, state, created_at, "
            "invite_link, suspended, unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("g1", "r1", "First", "approval_required", "active", 10, "https://l/1", 0, 2),
                ("g2", None, "Second", "auto_approve", "deleted", 11, None, 1, 0),
            ],
        )
        conn.execute(
            "INSERT INTO groups(request_id, subject, state) VALUES ('r3', 'Pending', 'pending')"
        )
        conn.executemany(
            "INSERT INTO participants(group_id, participant_key, wa_id, profile_name, "
            "joined_at, joined_via, state, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("g1", "111", "111", "Ann", 20, "invite_link", "present", 20),
                ("g1", "222", "222", "Bo", 21, "approval", "left", 30),
                ("g2", "111", "111", "Ann", 22, "invite_link", "present", 22),
            ],
        )
        conn.execute(
            "INSERT INTO participant_history(group_id, participant_key, action, at, via) "
            "VALUES ('g1', '111', 'join', 20, 'invite_link')"
        )
        conn.execute(
            "INSERT INTO join_requests(id, group_id, participant_key, wa_id, created_at, state, "
            "state_at) VALUES ('jr1', 'g1', '333', '333', 25, 'pending', 25)"
        )
        conn.executemany(
            "INSERT INTO messages(id, group_id, direction, kind, sender_name, at, text) "
            "VALUES (?, ?, ?, 'text', ?, ?, ?)",
            [
                ("m1", "g1", "inbound", "Ann", 40, "hello"),
                ("m2", "g1", "outbound", None, 41, "hi Ann"),
                ("m3", "g2", "inbound", "Ann", 42, "bye"),
            ],
        )
        conn.execute(
            "INSERT INTO cost_ledger(message_id, participant_key, group_id, category, market, "
            "amount, at) VALUES ('m2', '111', 'g1', 'group_utility', 'United States', "
            "'0.0040', 50)"
        )
        conn.executemany(
            "INSERT INTO raw_events(dedupe_key, body, received_at, applied_at, parse_state, "
            "error) VALUES (?, ?, 1.0, ?, ?, ?)",
            [
                ("k1", b"{}", 2.0, "ok", None),
                ("k2", b'{"entry": []}', 3.0, "error", "apply: IntegrityError: CHECK failed"),
            ],
        )
        conn.execute("INSERT INTO counters(name, value) VALUES ('listener.signatures_refused', 4)")


def _dump(db_path: Path) -> tuple[dict[str, list[tuple[object, ...]]], dict[str, str]]:
    """Every table's rows, and the SQL of every index and trigger, by name."""
    with sqlite3.connect(db_path) as conn:
        schema = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
        tables = [n for t, n, sql in schema if t == "table" and "VIRTUAL" not in (sql or "")]
        rows = {
            # The columns v7 adds to groups come last (NULL for the rows it found).
            name: conn.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
            for name in tables
            if not name.startswith("messages_fts")
        }
        if "role" in {r[1] for r in conn.execute("PRAGMA table_info(audit_log)")}:
            # v11 adds ``role`` last: NULL for every entry written in single-user mode.
            assert {r[-1] for r in rows["audit_log"]} <= {None}
            rows["audit_log"] = [row[:-1] for row in rows["audit_log"]]
            assert rows.pop("runner_lease") == []
        if "raw_bodies" in rows:
            # v12 keeps the raw log's bodies apart, under their row's id.
            bodies = dict(rows.pop("raw_bodies"))
            rows["raw_events"] = [(r[0], r[1], bodies[r[0]], *r[2:]) for r in rows["raw_events"]]
        if "numbers" in rows:
            # v9 adds the number last to these tables (the placeholder for the rows it
            # found, no number being registered), two columns to the raw log, the table of
            # numbers, and the WABA first to the template cache.
            for name in NUMBERED_TABLES:
                assert {r[-1] for r in rows[name]} <= {""}, name
                rows[name] = [row[:-1] for row in rows[name]]
            assert {r[-1] for r in rows["raw_events"]} <= {0}
            rows["raw_events"] = [row[:-2] for row in rows["raw_events"]]
            assert rows.pop("numbers") == []
            rows["templates"] = [row[1:] for row in rows["templates"]]
        if "join_approval_at" in {r[1] for r in conn.execute("PRAGMA table_info(groups)")}:
            added = conn.execute(
                "SELECT invite_link_at, join_approval_at FROM groups ORDER BY 1, 2"
            ).fetchall()
            assert set(added) == {(None, None)}
            rows["groups"] = [row[:-2] for row in rows["groups"]]
        if "observed" in {r[1] for r in conn.execute("PRAGMA table_info(participant_history)")}:
            # v8 adds ``observed`` last: 0 for every row recorded from a webhook.
            assert {r[-1] for r in rows["participant_history"]} <= {0}
            rows["participant_history"] = [row[:-1] for row in rows["participant_history"]]
        if "read_at" in {r[1] for r in conn.execute("PRAGMA table_info(recipient_status)")}:
            # v10 adds ``delivered_at`` and ``read_at`` last, from the one time a row had.
            for row in rows["recipient_status"]:
                state, at, delivered_at, read_at = row[2], row[4], row[-2], row[-1]
                assert delivered_at == (at if state == "delivered" else None)
                assert read_at == (at if state == "read" else None)
            rows["recipient_status"] = [row[:-2] for row in rows["recipient_status"]]
            # ... and the timeline of each group's own events, derived: empty until applied.
            assert rows.pop("group_events") == []
        rows["fts"] = conn.execute(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'hello OR bye'"
        ).fetchall()
    return rows, {n: sql for t, n, sql in schema if t in ("index", "trigger")}


async def test_v7_rebuilds_groups_without_losing_anything(db_path: Path) -> None:
    # GIVEN a version-6 file with data in every family of tables
    _v6_file_with_data(db_path)
    rows_before, schema_before = _dump(db_path)
    # WHEN the store opens it
    store = await Store.open(db_path)
    await store.close()
    # THEN every row of every table is as it was (the groups rows included)
    rows_after, schema_after = _dump(db_path)
    assert rows_after.pop("event_failures") == [
        (2, -1, "body", None, None, None, "apply: IntegrityError: CHECK failed", 3.0)
    ]
    counters = dict(rows_after.pop("counters"))
    assert counters == {"listener.signatures_refused": 4, "events.failed": 1}
    rows_before.pop("counters")
    assert rows_after == rows_before
    # AND every index and trigger is identical, plus the two that count failures (and the
    # indexes of v9 and v10)
    added = {n: schema_after.pop(n) for n in list(schema_after) if n not in schema_before}
    assert (
        set(added)
        == {"event_failures_count_ai", "event_failures_count_ad"}
        | V9_INDEXES
        # v10: the conversation reads a page's events by time
        | {"participant_history_group_at", "join_requests_group_created"}
    )
    assert schema_after == schema_before
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        # AND an unknown join-approval mode is now data
        conn.execute("UPDATE groups SET join_approval = 'AUTO_APPROVE' WHERE id = 'g2'")
        # AND the triggers still keep the inbox columns of the rebuilt table
        conn.execute(
            "INSERT INTO messages(id, group_id, direction, kind, sender_name, at, text) "
            "VALUES ('m4', 'g2', 'inbound', 'text', 'Ann', 60, 'again')"
        )
        assert conn.execute(
            "SELECT last_msg_preview, member_count, pending_requests FROM groups WHERE id = 'g1'"
        ).fetchone() == ("hi Ann", 1, 1)
        assert conn.execute("SELECT last_msg_preview FROM groups WHERE id = 'g2'").fetchone() == (
            "again",
        )
        # AND the foreign keys still point at it (deleting a group cascades)
        conn.execute("DELETE FROM groups WHERE id = 'g2'")
        assert conn.execute(
            "SELECT count(*) FROM participants WHERE group_id = 'g2'"
        ).fetchone() == (0,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_v10_keeps_the_audit_log_and_adds_roles_and_the_runner_lease(db_path: Path) -> None:
    # GIVEN a version-9 file with audited actions
    with sqlite3.connect(db_path) as conn:
        schema_at(conn, 9)
        conn.execute(
            "INSERT INTO audit_log(at, os_user, action, group_id, cost) "
            "VALUES (5, 'ann', 'send.template', 'g1', '0.25')"
        )
    # WHEN the store opens it
    store = await Store.open(db_path)
    try:
        (old,) = await store.audit.entries()
        # THEN the entry is kept, with no role (single-user mode), and new ones carry one
        assert (old.os_user, old.action, old.cost, old.role) == (
            "ann",
            "send.template",
            Decimal("0.25"),
            None,
        )
        await store.audit.append("bo", "send.text", group_id="g1", role="agent")
        newest = (await store.audit.entries())[0]
        assert (newest.os_user, newest.role) == ("bo", "agent")
        assert await store.audit.cost_since("ann", 0) == Decimal("0.25")
        # AND the runner lease goes to one process at a time until it expires
        assert await store.leases.acquire("automations", pid=1, holder="a", ttl=30, now=100) is None
        assert await store.leases.acquire("automations", pid=2, holder="b", ttl=30, now=110) == 1
        assert await store.leases.acquire("automations", pid=1, holder="a", ttl=30, now=120) is None
        assert await store.leases.holder("automations", now=149) == 1
        assert await store.leases.acquire("automations", pid=2, holder="b", ttl=30, now=151) is None
        await store.leases.release("automations", pid=1)  # not the holder: no effect
        assert await store.leases.holder("automations", now=152) == 2
        await store.leases.release("automations", pid=2)
        assert await store.leases.holder("automations", now=152) is None
    finally:
        await store.close()
