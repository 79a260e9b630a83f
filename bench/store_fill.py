"""Store figures: raw-log group commit, apply throughput, inbox streaming at 10k groups.

Prints numbers only; nothing here asserts on time. Run: ``python bench/store_fill.py``.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from groups_tui.domain.events import (
    DomainEvent,
    GroupCreated,
    InboundMessage,
    ParticipantRef,
    ParticipantsJoined,
)
from groups_tui.domain.models import MessageKind
from groups_tui.store import RawEventIn, Store


async def raw_log(path: Path, total: int, batch: int) -> float:
    store = await Store.open(path)
    try:
        start = time.perf_counter()
        for b in range(0, total, batch):
            await store.raw.insert(
                [
                    RawEventIn(body=b"x" * 1500, dedupe_key=f"{batch}-{i}", received_at=0.0)
                    for i in range(b, b + batch)
                ]
            )
        return total / (time.perf_counter() - start)
    finally:
        await store.close()


async def fill(path: Path, groups: int) -> tuple[float, float, float]:
    store = await Store.open(path)
    try:
        events: list[DomainEvent] = []
        for g in range(groups):
            gid = f"group-{g:05d}"
            events.append(GroupCreated(request_id=f"r{g}", group_id=gid, subject=f"G {g}", at=g))
            events.append(
                ParticipantsJoined(
                    group_id=gid,
                    participants=tuple(ParticipantRef(wa_id=f"1{g:05d}{p}") for p in range(4)),
                    at=g + 1,
                )
            )
            events.append(
                InboundMessage(
                    wamid=f"w{g}",
                    group_id=gid,
                    sender=ParticipantRef(wa_id=f"1{g:05d}0", profile_name="Ann"),
                    kind=MessageKind.TEXT,
                    type="text",
                    text=f"hello from group {g}",
                    at=g + 2,
                )
            )
        start = time.perf_counter()
        for i in range(0, len(events), 300):
            await store.raw.apply_batch([(None, [e]) for e in events[i : i + 300]])
        apply_rate = len(events) / (time.perf_counter() - start)
        start = time.perf_counter()
        rows = [row async for row in store.groups.inbox_rows()]
        inbox_ms = (time.perf_counter() - start) * 1000
        assert len(rows) == groups
        start = time.perf_counter()
        await store.messages.search("hello group 42")
        search_ms = (time.perf_counter() - start) * 1000
        return apply_rate, inbox_ms, search_ms
    finally:
        await store.close()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (1, 50, 500):
            total = 300 if batch == 1 else 10_000
            rate = await raw_log(Path(tmp) / f"raw{batch}.db", total, batch)
            print(f"raw log, batches of {batch:>3}: {rate:>9,.0f} events/s (synchronous=FULL)")
        apply_rate, inbox_ms, search_ms = await fill(Path(tmp) / "fill.db", 10_000)
        print(f"apply_batch: {apply_rate:,.0f} events/s")
        print(f"inbox_rows, 10,000 groups: {inbox_ms:.0f} ms")
        print(f"search over 10,000 messages: {search_ms:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
