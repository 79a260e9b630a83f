"""The Database seam: one writer thread, one transaction per write, reads beside it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from groups_tui.store import StoreClosedError
from groups_tui.store.sqlite import SQLiteDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    database = await SQLiteDatabase.open(tmp_path / "db.sqlite")
    yield database
    await database.close()


async def _meta(db: SQLiteDatabase) -> dict[str, str]:
    return dict(await db.fetch_all("SELECT key, value FROM meta"))


def _put(key: str, value: str) -> Callable[[sqlite3.Connection], int]:
    def write(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
        return threading.get_ident()

    return write


async def test_writes_run_in_submission_order_on_one_thread_off_the_loop(
    db: SQLiteDatabase,
) -> None:
    # GIVEN many writes submitted at once, each recording its thread
    order: list[int] = []

    def write(n: int) -> Callable[[sqlite3.Connection], int]:
        def run(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('n', ?)", (str(n),))
            order.append(n)
            return threading.get_ident()

        return run

    # WHEN they complete
    threads = await asyncio.gather(*(db.execute_write_fn(write(n)) for n in range(50)))
    # THEN they ran one after another, in order, on the one writer thread (not the loop's)
    assert order == list(range(50))
    assert set(threads) == {db.writer_thread_id}
    assert threading.get_ident() not in threads
    assert await _meta(db) == {"n": "49"}


async def test_reads_run_on_their_own_thread(db: SQLiteDatabase) -> None:
    reader = await db.execute_fn(lambda conn: threading.get_ident())
    assert reader not in (threading.get_ident(), db.writer_thread_id)


async def test_a_write_that_raises_is_rolled_back_whole(db: SQLiteDatabase) -> None:
    # GIVEN a write that changes two rows and then fails
    def failing(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta(key, value) VALUES ('a', '1')")
        conn.execute("INSERT INTO meta(key, value) VALUES ('b', '2')")
        raise RuntimeError("no")

    # WHEN it runs THEN the caller gets the error and nothing of it stays
    with pytest.raises(RuntimeError, match="no"):
        await db.execute_write_fn(failing)
    assert await _meta(db) == {}
    # AND the next write starts a fresh transaction
    await db.execute_write_fn(_put("c", "3"))
    assert await _meta(db) == {"c": "3"}


async def test_a_write_runs_to_its_end_when_its_waiter_is_cancelled(db: SQLiteDatabase) -> None:
    # GIVEN a write held on the writer thread
    release = threading.Event()

    def slow(conn: sqlite3.Connection) -> None:
        release.wait(10)
        conn.execute("INSERT INTO meta(key, value) VALUES ('slow', 'done')")

    waiter = asyncio.ensure_future(db.execute_write_fn(slow))
    await asyncio.sleep(0)
    # WHEN the awaiting task is cancelled and the write goes on
    waiter.cancel()
    release.set()
    # THEN the write still commits, before the writes submitted after it
    await db.execute_write_fn(_put("after", "1"))
    assert await _meta(db) == {"slow": "done", "after": "1"}


async def test_writes_submitted_before_close_complete_and_later_ones_are_refused(
    db: SQLiteDatabase,
) -> None:
    pending = [asyncio.ensure_future(db.execute_write_fn(_put(str(n), "x"))) for n in range(5)]
    await asyncio.sleep(0)
    await db.close()
    assert len(await asyncio.gather(*pending)) == 5
    with pytest.raises(StoreClosedError):
        await db.execute_write_fn(_put("late", "x"))
    with pytest.raises(StoreClosedError):
        await db.fetch_all("SELECT 1")


async def test_iterate_streams_in_batches(db: SQLiteDatabase) -> None:
    await db.execute_write_fn(
        lambda conn: conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)", [(f"k{n:03d}", "v") for n in range(25)]
        )
    )
    sizes = [len(rows) async for rows in db.iterate("SELECT key FROM meta ORDER BY key", batch=10)]
    assert sizes == [10, 10, 5]


async def test_a_read_only_open_refuses_writes(tmp_path: Path) -> None:
    writer = await SQLiteDatabase.open(tmp_path / "db.sqlite")
    follower = await SQLiteDatabase.open(tmp_path / "db.sqlite", readonly=True)
    try:
        await writer.execute_write_fn(_put("k", "v"))
        assert follower.readonly and not writer.readonly
        assert await _meta(follower) == {"k": "v"}
        with pytest.raises(StoreClosedError):
            await follower.execute_write_fn(_put("k", "w"))
    finally:
        await follower.close()
        await writer.close()
