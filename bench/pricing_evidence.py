"""How long the cost ledger's pricing evidence takes to read (every preview reads it).

Fills a store with ``--groups`` groups, each with one inbound message (opening its window)
and ``--messages`` template sends, each priced for ``--members`` members, all within the
30-day evidence period; then times ``store.ledger.pricing_evidence`` (the query every cost
preview and the header's contradiction check run) ``--runs`` times.

Usage::

    python bench/pricing_evidence.py [--groups 1000] [--messages 5] [--members 8] [--runs 7]

Prints figures only; timing is never asserted (only that every line was counted).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from groups_tui.domain.events import (
    DomainEvent,
    GroupCreated,
    InboundMessage,
    MessageStatus,
    ParticipantRef,
    PricingInfo,
)
from groups_tui.domain.models import MessageKind
from groups_tui.store import Store

T0 = 1_796_212_800  # 2026-12-01 12:00 UTC
FREE = PricingInfo(False, "PMP", "free_group_customer_service", "group_marketing")


async def fill(store: Store, groups: int, messages: int, members: int) -> int:
    lines = 0
    for g in range(groups):
        gid = f"group-{g:05d}"
        at = T0 + g * 60
        events: list[DomainEvent] = [
            GroupCreated(request_id=f"r{g}", group_id=gid, subject=f"G {g}", at=at - 10),
            InboundMessage(
                wamid=f"in-{g}",
                group_id=gid,
                sender=ParticipantRef(wa_id=f"4915{g:06d}0", profile_name="Ann"),
                kind=MessageKind.TEXT,
                type="text",
                text="hi",
                at=at,
            ),
        ]
        for m in range(messages):
            wamid = f"out-{g}-{m}"
            item = await store.outbox.enqueue(
                gid, MessageKind.TEMPLATE, {"type": "template"}, at=at + 3600 * (m + 1)
            )
            await store.outbox.mark_accepted(item.id, wamid)
            for p in range(members):
                events.append(
                    MessageStatus(
                        wamid=wamid,
                        group_id=gid,
                        recipient_id=gid,
                        status="delivered",
                        participant=ParticipantRef(wa_id=f"4915{g:06d}{p}"),
                        pricing=FREE,
                        at=at + 3600 * (m + 1) + 5,
                    )
                )
                lines += 1
        await store.raw.apply_events(None, events)
    return lines


async def main(groups: int, messages: int, members: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "bench.db")
        try:
            lines = await fill(store, groups, messages, members)
            since, until = T0 - 86_400, T0 + 40 * 86_400
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                tallies = await store.ledger.pricing_evidence(since, until)
                times.append((time.perf_counter() - start) * 1000)
            counted = sum(t.count for t in tallies)
            assert counted == lines, (counted, lines)
            print(
                f"pricing_evidence over {lines:,} ledger lines ({groups:,} groups x "
                f"{messages} sends x {members} members), {runs} runs: "
                f"min {min(times):.1f} ms, median {statistics.median(times):.1f} ms, "
                f"max {max(times):.1f} ms"
            )
        finally:
            await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.groups, args.messages, args.members, args.runs))
