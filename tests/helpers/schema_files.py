"""Database files as an earlier release left them, for the migration tests."""

from __future__ import annotations

import sqlite3

from groups_tui.store.schema import MIGRATIONS
from groups_tui.store.sqlite import split_statements


def schema_at(conn: sqlite3.Connection, version: int) -> None:
    """Create the schema of ``version`` (its first ``version`` steps) in an empty file."""
    for script in MIGRATIONS[:version]:
        for statement in split_statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
