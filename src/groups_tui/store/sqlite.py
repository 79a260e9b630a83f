"""The SQLite engine of the :class:`~groups_tui.store.database.Database` seam.

Threads and connections (the shape of datasette's ``Database``): ONE writer thread owns
the only writable connection and runs every write function it is given, in submission
order, each in one ``BEGIN IMMEDIATE`` transaction; ONE reader thread owns a read-only
(``query_only``) connection for every read. Nothing runs SQL on the event loop's thread,
and nothing outside this module sees a thread or a connection. WAL lets the reader read
while the writer writes; another process (a follower TUI) opens its own database on the
same file, read-only if it likes (:meth:`SQLiteDatabase.open` with ``readonly=True``).

An in-memory database (``":memory:"``) has a single connection: the writer thread runs
its reads too, between writes.

Durability: the writer runs with ``synchronous=NORMAL``; a durable write raises it to
``FULL`` around its own commit. In WAL mode a FULL commit fsyncs the log up to and
including that commit, so an acknowledged raw event survives power loss, while other
commits skip the fsync (derived state can always be rebuilt from the raw log).

Migrations run on the writer thread when the database is opened (:func:`migrate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from groups_tui.store.database import Database, SchemaTooNewError, StoreClosedError
from groups_tui.store.schema import LATEST_VERSION, MIGRATIONS

__all__ = [
    "BUSY_TIMEOUT_MS",
    "SQLiteDatabase",
    "migrate",
    "split_statements",
    "user_version",
]

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
"""How long a connection waits for a lock another process holds, on its own thread."""


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


def user_version(conn: sqlite3.Connection) -> int:
    """Return ``PRAGMA user_version``."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`LATEST_VERSION`, one transaction per step.

    Each step re-reads the version after taking the write lock, so two processes opening
    the same new file at once apply every step exactly once.

    Args:
        conn: A writable connection in autocommit mode (``isolation_level=None``).

    Returns:
        The resulting schema version.

    Raises:
        SchemaTooNewError: The file's version is newer than this program knows.
    """
    version = user_version(conn)
    if version > LATEST_VERSION:
        raise SchemaTooNewError(
            f"database schema version {version} is newer than supported ({LATEST_VERSION})"
        )
    if version == LATEST_VERSION:
        return version
    # A step may rebuild a table (SQLite's 12-step procedure): with foreign keys on,
    # dropping the old table would cascade into every table that references it. They
    # can only be switched outside a transaction; each step checks them before it commits.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        while version < LATEST_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = user_version(conn)
                if version < LATEST_VERSION:
                    for statement in split_statements(MIGRATIONS[version]):
                        conn.execute(statement)
                    broken = conn.execute("PRAGMA foreign_key_check").fetchone()
                    if broken is not None:
                        raise sqlite3.IntegrityError(
                            f"migration {version + 1} broke a foreign key: {tuple(broken)}"
                        )
                    version += 1
                    conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return version


def _connect(path: str | Path, *, role: str) -> sqlite3.Connection:
    """Open one connection with the project's pragmas (on the thread that will own it).

    Connections run in autocommit mode (``isolation_level=None``): the writer opens its
    own ``BEGIN IMMEDIATE`` transactions, so that a write never upgrades a read lock
    midway.

    Args:
        path: Database file, or ``":memory:"``.
        role: ``writer``, ``reader`` (``query_only``) or ``readonly`` (``mode=ro``).
    """
    if role == "readonly":
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if role == "writer":
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        elif role == "reader":
            conn.execute("PRAGMA query_only = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _resolve(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _ConnectionThread:
    """One thread owning one connection, running submitted functions in FIFO order.

    The results come back to the submitting loop with ``call_soon_threadsafe``.
    """

    def __init__(self, name: str, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]] | None
        ] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._stopped = False

    @property
    def ident(self) -> int | None:
        """The thread's identifier (``None`` before it starts)."""
        return self._thread.ident

    async def start(self) -> None:
        """Start the thread and open its connection there (raises what opening raised)."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put((lambda _: None, ready))
        self._thread.start()
        await ready

    def _main(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # reported to every waiter; the thread ends
            self._drain(exc)
            return
        try:
            while (job := self._jobs.get()) is not None:
                fn, future = job
                try:
                    result = fn(conn)
                except BaseException as exc:
                    self._reply(future, None, exc)
                else:
                    self._reply(future, result, None)
        finally:
            conn.close()
            self._drain(StoreClosedError("the database is closed"))

    def _drain(self, error: BaseException) -> None:
        self._stopped = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self._reply(job[1], None, error)

    @staticmethod
    def _reply(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        try:
            future.get_loop().call_soon_threadsafe(_resolve, future, result, error)
        except RuntimeError:  # the submitting loop is closed: nobody is waiting
            pass

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue ``fn``; the returned future resolves with its result on this loop."""
        if self._stopped:
            raise StoreClosedError("the database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((fn, future))
        return future

    async def stop(self) -> None:
        """Run what was submitted, close the connection and end the thread."""
        if not self._thread.is_alive():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put((lambda _: None, done))
        self._jobs.put(None)
        try:
            await done
        except StoreClosedError:
            pass
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)


def _in_transaction(
    conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], durable: bool
) -> T:
    """Run ``fn`` in ONE ``BEGIN IMMEDIATE`` transaction (on the writer's thread)."""
    if durable:
        conn.execute("PRAGMA synchronous = FULL")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # some errors end the transaction themselves
                conn.execute("ROLLBACK")
            raise
    finally:
        if durable:
            conn.execute("PRAGMA synchronous = NORMAL")
    return result


def _backup_file(
    source: sqlite3.Connection,
    dest: Path,
    check: Callable[[sqlite3.Connection], T],
    accept: Callable[[T], bool],
) -> T:
    """Copy `source` to `dest` in ONE backup step (one snapshot), check, then rename."""
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(str(partial), isolation_level=None)
        try:
            source.backup(target)  # pages=-1: every page in one step, from one snapshot
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            result = check(target)
        finally:
            target.close()
        if accept(result):
            os.replace(partial, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return result


class SQLiteDatabase(Database):
    """A SQLite file (or ``":memory:"``) behind one writer thread and one reader thread.

    Create with :meth:`open`.
    """

    def __init__(
        self,
        path: str | Path,
        writer: _ConnectionThread | None,
        reader: _ConnectionThread,
    ) -> None:
        self._path = path
        self._writer = writer
        self._reader = reader
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, *, readonly: bool = False) -> SQLiteDatabase:
        """Open (creating and migrating unless ``readonly``) the database at ``path``.

        Args:
            path: Database file; ``":memory:"`` gives a private single-connection database.
            readonly: Open an existing, migrated file with ``mode=ro`` (follower processes);
                every write then raises :class:`StoreClosedError`.

        Returns:
            The open database.

        Raises:
            SchemaTooNewError: The file was written by a newer version of the program.
        """
        if readonly:
            reader = _ConnectionThread(
                "groups-tui-db-reader", lambda: _connect(path, role="readonly")
            )
            await reader.start()
            return cls(path, None, reader)
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = _ConnectionThread("groups-tui-db-writer", lambda: _connect(path, role="writer"))
        await writer.start()
        try:
            await writer.submit(migrate)
            if in_memory:
                return cls(path, writer, writer)
            reader = _ConnectionThread(
                "groups-tui-db-reader", lambda: _connect(path, role="reader")
            )
            await reader.start()
        except BaseException:
            await writer.stop()
            raise
        return cls(path, writer, reader)

    @property
    def path(self) -> str | Path:
        return self._path

    @property
    def readonly(self) -> bool:
        return self._writer is None

    @property
    def writer_thread_id(self) -> int | None:
        """The identifier of the thread that runs every write (``None`` when read-only)."""
        return None if self._writer is None else self._writer.ident

    async def execute_fn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreClosedError("the database is closed")
        return await self._reader.submit(fn)

    async def execute_write_fn(
        self, fn: Callable[[sqlite3.Connection], T], *, durable: bool = False
    ) -> T:
        if self._closed or self._writer is None:
            raise StoreClosedError("the database is closed or read-only")
        return await self._writer.submit(lambda conn: _in_transaction(conn, fn, durable))

    async def iterate(
        self, sql: str, params: Sequence[Any] = (), *, batch: int = 1000
    ) -> AsyncIterator[list[Any]]:
        # The cursor lives on the reader thread between the hops (one thread, in order),
        # and is closed there whether or not the caller reads to the end.
        cursor = await self.execute_fn(lambda conn: conn.execute(sql, params))
        try:
            while rows := await self.execute_fn(lambda _: cursor.fetchmany(batch)):
                yield rows
        finally:
            if not self._closed:
                await self.execute_fn(lambda _: cursor.close())

    async def backup(
        self,
        dest: Path,
        check: Callable[[sqlite3.Connection], T],
        accept: Callable[[T], bool],
    ) -> T:
        if self._closed:
            raise StoreClosedError("the database is closed")
        # On the reader's thread: WAL lets the writer (and other processes) commit while
        # the step reads its snapshot.
        return await self._reader.submit(lambda conn: _backup_file(conn, dest, check, accept))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reader is not self._writer:
            await self._reader.stop()
        if self._writer is not None:
            await self._writer.stop()
