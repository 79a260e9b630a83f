"""Reading a group through the API is idempotent and agrees with the webhooks.

A read (:class:`GroupRead`) records only what differs from the store: a member not seen
before joins, one gone since leaves, both at the read's time and marked observed. The
webhook for the same change, whenever it arrives, takes the observation's place, so the
order of reads and webhooks does not change the outcome.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.events import GroupRead, ParticipantRef
from groups_tui.store import Store

from .conftest import G1, created, join_request, joined, left, person, removed

A, B, C = "111", "222", "333"


def read(*members: str | ParticipantRef, at: int) -> GroupRead:
    refs = tuple(m if isinstance(m, ParticipantRef) else person(m) for m in members)
    return GroupRead(
        group_id=G1,
        subject="Order 1042",
        join_approval_mode="auto_approve",
        created_at=50,
        participants=refs,
        at=at,
    )


def table(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def history(path: Path) -> list[tuple[Any, ...]]:
    return table(
        path,
        "SELECT participant_key, action, at, via, observed FROM participant_history "
        "ORDER BY participant_key, at, action",
    )


def members(path: Path) -> list[tuple[Any, ...]]:
    return table(
        path,
        "SELECT participant_key, state, state_at, joined_at, joined_via FROM participants "
        "ORDER BY participant_key",
    )


async def apply_each(path: Path, events: list[Any]) -> None:
    store = await Store.open(path)
    try:
        for event in events:
            await store.raw.apply_events(None, [event])
    finally:
        await store.close()


async def test_reading_the_same_members_again_records_nothing(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        # GIVEN a group first known from a read
        await store.raw.apply_events(None, [read(A, B, at=1000)])
        first = history(db_path)
        joined_at = {m.key: m.joined_at for m in await store.groups.members(G1)}
        feed = await store.feed.latest_id()

        # WHEN it is read five more times with the same members
        for i in range(1, 6):
            await store.raw.apply_events(None, [read(A, B, at=1000 + 60 * i)])

        # THEN no history row, no joined_at change and no change-feed row was added
        assert history(db_path) == first
        assert first == [(A, "join", 1000, "invite_link", 1), (B, "join", 1000, "invite_link", 1)]
        assert {m.key: m.joined_at for m in await store.groups.members(G1)} == joined_at
        assert await store.feed.latest_id() == feed
        group = await store.groups.get(G1)
        assert group is not None and group.subject == "Order 1042"
    finally:
        await store.close()


async def test_a_read_records_one_join_and_one_leave_for_what_changed(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        await store.raw.apply_events(None, [read(A, B, at=1000)])
        # B left and C joined, and no webhook told us.
        await store.raw.apply_events(None, [read(A, C, at=2000)])
        await store.raw.apply_events(None, [read(A, C, at=3000)])
        assert [m.key for m in await store.groups.members(G1)] == [A, C]
        changes = [(c.kind, c.entity) for c in await store.feed.since(0)]
    finally:
        await store.close()
    assert history(db_path) == [
        (A, "join", 1000, "invite_link", 1),
        (B, "join", 1000, "invite_link", 1),
        (B, "leave", 2000, None, 1),
        (C, "join", 2000, "invite_link", 1),
    ]
    assert changes[-2:] == [("participant.joined", C), ("participant.left", B)]


async def test_a_webhook_join_then_a_read_is_not_doubled(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        await store.raw.apply_events(None, [created(at=50), joined(A, 500)])
        feed = await store.feed.latest_id()
        await store.raw.apply_events(None, [read(A, at=1000)])
        assert await store.feed.latest_id() == feed
    finally:
        await store.close()
    assert history(db_path) == [(A, "join", 500, "invite_link", 0)]
    assert members(db_path) == [(A, "present", 500, 500, "invite_link")]


async def test_a_read_fills_in_identity_the_webhook_lacked(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        await store.raw.apply_events(None, [created(at=50), joined(A, 500)])
        await store.raw.apply_events(None, [read(person(A, username="ana"), at=1000)])
        [member] = await store.groups.members(G1)
        kinds = [c.kind for c in await store.feed.since(0)]
    finally:
        await store.close()
    assert member.username == "ana" and member.joined_at == 500
    assert kinds[-1] == "participant.updated"
    assert len(history(db_path)) == 1


async def test_an_exit_newer_than_the_read_is_kept(db_path: Path) -> None:
    # The webhook says A left at 1500; a read made at 1000 still listed A.
    await apply_each(db_path, [created(at=50), joined(A, 500), left(A, 1500), read(A, at=1000)])
    assert members(db_path) == [(A, "left", 1500, 500, "invite_link")]
    assert [h[:3] for h in history(db_path)] == [(A, "join", 500), (A, "leave", 1500)]


def same_outcome(tmp_path: Path, first: list[Any], second: list[Any]) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    asyncio.run(apply_each(one, first))
    asyncio.run(apply_each(two, second))
    assert members(one) == members(two)
    assert history(one) == history(two)


def test_a_join_seen_by_a_read_then_told_by_its_webhook(tmp_path: Path) -> None:
    # Webhook first, read second ...
    webhook_first = [created(at=50), joined(A, 500), read(A, at=1000)]
    # ... or the read first (the listener was down), the late webhook second.
    read_first = [created(at=50), read(A, at=1000), joined(A, 500)]
    same_outcome(tmp_path, webhook_first, read_first)
    assert history(tmp_path / "two.db") == [(A, "join", 500, "invite_link", 0)]
    assert members(tmp_path / "two.db") == [(A, "present", 500, 500, "invite_link")]


def test_an_exit_seen_by_a_read_then_told_by_its_webhook(tmp_path: Path) -> None:
    for exit_event in (left(A, 600), removed(f"+{A}", 600)):
        base = [created(at=50), joined(A, 500), joined(B, 500)]
        same_outcome(
            tmp_path,
            [*base, exit_event, read(B, at=1000)],
            [*base, read(B, at=1000), exit_event],
        )
        state = members(tmp_path / "two.db")[0]
        assert state[:3] == (
            A,
            "removed" if exit_event.event_kind != "participant.left" else "left",
            600,
        )
        assert all(observed == 0 for *_, observed in history(tmp_path / "two.db"))
        for db in ("one.db", "two.db"):
            (tmp_path / db).unlink()


def test_an_approved_request_settles_on_the_webhook_join_time(tmp_path: Path) -> None:
    base = [created(at=50), join_request("jr1", A, 300)]
    same_outcome(
        tmp_path,
        [*base, joined(A, 500), read(A, at=1000)],
        [*base, read(A, at=1000), joined(A, 500)],
    )
    [(key, state, state_at, joined_at, via)] = members(tmp_path / "two.db")
    assert (joined_at, via) == (500, "approval")
    jr = table(tmp_path / "two.db", "SELECT state, state_at FROM join_requests")
    assert jr == [("approved", 500)]


def test_a_rejoin_after_an_observed_leave_is_a_new_change(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    asyncio.run(apply_each(path, [created(at=50), joined(A, 500), read(at=1000), joined(A, 1500)]))
    assert history(path) == [
        (A, "join", 500, "invite_link", 0),
        (A, "leave", 1000, None, 1),
        (A, "join", 1500, "invite_link", 0),
    ]


# --------------------------------------------------------------------------- property

PEOPLE = [A, B, C]


@st.composite
def timelines(draw: st.DrawFn) -> list[tuple[int, str, str]]:
    """A true membership history: per person, joins and exits alternating in time."""
    changes: list[tuple[int, str, str]] = []
    for who in PEOPLE:
        t = 0
        for i in range(draw(st.integers(0, 4))):
            joining = i % 2 == 0
            # An exit may share its join's second (exits win ties); a rejoin comes later.
            t += draw(st.integers(1 if joining else 0, 15))
            kind = "join" if joining else draw(st.sampled_from(["leave", "remove"]))
            changes.append((2 * t, who, kind))  # events at even seconds
    return changes


def truth_at(changes: list[tuple[int, str, str]], at: int) -> list[str]:
    present: set[str] = set()
    for t, who, kind in sorted(changes, key=lambda c: (c[0], c[2] != "join")):
        if t < at:
            (present.add if kind == "join" else present.discard)(who)
    return sorted(present)


def webhook(change: tuple[int, str, str]) -> Any:
    t, who, kind = change
    if kind == "join":
        return joined(who, t)
    if kind == "leave":
        return left(who, t)
    return removed(f"+{who}", t)


@settings(max_examples=80, deadline=None)
@given(changes=timelines(), data=st.data())
def test_reads_between_late_webhooks_end_as_the_webhooks_alone(
    tmp_path_factory: Any, changes: list[tuple[int, str, str]], data: st.DataObject
) -> None:
    # Reads happen at odd seconds and list the true members at that moment; every
    # webhook arrives eventually, in any order, interleaved with the reads.
    read_times = data.draw(st.lists(st.integers(0, 62).map(lambda n: 2 * n + 1), max_size=4))
    reads = [read(*truth_at(changes, t), at=t) for t in read_times]
    hooks = [webhook(c) for c in changes]
    arrival = data.draw(st.permutations([*hooks, *reads]))
    base = tmp_path_factory.mktemp("reads")
    alone, mixed = base / "alone.db", base / "mixed.db"
    asyncio.run(apply_each(alone, [created(at=1), *hooks]))
    asyncio.run(apply_each(mixed, [created(at=1), *arrival]))
    assert members(mixed) == members(alone)
    assert history(mixed) == history(alone)
