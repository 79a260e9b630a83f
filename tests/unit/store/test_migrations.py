"""Opening, pragmas and migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from groups_tui.store import Store, StoreClosedError
from groups_tui.store.db import SchemaTooNewError, migrate, split_statements
from groups_tui.store.schema import LATEST_VERSION, MIGRATIONS

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
}


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
    await store.set_meta("k", "v")
    await store.close()
    store = await Store.open(db_path)
    try:
        assert await store.get_meta("k") == "v"
    finally:
        await store.close()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION


async def test_connection_pragmas(store: Store) -> None:
    conn = store._writer
    assert conn is not None
    async with conn.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1
    async with conn.execute("PRAGMA busy_timeout") as cur:
        assert (await cur.fetchone())[0] > 0
    async with conn.execute("PRAGMA synchronous") as cur:
        assert (await cur.fetchone())[0] == 1  # NORMAL between raw-log commits


async def test_migrate_twice_is_a_no_op(db_path: Path) -> None:
    async with aiosqlite.connect(db_path, isolation_level=None) as conn:
        assert await migrate(conn) == LATEST_VERSION
        assert await migrate(conn) == LATEST_VERSION


async def test_newer_schema_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(SchemaTooNewError):
        await Store.open(db_path)


async def test_readonly_follower_reads_but_cannot_write(db_path: Path) -> None:
    writer = await Store.open(db_path)
    await writer.set_meta("k", "v")
    follower = await Store.open_readonly(db_path)
    try:
        assert await follower.get_meta("k") == "v"
        with pytest.raises(StoreClosedError):
            await follower.set_meta("k", "w")
    finally:
        await follower.close()
        await writer.close()


async def test_closed_store_refuses_use(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    await store.close()
    with pytest.raises(StoreClosedError):
        await store.get_meta("k")


async def test_in_memory_store_works(tmp_path: Path) -> None:
    store = await Store.open(":memory:")
    try:
        await store.set_meta("k", "v")
        assert await store.get_meta("k") == "v"
        assert len(await store.state_digest()) == 64
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
        for script in MIGRATIONS[:5]:
            for statement in split_statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 5")
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
        rows = {r.group_id: r for r in await store.inbox_row_list()}
    finally:
        await store.close()
    # THEN the existing rows say whose message is newest
    assert (rows["g-ours"].last_outbound, rows["g-ours"].last_text) == (True, "hi Ann")
    assert (rows["g-theirs"].last_outbound, rows["g-theirs"].last_sender) == (False, "Bo")
    assert rows["g-empty"].last_outbound is False
