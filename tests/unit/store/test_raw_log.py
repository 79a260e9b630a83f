"""The raw webhook log, counters and metadata."""

from __future__ import annotations

import asyncio

from groups_tui.domain.events import DomainEvent
from groups_tui.store import RawEventIn, Store

from .conftest import created, joined


def _raw(key: str, at: float = 1.0, body: bytes | None = None) -> RawEventIn:
    return RawEventIn(body=body or key.encode(), dedupe_key=key, received_at=at)


async def test_insert_returns_ids_in_order(store: Store) -> None:
    results = await store.raw.insert([_raw("a"), _raw("b"), _raw("c")])
    assert [r.duplicate for r in results] == [False, False, False]
    ids = [r.raw_id for r in results]
    assert ids == sorted(ids) and len(set(ids)) == 3
    event = await store.raw.get(ids[1])
    assert event is not None and event.dedupe_key == "b" and event.body == b"b"
    assert event.parse_state == "pending" and event.applied_at is None


async def test_duplicates_return_existing_id(store: Store) -> None:
    [first] = await store.raw.insert([_raw("a", body=b"first")])
    results = await store.raw.insert([_raw("b"), _raw("a", body=b"second"), _raw("b")])
    assert results[0].duplicate is False
    assert results[1].raw_id == first.raw_id and results[1].duplicate is True
    assert results[2].raw_id == results[0].raw_id and results[2].duplicate is True
    stored = await store.raw.get(first.raw_id)
    assert stored is not None and stored.body == b"first"
    assert (await store.raw.stats()).total == 2


async def test_empty_batch(store: Store) -> None:
    assert await store.raw.insert([]) == []


async def test_large_batch_crosses_parameter_chunks(store: Store) -> None:
    items = [_raw(f"k{i}", float(i)) for i in range(1_300)]
    results = await store.raw.insert(items)
    assert len({r.raw_id for r in results}) == 1_300
    again = await store.raw.insert(items[::-1])
    assert all(r.duplicate for r in again)
    assert [r.raw_id for r in again] == [r.raw_id for r in results][::-1]


async def test_concurrent_writers_all_get_ids(store: Store) -> None:
    batches = [[_raw(f"b{b}-{i}") for i in range(50)] for b in range(8)]
    results = await asyncio.gather(*(store.raw.insert(b) for b in batches))
    ids = [r.raw_id for batch in results for r in batch]
    assert len(set(ids)) == 400


async def test_unapplied_list_and_stats(store: Store) -> None:
    results = await store.raw.insert([_raw("a", 5.0), _raw("b", 6.0), _raw("c", 7.0)])
    a, b, c = (r.raw_id for r in results)
    await store.raw.apply_events(a, [created()])

    def bad_json() -> list[DomainEvent]:
        raise ValueError("bad json")

    await store.raw.apply_logged([(c, bad_json)])
    unapplied = await store.raw.unapplied(10)
    assert [e.id for e in unapplied] == [b]
    page1 = await store.raw.events(after_id=0, limit=2)
    page2 = await store.raw.events(after_id=page1[-1].id, limit=2)
    assert [e.id for e in page1 + page2] == [a, b, c]
    stats = await store.raw.stats()
    assert (stats.total, stats.applied, stats.unparsed, stats.errors) == (3, 2, 0, 1)
    assert stats.last_event_at == 7.0
    applied = await store.raw.get(a)
    assert applied is not None and applied.parse_state == "ok" and applied.applied_at


async def test_unknown_event_marks_raw_unparsed(store: Store) -> None:
    from groups_tui.domain.events import UnknownEvent

    [r] = await store.raw.insert([_raw("u")])
    await store.raw.apply_events(
        r.raw_id, [created(), UnknownEvent(field="new_field", raw={"x": 1}), joined("1", 200)]
    )
    event = await store.raw.get(r.raw_id)
    assert event is not None and event.parse_state == "unparsed"
    assert (await store.raw.stats()).unparsed == 1
    # the known events of the same body were still applied
    assert [p.wa_id for p in await store.groups.members(created().group_id)] == ["1"]


async def test_counters_and_meta(store: Store) -> None:
    assert await store.raw.counters() == {}
    assert await store.raw.bump_counter("webhooks") == 1
    assert await store.raw.bump_counter("webhooks", 4) == 5
    await store.raw.bump_counter("bad_signature")
    assert await store.raw.counters() == {"bad_signature": 1, "webhooks": 5}
    assert await store.feed.get_meta("missing") is None
    assert await store.feed.get_meta("missing", "d") == "d"
    await store.feed.set_meta("phone_number_id", "1")
    await store.feed.set_meta("phone_number_id", "2")
    assert await store.feed.get_meta("phone_number_id") == "2"
