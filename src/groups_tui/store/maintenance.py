"""Online backup and integrity check of the database file.

A backup is the engine's (:meth:`Database.backup`; SQLite's online backup API in ONE step
from the reader's connection: that step reads one snapshot while WAL lets the writer, and
another process such as ``groups-tui listen``, keep committing, unblocked), so the copy is
the database as of one commit, never half of a transaction. It is written beside the
destination, checked here, and only then renamed into place: a failed backup leaves no
file that looks like a backup.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from groups_tui.store.records import BackupResult, DatabaseCheck
from groups_tui.store.repository import Repository

__all__ = ["Maintenance", "check_connection"]

_FTS_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")


def check_connection(conn: sqlite3.Connection, path: str) -> DatabaseCheck:
    """Check the database behind `conn`: integrity, foreign keys, rows per table.

    Args:
        conn: Any connection to the database (read-only is enough).
        path: The file's path, for the record.

    Returns:
        The check; a file that is not a database gives ``ok=False`` with the reason.
    """
    try:
        problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if problems == ["ok"]:
            problems = []
        problems += [
            f"foreign key: {r[0]} row {r[1]} refers to a missing {r[2]}"
            for r in conn.execute("PRAGMA foreign_key_check").fetchall()
        ]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).fetchall()
        ]
        virtual = {
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
            ).fetchall()
        }
        shadows = {v + s for v in virtual for s in _FTS_SHADOWS}
        counts = {
            name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            for name in tables
            if name not in shadows and name not in virtual
        }
    except sqlite3.DatabaseError as exc:
        return DatabaseCheck(path, False, (f"{type(exc).__name__}: {exc}",), 0, {})
    return DatabaseCheck(path, not problems, tuple(problems), version, counts)


class Maintenance(Repository):
    """Backup and integrity check of the database file."""

    async def backup(self, dest: Path) -> BackupResult:
        """Copy the database to `dest` (replacing it) as of one commit, and check the copy.

        Args:
            dest: The file to write; its directory must exist.

        Returns:
            The backup; when the copy fails its check (``check.ok`` false) `dest` is
            left untouched.
        """

        def check(conn: sqlite3.Connection) -> tuple[int, int, DatabaseCheck]:
            pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
            page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
            return pages, pages * page_size, check_connection(conn, str(dest))

        pages, size, checked = await self.db.backup(dest, check, lambda r: r[2].ok)
        return BackupResult(str(dest), size if checked.ok else 0, pages, checked)

    async def check(self) -> DatabaseCheck:
        """Integrity check, foreign key check and rows per table of this database."""
        path = str(self.db.path)
        return await self.db.execute_fn(lambda conn: check_connection(conn, path))
