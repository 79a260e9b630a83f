"""The database seam: every read and write of the store goes through a :class:`Database`.

A :class:`Database` owns the connections, the one writer, the transaction helper and the
migrations. Repositories (``raw_log``, ``groups``, ``messages``...) never hold a
connection: they hand it functions of one.

* :meth:`Database.execute_fn` runs ``fn(conn)`` on a reader connection and returns what
  it returns (no transaction is opened for it: each statement reads a consistent
  snapshot, and a function that needs one over several statements opens ``BEGIN`` itself).
* :meth:`Database.execute_write_fn` runs ``fn(conn)`` on the single writer, inside ONE
  ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back if ``fn`` raises). Writes run one at a
  time, in the order they were submitted, off the event loop's thread; ``durable=True``
  commits with ``synchronous=FULL`` (the raw webhook log).

Functions passed in run on a thread of the database's own: they must not touch the
event loop, and they must be finished with the connection when they return (no cursor
kept for later). The SQLite engine is :class:`groups_tui.store.sqlite.SQLiteDatabase`;
``docs/storage.md`` describes how a PostgreSQL engine would implement the same seam.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["Connection", "Database", "SchemaTooNewError", "StoreClosedError"]

T = TypeVar("T")

Connection = sqlite3.Connection
"""What the functions given to a :class:`Database` receive (a DB-API 2.0 connection).

Repositories use only ``execute``/``executemany`` and the cursor's ``fetchone``,
``fetchall``, ``fetchmany``, ``rowcount`` and ``lastrowid``, which psycopg's connection
offers too; the SQL text is where the engines differ (see ``docs/storage.md``).
"""


class StoreClosedError(RuntimeError):
    """The store was used after it was closed, or written through a read-only open."""


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the program."""


class Database(ABC):
    """One database: its connections, its single writer and its migrations.

    Create an engine's instance with that engine's ``open``; nothing connects at import
    time.
    """

    @property
    @abstractmethod
    def path(self) -> str | Path:
        """Where the database lives (a file path, or ``":memory:"``)."""

    @property
    @abstractmethod
    def readonly(self) -> bool:
        """True for a read-only open (a follower of another process's writes)."""

    @abstractmethod
    async def execute_fn(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader connection and return its result.

        Args:
            fn: Reads through the connection; must not write, nor keep a cursor.

        Returns:
            What ``fn`` returned.

        Raises:
            StoreClosedError: The database is closed.
        """

    @abstractmethod
    async def execute_write_fn(self, fn: Callable[[Connection], T], *, durable: bool = False) -> T:
        """Run ``fn(conn)`` on the writer inside ONE transaction, after earlier writes.

        The transaction is committed when ``fn`` returns and rolled back if it raises (the
        exception is then raised here). Once submitted, a write runs to its end even if
        the awaiting task is cancelled.

        Args:
            fn: Reads and writes through the connection.
            durable: Commit so that the transaction survives a power loss (SQLite:
                ``synchronous=FULL`` for this commit; the default, ``NORMAL``, survives a
                crash of the process but may lose the latest commits on power loss).

        Returns:
            What ``fn`` returned.

        Raises:
            StoreClosedError: The database is closed or read-only.
        """

    @abstractmethod
    def iterate(
        self, sql: str, params: Sequence[Any] = (), *, batch: int = 1000
    ) -> AsyncIterator[list[Any]]:
        """Stream the rows of one query in lists of at most ``batch`` rows.

        Only ``batch`` rows are held at a time; the query reads one snapshot.
        """

    @abstractmethod
    async def backup(
        self, dest: Path, check: Callable[[Connection], T], accept: Callable[[T], bool]
    ) -> T:
        """Copy the database to `dest` as of one commit, while writers go on.

        The copy is made beside `dest`, ``check(conn)`` runs on it, and it replaces `dest`
        only when ``accept(result)``; otherwise it is removed. SQLite: the online backup
        API in one step from the reader's snapshot, the copy a single file (rollback
        journal); PostgreSQL would run ``pg_dump`` of one snapshot.

        Args:
            dest: The file to write.
            check: Reads the copy (integrity, counts).
            accept: Whether the check's result lets the copy replace `dest`.

        Returns:
            What `check` returned.
        """

    @abstractmethod
    async def close(self) -> None:
        """Finish the submitted work and close every connection (idempotent)."""

    # ------------------------------------------------------------------ conveniences

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a query, or ``None``."""
        return await self.execute_fn(lambda conn: conn.execute(sql, params).fetchone())

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of a query."""
        return await self.execute_fn(lambda conn: conn.execute(sql, params).fetchall())

    async def execute_write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own write transaction; returns the rows it changed."""
        return await self.execute_write_fn(lambda conn: conn.execute(sql, params).rowcount)
