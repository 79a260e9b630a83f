"""An event that cannot be applied is rolled back alone, recorded, and can be applied later.

A failure is simulated by an applier handler that writes and then raises (a bug of some
version); "the upgrade" is undoing that patch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from groups_tui.domain.events import DomainEvent, SettingsChanged
from groups_tui.store import RawEventIn, Store
from groups_tui.store.apply.groups import GroupApplier
from groups_tui.store.records import FAILED_EVENTS_COUNTER

from .conftest import G1, created, inbound


class BrokenSettings:
    """Makes settings changes fail after they wrote (so a leak of their writes shows)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        original = GroupApplier.settings_changed

        def broken(applier: GroupApplier, event: SettingsChanged) -> None:
            original(applier, event)
            raise RuntimeError("settings handler bug")

        monkeypatch.setattr(GroupApplier, "settings_changed", broken)

    def fix(self) -> None:
        self.monkeypatch.undo()


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> Iterator[BrokenSettings]:
    yield BrokenSettings(monkeypatch)


BODY: list[DomainEvent] = [
    created(at=100, subject="Before"),
    SettingsChanged(group_id=G1, request_id="set-1", subject="After", at=200),
    inbound("wamid.1", at=300),
]
BODIES: dict[bytes, Sequence[DomainEvent]] = {b"three-events": BODY, b"fine": [inbound("w2", 400)]}


def parse(body: bytes) -> Sequence[DomainEvent]:
    return BODIES[bytes(body)]


def _raw(body: bytes) -> RawEventIn:
    return RawEventIn(body=body, dedupe_key=body.decode(), received_at=1.0)


def _raw_row(db_path: Path, body: bytes) -> tuple[str, str | None, bool]:
    with sqlite3.connect(db_path) as conn:
        state, error, applied = conn.execute(
            "SELECT parse_state, error, applied_at IS NOT NULL FROM raw_events "
            "WHERE id = (SELECT id FROM raw_bodies WHERE body = ?)",
            (body,),
        ).fetchone()
    return state, error, bool(applied)


async def _assert_one_failure(store: Store, db_path: Path, raw_id: int) -> None:
    # THEN the two good events are applied, the bad one left no trace in the state
    group = await store.groups.get(G1)
    assert group is not None and group.subject == "Before"
    assert await store.messages.get("wamid.1") is not None
    kinds = [c.kind for c in await store.feed.since(0)]
    assert "group.created" in kinds and "message.received" in kinds
    assert "group.updated" not in kinds and "event.failed" in kinds
    # AND it is recorded with enough to find it again
    [failure] = await store.raw.failures()
    assert (failure.raw_id, failure.index, failure.kind) == (raw_id, 1, "group.updated")
    assert failure.group_id == G1 and failure.at == 200
    assert failure.event_key == BODY[1].dedupe_key
    assert "RuntimeError: settings handler bug" in failure.reason
    # AND the raw row keeps its body, is marked error with a summary, and is counted
    state, error, applied = _raw_row(db_path, b"three-events")
    assert (state, applied) == ("error", True)
    assert error is not None and error.startswith("1 of 3 events not applied; event 1")
    stats = await store.raw.stats()
    assert (stats.errors, stats.failed_events, stats.applied) == (1, 1, stats.total)
    assert (await store.raw.counters())[FAILED_EVENTS_COUNTER] == 1


async def test_a_failing_event_is_rolled_back_alone_on_the_listener_path(
    store: Store, db_path: Path, broken: BrokenSettings
) -> None:
    # GIVEN a body of three events whose middle one fails, logged beside a good body
    results, failures = await store.raw.insert_and_apply(
        [_raw(b"fine"), _raw(b"three-events")], lambda i: parse([b"fine", b"three-events"][i])
    )
    # THEN only that row is reported, and the other body is applied as usual
    assert [raw_id for raw_id, _ in failures] == [results[1].raw_id]
    assert _raw_row(db_path, b"fine") == ("ok", None, True)
    await _assert_one_failure(store, db_path, results[1].raw_id)


async def test_a_failing_event_is_rolled_back_alone_on_recovery(
    store: Store, db_path: Path, broken: BrokenSettings
) -> None:
    # GIVEN the body logged earlier but not applied (a crash), then applied on restart
    [result] = await store.raw.insert([_raw(b"three-events")])
    await store.raw.apply_logged([(result.raw_id, lambda: parse(b"three-events"))])
    await _assert_one_failure(store, db_path, result.raw_id)


async def test_replay_of_failed_events_applies_them_once_fixed(
    store: Store, db_path: Path, broken: BrokenSettings
) -> None:
    [result], _ = await store.raw.insert_and_apply([_raw(b"three-events")], lambda _: BODY)
    applied_before = [c for c in await store.feed.since(0) if c.kind == "message.received"]
    # WHEN the cause is fixed (an upgrade) and the failed events are applied again
    broken.fix()
    rows, still = await store.raw.reapply_failed(parse)
    # THEN the failed event is applied, only it, and nothing is left failing
    assert (rows, still) == (1, [])
    group = await store.groups.get(G1)
    assert group is not None and group.subject == "After" and group.unread == 1
    received = [c for c in await store.feed.since(0) if c.kind == "message.received"]
    assert received == applied_before
    assert await store.raw.failures() == []
    assert _raw_row(db_path, b"three-events") == ("ok", None, True)
    stats = await store.raw.stats()
    assert (stats.errors, stats.failed_events) == (0, 0)
    assert (await store.raw.counters())[FAILED_EVENTS_COUNTER] == 0


async def test_replay_of_failed_events_keeps_what_still_fails(
    store: Store, broken: BrokenSettings
) -> None:
    [result], _ = await store.raw.insert_and_apply([_raw(b"three-events")], lambda _: BODY)
    rows, still = await store.raw.reapply_failed(parse)
    assert rows == 1 and [raw_id for raw_id, _ in still] == [result.raw_id]
    assert [f.index for f in await store.raw.failures()] == [1]
    assert (await store.raw.counters())[FAILED_EVENTS_COUNTER] == 1


async def test_a_body_that_cannot_be_parsed_is_one_failure_replayed_whole(
    store: Store, db_path: Path
) -> None:
    # GIVEN a body the parser of this version chokes on
    def choke(_: int) -> Sequence[DomainEvent]:
        raise ValueError("parser bug")

    [result], failures = await store.raw.insert_and_apply([_raw(b"three-events")], choke)
    assert failures == [(result.raw_id, "parse: ValueError: parser bug")]
    [failure] = await store.raw.failures()
    assert (failure.index, failure.kind, failure.event_key) == (-1, "body", None)
    # WHEN a fixed parser applies it again, THEN all of it is applied
    assert await store.raw.reapply_failed(parse) == (1, [])
    group = await store.groups.get(G1)
    assert group is not None and group.subject == "After"
    assert await store.messages.get("wamid.1") is not None
    assert (await store.raw.stats()).failed_events == 0


async def test_failures_are_derived_state_that_a_full_replay_records_again(
    store: Store, broken: BrokenSettings
) -> None:
    await store.raw.insert_and_apply([_raw(b"three-events"), _raw(b"fine")], _by_index)
    digest = await store.raw.state_digest()
    before = await store.raw.failures()
    await store.raw.reset_derived_state()
    assert (await store.raw.counters())[FAILED_EVENTS_COUNTER] == 0
    await store.raw.replay(parse)
    assert await store.raw.state_digest() == digest
    assert [(f.raw_id, f.index, f.reason) for f in await store.raw.failures()] == [
        (f.raw_id, f.index, f.reason) for f in before
    ]
    assert (await store.raw.counters())[FAILED_EVENTS_COUNTER] == 1


def _by_index(i: int) -> Sequence[DomainEvent]:
    return parse([b"three-events", b"fine"][i])


async def test_apply_events_still_rolls_back_a_failing_batch_whole(
    store: Store, broken: BrokenSettings
) -> None:
    # The service's own writes (a sync) are not webhooks: they fail as a whole, visibly.
    events: list[Any] = list(BODY)
    with pytest.raises(RuntimeError):
        await store.raw.apply_events(None, events)
    assert await store.groups.get(G1) is None


async def test_a_failure_stored_with_an_earlier_kind_reads_with_todays(
    store: Store, db_path: Path
) -> None:
    # GIVEN a failure recorded by a version that spelled kinds `settings_changed`
    await store.db.execute_write_fn(
        lambda conn: conn.execute(
            "INSERT INTO event_failures(raw_id, idx, kind, group_id, event_key, at, reason, "
            "failed_at) VALUES (7, 0, 'settings_changed', ?, 'k', 200, 'bug', 1.0)",
            (G1,),
        )
    )
    # THEN it reads with the change feed's spelling, as every kind today
    [failure] = await store.raw.failures()
    assert failure.kind == "group.updated"
