"""Schema v12 keeps the raw log's bodies apart from the rows a replay rewrites.

A version-11 file holding a raw log (applied, unapplied, failed and other numbers' rows)
is opened by this version: every row keeps its id, key, body byte for byte, times and
bookkeeping, in the same order; AUTOINCREMENT goes on after the highest id; ``events
list``/``show``/``replay`` read the moved bodies; ``db check`` and ``db backup`` pass.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from groups_tui.cli.db import db as db_group
from groups_tui.listener.commands import events_group
from groups_tui.store import RawEventIn, Store
from tests.helpers.schema_files import schema_at
from tests.helpers.webhooks import consistent_fixture_names, fixture_bytes

_ROW = "id, dedupe_key, received_at, applied_at, parse_state, error, phone_number_id, other_number"


def _v11_file_with_raw_log(path: Path) -> list[tuple[object, ...]]:
    """A version-11 file whose raw log holds every fixture (none applied yet, one row
    failed, one other number's), ids with a gap; its rows as ``(*_ROW, body)``."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        schema_at(conn, 11)
        names = consistent_fixture_names()
        conn.executemany(
            "INSERT INTO raw_events(id, dedupe_key, body, received_at, phone_number_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (3 * n + 1, f"key-{n:03d}-{name}", fixture_bytes(name), 10.0 + n, "106540352242922")
                for n, name in enumerate(names)
            ],
        )
        conn.execute(
            "INSERT INTO raw_events(id, dedupe_key, body, received_at, applied_at, parse_state, "
            "error) VALUES (1000, 'not-json', X'00ff7b', 99.0, 100.0, 'error', 'parse: bad')"
        )
        conn.execute(
            "INSERT INTO raw_events(id, dedupe_key, body, received_at, applied_at, parse_state, "
            "other_number) VALUES (1001, 'other', X'7b7d', 99.5, 100.5, 'ok', 1)"
        )
        conn.execute(
            "INSERT INTO event_failures(raw_id, idx, kind, reason, failed_at) "
            "VALUES (1000, -1, 'body', 'parse: bad', 100.0)"
        )
        return conn.execute(f"SELECT {_ROW}, body FROM raw_events ORDER BY id").fetchall()


def _rows_now(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            f"SELECT {', '.join('r.' + c.strip() for c in _ROW.split(','))}, b.body "
            "FROM raw_events r JOIN raw_bodies b ON b.id = r.id ORDER BY r.id"
        ).fetchall()


def _run(group: object, args: list[str]) -> str:
    result = CliRunner().invoke(group, args, catch_exceptions=False)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.output


def test_v12_moves_the_bodies_out_losing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(tmp_path / "absent.toml"))
    path = tmp_path / "groups.db"
    # GIVEN a version-11 file with a raw log
    before = _v11_file_with_raw_log(path)
    # WHEN this version opens it
    store = asyncio.run(Store.open(path))
    asyncio.run(store.close())
    # THEN every row is as it was, body included, in the same order
    assert _rows_now(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (12,)
        # AND the rows a replay rewrites no longer hold the bodies
        columns = {r[1] for r in conn.execute("PRAGMA table_info(raw_events)")}
        assert "body" not in columns
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        indexes = {r[1] for r in conn.execute("PRAGMA index_list(raw_events)")}
        assert {"raw_events_unapplied", "raw_events_other_number"} <= indexes
    # AND the events commands read the moved bodies
    db = ["--db", str(path)]
    listed = json.loads(_run(events_group, ["list", "--json", "--limit", "1000", *db]))
    assert [item["id"] for item in listed] == [row[0] for row in before]
    first = before[0]
    shown = json.loads(_run(events_group, ["show", str(first[0]), "--json", *db]))
    assert shown["body"] == json.loads(bytes(first[-1]))  # type: ignore[arg-type]
    # AND a replay applies the log (twice: the same state)
    replay = json.loads(_run(events_group, ["replay", "--json", *db]))
    assert replay["replayed"] == len(before) and replay["unapplied_before"] == len(before) - 2
    again = json.loads(_run(events_group, ["replay", "--json", *db]))
    assert again["identical"] is True and again["errors"] == 1
    # AND a body logged now comes after the highest id, as before the upgrade
    store = asyncio.run(Store.open(path))
    try:
        [result] = asyncio.run(store.raw.insert([RawEventIn(b'{"n": 1}', "new", 200.0)]))
    finally:
        asyncio.run(store.close())
    assert (result.raw_id, result.duplicate) == (1002, False)
    assert _rows_now(path)[-1][-1] == b'{"n": 1}'
    # AND the database checks and backs up cleanly, a body for every raw row
    check = json.loads(_run(db_group, ["check", "--json", *db]))
    assert check["ok"] is True
    assert check["counts"]["raw_bodies"] == check["counts"]["raw_events"] == len(before) + 1
    copy = tmp_path / "copy.db"
    backup = json.loads(_run(db_group, ["backup", str(copy), "--json", *db]))
    assert backup["check"]["ok"] is True
    assert _rows_now(copy) == _rows_now(path)
