"""Logging and applying a batch in one durable transaction (the listener's write path)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from groups_tui.domain.events import DomainEvent
from groups_tui.store import RawEventIn, RawStats, Store

from .conftest import G1, created, joined


def _raw(key: str) -> RawEventIn:
    return RawEventIn(body=key.encode(), dedupe_key=key, received_at=1.0)


async def _states(db_path: Path) -> dict[str, tuple[str, bool]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT dedupe_key, parse_state, applied_at IS NOT NULL FROM raw_events"
        ).fetchall()
    return {key: (state, bool(applied)) for key, state, applied in rows}


async def test_fresh_rows_are_applied_in_the_same_commit(store: Store, db_path: Path) -> None:
    events = {0: [created()], 1: [joined("15550001111", at=200)]}
    results, failures = await store.raw.insert_and_apply(
        [_raw("a"), _raw("b")], lambda i: events[i]
    )
    assert failures == []
    assert [r.duplicate for r in results] == [False, False]
    assert await _states(db_path) == {"a": ("ok", True), "b": ("ok", True)}
    members = await store.groups.members(G1)
    assert [m.wa_id for m in members] == ["15550001111"]


async def test_duplicates_are_not_applied_again(store: Store) -> None:
    calls: list[int] = []

    def events_for(i: int) -> Sequence[DomainEvent]:
        calls.append(i)
        return [created()]

    await store.raw.insert_and_apply([_raw("a")], events_for)
    results, _ = await store.raw.insert_and_apply([_raw("a"), _raw("b")], events_for)
    assert [r.duplicate for r in results] == [True, False]
    assert calls == [0, 1]  # "a" the first time, then only "b" (index 1 of the second batch)


async def test_a_failing_row_is_kept_with_its_reason_and_the_rest_applied(
    store: Store, db_path: Path
) -> None:
    def events_for(i: int) -> Sequence[DomainEvent]:
        if i == 1:
            raise ValueError("cannot parse this one")
        if i == 2:
            return ["not an event"]  # type: ignore[list-item]  # the applier raises TypeError
        return [created()]

    results, failures = await store.raw.insert_and_apply(
        [_raw("a"), _raw("b"), _raw("c")], events_for
    )
    assert len(results) == 3
    assert {raw_id for raw_id, _ in failures} == {results[1].raw_id, results[2].raw_id}
    reasons = dict(failures)
    assert "cannot parse this one" in reasons[results[1].raw_id]
    assert "TypeError" in reasons[results[2].raw_id]
    states = await _states(db_path)
    assert states == {"a": ("ok", True), "b": ("error", True), "c": ("error", True)}
    stored = await store.raw.get(results[2].raw_id)
    assert stored is not None and stored.body == b"c" and stored.error
    assert await store.groups.get(G1) is not None


async def test_the_log_commit_is_full_synchronous(store: Store) -> None:
    await store.raw.insert_and_apply([_raw("warm-up")])
    statements: list[str] = []
    # Every write runs on the one writer connection: trace it from inside a write.
    await store.db.execute_write_fn(lambda conn: conn.set_trace_callback(statements.append))
    try:
        statements.clear()
        await store.raw.insert_and_apply([_raw("a")], lambda _: [created()])
        statements = list(statements)  # that write's statements, all run when it returns
    finally:
        await store.db.execute_write_fn(lambda conn: conn.set_trace_callback(None))
    commit = statements.index("COMMIT")
    pragmas = [s for s in statements[:commit] if s.startswith("PRAGMA synchronous")]
    assert pragmas and pragmas[-1] == "PRAGMA synchronous = FULL"
    assert statements[commit + 1 :] == ["PRAGMA synchronous = NORMAL"]


async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_event_loop(
    store: Store, db_path: Path
) -> None:
    # GIVEN another connection (as another process would) holding the write lock
    other = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    try:
        # WHEN a batch is logged meanwhile
        pending = asyncio.create_task(store.raw.insert_and_apply([_raw("a")], lambda _: []))
        await asyncio.sleep(0.3)
        # THEN it waits without blocking the loop, and completes once the lock is free
        assert not pending.done()
        assert ticks >= 10
        other.execute("COMMIT")
        results, failures = await asyncio.wait_for(pending, 5)
        assert failures == [] and not results[0].duplicate
    finally:
        stop.set()
        await ticking
        other.close()
    assert await _states(db_path) == {"a": ("ok", True)}


async def test_an_in_memory_store_uses_its_single_connection() -> None:
    store = await Store.open(":memory:")
    try:
        results, failures = await store.raw.insert_and_apply([_raw("a")], lambda _: [created()])
        assert failures == [] and results[0].raw_id > 0
        assert await store.groups.get(G1) is not None
        assert await store.raw.stats() == RawStats(1, 1, 0, 0, 1.0, 0)
    finally:
        await store.close()


async def test_rows_logged_earlier_are_applied_with_the_same_isolation(
    store: Store, db_path: Path
) -> None:
    # GIVEN three rows logged without being applied (a crash, a replay reset)
    results = await store.raw.insert([_raw("a"), _raw("b"), _raw("c")])
    assert await _states(db_path) == {
        "a": ("pending", False),
        "b": ("pending", False),
        "c": ("pending", False),
    }

    def unparsable() -> Sequence[DomainEvent]:
        raise ValueError("cannot parse this one")

    # WHEN they are applied, one failing to parse and one failing to apply
    failures = await store.raw.apply_logged(
        [
            (results[0].raw_id, lambda: [created()]),
            (results[1].raw_id, unparsable),
            (results[2].raw_id, lambda: ["not an event"]),  # type: ignore[list-item]
        ]
    )
    # THEN the good one is applied and the others keep their bodies with the reason
    assert {raw_id for raw_id, _ in failures} == {results[1].raw_id, results[2].raw_id}
    assert await _states(db_path) == {"a": ("ok", True), "b": ("error", True), "c": ("error", True)}
    assert await store.groups.get(G1) is not None


async def test_a_replay_goes_past_a_row_that_cannot_be_applied(store: Store, db_path: Path) -> None:
    # GIVEN a raw log whose middle row parses into something the applier refuses
    results = await store.raw.insert([_raw("a"), _raw("b"), _raw("c")])
    by_body: dict[bytes, Sequence[DomainEvent]] = {
        b"a": [created()],
        b"b": ["not an event"],  # type: ignore[list-item]
        b"c": [joined("15550001111", at=200)],
    }

    # WHEN the log is replayed in batches of one
    done = await store.raw.replay(lambda body: by_body[body], batch_size=1)

    # THEN the rows before and after it are applied, and it keeps its body and reason
    assert done == 3
    assert await _states(db_path) == {"a": ("ok", True), "b": ("error", True), "c": ("ok", True)}
    assert [m.wa_id for m in await store.groups.members(G1)] == ["15550001111"]
    failed = await store.raw.get(results[1].raw_id)
    assert failed is not None and failed.body == b"b" and "TypeError" in (failed.error or "")


async def test_a_replay_uses_the_bodies_parsed_ahead_during_the_reset(
    store: Store, db_path: Path
) -> None:
    # GIVEN an applied raw log, one row of which cannot be applied
    await store.raw.insert([_raw("a"), _raw("b"), _raw("c"), _raw("d")])
    by_body: dict[bytes, Sequence[DomainEvent]] = {
        b"a": [created()],
        b"b": ["not an event"],  # type: ignore[list-item]
        b"c": [joined("15550001111", at=200)],
        b"d": [joined("15550002222", at=300)],
    }
    parsed: list[bytes] = []

    def parse(body: bytes) -> Sequence[DomainEvent]:
        parsed.append(body)
        return by_body[body]

    await store.raw.replay(parse)
    before = await store.raw.state_digest()
    # WHEN the first three bodies are read ahead and parsed while the reset runs, and the
    # log is replayed with them
    parsed.clear()
    ahead = await store.raw.read_ahead(parse, limit=3)
    await ahead.during(store.raw.reset_derived_state())
    done = await store.raw.replay(parse, batch_size=2, ahead=ahead)
    # THEN every body was parsed once, the ones read ahead not again
    assert done == 4
    assert sorted(parsed) == [b"a", b"b", b"c", b"d"]
    # AND the state is the one applying the log gave, the bad row failed alone
    assert await store.raw.state_digest() == before
    assert await _states(db_path) == {
        "a": ("ok", True),
        "b": ("error", True),
        "c": ("ok", True),
        "d": ("ok", True),
    }
