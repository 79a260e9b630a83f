"""The change feed and following the store from a second connection."""

from __future__ import annotations

import asyncio
from pathlib import Path

from groups_tui.store import Store

from .conftest import G1, created, inbound, joined


async def test_feed_is_monotonic_and_pages(store: Store) -> None:
    assert await store.feed.latest_id() == 0
    await store.raw.apply_events(None, [created(), joined("111", 200), inbound("w1", 300)])
    changes = await store.feed.since(0)
    ids = [c.id for c in changes]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert await store.feed.latest_id() == ids[-1]
    assert [c.kind for c in changes] == ["group.created", "participant.joined", "message.received"]
    assert all(c.group_id == G1 for c in changes)
    assert changes[2].entity == "w1" and changes[2].at == 300
    page = await store.feed.since(ids[0], limit=1)
    assert [c.id for c in page] == [ids[1]]


async def test_duplicate_events_append_nothing(store: Store) -> None:
    events = [created(), joined("111", 200), inbound("w1", 300)]
    await store.raw.apply_events(None, events)
    latest = await store.feed.latest_id()
    await store.raw.apply_events(None, events[1:])
    assert await store.feed.latest_id() == latest


async def test_follower_reads_while_writer_writes(db_path: Path) -> None:
    writer = await Store.open(db_path)
    follower = await Store.open(db_path)
    readonly = await Store.open_readonly(db_path)
    try:
        await writer.raw.apply_events(None, [created()])
        total = 60

        async def write() -> None:
            for i in range(total):
                await writer.raw.apply_events(None, [inbound(f"w{i}", 1000 + i)])
                await asyncio.sleep(0)

        seen: list[int] = []

        async def follow() -> None:
            last = 0
            version = await follower.feed.data_version()
            while len(seen) < total + 1:
                now = await follower.feed.data_version()
                if now != version or not seen:
                    version = now
                    for change in await follower.feed.since(last):
                        seen.append(change.id)
                        last = change.id
                await asyncio.sleep(0.001)

        await asyncio.wait_for(asyncio.gather(write(), follow()), timeout=20)
        assert seen == sorted(seen) and len(set(seen)) == total + 1
        assert seen == list(range(seen[0], seen[0] + total + 1))
        assert [c.id for c in await readonly.feed.since(0)] == seen
        group = await readonly.groups.get(G1)
        assert group is not None and group.unread == total
    finally:
        await readonly.close()
        await follower.close()
        await writer.close()


async def test_data_version_moves_on_foreign_commit(db_path: Path) -> None:
    a = await Store.open(db_path)
    b = await Store.open(db_path)
    try:
        before = await b.feed.data_version()
        await a.feed.set_meta("x", "1")
        assert await b.feed.data_version() != before
    finally:
        await a.close()
        await b.close()
