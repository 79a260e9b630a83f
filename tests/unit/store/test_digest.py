"""The state digest: every value counts, whatever its type (text, numbers, a stray BLOB)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from groups_tui.store import Store
from groups_tui.store.digest import DIGEST_QUERIES, feed_digest

from .conftest import G1, created, inbound


def _digest(db_path: Path) -> str:
    hasher = hashlib.sha256()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        feed_digest(conn, hasher)
    finally:
        conn.close()
    return hasher.hexdigest()


async def test_the_digest_changes_with_any_value_of_any_type(tmp_path: Path) -> None:
    # GIVEN a state with a message in non-ASCII text
    db_path = tmp_path / "store.db"
    store = await Store.open(db_path)
    try:
        await store.raw.apply_batch(
            [(None, [created(at=1)]), (None, [inbound("wamid.1", 10, text="café 🙂")])]
        )
    finally:
        await store.close()
    first = _digest(db_path)
    assert _digest(db_path) == first
    edits = [
        "UPDATE messages SET text = 'cafe 🙂'",
        "UPDATE messages SET at = 11",
        "UPDATE groups SET unread = 0",
        "UPDATE groups SET subject = 'Ünïcode'",
        # A BLOB where text belongs (JSON has no BLOBs: hashed as its hex text)
        "UPDATE messages SET text = CAST('cafe 🙂' AS BLOB)",
        "UPDATE messages SET text = x'00ff'",
    ]
    seen = {first}
    with sqlite3.connect(db_path, isolation_level=None) as conn:
        for edit in edits:
            # WHEN one value changes THEN so does the digest
            conn.execute(edit)
            digest = _digest(db_path)
            assert digest not in seen, edit
            seen.add(digest)
        assert conn.execute("SELECT count(*) FROM groups WHERE id = ?", (G1,)).fetchone() == (1,)


async def test_the_failures_digest_reads_the_failures_not_every_raw_event(tmp_path: Path) -> None:
    # GIVEN a migrated database
    db_path = tmp_path / "store.db"
    store = await Store.open(db_path)
    await store.close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        # WHEN SQLite plans the event failures' digest query
        sql = dict(DIGEST_QUERIES)["event_failures"]
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    finally:
        conn.close()
    # THEN it walks the failures and looks each raw event up, not the whole raw log
    assert plan[0].startswith("SCAN f"), plan
    assert any("SEARCH r USING INTEGER PRIMARY KEY" in step for step in plan), plan
