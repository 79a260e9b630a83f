"""The listener's durable group commit runs off the event loop's thread.

Every SQLite connection the process opens is traced (``sqlite3.connect`` is wrapped
before the store opens), so the test sees which thread ran each statement without
knowing how the store is built inside.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.webhooks import consistent_fixture_names, fixture_bytes

from .support import running_listener


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """``(thread id, statement)`` of every statement any new connection runs."""
    seen: list[tuple[int, str]] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        conn.set_trace_callback(lambda statement: seen.append((threading.get_ident(), statement)))
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    return seen


async def test_the_group_commit_never_runs_on_the_event_loop_thread(
    tmp_path: Path, traced: list[tuple[int, str]]
) -> None:
    loop_thread = threading.get_ident()
    names = consistent_fixture_names()[:6]
    async with running_listener(tmp_path / "groups.db") as running:
        # GIVEN a running listener WHEN deliveries arrive one by one and together
        first = await running.post_signed(fixture_bytes(names[0]))
        together = await asyncio.gather(
            *(running.post_signed(fixture_bytes(name)) for name in names[1:])
        )
        await running.ingest.wait_idle()
        # THEN every one was acknowledged after its durable commit
        assert [r.status_code for r in (first, *together)] == [200] * len(names)
        assert (await running.store.raw.stats()).applied == len(names)
    logged = [thread for thread, sql in traced if sql.startswith("INSERT INTO raw_events")]
    durable = [thread for thread, sql in traced if sql == "PRAGMA synchronous = FULL"]
    assert len(logged) == len(names) and durable
    # AND no statement, the logging, applying and committing included, ran on the loop's
    # thread: the loop kept serving requests while the writer thread committed
    assert traced and all(thread != loop_thread for thread, _ in traced)
    assert len(set(logged) | set(durable)) == 1  # the one writer thread


async def test_the_loop_answers_while_a_commit_is_in_progress(tmp_path: Path) -> None:
    async with running_listener(tmp_path / "groups.db") as running:
        # GIVEN the database's writer busy with a long write (a slow disk, a big batch)
        release = threading.Event()
        started = threading.Event()

        def slow_write(conn: sqlite3.Connection) -> None:
            started.set()
            release.wait(10)

        busy = asyncio.ensure_future(running.store.db.execute_write_fn(slow_write))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        # WHEN a delivery arrives meanwhile
        delivery = asyncio.ensure_future(running.post_signed(fixture_bytes("batched_mixed")))
        # THEN the loop still answers other requests, and the delivery waits for its commit
        health = await running.client.get(running.server.url.rsplit("/", 1)[0] + "/healthz")
        assert health.status_code == 200
        await asyncio.sleep(0.05)
        assert not delivery.done()
        release.set()
        await busy
        assert (await delivery).status_code == 200
        assert (await running.store.raw.stats()).total == 1


async def test_bodies_are_parsed_before_the_durable_transaction(
    tmp_path: Path, traced: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import groups_tui.listener.ingest as ingest

    parsed_on: list[int] = []
    real_parse = ingest.events_from_payload

    def parse(payload: Any) -> Any:
        parsed_on.append(threading.get_ident())
        return real_parse(payload)

    monkeypatch.setattr(ingest, "events_from_payload", parse)
    loop_thread = threading.get_ident()
    names = consistent_fixture_names()[:4]
    async with running_listener(tmp_path / "groups.db") as running:
        # WHEN deliveries arrive
        answers = await asyncio.gather(
            *(running.post_signed(fixture_bytes(name)) for name in names)
        )
        assert [r.status_code for r in answers] == [200] * len(names)
        await running.ingest.wait_idle()  # applied after the 200s
        assert (await running.store.raw.stats()).applied == len(names)
    # THEN each body was parsed on the loop's thread as it arrived, not inside the
    # writer's transactions (which hold only the inserts, then the applying)
    writer = {thread for thread, sql in traced if sql.startswith("INSERT INTO raw_events")}
    assert parsed_on == [loop_thread] * len(names)
    assert loop_thread not in writer
