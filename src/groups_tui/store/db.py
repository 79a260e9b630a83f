"""Connections, pragmas and migrations.

Nothing here runs at import time; :func:`connect` is called by ``Store.open``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiosqlite

from groups_tui.store.schema import LATEST_VERSION, MIGRATIONS

__all__ = [
    "BUSY_TIMEOUT_MS",
    "SchemaTooNewError",
    "connect",
    "migrate",
    "split_statements",
    "user_version",
]

BUSY_TIMEOUT_MS = 5000


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the program."""


def split_statements(script: str) -> Iterator[str]:
    """Split an SQL script into complete statements (trigger bodies stay whole).

    Args:
        script: SQL text with ``;``-terminated statements.

    Yields:
        Each statement, stripped.
    """
    buffer: list[str] = []
    for line in script.splitlines(keepends=True):
        buffer.append(line)
        candidate = "".join(buffer)
        if sqlite3.complete_statement(candidate):
            statement = candidate.strip()
            if statement and statement != ";":
                yield statement
            buffer = []
    rest = "".join(buffer).strip()
    if rest:
        yield rest


def _readonly_uri(path: str | Path) -> str:
    return Path(path).absolute().as_uri() + "?mode=ro"


async def connect(path: str | Path, *, readonly: bool = False) -> aiosqlite.Connection:
    """Open one connection with the project's pragmas.

    Connections run in autocommit mode (``isolation_level=None``); the store opens its own
    ``BEGIN IMMEDIATE`` transactions so that a write never upgrades a read lock midway.

    Args:
        path: Database file (``":memory:"`` is accepted for single-connection use).
        readonly: Open with ``mode=ro`` (for follower processes).

    Returns:
        The open connection.
    """
    if readonly:
        conn = await aiosqlite.connect(_readonly_uri(path), uri=True, isolation_level=None)
    else:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            await conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is the default for derived-state commits; the raw log raises it to
            # FULL around its own commits (see Store.insert_raw_events).
            await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


async def user_version(conn: aiosqlite.Connection) -> int:
    """Return ``PRAGMA user_version``."""
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the schema to :data:`LATEST_VERSION`, one transaction per step.

    Each step re-reads the version after taking the write lock, so two processes opening
    the same new file at once apply every step exactly once.

    Args:
        conn: A writable connection in autocommit mode.

    Returns:
        The resulting schema version.

    Raises:
        SchemaTooNewError: The file's version is newer than this program knows.
    """
    version = await user_version(conn)
    if version > LATEST_VERSION:
        raise SchemaTooNewError(
            f"database schema version {version} is newer than supported ({LATEST_VERSION})"
        )
    if version == LATEST_VERSION:
        return version
    # A step may rebuild a table (SQLite's 12-step procedure): with foreign keys on,
    # dropping the old table would cascade into every table that references it. They
    # can only be switched outside a transaction; each step checks them before it commits.
    await conn.execute("PRAGMA foreign_keys = OFF")
    try:
        while version < LATEST_VERSION:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                version = await user_version(conn)
                if version < LATEST_VERSION:
                    for statement in split_statements(MIGRATIONS[version]):
                        await conn.execute(statement)
                    async with conn.execute("PRAGMA foreign_key_check") as cur:
                        broken = await cur.fetchone()
                    if broken is not None:
                        raise sqlite3.IntegrityError(
                            f"migration {version + 1} broke a foreign key: {tuple(broken)}"
                        )
                    version += 1
                    await conn.execute(f"PRAGMA user_version = {version}")
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
    finally:
        await conn.execute("PRAGMA foreign_keys = ON")
    return version
