"""In-process apply benchmark: raw events/s that ``store.raw.apply_batch`` turns into state.

Logs one raw row per event (as the listener does), then applies them in batches of
``--batch`` through :meth:`RawLog.apply_batch` and times the apply only. Three workloads:
per-participant ``delivered`` statuses with pricing, inbound text messages, and joins.

Usage::

    python bench/apply.py [--events 5000] [--batch 200]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from groups_tui.domain.events import (
    DomainEvent,
    GroupCreated,
    InboundMessage,
    MessageStatus,
    ParticipantRef,
    ParticipantsJoined,
    PricingInfo,
)
from groups_tui.domain.models import MessageKind
from groups_tui.store import Pricing, RawEventIn, Store

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
T0 = 1_767_232_000


def status_event(n: int) -> DomainEvent:
    return MessageStatus(
        wamid=f"wamid.BENCH{n // 8:012d}",
        group_id=GROUP,
        recipient_id=GROUP,
        status="delivered",
        participant=ParticipantRef(wa_id=f"1650555{n % 8:04d}"),
        pricing=PricingInfo(
            billable=True, pricing_model="PMP", type="regular", category="group_utility"
        ),
        at=T0 + n,
    )


def inbound_event(n: int) -> DomainEvent:
    return InboundMessage(
        wamid=f"wamid.IN{n:012d}",
        group_id=GROUP,
        sender=ParticipantRef(wa_id=f"1650555{n % 50:04d}", profile_name=f"Member {n % 50}"),
        kind=MessageKind.TEXT,
        type="text",
        text=f"message number {n}",
        at=T0 + n,
    )


def join_event(n: int) -> DomainEvent:
    # Eight members per group, as Meta allows: each join updates its group's summary.
    return ParticipantsJoined(
        group_id=f"{GROUP}-{n // 8}",
        participants=(ParticipantRef(wa_id=f"44770{n:07d}"),),
        via="invite_link",
        at=T0 + n,
    )


def flat_cost(
    category: str | None, pricing_type: str | None, billable: bool | None, wa_id: str | None
) -> Decimal | None:
    return Decimal("0.0040") if billable else Decimal(0)


async def run(name: str, make: Callable[[int], DomainEvent], count: int, batch: int) -> float:
    with tempfile.TemporaryDirectory(prefix="groups-tui-apply-") as tmp:
        store = await Store.open(Path(tmp) / "a.db", pricing=Pricing(flat_cost, lambda _: "US"))
        try:
            await store.raw.apply_events(
                None, [GroupCreated(request_id=None, group_id=GROUP, at=T0 - 10)]
            )
            results = await store.raw.insert(
                [
                    RawEventIn(body=b"{}", dedupe_key=f"{name}-{i}", received_at=0.0)
                    for i in range(count)
                ]
            )
            items: list[tuple[int | None, Sequence[DomainEvent]]] = [
                (r.raw_id, [make(i)]) for i, r in enumerate(results)
            ]
            started = time.perf_counter()
            for start in range(0, count, batch):
                await store.raw.apply_batch(items[start : start + batch])
            elapsed = time.perf_counter() - started
            stats = await store.raw.stats()
            assert stats.applied == count, stats
        finally:
            await store.close()
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    for name, make in (("status", status_event), ("inbound", inbound_event), ("join", join_event)):
        rate = await run(name, make, args.events, args.batch)
        print(f"{name:<8} {rate:>9.0f} events/s  (batches of {args.batch})")


if __name__ == "__main__":
    asyncio.run(main())
