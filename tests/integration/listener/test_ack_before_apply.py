"""The 200 follows the raw log's durable commit; applying to state comes after it.

Applying is held up on the writer's thread (the store's ``apply_isolated`` waits for a
gate), so the test sees the moment between the two: the delivery is acknowledged, the
raw row is on disk and not yet applied. A crash then is simulated by copying the
database files as they are (the committed raw row is in the WAL; anything uncommitted
would be ignored on open, as after a SIGKILL): a listener opened on the copy applies the
row when it starts. ``test_kill.py`` does the same with real SIGKILLs.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from groups_tui.domain.models import DeliveryState
from groups_tui.listener import ingest
from groups_tui.store import raw_log
from groups_tui.store.raw_log import Logged, RawLog
from tests.helpers.webhooks import consistent_fixture_names, fixture_bytes

from .support import running_listener

SENT_WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA"


def _copy_as_crashed(db: Path, dest: Path) -> None:
    """The database's files as a crash would leave them (the shared memory is rebuilt)."""
    for suffix in ("", "-wal"):
        source = db.with_name(db.name + suffix)
        if source.exists():
            shutil.copyfile(source, dest.with_name(dest.name + suffix))


async def test_the_200_does_not_wait_for_applying_and_a_crash_then_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real_apply = raw_log.apply_isolated

    def held_apply(*args: Any, **kwargs: Any) -> Any:
        gate.wait(30)
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(raw_log, "apply_isolated", held_apply)
    db = tmp_path / "groups.db"
    crashed = tmp_path / "crashed.db"
    async with running_listener(db) as running:
        try:
            # GIVEN applying held up on the writer's thread
            # WHEN a delivery arrives
            post = asyncio.ensure_future(running.post_signed(fixture_bytes("statuses_sent_group")))
            done, _ = await asyncio.wait({post}, timeout=10)
            # THEN it is acknowledged once logged, without waiting for the applying
            assert done, "the 200 waited for applying"
            assert post.result().status_code == 200
            stats = await running.store.raw.stats()
            assert (stats.total, stats.applied) == (1, 0)
            assert await running.store.messages.state(SENT_WAMID) is None
            # (and the process dies now: its files as they are)
            _copy_as_crashed(db, crashed)
        finally:
            gate.set()
        # AND once applying resumes the state follows
        await running.ingest.wait_idle()
        stats = await running.store.raw.stats()
        assert (stats.total, stats.applied, stats.errors) == (1, 1, 0)
        assert await running.store.messages.state(SENT_WAMID) is DeliveryState.SENT
    monkeypatch.undo()
    # AND a listener started on the crashed files applies the logged row first thing
    async with running_listener(crashed) as restarted:
        await restarted.ingest.wait_idle()
        stats = await restarted.store.raw.stats()
        assert (stats.total, stats.applied, stats.errors) == (1, 1, 0)
        assert await restarted.store.messages.state(SENT_WAMID) is DeliveryState.SENT


async def test_a_burst_with_duplicates_is_logged_once_and_applied_after_its_200s(
    tmp_path: Path,
) -> None:
    names = consistent_fixture_names()
    async with running_listener(tmp_path / "groups.db") as running:
        # WHEN a burst of deliveries, some of them twice, is acknowledged
        answers = await asyncio.gather(
            *(running.post_signed(fixture_bytes(name)) for name in names + names[:5])
        )
        assert {a.status_code for a in answers} == {200}
        await running.ingest.wait_idle()
        # THEN every body is logged once and applied, and the counters say so
        stats = await running.store.raw.stats()
        assert (stats.total, stats.applied, stats.errors) == (len(names), len(names), 0)
        assert running.ingest.stored == len(names)
        assert running.ingest.duplicates == 5
        assert running.ingest.applied == len(names)
        assert running.ingest.apply_failures == 0


async def test_an_apply_transaction_that_fails_is_tried_again_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the first apply transaction fails as a whole (a lock held too long elsewhere)
    monkeypatch.setattr(ingest, "APPLY_RETRY_SECONDS", 0.01)
    calls = 0
    real_apply = RawLog.apply_logged

    async def flaky(self: RawLog, rows: Sequence[Logged]) -> list[tuple[int, str]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sqlite3.OperationalError("database is locked")
        return await real_apply(self, rows)

    monkeypatch.setattr(RawLog, "apply_logged", flaky)
    async with running_listener(tmp_path / "groups.db") as running:
        # WHEN a delivery is acknowledged
        await running.deliver([fixture_bytes("statuses_sent_group")])
        # THEN the row is read back from the log and applied on a later attempt
        stats = await running.store.raw.stats()
        assert (stats.total, stats.applied, stats.errors) == (1, 1, 0)
        assert calls == 2
        assert await running.store.messages.state(SENT_WAMID) is DeliveryState.SENT


async def test_rows_that_never_apply_are_left_unapplied_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN every apply transaction failing
    monkeypatch.setattr(ingest, "APPLY_RETRY_SECONDS", 0.01)

    async def broken(self: RawLog, rows: Sequence[Logged]) -> list[tuple[int, str]]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(RawLog, "apply_logged", broken)
    db = tmp_path / "groups.db"
    async with running_listener(db) as running:
        # WHEN a delivery is acknowledged
        await running.deliver([fixture_bytes("statuses_sent_group")])
        # THEN the writer gives up after a few attempts (idle again), the row unapplied
        stats = await running.store.raw.stats()
        assert (stats.total, stats.applied) == (1, 0)
    monkeypatch.undo()
    # AND the next start applies it
    async with running_listener(db) as restarted:
        await restarted.ingest.wait_idle()
        stats = await restarted.store.raw.stats()
        assert (stats.total, stats.applied, stats.errors) == (1, 1, 0)
