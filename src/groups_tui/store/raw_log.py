"""The raw webhook log and the derived state applied from it.

Every verified body is logged with its dedupe key in a durable commit before the
listener answers 200 (:meth:`RawLog.insert_and_apply`, the listener's group commit, which
can also apply the fresh bodies in that same transaction). Rows logged but not applied
(the listener applies them right after its commit; a crash, a replay reset) are applied
later (:meth:`RawLog.apply_logged`); applying is idempotent and order-safe, so replaying
the log in id order after :meth:`RawLog.reset_derived_state` gives the same
:meth:`RawLog.state_digest`.

Every write here is one function run by the database's writer (one transaction, one
hop to its thread however many rows and events it holds); the applier (``apply/``) is
synchronous and runs inside those functions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from groups_tui.domain.events import LEGACY_KINDS, DomainEvent
from groups_tui.store import apply as apply_mod
from groups_tui.store import digest as digest_mod
from groups_tui.store.database import Database
from groups_tui.store.feed import append_change
from groups_tui.store.ledger import Ledger
from groups_tui.store.numbers import Numbers, Routing
from groups_tui.store.records import (
    EventFailure,
    RawEvent,
    RawEventIn,
    RawInsertResult,
    RawStats,
)
from groups_tui.store.repository import Repository, chunks, marks

__all__ = ["RawLog", "ReadAhead", "apply_isolated"]

_log = logging.getLogger(__name__)

_RAW_COLUMNS = (
    "r.id, r.dedupe_key, b.body, r.received_at, r.applied_at, r.parse_state, r.error, "
    "r.phone_number_id, r.other_number"
)
_RAW_FROM = "raw_events r JOIN raw_bodies b ON b.id = r.id"
"""A raw row with its body (kept apart since schema v12: the row changes, the body not)."""

EventsFor = Callable[[int], Sequence[DomainEvent]]
"""Index of a body in its batch -> its domain events (may raise: a parse failure)."""

Logged = tuple[int, Callable[[], Sequence[DomainEvent]]]
"""A logged row to apply: ``(raw_id, parse)``, ``parse()`` giving its events (may raise)."""


REPLAY_BATCH = 2000
"""Raw events applied per transaction by :meth:`RawLog.replay`."""

READ_AHEAD = 20_000
"""Most bodies :meth:`RawLog.read_ahead` reads (bounds the memory the parses hold)."""

_AHEAD_CHUNK = 200
"""Bodies :meth:`ReadAhead.during` parses between two looks at the awaited work."""

T = TypeVar("T")


def _raw_from_row(row: Any) -> RawEvent:
    return RawEvent(
        row[0], row[1], bytes(row[2]), row[3], row[4], row[5], row[6], row[7], bool(row[8])
    )


def _parsed(
    rows: Sequence[tuple[int, bytes]],
    parse: Callable[[bytes], Sequence[DomainEvent]],
    ahead: ReadAhead | None = None,
) -> list[Logged]:
    """Parse each ``(raw_id, body)`` now (or take its parse from ``ahead``); a body that
    does not parse raises the same when applied (and is recorded as failed there, as
    when parsing happens inside the transaction)."""
    out: list[Logged] = []
    for raw_id, body in rows:
        if ahead is not None and (given := ahead.take(raw_id)) is not None:
            out.append((raw_id, given))
            continue
        try:
            events = parse(body)
        except Exception as exc:
            out.append((raw_id, partial(_reraise, exc)))
        else:
            out.append((raw_id, partial(_given, events)))
    return out


class ReadAhead:
    """Logged bodies read and parsed ahead of a replay, while other work runs.

    Bodies never change once logged, so a row's parse does not depend on when it is
    read: :meth:`during` parses the bodies read by :meth:`RawLog.read_ahead` while a
    database thread does something else (the reset), and
    :meth:`RawLog.replay` takes those parses for the rows it applies instead of parsing
    them then. A row replay does not meet (deleted meanwhile) is simply never used.
    """

    def __init__(
        self,
        rows: Sequence[tuple[int, bytes]],
        parse: Callable[[bytes], Sequence[DomainEvent]],
    ) -> None:
        self._rows = list(reversed(rows))
        self._parse = parse
        self._parsed: dict[int, Callable[[], Sequence[DomainEvent]]] = {}

    async def during(self, work: Awaitable[T]) -> T:
        """Await ``work`` (running on a database thread), parsing read bodies meanwhile."""
        future = asyncio.ensure_future(work)
        while self._rows and not future.done():
            chunk = [self._rows.pop() for _ in range(min(_AHEAD_CHUNK, len(self._rows)))]
            self._parsed.update(_parsed(chunk, self._parse))
            await asyncio.sleep(0)  # let the loop see the result of ``work``
        return await future

    def take(self, raw_id: int) -> Callable[[], Sequence[DomainEvent]] | None:
        """The parse of row ``raw_id`` if it was parsed ahead (given once)."""
        return self._parsed.pop(raw_id, None)


def _given(events: Sequence[DomainEvent]) -> Sequence[DomainEvent]:
    return events


def _reraise(error: Exception) -> Sequence[DomainEvent]:
    raise error


def _failure_summary(failures: Sequence[EventFailure], total: int) -> str:
    """The ``raw_events.error`` text of a row with failed events."""
    first = failures[0]
    if first.index < 0:
        return first.reason
    return (
        f"{len(failures)} of {total} events not applied; "
        f"event {first.index} ({first.kind}): {first.reason}"
    )


def _insert_raw(
    db: sqlite3.Connection, items: Sequence[RawEventIn], applied_at: float | None = None
) -> list[RawInsertResult]:
    """Insert the bodies not logged before; one result per item (inside a transaction).

    With ``applied_at``, new rows are written already marked applied (``ok``): the caller
    applies them in the same transaction and corrects the rows that are not.
    """
    keys = list(dict.fromkeys(item.dedupe_key for item in items))
    existing: dict[str, int] = {}
    for chunk in chunks(keys):
        sql = f"SELECT dedupe_key, id FROM raw_events WHERE dedupe_key IN ({marks(len(chunk))})"
        existing.update({k: i for k, i in db.execute(sql, chunk).fetchall()})
    fresh: dict[str, RawEventIn] = {}
    for item in items:
        if item.dedupe_key not in existing and item.dedupe_key not in fresh:
            fresh[item.dedupe_key] = item
    if applied_at is None:
        sql = "INSERT INTO raw_events(dedupe_key, received_at, phone_number_id) VALUES (?, ?, ?)"
        tail: tuple[Any, ...] = ()
    else:
        sql = (
            "INSERT INTO raw_events(dedupe_key, received_at, phone_number_id, "
            "applied_at, parse_state) VALUES (?, ?, ?, ?, 'ok')"
        )
        tail = (applied_at,)
    bodies: list[tuple[int, bytes]] = []
    for item in fresh.values():
        cur = db.execute(sql, (item.dedupe_key, item.received_at, item.phone_number_id, *tail))
        raw_id = cast(int, cur.lastrowid)
        existing[item.dedupe_key] = raw_id
        bodies.append((raw_id, item.body))
    db.executemany("INSERT INTO raw_bodies(id, body) VALUES (?, ?)", bodies)
    results: list[RawInsertResult] = []
    first_seen: set[str] = set()
    for item in items:
        key = item.dedupe_key
        duplicate = key not in fresh or key in first_seen
        first_seen.add(key)
        results.append(RawInsertResult(raw_id=existing[key], duplicate=duplicate))
    return results


def apply_isolated(
    db: sqlite3.Connection,
    rows: Sequence[Logged],
    make_applier: Callable[[sqlite3.Connection], apply_mod.Applier],
    now: float,
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
        make_applier: Builds an applier over ``db`` (priced as the ledger is).
        now: Bookkeeping time of the marks and failures.
        written_applied: The rows were inserted already marked applied (``ok``).
        only: Re-applying earlier failures: per row, the dedupe keys of the events to
            apply (an empty set, or keys none of the events has any more, apply the
            whole body; applying is idempotent). The row's earlier failures are
            replaced by this attempt's.

    Returns:
        The ``(raw_id, reason)`` of the rows with an event that could not be applied.
    """
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
    others: set[int] = set()

    def attempt(isolate: bool) -> apply_mod.Applier | str:
        db.execute("SAVEPOINT apply_batch")
        try:
            applier = make_applier(db)
            if not isolate:
                applier.prefetch(e for _, events, _ in todo for e in events)
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
        others.update(applier.other_number_rows)
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
        for chunk in chunks(ids):
            db.execute(f"DELETE FROM event_failures WHERE raw_id IN ({marks(len(chunk))})", chunk)
        applied = [raw_id for raw_id, _, _ in todo if raw_id not in by_row]
        for chunk in chunks(applied):
            db.execute(
                "UPDATE raw_events SET applied_at = ?, parse_state = 'ok', error = NULL "
                f"WHERE id IN ({marks(len(chunk))})",
                (now, *chunk),
            )
    if others:
        # Every event of these bodies is another number's: kept in the raw log only.
        db.executemany(
            "UPDATE raw_events SET other_number = 1 WHERE id = ?",
            [(raw_id,) for raw_id in sorted(others) if raw_id not in by_row],
        )
    if unparsed:
        # Kept for re-parsing by a later version (the shape is unknown to this one).
        db.executemany(
            "UPDATE raw_events SET parse_state = 'unparsed' WHERE id = ?",
            [(raw_id,) for raw_id in unparsed if raw_id not in by_row],
        )
    summaries = [
        (raw_id, _failure_summary(items, totals.get(raw_id, 0))) for raw_id, items in by_row.items()
    ]
    if summaries:
        db.executemany(
            "UPDATE raw_events SET parse_state = 'error', error = ?, applied_at = ? WHERE id = ?",
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


class RawLog(Repository):
    """The raw webhook log, its counters, and applying it to derived state.

    Args:
        db: The database.
        ledger: The cost ledger, whose pricing prices the lines the applier writes.
        clock: Returns the current epoch time (receipt and bookkeeping times only).
    """

    def __init__(
        self,
        db: Database,
        *,
        ledger: Ledger,
        numbers: Numbers | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(db, clock=clock)
        self._ledger = ledger
        self._numbers = numbers

    def _applier(self, conn: sqlite3.Connection) -> apply_mod.Applier:
        """A synchronous applier over the writer's connection (use it inside a write)."""
        pricing = self._ledger.pricing
        return apply_mod.Applier(
            conn,
            cost_fn=pricing.cost_fn,
            market_fn=pricing.market_fn,
            now=self._clock(),
            routing=self._numbers.routing if self._numbers is not None else Routing(),
        )

    # ------------------------------------------------------------------ logging

    async def insert(self, items: Sequence[RawEventIn]) -> list[RawInsertResult]:
        """Log webhook bodies in ONE durable transaction (group commit).

        When this returns, every row is on disk and the caller may answer 200. A dedupe
        key seen before (in an earlier call or earlier in this batch) yields the existing
        row id with ``duplicate=True``.

        Args:
            items: Bodies in arrival order.

        Returns:
            One result per item, in the same order.
        """
        results, _ = await self.insert_and_apply(items)
        return results

    async def insert_and_apply(
        self,
        items: Sequence[RawEventIn],
        events_for: EventsFor | None = None,
        *,
        counters: Mapping[str, int] | None = None,
    ) -> tuple[list[RawInsertResult], list[tuple[int, str]]]:
        """Log bodies and apply the fresh ones in ONE durable transaction (group commit).

        The raw rows are inserted, then (when ``events_for`` is given) each freshly
        logged row, duplicates excluded, is applied with its failures isolated (see
        :func:`apply_isolated`), and the whole is committed durably: one fsync per batch,
        and a body is never logged without either its state or a reason. When this
        returns, every row is on disk and the caller may answer 200.

        The work runs on the database's writer thread, never on the event loop's; a
        write lock held by another process is waited for there too.

        Args:
            items: Bodies in arrival order.
            events_for: Index into ``items`` -> its domain events (may raise: the row is
                then marked ``error`` with the parse failure). Called on the writer thread.
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
        batch = list(items)
        bumps = dict(counters or {})
        return await self.db.execute_write_fn(
            lambda conn: self._log_and_apply(conn, batch, events_for, bumps), durable=True
        )

    def _log_and_apply(
        self,
        db: sqlite3.Connection,
        batch: Sequence[RawEventIn],
        events_for: EventsFor | None,
        counters: Mapping[str, int],
    ) -> tuple[list[RawInsertResult], list[tuple[int, str]]]:
        # Rows applied in this same transaction are written as applied: no second write
        # of each row, no entry in the unapplied index.
        results = _insert_raw(db, batch, self._clock() if events_for else None)
        failures: list[tuple[int, str]] = []
        if events_for is not None:
            fresh = [
                (r.raw_id, partial(events_for, index))
                for index, r in enumerate(results)
                if not r.duplicate
            ]
            failures = apply_isolated(db, fresh, self._applier, self._clock(), written_applied=True)
        if counters:
            db.executemany(
                "INSERT INTO counters(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                list(counters.items()),
            )
        return results, failures

    # ------------------------------------------------------------------ applying

    async def apply_logged(self, rows: Sequence[Logged]) -> list[tuple[int, str]]:
        """Apply raw rows logged earlier (crash recovery, a replay reset), in ONE write.

        Failures are isolated and recorded as in :meth:`insert_and_apply`.

        Args:
            rows: ``(raw_id, parse)`` pairs; ``parse()`` gives the row's events (may raise).

        Returns:
            The ``(raw_id, reason)`` of the rows that could not be applied.
        """
        if not rows:
            return []
        items = list(rows)
        return await self.db.execute_write_fn(
            lambda db: apply_isolated(
                db, items, self._applier, self._clock(), written_applied=False
            )
        )

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
        """Apply several raw events' domain events in ONE write transaction.

        The whole batch is one function run by the writer (the applier is synchronous),
        rolled back as a whole if any event fails.

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
            applier.prefetch(e for _, events in items for e in events)
            for raw_id, events in items:
                applier.apply(raw_id, events)
            applier.flush()
            return applier.changes

        return await self.db.execute_write_fn(run)

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
            in_ids = marks(len(ids))
            keys: dict[int, set[str]] = {raw_id: set() for raw_id in ids}
            whole: set[int] = set()
            for raw_id, idx, key in await self._all(
                f"SELECT raw_id, idx, event_key FROM event_failures WHERE raw_id IN ({in_ids})",
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
                f"SELECT id, body FROM raw_bodies WHERE id IN ({in_ids}) ORDER BY id", ids
            )
            items = [(raw_id, partial(parse, bytes(body))) for raw_id, body in bodies]
            still += await self.db.execute_write_fn(
                partial(
                    apply_isolated,
                    rows=items,
                    make_applier=self._applier,
                    now=self._clock(),
                    written_applied=False,
                    only=only,
                )
            )
            done += len(items)

    async def reset_derived_state(self) -> None:
        """Forget everything webhooks produced so the raw log can be replayed.

        Keeps the raw log (marked unapplied), outbox and outbound messages, audit log,
        operator annotations and other local tables, and the change feed (a
        ``store.reset`` row tells followers to reload).
        """

        def write(conn: sqlite3.Connection) -> None:
            digest_mod.reset_derived_state(conn)
            append_change(conn, "store.reset")

        await self.db.execute_write_fn(write)

    async def read_ahead(
        self, parse: Callable[[bytes], Sequence[DomainEvent]], limit: int = READ_AHEAD
    ) -> ReadAhead:
        """The first ``limit`` logged bodies (any state, id order), to parse ahead of a
        replay with ``parse`` (see :class:`ReadAhead`)."""
        rows = await self._all("SELECT id, body FROM raw_bodies ORDER BY id LIMIT ?", (limit,))
        return ReadAhead([(raw_id, bytes(body)) for raw_id, body in rows], parse)

    async def replay(
        self,
        parse: Callable[[bytes], Sequence[DomainEvent]],
        *,
        batch_size: int = REPLAY_BATCH,
        ahead: ReadAhead | None = None,
    ) -> int:
        """Apply every unapplied raw event in id order using ``parse``.

        Batches of ``batch_size`` rows go through :meth:`apply_logged`, one transaction
        each, so a row that cannot be parsed or applied is marked ``error`` with its
        reason and the replay goes on. While the writer applies one batch, the next is
        read (on the reader) and parsed (here): the writer's transactions hold only the
        applying, and parsing runs beside it.

        Args:
            parse: Turns a raw body into domain events (may raise).
            batch_size: Raw events per transaction.
            ahead: Rows already parsed with ``parse`` (:meth:`read_ahead`), used for
                the rows they hold.

        Returns:
            The number of raw events gone through (applied or marked).
        """
        done = 0
        pending = await self._unapplied_bodies(0, batch_size)
        parsed = _parsed(pending, parse, ahead)
        while pending:
            applying = asyncio.ensure_future(self.apply_logged(parsed))
            try:
                following = await self._unapplied_bodies(pending[-1][0], batch_size)
                parsed = _parsed(following, parse, ahead)
            except BaseException:
                await asyncio.gather(applying, return_exceptions=True)
                raise
            failures = await applying
            for raw_id, reason in failures:
                _log.warning("replay: raw event %d not applied: %s", raw_id, reason)
            done += len(pending)
            pending = following
        return done

    async def _unapplied_bodies(self, after_id: int, limit: int) -> list[tuple[int, bytes]]:
        rows = await self._all(
            f"SELECT r.id, b.body FROM {_RAW_FROM} "
            "WHERE r.applied_at IS NULL AND r.id > ? ORDER BY r.id LIMIT ?",
            (after_id, limit),
        )
        return [(raw_id, bytes(body)) for raw_id, body in rows]

    async def state_digest(self) -> str:
        """Canonical SHA-256 of the derived state (ids and receipt times excluded)."""
        hasher = hashlib.sha256()
        await self.db.execute_fn(lambda conn: digest_mod.feed_digest(conn, hasher))
        return hasher.hexdigest()

    # ------------------------------------------------------------------ reading

    async def unapplied(self, limit: int = 500, *, after_id: int = 0) -> list[RawEvent]:
        """Raw events not yet applied with ``id > after_id``, oldest first (crash recovery
        and replay; ``after_id`` pages on)."""
        rows = await self._all(
            f"SELECT {_RAW_COLUMNS} FROM {_RAW_FROM} WHERE r.applied_at IS NULL AND r.id > ? "
            "ORDER BY r.id LIMIT ?",
            (after_id, limit),
        )
        return [_raw_from_row(r) for r in rows]

    async def events(
        self, after_id: int = 0, limit: int = 500, *, phone_number_id: str | None = None
    ) -> list[RawEvent]:
        """Raw events with ``id > after_id`` in id order (keyset paging), only those whose
        webhook named ``phone_number_id`` when given."""
        if phone_number_id is None:
            rows = await self._all(
                f"SELECT {_RAW_COLUMNS} FROM {_RAW_FROM} WHERE r.id > ? ORDER BY r.id LIMIT ?",
                (after_id, limit),
            )
        else:
            rows = await self._all(
                f"SELECT {_RAW_COLUMNS} FROM {_RAW_FROM} WHERE r.id > ? "
                "AND r.phone_number_id = ? ORDER BY r.id LIMIT ?",
                (after_id, phone_number_id, limit),
            )
        return [_raw_from_row(r) for r in rows]

    async def get(self, raw_id: int) -> RawEvent | None:
        """One raw event by id."""
        row = await self._one(f"SELECT {_RAW_COLUMNS} FROM {_RAW_FROM} WHERE r.id = ?", (raw_id,))
        return _raw_from_row(row) if row else None

    async def latest_id(self) -> int:
        """Id of the newest raw event (0 when the log is empty)."""
        row = await self._one("SELECT coalesce(max(id), 0) FROM raw_events")
        return int(row[0])

    async def stats(self) -> RawStats:
        """Counts over the raw log, and the events that could not be applied."""
        row = await self._one(
            "SELECT count(*), count(applied_at), "
            "coalesce(sum(parse_state = 'unparsed'), 0), coalesce(sum(parse_state = 'error'), 0), "
            "max(received_at), (SELECT count(*) FROM event_failures), "
            "coalesce(sum(other_number), 0) FROM raw_events"
        )
        return RawStats(
            total=row[0],
            applied=row[1],
            unparsed=row[2],
            errors=row[3],
            last_event_at=row[4],
            failed_events=row[5],
            other_number=row[6],
        )

    async def failures(
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
        # A failure stored by an earlier version names its event the earlier way.
        return [EventFailure(r[0], r[1], LEGACY_KINDS.get(r[2], r[2]), *r[3:]) for r in rows]

    # ------------------------------------------------------------------ counters

    async def bump_counter(self, name: str, n: int = 1) -> int:
        """Add ``n`` to a named counter and return the new value."""
        row = await self.db.execute_write_fn(
            lambda conn: conn.execute(
                "INSERT INTO counters(name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value "
                "RETURNING value",
                (name, n),
            ).fetchone()
        )
        return int(row[0]) if row else n

    async def counters(self) -> dict[str, int]:
        """All counters."""
        return {k: v for k, v in await self._all("SELECT name, value FROM counters ORDER BY name")}
