"""Applying a batch set-based gives the state applying it event by event gives.

Outside isolation the applier defers a batch's inbound messages and stores them in
multi-row inserts (``store/apply/messages.py``), and applies its statuses set-based
(``store/apply/statuses.py``: stored rows read once, decided in Python, each row written
once); these tests pin that down: the statement counts, equality with one-by-one applying
for any mix and order (derandomized properties over the order property's histories and
over statuses of a few messages and members), the ledger and the change feed, and a bad
event in a batch of good ones.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.events import DomainEvent, EventError, ParticipantsJoined
from groups_tui.store import Pricing, RawEventIn, Store, codec
from groups_tui.store.apply import Applier
from groups_tui.store.apply import statuses as statuses_module

from .conftest import G1, G2, created, flat_cost, inbound, joined, person, pricing, status
from .test_order_property import histories


async def _one_by_one(events: Sequence[Any]) -> str:
    store = await Store.open(":memory:", pricing=Pricing(flat_cost))
    try:
        for event in events:
            await store.raw.apply_events(None, [event])
        return await store.raw.state_digest()
    finally:
        await store.close()


async def _one_batch(events: Sequence[Any]) -> str:
    store = await Store.open(":memory:", pricing=Pricing(flat_cost))
    try:
        await store.raw.apply_batch([(None, [event]) for event in events])
        return await store.raw.state_digest()
    finally:
        await store.close()


_FEED_SQL = "SELECT kind, group_id, entity, at, raw_id, payload FROM change_feed ORDER BY id"
_LEDGER_SQL = "SELECT * FROM cost_ledger ORDER BY id"
_STATUS_SQL = (
    "SELECT * FROM recipient_status ORDER BY message_id, participant_key",
    "SELECT * FROM message_delivery ORDER BY message_id",
)


async def _outcome(
    before: Sequence[Any], events: Sequence[Any], *, batch: bool
) -> tuple[str, list[Any], list[Any], list[Any]]:
    """Apply ``before`` one by one, then ``events`` as one batch, or one by one through
    the statements (each event in its own savepoint, nothing deferred).

    Returns the state digest, the change feed, the ledger (in line order) and the
    status rows.
    """
    prices = Pricing(flat_cost)
    store = await Store.open(":memory:", pricing=prices)
    try:
        for event in before:
            await store.raw.apply_events(None, [event])
        if batch:
            await store.raw.apply_batch([(None, [event]) for event in events])
        else:

            def one_by_one(conn: sqlite3.Connection) -> None:
                applier = Applier(conn, cost_fn=prices.cost_fn, market_fn=prices.market_fn, now=0.0)
                for event in events:
                    applier.apply(None, [event], isolate=True)
                applier.flush()
                assert applier.failures == []

            await store.db.execute_write_fn(one_by_one)

        def read(conn: sqlite3.Connection) -> tuple[list[Any], list[Any], list[Any]]:
            statuses = [row for sql in _STATUS_SQL for row in conn.execute(sql).fetchall()]
            return (
                conn.execute(_FEED_SQL).fetchall(),
                conn.execute(_LEDGER_SQL).fetchall(),
                statuses,
            )

        feed, ledger, rows = await store.db.execute_write_fn(read)
        return await store.raw.state_digest(), feed, ledger, rows
    finally:
        await store.close()


_ERRORS = (
    (),
    (EventError(131000, "Something went wrong"),),
    (EventError(131026, "Message undeliverable"),),
    (EventError(None, None, "no code"),),
)
_PRICES = (None, pricing(), pricing("group_marketing"), pricing("group_utility", False))


async def _statements_of_batch(before: Sequence[Any], events: Sequence[Any]) -> list[str]:
    """The SQL run to apply ``events`` as one batch, after ``before`` one by one."""
    store = await Store.open(":memory:", pricing=Pricing(flat_cost))
    statements: list[str] = []
    try:
        for event in before:
            await store.raw.apply_events(None, [event])
        await store.db.execute_write_fn(lambda c: c.set_trace_callback(statements.append))
        await store.raw.apply_batch([(None, [event]) for event in events])
        await store.db.execute_write_fn(lambda c: c.set_trace_callback(None))
    finally:
        await store.close()
    return statements


@st.composite
def _statuses(draw: st.DrawFn) -> Any:
    """A status of two messages, the group or one of two members, in a narrow time range."""
    state = draw(st.sampled_from(("sent", "delivered", "read", "failed", "played")))
    member = draw(st.sampled_from((None, "111", "222")))
    return status(
        draw(st.sampled_from(("out1", "out2"))),
        state,
        draw(st.integers(100, 102)),
        member,
        pricing=None if member is None else draw(st.sampled_from(_PRICES)),
        errors=draw(st.sampled_from(_ERRORS)) if state == "failed" else (),
    )


# derandomize: the examples follow from the test itself (a fixed seed), the same on
# every run and machine; a failure prints the falsifying example.
@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    stored=st.lists(_statuses(), max_size=6),
    events=st.lists(_statuses(), min_size=1, max_size=24),
    data=st.data(),
)
def test_statuses_in_one_batch_in_any_order_equal_one_by_one(
    stored: list[Any], events: list[Any], data: st.DataObject
) -> None:
    # GIVEN statuses already applied (stored rows and ledger lines), and a batch of
    # statuses of the same messages and members: every state, ties, errors, pricing,
    # repeats (duplicates drawn, and the batch twice over)
    before = [created(at=1), joined("111", 50), *stored]
    batch = [*events, *data.draw(st.lists(st.sampled_from(events), max_size=4))]
    shuffled = list(data.draw(st.permutations(batch)))
    # WHEN applied one by one, or as one batch in that order or another
    expected = asyncio.run(_outcome(before, batch, batch=False))
    # THEN the state, the change feed (rows, order and payloads), the ledger lines (in
    # line order) and the status rows are the same
    assert asyncio.run(_outcome(before, batch, batch=True)) == expected
    one_by_one = asyncio.run(_outcome(before, shuffled, batch=False))
    assert asyncio.run(_outcome(before, shuffled, batch=True)) == one_by_one
    assert one_by_one[0] == expected[0]  # arrival order never decides the state


async def test_statuses_one_by_one_are_decided_by_the_rules_a_batch_uses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the delivery and ledger rules' one definition each, watched
    decided: list[str] = []
    wins, replaces = statuses_module._wins, statuses_module.replaces

    def watched_wins(new: Any, old: Any) -> bool:
        decided.append("delivery")
        return wins(new, old)

    def watched_replaces(new: Any, old: Any) -> bool:
        decided.append("ledger")
        return replaces(new, old)

    monkeypatch.setattr(statuses_module, "_wins", watched_wins)
    monkeypatch.setattr(statuses_module, "replaces", watched_replaces)
    events = [
        status("out1", "delivered", 100, "111", pricing=pricing()),
        status("out1", "read", 101, "111", pricing=pricing("group_marketing")),
        status("out1", "sent", 99, None),
        status("out1", "delivered", 102, None),
    ]
    # WHEN they are applied one by one, each alone in its savepoint
    one_by_one = await _outcome([created(at=1)], events, batch=False)
    # THEN those rules decided every status that met a stored row, as in a batch
    assert decided.count("delivery") == 2 and decided.count("ledger") == 1
    assert one_by_one == await _outcome([created(at=1)], events, batch=True)


async def test_a_batch_of_statuses_is_written_in_a_few_statements_with_the_same_outcome() -> None:
    # GIVEN 300 priced statuses of 30 messages (10 members each, delivered then read,
    # some repeated), after some of them were applied already
    before = [created(at=1), joined("10", 50)]
    before += [status(f"out{n}", "delivered", 90, "10", pricing=pricing()) for n in range(5)]
    events: list[Any] = []
    for n in range(300):
        state = "read" if n % 3 == 0 else "delivered"
        events.append(status(f"out{n % 30}", state, 100 + n % 11, f"1{n % 10}", pricing=pricing()))
    events += events[:20]
    # WHEN they are applied as one batch
    statements = await _statements_of_batch(before, events)
    # THEN the status rows and ledger lines took a handful of statements, not one each
    writes = [
        s
        for s in statements
        if s.startswith(("INSERT INTO recipient_status", "INSERT OR IGNORE INTO cost_ledger"))
        or s.startswith(("UPDATE recipient_status", "UPDATE cost_ledger"))
    ]
    print(f"{len(writes)} status and ledger statements")
    assert 2 <= len(writes) <= 12
    # AND the outcome (state, change feed, ledger, statuses) is the one-by-one one
    assert await _outcome(before, events, batch=True) == await _outcome(before, events, batch=False)


async def test_a_batch_looks_its_members_and_messages_up_in_a_few_queries() -> None:
    # GIVEN members known by a business-scoped id and a number, and by a number only
    # (two rows match the number "12": the query decides between them), then a batch of
    # messages and statuses that name them by number, with a member joining in the middle
    # (after which the rows read ahead no longer hold) and repeated messages
    def member(wa_id: str, user_id: str | None, at: int) -> ParticipantsJoined:
        return ParticipantsJoined(
            group_id=G1, participants=(person(wa_id, user_id=user_id),), via="invite_link", at=at
        )

    before = [created(at=1), member("10", "US.10", 50), member("11", None, 51)]
    before += [member("12", "US.12", 52), member("12", None, 53), inbound("wamid.0", 60)]
    events: list[Any] = []
    for n in range(120):
        wa_id = str(10 + n % 20)
        events.append(inbound(f"wamid.{n % 100}", 100 + n, wa_id=wa_id))
        events.append(status(f"out{n % 7}", "delivered", 100 + n, wa_id, pricing=pricing()))
        if n == 110:
            events.append(member("99", "US.99", 150))
    # WHEN they are applied as one batch
    statements = await _statements_of_batch(before, events)
    # THEN members and stored messages were read ahead, not looked up one by one (but
    # for the ambiguous number, and after the join)
    lookups = [s for s in statements if s.startswith("SELECT participant_key FROM participants")]
    stored = [s for s in statements if s.startswith("SELECT 1 FROM messages")]
    print(f"{len(lookups)} member lookups, {len(stored)} message lookups")
    assert 1 <= len(lookups) <= 12
    assert 1 <= len(stored) <= 12
    # AND the outcome is the one-by-one one (each member's key as the query gives it)
    assert await _outcome(before, events, batch=True) == await _outcome(before, events, batch=False)


async def test_a_bad_status_in_a_batch_of_good_ones_fails_alone(tmp_path: Path) -> None:
    # GIVEN a replay batch of good priced statuses with one that cannot be stored (no
    # time: NOT NULL), in a body with good neighbours, so the set-based write fails
    bad = status("out1", "read", 0, "13", pricing=pricing())
    object.__setattr__(bad, "at", None)
    bodies: dict[bytes, Sequence[DomainEvent]] = {b"create": [created(at=1)]}
    for n in range(30):
        bodies[f"st-{n}".encode()] = [
            status("out1", "delivered", 100 + n, f"1{n}", pricing=pricing())
        ]
        if n == 12:
            bodies[b"bad"] = [status("out2", "read", 95, "7"), bad, inbound("wamid.x", 90)]
    # WHEN the log is replayed (the batch, then event by event)
    store = await _replayed(tmp_path / "store.db", bodies)
    try:
        # THEN only the bad status failed, with its reason; the others are applied
        [failure] = await store.raw.failures()
        assert (failure.index, failure.kind) == (1, "message.status")
        assert "NOT NULL constraint failed: recipient_status.at" in failure.reason
        assert await store.messages.get("wamid.x") is not None
        stats = await store.raw.stats()
        assert (stats.applied, stats.errors, stats.failed_events) == (len(bodies), 1, 1)
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        statuses = conn.execute("SELECT count(*) FROM recipient_status").fetchone()[0]
        ledger = conn.execute("SELECT count(*) FROM cost_ledger").fetchone()[0]
        charged = conn.execute(
            "SELECT count(*) FROM change_feed WHERE kind = 'cost.charged'"
        ).fetchone()[0]
    assert (statuses, ledger, charged) == (31, 30, 30)


async def _replayed(db_path: Path, bodies: dict[bytes, Sequence[DomainEvent]]) -> Store:
    """A store whose raw log holds ``bodies`` (in order), applied by one replay batch."""
    store = await Store.open(db_path, pricing=Pricing(flat_cost))
    await store.raw.insert(
        [RawEventIn(body=b, dedupe_key=b.decode(), received_at=1.0) for b in bodies]
    )
    await store.raw.replay(lambda body: bodies[bytes(body)])
    return store


async def test_a_batch_of_messages_is_stored_in_a_few_inserts_with_the_same_state() -> None:
    # GIVEN 200 inbound messages of two groups, with statuses and a join among them
    events: list[Any] = [created(G1, at=1), created(G2, at=1, request_id="req-2")]
    for n in range(200):
        events.append(
            inbound(f"wamid.{n:03d}", 100 + n % 7, group_id=(G1, G2)[n % 2], wa_id=f"1{n % 5}")
        )
        if n % 10 == 0:
            events.append(status("out1", "delivered", 100 + n, f"1{n % 5}", pricing=pricing()))
    events.insert(150, joined("10", 103))
    store = await Store.open(":memory:", pricing=Pricing(flat_cost))
    statements: list[str] = []
    try:
        await store.db.execute_write_fn(lambda c: c.set_trace_callback(statements.append))
        # WHEN they are applied as one batch
        await store.raw.apply_batch([(None, [event]) for event in events])
        await store.db.execute_write_fn(lambda c: c.set_trace_callback(None))
        digest = await store.raw.state_digest()
        unread = [(await store.groups.get(g)).unread for g in (G1, G2)]  # type: ignore[union-attr]
    finally:
        await store.close()
    # THEN the messages took a handful of INSERT statements, not one each (the join
    # in the middle writes what came before it first)
    # (the trace repeats a statement at each trigger it runs: count distinct texts)
    inserts = {s for s in statements if s.startswith("INSERT INTO messages(")}
    print(f"{len(inserts)} message inserts")
    assert 2 <= len(inserts) <= 6
    # AND the state is the one applying them one by one gives
    assert unread == [100, 100]
    assert digest == await _one_by_one(events)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(events=histories(), data=st.data())
def test_one_batch_in_any_order_gives_the_state_of_one_by_one(
    events: list[Any], data: st.DataObject
) -> None:
    # Messages, statuses of the same message in any order, repeats, joins between them.
    shuffled = list(data.draw(st.permutations(events)))
    expected = asyncio.run(_one_by_one(events))
    assert asyncio.run(_one_batch(shuffled)) == expected
    assert asyncio.run(_one_batch(events)) == expected


async def test_statuses_of_one_message_in_any_order_in_one_batch() -> None:
    deliveries = [
        inbound("wamid.in", 150, wa_id="111"),
        status("out1", "delivered", 200, "111", pricing=pricing()),
        status("out1", "read", 205, "111", pricing=pricing()),
        status("out1", "delivered", 201, "111", pricing=pricing("group_marketing")),
        inbound("wamid.in", 150, wa_id="111"),  # a repeat
        status("out1", "delivered", 199, "222", pricing=pricing()),
        status("out1", "read", 199, "222"),
    ]
    expected = await _one_by_one([created(at=1), *deliveries])
    for order in (deliveries, deliveries[::-1], deliveries[2:] + deliveries[:2]):
        assert await _one_batch([created(at=1), *order]) == expected


async def test_a_bad_message_in_a_batch_of_good_ones_fails_alone(tmp_path: Path) -> None:
    # GIVEN a replay batch of good messages and statuses with one message that cannot be
    # stored (no time: NOT NULL), so the batch's multi-row insert fails
    bad = inbound("wamid.bad", 0)
    object.__setattr__(bad, "at", None)
    bodies: dict[bytes, Sequence[DomainEvent]] = {b"create": [created(at=1)]}
    for n in range(30):
        bodies[f"in-{n}".encode()] = [inbound(f"wamid.{n}", 100 + n)]
        bodies[f"st-{n}".encode()] = [status("out1", "delivered", 100 + n, f"1{n}")]
        if n == 12:
            bodies[b"bad"] = [inbound("wamid.x", 90), bad, status("out2", "read", 95, "7")]
    # WHEN the log is replayed (the batch, then event by event)
    store = await _replayed(tmp_path / "store.db", bodies)
    try:
        # THEN only the bad event failed, with its reason; its neighbours, those in its
        # own body included, are applied
        [failure] = await store.raw.failures()
        assert (failure.index, failure.kind) == (1, "message.received")
        assert "NOT NULL constraint failed: messages.at" in failure.reason
        for n in range(30):
            assert await store.messages.get(f"wamid.{n}") is not None
        assert await store.messages.get("wamid.x") is not None
        assert await store.messages.get("wamid.bad") is None
        group = await store.groups.get(G1)
        assert group is not None and group.unread == 31
        stats = await store.raw.stats()
        assert (stats.applied, stats.errors, stats.failed_events) == (len(bodies), 1, 1)
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "store.db") as conn:
        rows = conn.execute("SELECT count(*) FROM recipient_status").fetchone()[0]
        fts = conn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'hello'"
        ).fetchone()[0]
    assert rows == 31
    assert fts == 31


async def test_a_replay_batch_marks_its_rows_applied_in_a_few_statements(tmp_path: Path) -> None:
    # GIVEN a raw log of 1,200 bodies, one of which cannot be parsed
    bodies: dict[bytes, Sequence[DomainEvent]] = {b"create": [created(at=1)]}
    for n in range(1200):
        bodies[f"in-{n}".encode()] = [inbound(f"wamid.{n}", 100 + n)]
    store = await Store.open(tmp_path / "store.db", pricing=Pricing(flat_cost))
    statements: list[str] = []
    try:
        await store.raw.insert(
            [RawEventIn(body=b, dedupe_key=b.decode(), received_at=1.0) for b in bodies]
        )

        def parse(body: bytes) -> Sequence[DomainEvent]:
            if bytes(body) == b"in-7":
                raise ValueError("not JSON")
            return bodies[bytes(body)]

        await store.db.execute_write_fn(lambda c: c.set_trace_callback(statements.append))
        # WHEN it is replayed
        await store.raw.replay(parse)
        await store.db.execute_write_fn(lambda c: c.set_trace_callback(None))
        stats = await store.raw.stats()
        [failure] = await store.raw.failures()
    finally:
        await store.close()
    # THEN the rows were marked applied a few hundred at a time, not one statement each
    marks = [s for s in statements if s.startswith("UPDATE raw_events SET applied_at")]
    print(f"{len(marks)} statements marked the rows applied")
    assert 1 <= len(marks) <= 8
    # AND every row but the bad one is applied, that one with its reason
    assert (stats.applied, stats.errors, stats.failed_events) == (len(bodies), 1, 1)
    assert "parse: ValueError: not JSON" in failure.reason


async def test_a_batch_encodes_each_repeated_feed_payload_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN 300 priced statuses and 100 messages of 10 members (their change-feed
    # payloads, member and state or amount, repeat), counting the JSON encodings
    from groups_tui.store.apply import context

    encoded: list[Any] = []

    def dumps(value: Any) -> str:
        encoded.append(value)
        return codec.dumps(value)

    monkeypatch.setattr(context, "dumps", dumps)
    events: list[Any] = [created(at=1)]
    for n in range(300):
        events.append(
            status(f"out{n // 10}", "delivered", 100 + n, f"1{n % 10}", pricing=pricing())
        )
        if n % 3 == 0:
            events.append(inbound(f"wamid.{n}", 100 + n, wa_id=f"1{n % 10}"))
    # WHEN they are applied as one batch
    outcome = await _outcome([], events, batch=True)
    # THEN each distinct payload was encoded once per batch, not once per row
    print(f"{len(encoded)} payloads encoded for {len(outcome[1])} feed rows")
    assert len(outcome[1]) == 1 + 300 + 300 + 100
    assert len(encoded) <= 40
    # AND the feed is the one-by-one one
    encoded.clear()
    assert outcome == await _outcome([], events, batch=False)


def test_an_applier_is_freed_as_soon_as_it_is_dropped() -> None:
    # A reference cycle would keep the applier, and the statement its cursor last ran,
    # alive until the garbage collector runs: a store closed meanwhile cannot checkpoint
    # its log, and a copy of the file then misses what was applied.
    conn = sqlite3.connect(":memory:")
    gc.disable()
    try:
        applier = Applier(conn, cost_fn=None, market_fn=None, now=0.0)
        ref = weakref.ref(applier)
        del applier
        assert ref() is None
    finally:
        gc.enable()
        conn.close()
