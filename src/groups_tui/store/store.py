"""The :class:`Store` façade over the SQLite database.

Connections: one writer (all writes are serialised by an :class:`asyncio.Lock` and run as
explicit ``BEGIN IMMEDIATE`` transactions) and one reader, so that UI queries never queue
behind a write in the writer's thread; WAL lets both run at once. A follower process
opens its own Store (or :meth:`Store.open_readonly`) on the same file.

Durability: the writer runs with ``synchronous=NORMAL``; :meth:`Store.insert_raw_events`
raises it to ``FULL`` for its own commit. In WAL mode a FULL commit fsyncs the log up to
and including that commit, so an acknowledged raw event survives power loss, while
derived-state commits skip the fsync (they can always be rebuilt from the raw log, and
``applied_at`` is written in the same transaction as the state it produced).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from groups_tui.domain.events import DomainEvent
from groups_tui.domain.models import (
    DeliveryState,
    DeliverySummary,
    Group,
    JoinApproval,
    JoinRequest,
    Media,
    Message,
    MessageKind,
    Participant,
    RecipientStatus,
    Template,
    TemplateCategory,
)
from groups_tui.store import apply as apply_mod
from groups_tui.store import digest as digest_mod
from groups_tui.store.codec import (
    ACTIVITY,
    GROUP_COLUMNS,
    GROUP_FROM,
    MESSAGE_COLUMNS,
    PARTICIPANT_COLUMNS,
    dec_or_none,
    dumps,
    enum_or,
    group_from_row,
    join_request_from_row,
    loads,
    media_to_json,
    message_from_row,
    participant_from_row,
)
from groups_tui.store.db import connect, migrate
from groups_tui.store.fts import DEFAULT_MARKS, Span, fts_query, marks_absent_from, split_snippet
from groups_tui.store.records import (
    AuditEntry,
    Change,
    Contact,
    CostFn,
    CostLine,
    EventFailure,
    GroupAnnotations,
    HistoryEntry,
    InboxRow,
    MarketFn,
    MemberSignals,
    MessageCursor,
    MessagePage,
    OutboxItem,
    PendingOperation,
    RawEvent,
    RawEventIn,
    RawInsertResult,
    RawStats,
    SearchHit,
    SpendSummary,
    StoredFlag,
)

__all__ = ["Store", "StoreClosedError"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

_SNIPPET_TOKENS = 12  # words of context FTS5's snippet() shows around the matches
_IN_CHUNK = 500  # bound on "IN (?, ?, ...)" lists; far below SQLite's variable limit

_SERVICE_CATEGORIES = ("group_service", "service")


_EARLY_OUTCOME_KEPT = 86_400
"""Seconds an overtaking webhook's outcome waits for its operation to be recorded."""


class StoreClosedError(RuntimeError):
    """The store was used after :meth:`Store.close`."""


class _WriteLockBusyError(Exception):
    """Another connection holds the write lock (retry where waiting is allowed)."""


def _chunks(items: Sequence[T], size: int = _IN_CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _failure_summary(failures: Sequence[EventFailure], total: int) -> str:
    """The ``raw_events.error`` text of a row with failed events."""
    first = failures[0]
    if first.index < 0:
        return first.reason
    return (
        f"{len(failures)} of {total} events not applied; "
        f"event {first.index} ({first.kind}): {first.reason}"
    )


def _insert_raw_sync(
    db: sqlite3.Connection, items: Sequence[RawEventIn], applied_at: float | None = None
) -> list[RawInsertResult]:
    """Insert the bodies not logged before; one result per item (inside a transaction).

    With ``applied_at``, new rows are written already marked applied (``ok``): the caller
    applies them in the same transaction and corrects the rows that are not.
    """
    keys = list(dict.fromkeys(item.dedupe_key for item in items))
    existing: dict[str, int] = {}
    for chunk in _chunks(keys):
        sql = f"SELECT dedupe_key, id FROM raw_events WHERE dedupe_key IN ({_marks(len(chunk))})"
        existing.update({k: i for k, i in db.execute(sql, chunk).fetchall()})
    fresh: dict[str, RawEventIn] = {}
    for item in items:
        if item.dedupe_key not in existing and item.dedupe_key not in fresh:
            fresh[item.dedupe_key] = item
    if applied_at is None:
        sql = "INSERT INTO raw_events(dedupe_key, body, received_at) VALUES (?, ?, ?)"
        tail: tuple[Any, ...] = ()
    else:
        sql = (
            "INSERT INTO raw_events(dedupe_key, body, received_at, applied_at, parse_state) "
            "VALUES (?, ?, ?, ?, 'ok')"
        )
        tail = (applied_at,)
    for item in fresh.values():
        cur = db.execute(sql, (item.dedupe_key, item.body, item.received_at, *tail))
        existing[item.dedupe_key] = cast(int, cur.lastrowid)
    results: list[RawInsertResult] = []
    first_seen: set[str] = set()
    for item in items:
        key = item.dedupe_key
        duplicate = key not in fresh or key in first_seen
        first_seen.add(key)
        results.append(RawInsertResult(raw_id=existing[key], duplicate=duplicate))
    return results


class Store:
    """Async access to the local database. Create with :meth:`open`.

    Args:
        writer: The writable connection (``None`` for a read-only store).
        reader: The connection used for queries.
        path: The database path.
        cost_fn: Prices one ledger line; ``None`` leaves every amount unknown.
        market_fn: Maps a participant's ``wa_id`` to a market name for the ledger.
        clock: Returns the current epoch time (receipt and bookkeeping times only).
    """

    def __init__(
        self,
        writer: aiosqlite.Connection | None,
        reader: aiosqlite.Connection,
        path: str | Path,
        *,
        cost_fn: CostFn | None = None,
        market_fn: MarketFn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._path = path
        self._lock = asyncio.Lock()
        self._clock = clock
        self._cost_fn = cost_fn
        self._market_fn = market_fn
        self._closed = False
        self._inline: sqlite3.Connection | None = None

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        cost_fn: CostFn | None = None,
        market_fn: MarketFn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Store:
        """Open (creating if needed) and migrate the database at ``path``.

        Args:
            path: Database file; ``":memory:"`` gives a private single-connection store.
            cost_fn: See :class:`Store`.
            market_fn: See :class:`Store`.
            clock: See :class:`Store`.

        Returns:
            The open store.
        """
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await connect(path)
        try:
            await migrate(writer)
            reader = writer if in_memory else await connect(path)
        except BaseException:
            await writer.close()
            raise
        return cls(writer, reader, path, cost_fn=cost_fn, market_fn=market_fn, clock=clock)

    @classmethod
    async def open_readonly(cls, path: str | Path) -> Store:
        """Open an existing, migrated database for reading only (follower processes).

        Args:
            path: Database file written by another process.

        Returns:
            A store whose write methods raise :class:`StoreClosedError`.
        """
        reader = await connect(path, readonly=True)
        return cls(None, reader, path)

    async def close(self) -> None:
        """Close the connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            if self._inline is not None:
                self._inline.close()
                self._inline = None
            if self._reader is not self._writer:
                await self._reader.close()
            if self._writer is not None:
                await self._writer.close()

    @property
    def path(self) -> str | Path:
        """The database path."""
        return self._path

    def set_cost_fn(self, cost_fn: CostFn | None, market_fn: MarketFn | None = None) -> None:
        """Replace the pricing hooks used for new ledger lines."""
        self._cost_fn = cost_fn
        self._market_fn = market_fn

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._closed or self._writer is None:
            raise StoreClosedError("store is closed or read-only")
        conn = self._writer
        async with self._lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    async def _tx_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer's own thread inside ONE ``BEGIN IMMEDIATE`` transaction.

        However many statements ``fn`` runs, this costs one hop to the connection's
        thread. ``fn`` must not touch the event loop. Rolled back if ``fn`` raises.
        """
        if self._closed or self._writer is None:
            raise StoreClosedError("store is closed or read-only")
        conn = self._writer
        # aiosqlite runs queued functions on the connection's thread, in queue order.
        run = cast(Callable[..., Awaitable[T]], conn._execute)
        async with self._lock:
            return await run(self._in_tx, conn, fn)

    @staticmethod
    def _in_tx(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = conn._conn  # the sqlite3 connection; this runs on the thread that owns it
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            if db.in_transaction:  # some errors end the transaction themselves
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    @property
    def _r(self) -> aiosqlite.Connection:
        if self._closed:
            raise StoreClosedError("store is closed")
        return self._reader

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._r.execute(sql, params) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._r.execute(sql, params) as cur:
            return list(await cur.fetchall())

    def _applier(self, conn: sqlite3.Connection) -> apply_mod.Applier:
        """A synchronous applier over the writer's connection (use it on its thread)."""
        return apply_mod.Applier(
            conn, cost_fn=self._cost_fn, market_fn=self._market_fn, now=self._clock()
        )

    # ------------------------------------------------------------------ raw log

    async def insert_raw_events(self, items: Sequence[RawEventIn]) -> list[RawInsertResult]:
        """Log webhook bodies in ONE durable transaction (group commit).

        The commit runs with ``synchronous=FULL``; when this returns, every row is on
        disk and the caller may answer 200. A dedupe key seen before (in an earlier call
        or earlier in this batch) yields the existing row id with ``duplicate=True``.

        Args:
            items: Bodies in arrival order.

        Returns:
            One result per item, in the same order.
        """
        results, _ = await self.insert_raw_and_apply(items)
        return results

    async def insert_raw_and_apply(
        self,
        items: Sequence[RawEventIn],
        events_for: Callable[[int], Sequence[DomainEvent]] | None = None,
        *,
        counters: Mapping[str, int] | None = None,
    ) -> tuple[list[RawInsertResult], list[tuple[int, str]]]:
        """Log bodies and apply the fresh ones in ONE durable transaction (group commit).

        The raw rows are inserted, then (when ``events_for`` is given) each freshly
        logged row, duplicates excluded, is applied inside a savepoint, and the whole is
        committed with ``synchronous=FULL``: one fsync per batch, and a body is never
        logged without either its state or a reason. If applying the batch fails, the
        savepoint is rolled back and the rows are applied one by one; a row that still
        fails keeps its body and is marked ``error`` with the reason. When this returns,
        every row is on disk and the caller may answer 200.

        The work runs on the calling thread over a plain sqlite3 connection (no thread
        hop, no GIL hand-over per batch), unless the write lock is held by another
        process: then it waits for the lock on the writer connection's thread instead of
        blocking the event loop. An in-memory store always uses the writer connection.

        Args:
            items: Bodies in arrival order.
            events_for: Index into ``items`` -> its domain events (may raise: the row is
                then marked ``error`` with the parse failure).
            counters: Amounts to add to named counters in the same commit (the listener's
                refused signatures), so they are as durable as the bodies.

        Returns:
            ``(results, failures)``: one result per item, in order, and the
            ``(raw_id, reason)`` of the rows that could not be applied.

        Raises:
            Exception: The commit failed; nothing was committed.
        """
        if not items and not counters:
            return [], []
        if self._closed or self._writer is None:
            raise StoreClosedError("store is closed or read-only")
        batch = list(items)
        bumps = dict(counters or {})
        async with self._lock:
            inline = self._inline_writer()
            if inline is not None:
                try:
                    return self._log_and_apply(inline, batch, events_for, bumps)
                except _WriteLockBusyError:
                    pass
            conn = self._writer
            run_in_thread = cast(Callable[..., Awaitable[Any]], conn._execute)
            out = await run_in_thread(
                self._log_and_apply, conn._conn, batch, events_for, bumps, True
            )
        return cast(tuple[list[RawInsertResult], list[tuple[int, str]]], out)

    def _inline_writer(self) -> sqlite3.Connection | None:
        """The plain connection used on the event loop's thread (opened on first use)."""
        if self._inline is None and str(self._path) != ":memory:":
            db = sqlite3.connect(str(self._path), isolation_level=None, check_same_thread=False)
            # No waiting here: a lock held by another process is waited for off the loop.
            db.execute("PRAGMA busy_timeout = 0")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = NORMAL")
            self._inline = db
        return self._inline

    def _log_and_apply(
        self,
        db: sqlite3.Connection,
        batch: Sequence[RawEventIn],
        events_for: Callable[[int], Sequence[DomainEvent]] | None,
        counters: Mapping[str, int],
        may_wait: bool = False,
    ) -> tuple[list[RawInsertResult], list[tuple[int, str]]]:
        db.execute("PRAGMA synchronous = FULL")
        try:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not may_wait and "locked" in str(exc):
                    raise _WriteLockBusyError from exc
                raise
            try:
                # Rows applied in this same transaction are written as applied: no
                # second write of each row, no entry in the unapplied index.
                results = _insert_raw_sync(db, batch, self._clock() if events_for else None)
                failures = []
                if events_for is not None:
                    fresh = [
                        (r.raw_id, partial(events_for, index))
                        for index, r in enumerate(results)
                        if not r.duplicate
                    ]
                    failures = self._apply_logged_sync(db, fresh, written_applied=True)
                if counters:
                    db.executemany(
                        "INSERT INTO counters(name, value) VALUES (?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                        list(counters.items()),
                    )
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.execute("PRAGMA synchronous = NORMAL")
        return results, failures

    def _apply_logged_sync(
        self,
        db: sqlite3.Connection,
        rows: Sequence[tuple[int, Callable[[], Sequence[DomainEvent]]]],
        *,
        written_applied: bool,
        only: Mapping[int, frozenset[str]] | None = None,
    ) -> list[tuple[int, str]]:
        """Apply logged raw rows inside the caller's transaction, isolating failures.

        The rows are applied together in a savepoint. If that fails it is rolled back and
        the rows are applied again with every event in a savepoint of its own: an event
        that fails is rolled back alone and recorded in ``event_failures`` (its index,
        kind, key and reason), and the other events of its body, and every other body,
        are applied. A row with at least one failure is marked ``error`` with a summary;
        a body that cannot be parsed at all is one failure with index -1. A row with a
        shape this version does not know is marked ``unparsed``; the others are marked
        applied (unless they were ``written_applied`` already).

        Args:
            db: The connection, inside a write transaction.
            rows: ``(raw_id, parse)`` pairs; ``parse()`` gives the row's events (may raise).
            written_applied: The rows were inserted already marked applied (``ok``).
            only: Re-applying earlier failures: per row, the dedupe keys of the events to
                apply (an empty set, or keys none of the events has any more, apply the
                whole body; applying is idempotent). The row's earlier failures are
                replaced by this attempt's.

        Returns:
            The ``(raw_id, reason)`` of the rows with an event that could not be applied.
        """
        now = self._clock()
        failed: list[EventFailure] = []
        todo: list[tuple[int, Sequence[DomainEvent], frozenset[str]]] = []
        for raw_id, parse in rows:
            try:
                events = parse()
            except Exception as exc:
                reason = f"parse: {type(exc).__name__}: {exc}"
                failed.append(EventFailure(raw_id, -1, "body", None, None, None, reason, now))
                continue
            keys = only.get(raw_id, frozenset()) if only is not None else frozenset()
            if keys and not any(apply_mod.event_key(e) in keys for e in events):
                keys = frozenset()
            todo.append((raw_id, events, keys))
        totals = {raw_id: len(events) for raw_id, events, _ in todo}
        unparsed: set[int] = set()

        def attempt(isolate: bool) -> apply_mod.Applier | str:
            db.execute("SAVEPOINT apply_batch")
            try:
                applier = self._applier(db)
                seen = {
                    raw_id
                    for raw_id, events, keys in todo
                    if applier.apply(raw_id, events, mark=False, isolate=isolate, only=keys)
                }
                applier.flush()
            except Exception as exc:
                db.execute("ROLLBACK TO apply_batch")
                db.execute("RELEASE apply_batch")
                return f"apply: {type(exc).__name__}: {exc}"
            db.execute("RELEASE apply_batch")
            unparsed.update(seen)
            return applier

        if todo:
            outcome = attempt(isolate=False)
            if isinstance(outcome, str):
                _log.warning(
                    "batch apply failed (%s); applying its %d raw events event by event",
                    outcome,
                    len(todo),
                )
                outcome = attempt(isolate=True)
            if isinstance(outcome, str):
                # Not one event's fault (the savepoints themselves failed): every row
                # keeps its body and the reason.
                failed += [
                    EventFailure(raw_id, -1, "body", None, None, None, outcome, now)
                    for raw_id, _, _ in todo
                ]
            else:
                failed += outcome.failures
        by_row: dict[int, list[EventFailure]] = {}
        for failure in failed:
            by_row.setdefault(failure.raw_id, []).append(failure)
        if not written_applied:
            # A row applied again (a replay of earlier failures) gets this attempt's.
            ids = [raw_id for raw_id, _ in rows]
            for chunk in _chunks(ids):
                db.execute(
                    f"DELETE FROM event_failures WHERE raw_id IN ({_marks(len(chunk))})", chunk
                )
            applied = [(now, raw_id) for raw_id, _, _ in todo if raw_id not in by_row]
            db.executemany(
                "UPDATE raw_events SET applied_at = ?, parse_state = 'ok', error = NULL "
                "WHERE id = ?",
                applied,
            )
        if unparsed:
            # Kept for re-parsing by a later version (the shape is unknown to this one).
            db.executemany(
                "UPDATE raw_events SET parse_state = 'unparsed' WHERE id = ?",
                [(raw_id,) for raw_id in unparsed if raw_id not in by_row],
            )
        summaries = [
            (raw_id, _failure_summary(items, totals.get(raw_id, 0)))
            for raw_id, items in by_row.items()
        ]
        if summaries:
            db.executemany(
                "UPDATE raw_events SET parse_state = 'error', error = ?, applied_at = ? "
                "WHERE id = ?",
                [(reason[:500], now, raw_id) for raw_id, reason in summaries],
            )
            db.executemany(
                "INSERT OR IGNORE INTO event_failures(raw_id, idx, kind, group_id, event_key, "
                "at, reason, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (f.raw_id, f.index, f.kind, f.group_id, f.event_key, f.at, f.reason[:500], now)
                    for f in failed
                ],
            )
        return summaries

    async def apply_logged(
        self, rows: Sequence[tuple[int, Callable[[], Sequence[DomainEvent]]]]
    ) -> list[tuple[int, str]]:
        """Apply raw rows logged earlier (crash recovery, a replay reset), in ONE hop.

        Failures are isolated and recorded as in :meth:`insert_raw_and_apply`.

        Args:
            rows: ``(raw_id, parse)`` pairs; ``parse()`` gives the row's events (may raise).

        Returns:
            The ``(raw_id, reason)`` of the rows that could not be applied.
        """
        if not rows:
            return []
        items = list(rows)
        return await self._tx_sync(
            lambda db: self._apply_logged_sync(db, items, written_applied=False)
        )

    async def unapplied_raw_events(self, limit: int = 500) -> list[RawEvent]:
        """Raw events not yet applied, oldest first (crash recovery and replay)."""
        rows = await self._all(
            f"SELECT {_RAW_COLUMNS} FROM raw_events WHERE applied_at IS NULL ORDER BY id LIMIT ?",
            (limit,),
        )
        return [_raw_from_row(r) for r in rows]

    async def list_raw_events(self, after_id: int = 0, limit: int = 500) -> list[RawEvent]:
        """Raw events with ``id > after_id`` in id order (keyset paging)."""
        rows = await self._all(
            f"SELECT {_RAW_COLUMNS} FROM raw_events WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [_raw_from_row(r) for r in rows]

    async def get_raw_event(self, raw_id: int) -> RawEvent | None:
        """One raw event by id."""
        row = await self._one(f"SELECT {_RAW_COLUMNS} FROM raw_events WHERE id = ?", (raw_id,))
        return _raw_from_row(row) if row else None

    async def raw_stats(self) -> RawStats:
        """Counts over the raw log, and the events that could not be applied."""
        row = await self._one(
            "SELECT count(*), count(applied_at), "
            "coalesce(sum(parse_state = 'unparsed'), 0), coalesce(sum(parse_state = 'error'), 0), "
            "max(received_at), (SELECT count(*) FROM event_failures) FROM raw_events"
        )
        return RawStats(
            total=row[0],
            applied=row[1],
            unparsed=row[2],
            errors=row[3],
            last_event_at=row[4],
            failed_events=row[5],
        )

    async def event_failures(
        self, after: tuple[int, int] = (0, -2), limit: int = 500
    ) -> list[EventFailure]:
        """Events that could not be applied, by raw row then position (keyset paging).

        Args:
            after: The ``(raw_id, index)`` of the last failure already seen.
            limit: Most failures returned.

        Returns:
            The failures after ``after``.
        """
        rows = await self._all(
            "SELECT raw_id, idx, kind, group_id, event_key, at, reason, failed_at "
            "FROM event_failures WHERE (raw_id, idx) > (?, ?) ORDER BY raw_id, idx LIMIT ?",
            (*after, limit),
        )
        return [EventFailure(*row) for row in rows]

    async def reapply_failed(
        self,
        parse: Callable[[bytes], Sequence[DomainEvent]],
        *,
        batch_size: int = 200,
    ) -> tuple[int, list[tuple[int, str]]]:
        """Apply again the events that failed (after an upgrade fixed their cause).

        Each row with failures is parsed again with ``parse``; only its failed events
        are applied (found by dedupe key; a body that failed as a whole, or whose
        failed events the parser no longer yields under the same key, is applied whole,
        which is harmless because applying is idempotent). Rows whose events now apply
        become ``ok`` (or ``unparsed``); the others keep their failures, updated.

        Args:
            parse: Turns a raw body into domain events (may raise).
            batch_size: Raw rows per transaction.

        Returns:
            The number of rows gone through, and the ``(raw_id, reason)`` of the rows
            that still have failed events.
        """
        done = 0
        still: list[tuple[int, str]] = []
        after = 0
        while True:
            ids = [
                r[0]
                for r in await self._all(
                    "SELECT DISTINCT raw_id FROM event_failures WHERE raw_id > ? "
                    "ORDER BY raw_id LIMIT ?",
                    (after, batch_size),
                )
            ]
            if not ids:
                return done, still
            after = ids[-1]
            marks = _marks(len(ids))
            keys: dict[int, set[str]] = {raw_id: set() for raw_id in ids}
            whole: set[int] = set()
            for raw_id, idx, key in await self._all(
                f"SELECT raw_id, idx, event_key FROM event_failures WHERE raw_id IN ({marks})",
                ids,
            ):
                if idx < 0 or key is None:
                    whole.add(raw_id)
                else:
                    keys[raw_id].add(key)
            only = {
                raw_id: frozenset() if raw_id in whole else frozenset(found)
                for raw_id, found in keys.items()
            }
            bodies = await self._all(
                f"SELECT id, body FROM raw_events WHERE id IN ({marks}) ORDER BY id", ids
            )
            items = [(raw_id, partial(parse, bytes(body))) for raw_id, body in bodies]
            apply = partial(self._apply_logged_sync, rows=items, written_applied=False, only=only)
            still += await self._tx_sync(apply)
            done += len(items)

    async def bump_counter(self, name: str, n: int = 1) -> int:
        """Add ``n`` to a named counter and return the new value."""
        async with self._tx() as conn:
            async with conn.execute(
                "INSERT INTO counters(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value "
                "RETURNING value",
                (name, n),
            ) as cur:
                row = await cur.fetchone()
        return int(row[0]) if row else n

    async def counters(self) -> dict[str, int]:
        """All counters."""
        return {k: v for k, v in await self._all("SELECT name, value FROM counters ORDER BY name")}

    async def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def get_meta(self, key: str, default: str | None = None) -> str | None:
        """Read a metadata value."""
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else default

    # ------------------------------------------------------------------ apply

    async def apply_events(self, raw_id: int | None, events: Sequence[DomainEvent]) -> int:
        """Apply the domain events parsed from one raw event, idempotently.

        Args:
            raw_id: The raw event they came from (marked applied), or ``None``.
            events: Domain events from ``groups_tui.cloud.webhooks.parse_payload``.

        Returns:
            The number of change-feed rows appended.
        """
        return await self.apply_batch([(raw_id, events)])

    async def apply_batch(self, batch: Sequence[tuple[int | None, Sequence[DomainEvent]]]) -> int:
        """Apply several raw events' domain events in ONE transaction.

        The whole batch runs on the writer connection's thread in one hop (the applier is
        synchronous), and is rolled back as a whole if any event fails.

        Args:
            batch: ``(raw_id, events)`` pairs, applied in order.

        Returns:
            The number of change-feed rows appended.
        """
        if not batch:
            return 0
        items = list(batch)

        def run(conn: sqlite3.Connection) -> int:
            applier = self._applier(conn)
            for raw_id, events in items:
                applier.apply(raw_id, events)
            applier.flush()
            return applier.changes

        return await self._tx_sync(run)

    async def reset_derived_state(self) -> None:
        """Forget everything webhooks produced so the raw log can be replayed.

        Keeps the raw log (marked unapplied), outbox and outbound messages, audit log,
        operator annotations and other local tables, and the change feed (a
        ``store.reset`` row tells followers to reload).
        """
        async with self._tx() as conn:
            await digest_mod.reset_derived_state(conn)
            await conn.execute(
                "INSERT INTO change_feed(kind, payload) VALUES ('store.reset', '{}')"
            )

    async def replay_raw_log(
        self,
        parse: Callable[[bytes], Sequence[DomainEvent]],
        *,
        batch_size: int = 500,
    ) -> int:
        """Apply every unapplied raw event in id order using ``parse``.

        Batches go through :meth:`apply_logged`, so a row that cannot be parsed or
        applied is marked ``error`` with its reason and the replay goes on.

        Args:
            parse: Turns a raw body into domain events (may raise).
            batch_size: Raw events per transaction.

        Returns:
            The number of raw events gone through (applied or marked).
        """
        done = 0
        while True:
            pending = await self.unapplied_raw_events(batch_size)
            if not pending:
                return done
            failures = await self.apply_logged(
                [(raw.id, partial(parse, raw.body)) for raw in pending]
            )
            for raw_id, reason in failures:
                _log.warning("replay: raw event %d not applied: %s", raw_id, reason)
            done += len(pending)

    async def state_digest(self) -> str:
        """Canonical SHA-256 of the derived state (ids and receipt times excluded)."""
        hasher = hashlib.sha256()
        if self._reader is self._writer:
            async with self._lock:
                await digest_mod.feed_digest(self._r, hasher)
        else:
            await digest_mod.feed_digest(self._r, hasher)
        return hasher.hexdigest()

    # ------------------------------------------------------------------ groups

    async def create_pending_group(
        self,
        request_id: str,
        subject: str,
        *,
        description: str = "",
        join_approval: JoinApproval = JoinApproval.AUTO_APPROVE,
    ) -> None:
        """Record a create request the API accepted; the webhook completes it.

        Also records the matching ``create`` pending operation, from which a reset
        restores the pending row.
        """
        now = self._clock()
        payload = {
            "subject": subject,
            "description": description,
            "join_approval": str(join_approval),
        }
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO pending_operations(request_id, kind, payload, created_at) "
                "VALUES (?, 'create', ?, ?) ON CONFLICT(request_id) DO NOTHING",
                (request_id, dumps(payload), now),
            )
            await digest_mod.seed_pending_group(conn, request_id, payload)
            await conn.execute(
                "INSERT INTO change_feed(kind, entity, payload) VALUES ('group.pending', ?, ?)",
                (request_id, dumps(payload)),
            )
            # The lifecycle webhook may have overtaken the API's answer: it found no
            # pending operation then, so settle it now from what it left on the group row.
            await self._settle_overtaken(
                conn,
                "UPDATE pending_operations SET "
                "state = CASE WHEN g.state = 'failed' THEN 'failed' ELSE 'done' END, "
                "error = CASE WHEN g.state = 'failed' THEN g.error_message END, "
                "resolved_at = coalesce(g.state_at, g.created_at, ?2), resolved_by = 'webhook', "
                "group_id = g.id FROM groups g WHERE pending_operations.request_id = ?1 "
                "AND pending_operations.state = 'pending' AND g.request_id = ?1 "
                "AND (g.id IS NOT NULL OR g.state = 'failed') "
                "RETURNING pending_operations.group_id, pending_operations.state, "
                "pending_operations.error",
                (request_id, int(now)),
                request_id,
            )

    async def list_groups(
        self, after: tuple[int, int] | None = None, limit: int = 200
    ) -> tuple[list[Group], tuple[int, int] | None]:
        """A page of groups, most recent activity first.

        Args:
            after: Cursor returned with the previous page, or ``None`` for the first.
            limit: Page size.

        Returns:
            The groups and the cursor of the next page (``None`` after the last).
        """
        where, params = "", []
        if after is not None:
            where = f"WHERE ({ACTIVITY}, g.pk) < (?, ?)"
            params = [after[0], after[1]]
        rows = await self._all(
            f"SELECT {GROUP_COLUMNS}, {ACTIVITY}, g.pk FROM {GROUP_FROM} {where} "
            f"ORDER BY {ACTIVITY} DESC, g.pk DESC LIMIT ?",
            [*params, limit],
        )
        groups = [group_from_row(r) for r in rows]
        cursor = (rows[-1][-2], rows[-1][-1]) if len(rows) == limit else None
        return groups, cursor

    def _inbox_sql(self, where: str = "") -> str:
        return f"""
            SELECT g.id, g.request_id, g.subject, g.member_count, g.unread,
                   g.pending_requests,
                   g.last_msg_sender, g.last_msg_preview, nullif({ACTIVITY}, 0),
                   g.last_inbound_at, g.suspended, g.state,
                   coalesce(l.flagged, 0), l.tag, g.last_inbound_by, g.member_text,
                   g.last_msg_outbound
              FROM {GROUP_FROM} LEFT JOIN group_local l ON l.group_id = g.id
              {where}
             ORDER BY {ACTIVITY} DESC, g.pk DESC
        """

    @staticmethod
    def _inbox_row(r: Any) -> InboxRow:
        return InboxRow._make((*r[:10], bool(r[10]), r[11], bool(r[12]), *r[13:16], bool(r[16])))

    async def inbox_rows(self, batch: int = 2000) -> AsyncIterator[InboxRow]:
        """Stream compact rows of every group, most recent activity first.

        One statement, read with ``fetchmany``; at most ``batch`` rows are buffered.
        ``member_text`` carries the present members' names, numbers and usernames for
        filter-as-you-type.
        """
        async with self._r.execute(self._inbox_sql()) as cur:
            while True:
                rows = await cur.fetchmany(batch)
                if not rows:
                    return
                for r in rows:
                    yield self._inbox_row(r)

    async def inbox_row_list(self) -> list[InboxRow]:
        """Every group's inbox row in one round trip to the database thread.

        Faster than iterating :meth:`inbox_rows` when the caller wants them all anyway:
        the rows are fetched and converted without one await per row. Sorted by the
        database, on its thread, most recent activity first.
        """
        rows = await self._r.execute_fetchall(self._inbox_sql())
        make = self._inbox_row
        return [make(r) for r in rows]

    async def inbox_row(self, group_id: str) -> InboxRow | None:
        """One group's inbox row by Meta id (or by request id while pending)."""
        row = await self._one(
            self._inbox_sql("WHERE g.id = ?1 OR (g.id IS NULL AND g.request_id = ?1)"),
            (group_id,),
        )
        return self._inbox_row(row) if row else None

    async def set_invite_link(self, group_id: str, link: str) -> None:
        """Remember the group's current invite link (read or reset through the API)."""
        async with self._tx() as conn:
            await conn.execute("UPDATE groups SET invite_link = ? WHERE id = ?", (link, group_id))
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id, entity, payload) "
                "VALUES ('group.updated', ?, 'invite_link', '{}')",
                (group_id,),
            )

    async def groups_of_member(self, key_or_wa_id: str) -> list[str]:
        """Ids of the active groups where the member (key or wa_id) is present."""
        rows = await self._all(
            "SELECT DISTINCT p.group_id FROM participants p JOIN groups g ON g.id = p.group_id "
            "WHERE p.state = 'present' AND g.state = 'active' "
            "AND (p.participant_key = ?1 OR p.wa_id = ?1) ORDER BY p.group_id",
            (key_or_wa_id,),
        )
        return [r[0] for r in rows]

    async def member_signals(
        self, key_or_wa_id: str, *, exclude_group: str | None = None
    ) -> MemberSignals:
        """How a person appears elsewhere on this account (for join-request decisions)."""
        row = await self._one(
            "SELECT "
            "(SELECT count(DISTINCT group_id) FROM participants WHERE state = 'present' "
            " AND (participant_key = ?1 OR wa_id = ?1) AND group_id IS NOT ?2), "
            "(SELECT count(*) FROM participant_history WHERE action = 'remove' "
            " AND participant_key = ?1)",
            (key_or_wa_id, exclude_group),
        )
        return MemberSignals(groups=int(row[0]), removed_before=bool(row[1]))

    async def get_group(self, group_id: str) -> Group | None:
        """One group by Meta id."""
        row = await self._one(
            f"SELECT {GROUP_COLUMNS} FROM {GROUP_FROM} WHERE g.id = ?", (group_id,)
        )
        return group_from_row(row) if row else None

    async def get_group_by_request(self, request_id: str) -> Group | None:
        """One group by the request id of its create call."""
        row = await self._one(
            f"SELECT {GROUP_COLUMNS} FROM {GROUP_FROM} WHERE g.request_id = ?", (request_id,)
        )
        return group_from_row(row) if row else None

    async def group_members(self, group_id: str) -> list[Participant]:
        """Present members of a group, in join order."""
        rows = await self._all(
            f"SELECT {PARTICIPANT_COLUMNS} FROM participants "
            "WHERE group_id = ? AND state = 'present' "
            "ORDER BY coalesce(joined_at, 0), participant_key",
            (group_id,),
        )
        return [participant_from_row(r) for r in rows]

    async def member_history(
        self, group_id: str, *, after_id: int = 0, limit: int = 500
    ) -> list[HistoryEntry]:
        """Membership events of a group in event-time order."""
        rows = await self._all(
            "SELECT participant_key, action, at, initiated_by, via, request_id, error_code, "
            "error_message, observed FROM participant_history WHERE group_id = ? AND id > ? "
            "ORDER BY at, id LIMIT ?",
            (group_id, after_id, limit),
        )
        return [
            HistoryEntry(
                participant_key=r[0],
                action=r[1],
                at=r[2],
                initiated_by=r[3],
                via=r[4],
                request_id=r[5],
                error_code=r[6],
                error_message=r[7],
                observed=bool(r[8]),
            )
            for r in rows
        ]

    async def join_requests(self, group_id: str, state: str = "pending") -> list[JoinRequest]:
        """Join requests of a group in a given state, oldest first."""
        rows = await self._all(
            "SELECT id, group_id, wa_id, user_id, profile_name, created_at FROM join_requests "
            "WHERE group_id = ? AND state = ? ORDER BY coalesce(created_at, 0), id",
            (group_id, state),
        )
        return [join_request_from_row(r) for r in rows]

    async def decide_join_requests(
        self, request_ids: Sequence[str], decision: str, at: int
    ) -> None:
        """Record approvals or rejections made through the API.

        A decision is local state (no webhook reports a rejection) and survives a reset;
        applying the request's webhook again re-applies it.

        Args:
            request_ids: Join request ids.
            decision: ``approved`` or ``rejected``.
            at: Epoch seconds of the decision.
        """
        if decision not in ("approved", "rejected"):
            raise ValueError(f"bad decision {decision!r}")
        async with self._tx() as conn:
            for rid in request_ids:
                await conn.execute(
                    "INSERT INTO join_request_decisions(id, decision, at) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET decision = excluded.decision, at = excluded.at",
                    (rid, decision, at),
                )
                async with conn.execute(
                    "UPDATE join_requests SET state = ?, state_at = ? "
                    "WHERE id = ? AND state = 'pending' RETURNING group_id",
                    (decision, at, rid),
                ) as cur:
                    row = await cur.fetchone()
                if row:
                    await conn.execute(
                        "INSERT INTO change_feed(kind, group_id, entity, at, payload) "
                        "VALUES ('join_request.decided', ?, ?, ?, ?)",
                        (row[0], rid, at, dumps({"decision": decision})),
                    )

    # ------------------------------------------------------------------ annotations

    async def annotate_group(
        self,
        group_id: str,
        *,
        flagged: bool | None = None,
        tag: str | None = None,
        note: str | None = None,
        clear_tag: bool = False,
    ) -> GroupAnnotations:
        """Set operator annotations (only the given fields change)."""
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO group_local(group_id, updated_at) VALUES (?, ?) "
                "ON CONFLICT(group_id) DO UPDATE SET updated_at = excluded.updated_at",
                (group_id, self._clock()),
            )
            if flagged is not None:
                await conn.execute(
                    "UPDATE group_local SET flagged = ? WHERE group_id = ?",
                    (int(flagged), group_id),
                )
            if tag is not None or clear_tag:
                await conn.execute(
                    "UPDATE group_local SET tag = ? WHERE group_id = ?", (tag, group_id)
                )
            if note is not None:
                await conn.execute(
                    "UPDATE group_local SET note = ? WHERE group_id = ?", (note, group_id)
                )
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id) VALUES ('group.local', ?)", (group_id,)
            )
        return await self.group_annotations(group_id)

    async def group_annotations(self, group_id: str) -> GroupAnnotations:
        """Operator annotations of a group (defaults when none)."""
        row = await self._one(
            "SELECT flagged, tag, note, read_through FROM group_local WHERE group_id = ?",
            (group_id,),
        )
        if not row:
            return GroupAnnotations(group_id)
        return GroupAnnotations(group_id, bool(row[0]), row[1], row[2], row[3])

    async def mark_read(self, group_id: str, through_at: int | None = None) -> None:
        """Clear the unread count of a group.

        Args:
            group_id: The group.
            through_at: Messages at or before this time count as read; defaults to the
                group's latest message. Replaying the raw log honours it.
        """
        async with self._tx() as conn:
            if through_at is None:
                async with conn.execute(
                    "SELECT coalesce(max(at), 0) FROM messages WHERE group_id = ?", (group_id,)
                ) as cur:
                    row = await cur.fetchone()
                through_at = int(row[0]) if row else 0
            await conn.execute(
                "INSERT INTO group_local(group_id, read_through, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(group_id) DO UPDATE SET "
                "read_through = max(coalesce(read_through, 0), excluded.read_through), "
                "updated_at = excluded.updated_at",
                (group_id, through_at, self._clock()),
            )
            await conn.execute(
                "UPDATE groups SET unread = (SELECT count(*) FROM messages m "
                "WHERE m.group_id = groups.id AND m.direction = 'inbound' AND m.at > ?) "
                "WHERE id = ?",
                (through_at, group_id),
            )
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id, at) VALUES ('group.read', ?, ?)",
                (group_id, through_at),
            )

    # ------------------------------------------------------------------ messages

    async def get_message(self, message_id: str) -> Message | None:
        """One message by wamid or local id."""
        row = await self._one(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        return message_from_row(row) if row else None

    async def messages_page(
        self, group_id: str, before: MessageCursor | None = None, limit: int = 50
    ) -> MessagePage:
        """A page of a group's timeline, newest first (keyset on ``(at, id)``).

        Args:
            group_id: The group.
            before: ``(at, id)`` of the oldest message already shown, or ``None``.
            limit: Page size.

        Returns:
            The page; pass ``page.next_before`` to get the following (older) one.
        """
        if before is None:
            sql = (
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = ? "
                "ORDER BY at DESC, id DESC LIMIT ?"
            )
            params: list[Any] = [group_id, limit]
        else:
            sql = (
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = ? AND (at, id) < (?, ?) "
                "ORDER BY at DESC, id DESC LIMIT ?"
            )
            params = [group_id, before[0], before[1], limit]
        items = [message_from_row(r) for r in await self._all(sql, params)]
        cursor = (items[-1].at, items[-1].id) if len(items) == limit else None
        return MessagePage(items=items, next_before=cursor)

    async def recipient_statuses(self, message_id: str) -> list[RecipientStatus]:
        """Per-participant delivery states of one message."""
        rows = await self._all(
            "SELECT message_id, participant_key, state, at, error_code, error_title "
            "FROM recipient_status WHERE message_id = ? ORDER BY participant_key",
            (message_id,),
        )
        return [
            RecipientStatus(
                r[0], r[1], enum_or(DeliveryState, r[2], DeliveryState.SENT), r[3], r[4], r[5]
            )
            for r in rows
        ]

    async def message_state(self, message_id: str) -> DeliveryState | None:
        """Overall delivery state of an outbound message (best of all reports)."""
        row = await self._one(
            "SELECT state FROM (SELECT state, rank FROM message_delivery WHERE message_id = ?1 "
            "UNION ALL SELECT state, rank FROM recipient_status WHERE message_id = ?1) "
            "ORDER BY rank DESC LIMIT 1",
            (message_id,),
        )
        return enum_or(DeliveryState, row[0], DeliveryState.SENT) if row else None

    async def message_statuses(
        self, message_ids: Sequence[str], totals: Mapping[str, int] | None = None
    ) -> dict[str, DeliverySummary]:
        """Delivery tallies per message.

        Args:
            message_ids: Wamids to summarise.
            totals: Known recipient counts per message (defaults to the states seen).

        Returns:
            A summary for every requested id (zero counts when nothing is known).
        """
        states: dict[str, list[DeliveryState]] = {m: [] for m in message_ids}
        for chunk in _chunks(list(states)):
            rows = await self._all(
                "SELECT message_id, state FROM recipient_status "
                f"WHERE message_id IN ({_marks(len(chunk))})",
                chunk,
            )
            for mid, state in rows:
                states[mid].append(enum_or(DeliveryState, state, DeliveryState.SENT))
        totals = totals or {}
        return {mid: DeliverySummary.from_states(s, totals.get(mid)) for mid, s in states.items()}

    async def search_messages(
        self, query: str, limit: int = 50, after: MessageCursor | None = None
    ) -> list[SearchHit]:
        """Full-text search over message text, newest first.

        User input is tokenised and every token quoted, so no input can produce an FTS
        syntax error; the last token also matches as a prefix.

        Args:
            query: Free text typed by the user.
            limit: Maximum hits.
            after: ``(hit.at, hit.message_id)`` of the last hit of the previous page, or
                ``None`` for the first page.

        Returns:
            Hits with group id, message id, time, a snippet as plain text (a message's own
            brackets and any other character kept as they are) and the offsets of the
            matches in it.
        """
        match = fts_query(query)
        if match is None:
            return []
        marks = DEFAULT_MARKS
        cond = ""
        params: list[Any] = [*marks, *marks, match]
        if after is not None:
            cond = "AND (m.at, m.id) < (?, ?)"
            params += [after[0], after[1]]
        rows = await self._all(
            f"SELECT m.group_id, m.id, m.at, snippet(messages_fts, 0, ?, ?, ?, {_SNIPPET_TOKENS}), "
            "m.pk, instr(m.text, ?) + instr(m.text, ?) + instr(m.text, ?) "
            "FROM messages_fts JOIN messages m ON m.pk = messages_fts.rowid "
            f"WHERE messages_fts MATCH ? {cond} ORDER BY m.at DESC, m.id DESC LIMIT ?",
            [*params, limit],
        )
        hits = []
        for group_id, message_id, at, marked, pk, clash in rows:
            if clash:
                snippet, spans = await self._snippet_with_other_marks(pk, match)
            else:
                snippet, spans = split_snippet(marked, marks)
            hits.append(SearchHit(group_id, message_id, at, snippet, spans))
        return hits

    async def _snippet_with_other_marks(self, pk: int, match: str) -> tuple[str, tuple[Span, ...]]:
        """The snippet of a message whose text holds a default mark, made with marks it
        does not hold (so none of its characters is taken for a mark)."""
        row = await self._one("SELECT text FROM messages WHERE pk = ?", (pk,))
        text = (row[0] if row else None) or ""
        marks = marks_absent_from(text)
        if marks is None:
            return text, ()
        row = await self._one(
            f"SELECT snippet(messages_fts, 0, ?, ?, ?, {_SNIPPET_TOKENS}) FROM messages_fts "
            "WHERE messages_fts MATCH ? AND rowid = ?",
            (*marks, match, pk),
        )
        if row is None:
            return text, ()
        return split_snippet(row[0], marks)

    # ------------------------------------------------------------------ cost

    async def cost_for_message(self, message_id: str) -> list[CostLine]:
        """Ledger lines of one message (one per participant charged)."""
        rows = await self._all(
            f"SELECT {_COST_COLUMNS} FROM cost_ledger WHERE message_id = ? "
            "ORDER BY participant_key",
            (message_id,),
        )
        return [_cost_from_row(r) for r in rows]

    async def spend_between(self, t0: int, t1: int) -> SpendSummary:
        """Known spend with ``t0 <= at < t1``, summed as Decimal while streaming."""
        total, charges, unknown = Decimal(0), 0, 0
        async with self._r.execute(
            "SELECT amount FROM cost_ledger WHERE at >= ? AND at < ?", (t0, t1)
        ) as cur:
            while rows := await cur.fetchmany(2000):
                for (amount,) in rows:
                    charges += 1
                    value = dec_or_none(amount)
                    if value is None:
                        unknown += 1
                    else:
                        total += value
        return SpendSummary(total=total, charges=charges, unknown=unknown)

    async def service_messages_delivered_in_month(self, year: int, month: int) -> int:
        """Service (free-form) deliveries in a UTC calendar month, per participant.

        Counts ledger lines with a service category, which is what the monthly free
        allowance of 1,000 consumes (one per delivered member).
        """
        start = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        end = int(datetime(ny, nm, 1, tzinfo=UTC).timestamp())
        row = await self._one(
            "SELECT count(*) FROM cost_ledger WHERE category IN (?, ?) AND at >= ? AND at < ?",
            (*_SERVICE_CATEGORIES, start, end),
        )
        return int(row[0])

    # ------------------------------------------------------------------ outbox

    async def outbox_enqueue(
        self,
        group_id: str,
        kind: MessageKind | str,
        payload: Mapping[str, Any],
        *,
        text: str | None = None,
        media: Media | None = None,
        template_name: str | None = None,
        template_category: str | None = None,
        at: int | None = None,
    ) -> OutboxItem:
        """Write an outbound message before the API call.

        Creates the outbox row and the outbound timeline row (local id ``local:<n>``
        until :meth:`outbox_mark_accepted` gives it the wamid).

        Args:
            group_id: Target group.
            kind: Message kind.
            payload: Request body.
            text: Text shown in the timeline (body or caption).
            media: Attached media.
            template_name: Template name, for template sends.
            template_category: Template category at send time.
            at: Timeline time; defaults to the clock.

        Returns:
            The queued item.
        """
        now = self._clock()
        at = int(now) if at is None else at
        async with self._tx() as conn:
            async with conn.execute(
                "INSERT INTO outbox(group_id, kind, payload, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (group_id, str(kind), dumps(payload), now, now),
            ) as cur:
                row = await cur.fetchone()
            assert row is not None
            local_id = int(row[0])
            await conn.execute(
                "INSERT INTO messages(id, group_id, direction, kind, at, text, media, "
                "template_name, template_category, origin, outbox_id) "
                "VALUES (?, ?, 'outbound', ?, ?, ?, ?, ?, ?, 'outbox', ?)",
                (
                    f"local:{local_id}",
                    group_id,
                    str(kind),
                    at,
                    text,
                    media_to_json(media),
                    template_name,
                    template_category,
                    local_id,
                ),
            )
            await self._outbox_change(conn, local_id, group_id, "queued")
        item = await self.outbox_get(local_id)
        assert item is not None
        return item

    async def _outbox_change(
        self, conn: aiosqlite.Connection, local_id: int, group_id: str | None, state: str
    ) -> None:
        await conn.execute(
            "INSERT INTO change_feed(kind, group_id, entity, payload) "
            "VALUES ('outbox.updated', ?, ?, ?)",
            (group_id, str(local_id), dumps({"state": state})),
        )

    async def _outbox_update(
        self, local_id: int, state: str, sets: str, params: Sequence[Any]
    ) -> OutboxItem | None:
        async with self._tx() as conn:
            async with conn.execute(
                f"UPDATE outbox SET state = ?, updated_at = ?{sets} WHERE id = ? "
                "RETURNING group_id",
                (state, self._clock(), *params, local_id),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            if state == "accepted":
                await conn.execute(
                    "UPDATE messages SET id = ? WHERE outbox_id = ?", (params[0], local_id)
                )
            await self._outbox_change(conn, local_id, row[0], state)
        return await self.outbox_get(local_id)

    async def outbox_mark_accepted(self, local_id: int, wamid: str) -> OutboxItem | None:
        """The API accepted the send and returned ``wamid``."""
        return await self._outbox_update(local_id, "accepted", ", wamid = ?", (wamid,))

    async def outbox_mark_failed(
        self, local_id: int, code: int | None, message: str | None
    ) -> OutboxItem | None:
        """The API refused the send."""
        return await self._outbox_update(
            local_id, "failed", ", error_code = ?, error_message = ?", (code, message)
        )

    async def outbox_mark_unknown(self, local_id: int) -> OutboxItem | None:
        """The send's fate is unknown (crash or timeout after the call began)."""
        return await self._outbox_update(local_id, "unknown", "", ())

    async def outbox_get(self, local_id: int) -> OutboxItem | None:
        """One outbox item."""
        row = await self._one(f"SELECT {_OUTBOX_COLUMNS} FROM outbox o WHERE o.id = ?", (local_id,))
        return _outbox_from_row(row) if row else None

    async def outbox_pending(
        self, states: Sequence[str] = ("queued", "unknown"), limit: int = 500
    ) -> list[OutboxItem]:
        """Items whose fate is open (queued, or unknown after a crash), oldest first."""
        rows = await self._all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox o WHERE o.state IN ({_marks(len(states))}) "
            "ORDER BY o.id LIMIT ?",
            [*states, limit],
        )
        return [_outbox_from_row(r) for r in rows]

    async def outbox_for_group(
        self, group_id: str, *, before_id: int | None = None, limit: int = 100
    ) -> list[OutboxItem]:
        """A group's outbox, newest first (keyset on id)."""
        rows = await self._all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox o WHERE o.group_id = ? AND o.id < ? "
            "ORDER BY o.id DESC LIMIT ?",
            (group_id, before_id if before_id is not None else 2**62, limit),
        )
        return [_outbox_from_row(r) for r in rows]

    # ------------------------------------------------------------------ operations

    async def add_pending_operation(
        self,
        request_id: str,
        kind: str,
        *,
        group_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an asynchronous operation (remove, settings, delete) awaiting its webhook.

        Use :meth:`create_pending_group` for creates.
        """
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO pending_operations(request_id, kind, group_id, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING",
                (request_id, kind, group_id, dumps(payload or {}), self._clock()),
            )
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id, entity, payload) "
                "VALUES ('operation.pending', ?, ?, ?)",
                (group_id, request_id, dumps({"kind": kind})),
            )
            if kind in apply_mod.EARLY_OUTCOME_KINDS:
                # Its webhook may have overtaken the API's answer (kept by the applier).
                await self._settle_overtaken(
                    conn,
                    "UPDATE pending_operations SET state = o.state, error = o.error, "
                    "resolved_at = o.at, resolved_by = 'webhook', "
                    "group_id = coalesce(pending_operations.group_id, o.group_id) "
                    "FROM early_outcomes o WHERE pending_operations.request_id = ?1 "
                    "AND o.request_id = ?1 AND pending_operations.state = 'pending' "
                    "RETURNING pending_operations.group_id, pending_operations.state, "
                    "pending_operations.error",
                    (request_id,),
                    request_id,
                )
                # Used up; and outcomes nobody recorded an operation for within a day (an
                # answer without a request id, a request made elsewhere) are dropped.
                await conn.execute(
                    "DELETE FROM early_outcomes WHERE request_id = ? OR at < ?",
                    (request_id, int(self._clock()) - _EARLY_OUTCOME_KEPT),
                )
            if kind == "delete" and group_id is not None:
                # The delete webhook may have overtaken the API's answer.
                await self._settle_overtaken(
                    conn,
                    "UPDATE pending_operations SET state = 'done', resolved_by = 'webhook', "
                    "resolved_at = coalesce(g.state_at, ?2) FROM groups g "
                    "WHERE pending_operations.request_id = ?1 "
                    "AND pending_operations.state = 'pending' AND g.id = ?3 "
                    "AND g.state = 'deleted' RETURNING pending_operations.group_id, "
                    "pending_operations.state, pending_operations.error",
                    (request_id, int(self._clock()), group_id),
                    request_id,
                )

    @staticmethod
    async def _settle_overtaken(
        conn: aiosqlite.Connection, sql: str, params: Sequence[Any], request_id: str
    ) -> None:
        async with conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        if row is not None:
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id, entity, payload) "
                "VALUES ('operation.resolved', ?, ?, ?)",
                (row[0], request_id, dumps({"state": row[1], "error": row[2]})),
            )

    async def resolve_operation(
        self, request_id: str, state: str, error: str | None = None, at: int | None = None
    ) -> bool:
        """Settle an operation locally (re-query, timeout or synchronous failure).

        Returns:
            True if a pending operation was settled.
        """
        if state not in ("done", "failed"):
            raise ValueError(f"bad state {state!r}")
        async with self._tx() as conn:
            async with conn.execute(
                "UPDATE pending_operations SET state = ?, error = ?, resolved_at = ?, "
                "resolved_by = 'local' WHERE request_id = ? AND state = 'pending' "
                "RETURNING group_id, kind",
                (state, error, at if at is not None else int(self._clock()), request_id),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return False
            if row[1] == "create" and state == "failed":
                await conn.execute(
                    "UPDATE groups SET state = 'failed', error_message = ? "
                    "WHERE request_id = ? AND id IS NULL",
                    (error, request_id),
                )
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id, entity, payload) "
                "VALUES ('operation.resolved', ?, ?, ?)",
                (row[0], request_id, dumps({"state": state, "error": error})),
            )
        return True

    async def pending_operations(
        self, state: str | None = "pending", limit: int = 500
    ) -> list[PendingOperation]:
        """Operations in a state (all when ``state`` is None), oldest first."""
        cond, params = ("WHERE state = ?", [state]) if state else ("", [])
        rows = await self._all(
            "SELECT request_id, kind, group_id, payload, state, error, created_at, resolved_at "
            f"FROM pending_operations {cond} ORDER BY created_at, request_id LIMIT ?",
            [*params, limit],
        )
        return [_op_from_row(r) for r in rows]

    async def get_operation(self, request_id: str) -> PendingOperation | None:
        """One operation by request id."""
        row = await self._one(
            "SELECT request_id, kind, group_id, payload, state, error, created_at, resolved_at "
            "FROM pending_operations WHERE request_id = ?",
            (request_id,),
        )
        return _op_from_row(row) if row else None

    # ------------------------------------------------------------------ audit

    async def audit_append(
        self,
        os_user: str,
        action: str,
        *,
        group_id: str | None = None,
        targets: Sequence[Any] = (),
        api_result: Any = None,
        cost: Decimal | None = None,
    ) -> int:
        """Append an audit entry and return its id."""
        async with self._tx() as conn:
            async with conn.execute(
                "INSERT INTO audit_log(at, os_user, action, group_id, targets, api_result, cost) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    self._clock(),
                    os_user,
                    action,
                    group_id,
                    dumps(list(targets)),
                    None if api_result is None else dumps(api_result),
                    None if cost is None else str(cost),
                ),
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def audit_list(
        self, *, group_id: str | None = None, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Audit entries, newest first (keyset on id)."""
        cond = ["id < ?"]
        params: list[Any] = [before_id if before_id is not None else 2**62]
        if group_id is not None:
            cond.append("group_id = ?")
            params.append(group_id)
        rows = await self._all(
            "SELECT id, at, os_user, action, group_id, targets, api_result, cost FROM audit_log "
            f"WHERE {' AND '.join(cond)} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [
            AuditEntry(
                r[0], r[1], r[2], r[3], r[4], loads(r[5], []), loads(r[6]), dec_or_none(r[7])
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ change feed

    async def changes_since(self, after_id: int = 0, limit: int = 1000) -> list[Change]:
        """Change-feed rows with ``id > after_id``, in id order."""
        rows = await self._all(
            "SELECT id, kind, group_id, entity, at, raw_id, payload FROM change_feed "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [Change(r[0], r[1], r[2], r[3], r[4], r[5], loads(r[6], {})) for r in rows]

    async def latest_change_id(self) -> int:
        """Id of the newest change-feed row (0 when empty)."""
        row = await self._one("SELECT coalesce(max(id), 0) FROM change_feed")
        return int(row[0])

    async def data_version(self) -> int:
        """``PRAGMA data_version`` of the reader: changes when another connection commits."""
        row = await self._one("PRAGMA data_version")
        return int(row[0])

    # ------------------------------------------------------------------ templates

    async def save_templates(self, templates: Sequence[Template]) -> None:
        """Replace the template cache."""
        now = self._clock()
        async with self._tx() as conn:
            await conn.execute("DELETE FROM templates")
            await conn.executemany(
                "INSERT INTO templates(name, language, category, status, body_params, "
                "header_format, components, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.name,
                        t.language,
                        str(t.category),
                        t.status,
                        t.body_params,
                        t.header_format,
                        dumps(list(t.components)),
                        now,
                    )
                    for t in templates
                ],
            )

    async def templates(self) -> list[Template]:
        """Cached templates, by name and language."""
        rows = await self._all(
            "SELECT name, language, category, status, body_params, header_format, components "
            "FROM templates ORDER BY name, language"
        )
        return [
            Template(
                name=r[0],
                language=r[1],
                category=enum_or(TemplateCategory, r[2], TemplateCategory.MARKETING),
                status=r[3],
                body_params=r[4],
                header_format=r[5],
                components=tuple(loads(r[6], [])),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ contacts

    async def set_contact(
        self, participant_key: str, *, display_name: str | None = None, note: str | None = None
    ) -> None:
        """Save local details about a member."""
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO contacts(participant_key, display_name, note, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(participant_key) DO UPDATE SET "
                "display_name = excluded.display_name, note = excluded.note, "
                "updated_at = excluded.updated_at",
                (participant_key, display_name, note, self._clock()),
            )

    async def get_contact(self, participant_key: str) -> Contact | None:
        """Local details about a member."""
        row = await self._one(
            "SELECT participant_key, display_name, note FROM contacts WHERE participant_key = ?",
            (participant_key,),
        )
        return Contact(*row) if row else None

    async def block(self, participant_key: str, reason: str | None = None) -> None:
        """Add a member to the blocklist."""
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO blocklist(participant_key, reason, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(participant_key) DO UPDATE SET reason = excluded.reason",
                (participant_key, reason, self._clock()),
            )

    async def unblock(self, participant_key: str) -> None:
        """Remove a member from the blocklist."""
        async with self._tx() as conn:
            await conn.execute(
                "DELETE FROM blocklist WHERE participant_key = ?", (participant_key,)
            )

    async def is_blocked(self, participant_key: str) -> bool:
        """Whether a member is on the blocklist."""
        row = await self._one(
            "SELECT 1 FROM blocklist WHERE participant_key = ?", (participant_key,)
        )
        return row is not None

    async def blocklist(self) -> list[tuple[str, str | None]]:
        """Blocked member keys with their reasons."""
        return [
            (r[0], r[1])
            for r in await self._all(
                "SELECT participant_key, reason FROM blocklist ORDER BY participant_key"
            )
        ]

    # ------------------------------------------------------------------ moderation

    async def add_flag(
        self,
        *,
        rule: str,
        action: str,
        group_id: str | None,
        participant_key: str | None,
        wa_id: str | None,
        message_id: str | None,
        join_request_id: str | None,
        at: int,
        reason: str,
        evidence: Sequence[str] = (),
    ) -> int | None:
        """Record a moderation flag once; returns its id, or ``None`` if already known."""
        async with self._tx() as conn:
            async with conn.execute(
                "INSERT INTO moderation_flags(rule, action, group_id, participant_key, wa_id, "
                "message_id, join_request_id, at, reason, evidence, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(rule, group_id, participant_key, at) DO NOTHING RETURNING id",
                (
                    rule,
                    action,
                    group_id,
                    participant_key,
                    wa_id,
                    message_id,
                    join_request_id,
                    at,
                    reason,
                    dumps(list(evidence)),
                    self._clock(),
                ),
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            await conn.execute(
                "INSERT INTO change_feed(kind, group_id, entity, at, payload) "
                "VALUES ('moderation.flagged', ?, ?, ?, ?)",
                (group_id, str(row[0]), at, dumps({"rule": rule, "action": action})),
            )
            return int(row[0])

    async def set_flag_state(self, flag_id: int, state: str, outcome: str | None = None) -> None:
        """Settle a flag: acted, dismissed, auto_acted or auto_failed (with what happened)."""
        async with self._tx() as conn:
            async with conn.execute(
                "UPDATE moderation_flags SET state = ?, outcome = ?, updated_at = ? "
                "WHERE id = ? RETURNING group_id",
                (state, outcome, self._clock(), flag_id),
            ) as cur:
                row = await cur.fetchone()
            if row is not None:
                await conn.execute(
                    "INSERT INTO change_feed(kind, group_id, entity, payload) "
                    "VALUES ('moderation.updated', ?, ?, ?)",
                    (row[0], str(flag_id), dumps({"state": state})),
                )

    async def flags(
        self,
        states: Sequence[str] = ("open",),
        *,
        before_id: int | None = None,
        limit: int = 200,
    ) -> list[StoredFlag]:
        """Flags in the given states, newest first (keyset on id)."""
        rows = await self._all(
            "SELECT id, rule, action, group_id, participant_key, wa_id, message_id, "
            "join_request_id, at, reason, evidence, state, outcome FROM moderation_flags "
            f"WHERE state IN ({_marks(len(states))}) AND id < ? ORDER BY id DESC LIMIT ?",
            [*states, before_id if before_id is not None else 2**62, limit],
        )
        return [
            StoredFlag(
                id=r[0],
                rule=r[1],
                action=r[2],
                group_id=r[3],
                participant_key=r[4],
                wa_id=r[5],
                message_id=r[6],
                join_request_id=r[7],
                at=r[8],
                reason=r[9],
                evidence=tuple(loads(r[10], [])),
                state=r[11],
                outcome=r[12],
            )
            for r in rows
        ]

    async def get_flag(self, flag_id: int) -> StoredFlag | None:
        """One flag by id."""
        for flag in await self.flags(
            ("open", "acted", "dismissed", "auto_acted", "auto_failed"),
            before_id=flag_id + 1,
            limit=1,
        ):
            return flag if flag.id == flag_id else None
        return None

    # ---- automations
    # Local state of the automations package (bulk jobs, forwarding queue, invite flows,
    # runs). Job rows are written before their API call; see groups_tui.automations.

    async def automation_job_create(
        self, job_id: str, kind: str, fingerprint: str, params: Mapping[str, Any]
    ) -> AutomationJob:
        """Create a job (idempotent on ``job_id``) and return it."""
        now = self._clock()
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO automation_jobs(id, kind, fingerprint, params, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (job_id, kind, fingerprint, dumps(dict(params)), now, now),
            )
        job = await self.automation_job(job_id)
        assert job is not None
        return job

    async def automation_job(self, job_id: str) -> AutomationJob | None:
        """One job by id."""
        row = await self._one(f"SELECT {_JOB_COLUMNS} FROM automation_jobs WHERE id = ?", (job_id,))
        return _job_from_row(row) if row else None

    async def automation_jobs_by_fingerprint(
        self, kind: str, fingerprint: str
    ) -> list[AutomationJob]:
        """Jobs of ``kind`` with the same inputs, newest first."""
        rows = await self._all(
            f"SELECT {_JOB_COLUMNS} FROM automation_jobs WHERE kind = ? AND fingerprint = ? "
            "ORDER BY created_at DESC, id",
            (kind, fingerprint),
        )
        return [_job_from_row(r) for r in rows]

    async def automation_job_set_state(self, job_id: str, state: str) -> None:
        """Mark a job ``running`` or ``done``."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE automation_jobs SET state = ?, updated_at = ? WHERE id = ?",
                (state, self._clock(), job_id),
            )

    async def bulk_rows_insert(self, job_id: str, rows: Sequence[BulkRow]) -> None:
        """Add CSV rows to a job; rows already present keep their state."""
        now = self._clock()
        async with self._tx() as conn:
            await conn.executemany(
                "INSERT INTO bulk_create_rows(job_id, row_no, subject, description, "
                "join_approval, tag, invitees, state, error, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, row_no) DO NOTHING",
                [
                    (
                        job_id,
                        r.row_no,
                        r.subject,
                        r.description,
                        int(r.join_approval),
                        r.tag,
                        dumps(list(r.invitees)),
                        r.state,
                        r.error,
                        now,
                    )
                    for r in rows
                ],
            )

    async def bulk_rows(self, job_id: str) -> list[BulkRow]:
        """Every row of a bulk job, in CSV order."""
        rows = await self._all(
            f"SELECT {_BULK_COLUMNS} FROM bulk_create_rows WHERE job_id = ? ORDER BY row_no",
            (job_id,),
        )
        return [_bulk_from_row(r) for r in rows]

    async def bulk_row_update(
        self,
        job_id: str,
        row_no: int,
        state: str,
        *,
        request_id: str | None = None,
        group_id: str | None = None,
        error: str | None = None,
        called_at: float | None = None,
    ) -> None:
        """Move a bulk row to ``state``; the given fields are set, the others kept."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE bulk_create_rows SET state = ?, "
                "request_id = coalesce(?, request_id), group_id = coalesce(?, group_id), "
                "error = ?, called_at = coalesce(?, called_at), updated_at = ? "
                "WHERE job_id = ? AND row_no = ?",
                (state, request_id, group_id, error, called_at, self._clock(), job_id, row_no),
            )

    async def bulk_find_created(
        self, subject: str, tag: str | None, *, exclude_job: str | None = None
    ) -> list[tuple[str, str]]:
        """``(job id, group id)`` of groups bulk jobs created with this subject and tag."""
        rows = await self._all(
            "SELECT job_id, group_id FROM bulk_create_rows WHERE subject = ? AND state = "
            "'created' AND tag IS ? AND job_id IS NOT ? AND group_id IS NOT NULL "
            "ORDER BY updated_at",
            (subject, tag, exclude_job),
        )
        return [(r[0], r[1]) for r in rows]

    async def bulk_invite_begin(self, job_id: str, row_no: int, wa_id: str) -> bool:
        """Reserve an invite before its API call; ``False`` when it was reserved before."""
        async with self._tx() as conn:
            async with conn.execute(
                "INSERT INTO bulk_invites(job_id, row_no, wa_id, state, updated_at) "
                "VALUES (?, ?, ?, 'calling', ?) ON CONFLICT DO NOTHING RETURNING 1",
                (job_id, row_no, wa_id, self._clock()),
            ) as cur:
                return await cur.fetchone() is not None

    async def bulk_invite_update(
        self,
        job_id: str,
        row_no: int,
        wa_id: str,
        state: str,
        *,
        wamid: str | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        """Record what became of a reserved invite."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE bulk_invites SET state = ?, wamid = ?, error = ?, cost = ?, "
                "updated_at = ? WHERE job_id = ? AND row_no = ? AND wa_id = ?",
                (
                    state,
                    wamid,
                    error,
                    None if cost is None else str(cost),
                    self._clock(),
                    job_id,
                    row_no,
                    wa_id,
                ),
            )

    async def bulk_invites(self, job_id: str) -> list[BulkInvite]:
        """Every invite of a bulk job."""
        rows = await self._all(
            "SELECT job_id, row_no, wa_id, state, wamid, error, cost FROM bulk_invites "
            "WHERE job_id = ? ORDER BY row_no, wa_id",
            (job_id,),
        )
        return [BulkInvite(r[0], r[1], r[2], r[3], r[4], r[5], dec_or_none(r[6])) for r in rows]

    async def announce_rows_insert(self, job_id: str, group_ids: Sequence[str]) -> None:
        """Add the selected groups to an announcement (existing rows are kept)."""
        now = self._clock()
        async with self._tx() as conn:
            await conn.executemany(
                "INSERT INTO announce_rows(job_id, seq, group_id, state, updated_at) "
                "VALUES (?, ?, ?, 'planned', ?) ON CONFLICT(job_id, group_id) DO NOTHING",
                [(job_id, i, gid, now) for i, gid in enumerate(group_ids)],
            )

    async def announce_rows(self, job_id: str) -> list[AnnounceRow]:
        """Every group of an announcement, in selection order."""
        rows = await self._all(
            "SELECT job_id, seq, group_id, state, outbox_id, wamid, error, cost, called_at "
            "FROM announce_rows WHERE job_id = ? ORDER BY seq",
            (job_id,),
        )
        return [
            AnnounceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], dec_or_none(r[7]), r[8])
            for r in rows
        ]

    async def announce_row_update(
        self,
        job_id: str,
        group_id: str,
        state: str,
        *,
        outbox_id: int | None = None,
        wamid: str | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
        called_at: float | None = None,
    ) -> None:
        """Move an announcement row to ``state``; the given fields are set."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE announce_rows SET state = ?, outbox_id = coalesce(?, outbox_id), "
                "wamid = coalesce(?, wamid), error = ?, cost = coalesce(?, cost), "
                "called_at = coalesce(?, called_at), updated_at = ? "
                "WHERE job_id = ? AND group_id = ?",
                (
                    state,
                    outbox_id,
                    wamid,
                    error,
                    None if cost is None else str(cost),
                    called_at,
                    self._clock(),
                    job_id,
                    group_id,
                ),
            )

    async def forward_enqueue(
        self,
        items: Sequence[tuple[str, int, str, bytes]],
        *,
        position_key: str,
        position: int,
    ) -> int:
        """Queue ``(target, change_id, lane, body)`` items and move the feed position.

        Both happen in one transaction, so a crash never loses or doubles an event.

        Returns:
            How many items were new.
        """
        now = self._clock()
        async with self._tx() as conn:
            before = conn.total_changes
            await conn.executemany(
                "INSERT INTO forward_outbox(target, change_id, lane, body, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(target, change_id) DO NOTHING",
                [(t, c, lane, body, now) for t, c, lane, body in items],
            )
            added = conn.total_changes - before
            await conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (position_key, str(position)),
            )
        return added

    async def forward_items(
        self,
        target: str | None = None,
        state: str | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> list[ForwardItem]:
        """Queued items (optionally of one target and state) after ``after_id``, in order."""
        cond: list[str] = ["f.id > ?"]
        params: list[Any] = [after_id]
        if target is not None:
            cond.append("target = ?")
            params.append(target)
        if state is not None:
            cond.append("state = ?")
            params.append(state)
        rows = await self._all(
            f"SELECT {_FORWARD_COLUMNS} FROM forward_outbox f WHERE {' AND '.join(cond)} "
            "ORDER BY id LIMIT ?",
            [*params, limit],
        )
        return [_forward_from_row(r) for r in rows]

    async def forward_next_attempt(self, target: str) -> float | None:
        """When the earliest pending item of a target may be tried again."""
        row = await self._one(
            "SELECT min(next_attempt_at) FROM forward_outbox "
            "WHERE target = ? AND state = 'pending'",
            (target,),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def forward_mark_delivered(self, item_id: int) -> None:
        """Record a successful delivery."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE forward_outbox SET state = 'delivered', delivered_at = ?, "
                "attempts = attempts + 1, last_error = NULL WHERE id = ?",
                (self._clock(), item_id),
            )

    async def forward_mark_failed(self, item_id: int, error: str, next_attempt_at: float) -> None:
        """Record a failed attempt and when to try again."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE forward_outbox SET attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? WHERE id = ?",
                (error, next_attempt_at, item_id),
            )

    async def forward_counts(self, target: str) -> tuple[int, int]:
        """``(pending, delivered)`` items of a target."""
        row = await self._one(
            "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'delivered'), 0) "
            "FROM forward_outbox WHERE target = ?",
            (target,),
        )
        return int(row[0]), int(row[1])

    async def invite_flow_recent(
        self, rule: str, person: str, group_key: str, since: float
    ) -> bool:
        """Whether the rule already sent (or is sending) this invite to this person since."""
        row = await self._one(
            "SELECT 1 FROM invite_flow_sends WHERE rule = ? AND person = ? AND group_key = ? "
            "AND at >= ? AND state IN ('waiting', 'calling', 'sent', 'unknown') LIMIT 1",
            (rule, person, group_key, since),
        )
        return row is not None

    async def invite_flow_begin(
        self,
        rule: str,
        person: str,
        group_key: str,
        *,
        state: str,
        at: float,
        group_id: str | None = None,
        request_id: str | None = None,
        trigger_id: str | None = None,
    ) -> int:
        """Record an invite before its API call (``calling``) or before its group exists."""
        async with self._tx() as conn:
            async with conn.execute(
                "INSERT INTO invite_flow_sends(rule, person, group_key, group_id, request_id, "
                "trigger_id, state, at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                (
                    rule,
                    person,
                    group_key,
                    group_id,
                    request_id,
                    trigger_id,
                    state,
                    at,
                    self._clock(),
                ),
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def invite_flow_update(
        self,
        send_id: int,
        state: str,
        *,
        group_id: str | None = None,
        request_id: str | None = None,
        wamid: str | None = None,
        error: str | None = None,
        cost: Decimal | None = None,
    ) -> None:
        """Record what became of an invite-flow send."""
        async with self._tx() as conn:
            await conn.execute(
                "UPDATE invite_flow_sends SET state = ?, group_id = coalesce(?, group_id), "
                "request_id = coalesce(?, request_id), wamid = coalesce(?, wamid), error = ?, "
                "cost = coalesce(?, cost), updated_at = ? WHERE id = ?",
                (
                    state,
                    group_id,
                    request_id,
                    wamid,
                    error,
                    None if cost is None else str(cost),
                    self._clock(),
                    send_id,
                ),
            )

    async def invite_flow_sends(
        self, *, state: str | None = None, rule: str | None = None, limit: int = 500
    ) -> list[InviteFlowSend]:
        """Invite-flow sends, oldest first (optionally of one state or rule)."""
        cond, params = ["1 = 1"], []
        if state is not None:
            cond.append("state = ?")
            params.append(state)
        if rule is not None:
            cond.append("rule = ?")
            params.append(rule)
        rows = await self._all(
            "SELECT id, rule, person, group_key, group_id, request_id, trigger_id, state, "
            f"wamid, error, cost, at FROM invite_flow_sends WHERE {' AND '.join(cond)} "
            "ORDER BY id LIMIT ?",
            [*params, limit],
        )
        return [
            InviteFlowSend(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                dec_or_none(r[10]),
                r[11],
            )
            for r in rows
        ]

    async def automation_run_add(self, name: str, kind: str, ok: bool, detail: str = "") -> None:
        """Record one run (or failure) of a rule or target."""
        async with self._tx() as conn:
            await conn.execute(
                "INSERT INTO automation_runs(name, kind, at, ok, detail) VALUES (?, ?, ?, ?, ?)",
                (name, kind, self._clock(), int(ok), detail),
            )

    async def automation_runs(
        self, *, name: str | None = None, failures_only: bool = False, limit: int = 50
    ) -> list[AutomationRun]:
        """Recent runs, newest first."""
        cond, params = ["1 = 1"], []
        if name is not None:
            cond.append("name = ?")
            params.append(name)
        if failures_only:
            cond.append("ok = 0")
        rows = await self._all(
            f"SELECT id, name, kind, at, ok, detail FROM automation_runs "
            f"WHERE {' AND '.join(cond)} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        return [AutomationRun(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    async def automation_set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume a rule or target by name (persisted)."""
        async with self._tx() as conn:
            if paused:
                await conn.execute(
                    "INSERT INTO automation_paused(name, paused_at) VALUES (?, ?) "
                    "ON CONFLICT(name) DO NOTHING",
                    (name, self._clock()),
                )
            else:
                await conn.execute("DELETE FROM automation_paused WHERE name = ?", (name,))

    async def raw_latest_id(self) -> int:
        """Id of the newest raw event (0 when the log is empty)."""
        row = await self._one("SELECT coalesce(max(id), 0) FROM raw_events")
        return int(row[0])

    async def automation_paused(self) -> set[str]:
        """Names of the paused rules and targets."""
        return {r[0] for r in await self._all("SELECT name FROM automation_paused")}


_RAW_COLUMNS = "id, dedupe_key, body, received_at, applied_at, parse_state, error"


def _raw_from_row(row: Any) -> RawEvent:
    return RawEvent(row[0], row[1], bytes(row[2]), row[3], row[4], row[5], row[6])


_COST_COLUMNS = (
    "message_id, participant_key, group_id, category, pricing_type, billable, market, amount, at"
)


def _cost_from_row(row: Any) -> CostLine:
    return CostLine(
        message_id=row[0],
        participant_key=row[1],
        group_id=row[2],
        category=row[3],
        pricing_type=row[4],
        billable=None if row[5] is None else bool(row[5]),
        market=row[6],
        amount=dec_or_none(row[7]),
        at=row[8],
    )


_OUTBOX_COLUMNS = (
    "o.id, o.group_id, o.kind, o.payload, o.state, o.wamid, o.error_code, o.error_message, "
    "o.created_at, o.updated_at, coalesce(o.wamid, 'local:' || o.id)"
)


def _outbox_from_row(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        group_id=row[1],
        kind=row[2],
        payload=loads(row[3], {}),
        state=row[4],
        wamid=row[5],
        error_code=row[6],
        error_message=row[7],
        created_at=row[8],
        updated_at=row[9],
        message_id=row[10],
    )


def _op_from_row(row: Any) -> PendingOperation:
    return PendingOperation(
        request_id=row[0],
        kind=row[1],
        group_id=row[2],
        payload=loads(row[3], {}),
        state=row[4],
        error=row[5],
        created_at=row[6],
        resolved_at=row[7],
    )


# ---- automations (records)


@dataclass(frozen=True, slots=True)
class AutomationJob:
    """A bulk creation or announcement job."""

    id: str
    kind: str
    fingerprint: str
    params: dict[str, Any]
    state: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class BulkRow:
    """One CSV row of a bulk creation (``state`` as in the ``bulk_create_rows`` table)."""

    row_no: int
    subject: str
    description: str = ""
    join_approval: bool = False
    tag: str | None = None
    invitees: tuple[str, ...] = ()
    state: str = "planned"
    request_id: str | None = None
    group_id: str | None = None
    error: str | None = None
    called_at: float | None = None


@dataclass(frozen=True, slots=True)
class BulkInvite:
    """One invite sent for a bulk row."""

    job_id: str
    row_no: int
    wa_id: str
    state: str
    wamid: str | None
    error: str | None
    cost: Decimal | None


@dataclass(frozen=True, slots=True)
class AnnounceRow:
    """One group of an announcement."""

    job_id: str
    seq: int
    group_id: str
    state: str
    outbox_id: int | None
    wamid: str | None
    error: str | None
    cost: Decimal | None
    called_at: float | None


@dataclass(frozen=True, slots=True)
class ForwardItem:
    """One queued event for one forwarding target."""

    id: int
    target: str
    change_id: int
    lane: str
    body: bytes
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    delivered_at: float | None


@dataclass(frozen=True, slots=True)
class InviteFlowSend:
    """An invite sent (or being sent) by an invite-flow rule."""

    id: int
    rule: str
    person: str
    group_key: str
    group_id: str | None
    request_id: str | None
    trigger_id: str | None
    state: str
    wamid: str | None
    error: str | None
    cost: Decimal | None
    at: float


@dataclass(frozen=True, slots=True)
class AutomationRun:
    """One run or failure of a rule or forwarding target."""

    id: int
    name: str
    kind: str
    at: float
    ok: bool
    detail: str


_JOB_COLUMNS = "id, kind, fingerprint, params, state, created_at, updated_at"
_BULK_COLUMNS = (
    "row_no, subject, description, join_approval, tag, invitees, state, request_id, group_id, "
    "error, called_at"
)
_FORWARD_COLUMNS = (
    "f.id, f.target, f.change_id, f.lane, f.body, f.state, f.attempts, f.next_attempt_at, "
    "f.last_error, f.delivered_at"
)


def _job_from_row(row: Any) -> AutomationJob:
    return AutomationJob(row[0], row[1], row[2], loads(row[3], {}), row[4], row[5], row[6])


def _bulk_from_row(row: Any) -> BulkRow:
    return BulkRow(
        row_no=row[0],
        subject=row[1],
        description=row[2],
        join_approval=bool(row[3]),
        tag=row[4],
        invitees=tuple(loads(row[5], [])),
        state=row[6],
        request_id=row[7],
        group_id=row[8],
        error=row[9],
        called_at=row[10],
    )


def _forward_from_row(row: Any) -> ForwardItem:
    return ForwardItem(
        row[0], row[1], row[2], row[3], bytes(row[4]), row[5], row[6], row[7], row[8], row[9]
    )
