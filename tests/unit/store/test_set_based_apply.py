"""Applying a batch set-based gives the state applying it event by event gives.

Outside isolation the applier defers a batch's inbound messages and stores them in
multi-row inserts (``store/apply/messages.py``); these tests pin that down: the statement
count, equality with one-by-one applying for any mix and order (a derandomized property
over the order property's histories), and a bad event in a batch of good ones.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.events import DomainEvent
from groups_tui.store import Pricing, RawEventIn, Store
from groups_tui.store.apply import Applier

from .conftest import G1, G2, created, flat_cost, inbound, joined, pricing, status
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
