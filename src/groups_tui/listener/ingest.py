"""The single writer: durable group commit of raw webhooks, applied right after.

Request handlers never touch the database. Each one hands its verified body to
:meth:`IngestWriter.submit` and waits. The writer task takes whatever has arrived and
logs it with :meth:`RawLog.insert_and_apply <groups_tui.store.raw_log.RawLog.insert_and_apply>`
in ONE transaction committed with ``synchronous=FULL`` (one fsync however many
deliveries are waiting); only then are the waiting handlers released to answer 200. The
raw log is the source of truth: once a body is in it, nothing is lost.

Applying to state comes after the 200, on the same writer: the fresh rows (already
parsed on the event loop as they arrived) queue in memory and are applied with
:meth:`RawLog.apply_logged <groups_tui.store.raw_log.RawLog.apply_logged>`, which
isolates failures exactly as before (an event that cannot be applied is recorded with
its reason, its neighbours are applied). Several rows share one transaction, which
makes applying cheaper per event: when no delivery waits, the rows of the last
:data:`APPLY_DELAY` seconds are applied in chunks bounded by :data:`APPLY_BUDGET` (one
delivery alone is in state some 20 ms after its 200); under load they accumulate to
:data:`APPLY_UNDER_LOAD` rows and are applied between two commits. Acknowledgements no
longer wait for applying.

The commit runs on the database's writer thread, never on the event loop's: while one
batch is being committed the loop goes on receiving deliveries, which queue up and form
the next batch (bounded by :data:`MAX_BATCH` so that one step stays short). A delivery
that finds nothing else waiting is committed at once; when others are arriving too, the
writer first lets the loop turn a few times so that the handlers whose bodies are
already buffered join the same commit.

A row stays unapplied in the log (``applied_at`` NULL) until it is applied, so a crash
between the 200 and the applying loses nothing: rows logged but not applied (a kill, a
replay reset) are applied when the writer starts (one chunk at each apply step if
deliveries are already arriving, so a flood cannot put them off), and a replay gives the
same state, because applying is idempotent and order-safe.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from groups_tui.cloud.webhooks import MalformedPayloadError, body_number, parse_payload
from groups_tui.domain.events import DomainEvent, UnknownEvent
from groups_tui.store import RawEventIn, RawInsertResult, Store
from groups_tui.store.records import REFUSED_COUNTER

__all__ = [
    "REFUSED_COUNTER",
    "IngestClosedError",
    "IngestWriter",
    "dedupe_key_for",
    "events_from_body",
    "events_from_payload",
]

log = logging.getLogger(__name__)

MAX_BATCH = 256
"""Most deliveries committed in one transaction; bounds one step's time."""

GATHER_YIELDS = 3
"""Event-loop turns the writer lets pass before taking a batch when other deliveries are
already waiting (see :meth:`_run`)."""

RECOVERY_CHUNK = 500
"""Raw events applied per transaction while catching up after a restart."""

APPLY_BUDGET = 0.01
"""Seconds one apply step may take while deliveries wait (bounds the ack latency)."""

MIN_APPLY_CHUNK = 8
MAX_APPLY_CHUNK = 500

APPLY_DELAY = 0.02
"""Seconds a logged row may wait for more to be applied with it (one transaction for
all): far below what a person notices, and enough to gather tens of rows at a few
hundred deliveries a second, which makes applying several times cheaper per event."""

APPLY_UNDER_LOAD = 256
"""Logged rows left to apply at which the writer applies them even though deliveries
wait (up to :data:`MAX_APPLY_CHUNK` in one transaction): bounds how far state trails the
log under load, and how long one acknowledgement may wait for applying."""

APPLY_RETRY_SECONDS = 1.0
"""Wait before applying again rows whose apply transaction failed (a lock held too long
by another process, a full disk); they are read back from the log."""

APPLY_RETRIES = 3
"""Failed apply transactions in a row after which the rows are left to the next start."""


_FIRST_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,15})')


class IngestClosedError(RuntimeError):
    """The writer is stopped; the delivery was not stored (answer 503 so Meta retries)."""


def dedupe_key_for(body: bytes) -> str:
    """The raw log's dedupe key of a delivery: its first event time, then SHA-256 hex.

    Both parts come from the exact bytes, and Meta retries a delivery with the same
    bytes, so a retry maps to the same row. The time prefix keeps successive deliveries
    next to each other in the key's unique index: with a bare hash every delivery dirtied
    a random index page, nearly half of the pages a batch's durable commit wrote.
    """
    found = _FIRST_TIMESTAMP.search(body)
    at = int(found.group(1)) if found else 0
    return f"{at:011d}-{hashlib.sha256(body).hexdigest()}"


def events_from_payload(payload: Any) -> list[DomainEvent]:
    """Parse a decoded body; a non-object top level becomes one :class:`UnknownEvent`.

    The store marks a raw event holding an :class:`UnknownEvent` as ``unparsed``, which
    keeps it for re-parsing by a later version instead of failing it.
    """
    try:
        return parse_payload(payload)
    except MalformedPayloadError as exc:
        return [UnknownEvent(field="", raw={"value": payload}, reason=str(exc))]


def events_from_body(body: bytes) -> list[DomainEvent]:
    """Decode and parse a logged body (crash recovery and replay).

    Raises:
        ValueError: The body is not JSON (the listener never logs such a body).
    """
    return events_from_payload(json.loads(body))


@dataclass(slots=True)
class _Pending:
    raw: RawEventIn
    events: list[DomainEvent] | Exception
    """The body's domain events, parsed before it is queued, or why they could not be."""
    future: asyncio.Future[RawInsertResult] = field(repr=False)

    def parsed(self) -> list[DomainEvent]:
        """The events (raises what parsing raised: the row is then marked ``error``)."""
        if isinstance(self.events, Exception):
            raise self.events
        return self.events


def _parse(payload: Any) -> list[DomainEvent] | Exception:
    try:
        return events_from_payload(payload)
    except Exception as exc:  # recorded with the row by the writer, as any apply failure
        return exc


@dataclass(slots=True)
class _Refusal:
    """A delivery refused for its signature, counted in the next commit."""

    future: asyncio.Future[None] = field(repr=False)


class _Due:
    """Returned instead of a queued item when applying falls due first."""


_DUE = _Due()


class IngestWriter:
    """Owns every write the listener makes: raw inserts, applying, counters.

    Args:
        store: The open store.
        clock: Returns epoch seconds (receipt times).
        max_batch: Most deliveries per durable transaction.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._store = store
        self._clock = clock
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | _Refusal | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._to_apply: deque[tuple[int, Callable[[], list[DomainEvent]]]] = deque()
        self._queued: set[int] = set()
        """The raw ids in :attr:`_to_apply` (never read back from the log as well)."""
        self._db_backlog = True
        self._backlog_after = 0
        """Where reading unapplied rows back from the log goes on (a raw id)."""
        self._busy = True
        self._idle_event = asyncio.Event()
        self._apply_cost = 0.001
        self._retry_at = 0.0
        self._apply_due = 0.0
        self._apply_errors = 0
        self._closing = False
        self.stored = 0
        """Deliveries logged by this process (duplicates excluded)."""
        self.duplicates = 0
        """Deliveries this process received again (already in the raw log)."""
        self.applied = 0
        """Raw events this process applied to state (including crash recovery)."""
        self.apply_failures = 0
        """Raw events this process could not apply (marked ``error`` in the log)."""

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._task is not None and not self._closing

    async def start(self) -> None:
        """Start the writer task; it first applies anything logged but not yet applied."""
        if self._task is not None:
            return
        self._closing = False
        self._task = asyncio.create_task(self._run(), name="groups-tui-ingest-writer")
        self._task.add_done_callback(lambda _: self._idle_event.set())

    async def stop(self) -> None:
        """Finish the queued deliveries, flush counters, and end the writer task."""
        if self._task is None:
            return
        self._closing = True
        await self._queue.put(None)
        try:
            await self._task
        finally:
            self._task = None

    async def submit(self, body: bytes, payload: Any) -> RawInsertResult:
        """Log one verified delivery durably; returns once it is committed.

        The delivery is applied to state after this returns (see the module note).

        Args:
            body: The raw request bytes (as signed).
            payload: ``body`` already decoded, so the writer need not decode it again.

        Returns:
            The raw log row (``duplicate`` when this body was logged before).

        Raises:
            IngestClosedError: The writer is stopping or stopped.
            Exception: Whatever the store raised; nothing was acknowledged.
        """
        if self._task is None or self._closing:
            raise IngestClosedError("listener is shutting down")
        future: asyncio.Future[RawInsertResult] = asyncio.get_running_loop().create_future()
        raw = RawEventIn(
            body=body,
            dedupe_key=dedupe_key_for(body),
            received_at=self._clock(),
            phone_number_id=body_number(payload),
        )
        # Parsed here, while the writer may be committing the previous batch: the durable
        # transaction holds only the inserts, and applying needs no second parse.
        pending = _Pending(raw, _parse(payload), future)
        self._idle_event.clear()
        self._queue.put_nowait(pending)
        return await future

    @property
    def idle(self) -> bool:
        """True when nothing waits to be committed or applied."""
        return (
            not self._busy and self._queue.empty() and not self._to_apply and not self._db_backlog
        )

    async def wait_idle(self) -> None:
        """Return once everything received so far is committed and applied (or left to
        the next start after :data:`APPLY_RETRIES` failed apply transactions)."""
        while self._task is not None and not self._task.done() and not self.idle:
            await self._idle_event.wait()

    async def note_refused_signature(self) -> None:
        """Count a delivery refused for its signature, durably, before it is answered.

        The count joins the next group commit (many refusals arriving together share one
        transaction), so once this returns the refusal is on disk: a kill loses none and
        ``events stats`` is exact. With the writer stopped it is written directly.

        Raises:
            Exception: The store could not write it (the caller still refuses).
        """
        if self._task is None or self._closing:
            await self._store.raw.bump_counter(REFUSED_COUNTER)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle_event.clear()
        self._queue.put_nowait(_Refusal(future))
        await future

    # ------------------------------------------------------------------ the task

    async def _run(self) -> None:
        stopping = False
        while True:
            batch: list[_Pending | _Refusal] = []
            if self._queue.empty():
                if stopping:
                    break
                if self._apply_due_now() or self._backlog_due():
                    await self._apply_next(under_load=False)
                    continue
                self._busy = False
                if self.idle:  # not while a retry of the applying is pending
                    self._idle_event.set()
                first = await self._next_item()
                self._busy = True
                self._idle_event.clear()
                if isinstance(first, _Due):
                    continue
                if first is None:
                    stopping = True
                else:
                    batch.append(first)
            # Under load, let the handlers whose bodies are already in the socket buffers
            # reach the queue first: a larger batch shares one fsync and one transaction.
            # Alone, commit at once (no added latency at one connection).
            for _ in range(GATHER_YIELDS if not self._queue.empty() else 0):
                if len(batch) + self._queue.qsize() >= self._max_batch:
                    break
                await asyncio.sleep(0)
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            if batch:
                await self._commit(batch)
            # Deliveries keep arriving: apply once enough rows wait (or the oldest has
            # waited long enough), in one larger transaction, cheaper per event; state
            # stays close behind the log.
            if len(self._to_apply) >= APPLY_UNDER_LOAD or self._apply_due_now():
                await self._apply_next(under_load=True)
                # Rows an earlier run (or a failed apply) left unapplied: one chunk per
                # apply step, so that they are applied even if deliveries never pause.
                if self._backlog_due():
                    await self._catch_up()
        while self._to_apply:
            await self._apply_next(under_load=True)

    async def _next_item(self) -> _Pending | _Refusal | _Due | None:
        """The next queued item, or :data:`_DUE` when applying (or a retry of it) falls
        due first (an item that arrives meanwhile stays queued)."""
        due = [self._apply_due] if self._to_apply else []
        if self._db_backlog:
            due.append(self._retry_at)
        if not due:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), max(min(due) - time.monotonic(), 0))
        except TimeoutError:
            return _DUE

    def _apply_due_now(self) -> bool:
        return bool(self._to_apply) and (self._closing or time.monotonic() >= self._apply_due)

    def _backlog_due(self) -> bool:
        return self._db_backlog and time.monotonic() >= self._retry_at

    async def _commit(self, batch: list[_Pending | _Refusal]) -> None:
        deliveries = [p for p in batch if isinstance(p, _Pending)]
        refusals = [p for p in batch if isinstance(p, _Refusal)]
        try:
            results, _ = await self._store.raw.insert_and_apply(
                [p.raw for p in deliveries],
                counters={REFUSED_COUNTER: len(refusals)} if refusals else None,
            )
        except BaseException as exc:
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError())
            if not isinstance(exc, Exception):
                raise
            log.exception("raw insert failed; %d deliveries not acknowledged", len(deliveries))
            return
        # Queued for applying before the handlers run again: a delivery acknowledged is
        # always either in this queue or applied (or, after a crash, unapplied in the log).
        fresh = 0
        if not self._to_apply:
            self._apply_due = time.monotonic() + APPLY_DELAY
        for p, result in zip(deliveries, results, strict=True):
            if not result.duplicate:
                fresh += 1
                self._to_apply.append((result.raw_id, p.parsed))
                self._queued.add(result.raw_id)
            if not p.future.done():
                p.future.set_result(result)
        for refusal in refusals:
            if not refusal.future.done():
                refusal.future.set_result(None)
        self.stored += fresh
        self.duplicates += len(results) - fresh

    def _note_failures(self, failures: Sequence[tuple[int, str]]) -> None:
        """Count and log rows that were logged but could not be applied."""
        for raw_id, reason in failures:
            self.apply_failures += 1
            log.error("raw event %d not applied: %s", raw_id, reason)

    async def _load_backlog(self) -> bool:
        """Queue one chunk of logged-but-unapplied raw events, ahead of the rows queued in
        memory (which it skips); False once the log has none left.

        The log is read on from :attr:`_backlog_after`, so rows queued in memory (also
        unapplied in the log) cannot hide older ones.
        """
        try:
            pending = await self._store.raw.unapplied(RECOVERY_CHUNK, after_id=self._backlog_after)
        except Exception:
            log.exception("could not read unapplied raw events")
            return False
        if pending:
            self._backlog_after = pending[-1].id
        rows = [raw for raw in pending if raw.id not in self._queued]
        self._to_apply.extendleft(
            (raw.id, partial(events_from_body, raw.body)) for raw in reversed(rows)
        )
        self._queued.update(raw.id for raw in rows)
        if len(pending) == RECOVERY_CHUNK:
            return True
        self._backlog_after = 0
        return False

    async def _catch_up(self) -> None:
        """Apply one chunk of the rows left unapplied in the log, before the fresh ones."""
        before = len(self._to_apply)
        self._db_backlog = await self._load_backlog()
        if len(self._to_apply) > before:
            await self._apply_next(under_load=True)

    async def _apply_next(self, *, under_load: bool) -> None:
        """Apply one chunk of the queued raw events in one transaction.

        Idle, the chunk is as large as fits :data:`APPLY_BUDGET`; under load, every
        queued row up to :data:`MAX_APPLY_CHUNK`. With nothing queued, one chunk of the
        rows left unapplied in the log is read back first.
        """
        if not self._to_apply:
            self._db_backlog = await self._load_backlog()
            self._apply_due = 0.0  # rows of an earlier run: no reason to wait
            if not self._to_apply:
                return
        if under_load:
            size = MAX_APPLY_CHUNK
        else:
            size = max(MIN_APPLY_CHUNK, min(MAX_APPLY_CHUNK, int(APPLY_BUDGET / self._apply_cost)))
        chunk = [self._to_apply.popleft() for _ in range(min(size, len(self._to_apply)))]
        self._queued.difference_update(raw_id for raw_id, _ in chunk)
        started = time.perf_counter()
        try:
            failures = await self._store.raw.apply_logged(chunk)
        except Exception:
            # Nothing of the chunk was applied; the rows stay unapplied in the log and
            # are read back from it (after a pause, a few times, then at the next start).
            self._apply_errors += 1
            log.exception(
                "could not apply %d logged raw events (attempt %d of %d)",
                len(chunk),
                self._apply_errors,
                APPLY_RETRIES,
            )
            if self._apply_errors < APPLY_RETRIES:
                self._db_backlog = True
                self._backlog_after = 0
                self._retry_at = time.monotonic() + APPLY_RETRY_SECONDS
            return
        self._apply_errors = 0
        per_event = (time.perf_counter() - started) / len(chunk)
        self._apply_cost = 0.8 * self._apply_cost + 0.2 * max(per_event, 1e-6)
        self.applied += len(chunk) - len(failures)
        self._note_failures(failures)
