"""Property: the final state does not depend on the order webhooks arrive in."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.events import (
    GroupDeleted,
    GroupSuspendCleared,
    GroupSuspended,
    SettingsChanged,
)
from groups_tui.store import Store

from .conftest import G1, created, flat_cost, inbound, joined, left, pricing, removed, status

PEOPLE = ["111", "222", "333"]


def _membership_event(draw: Any) -> Any:
    kind = draw(st.sampled_from(["join", "leave", "remove"]))
    who = draw(st.sampled_from(PEOPLE))
    at = draw(st.integers(min_value=100, max_value=110))
    if kind == "join":
        return joined(who, at)
    if kind == "leave":
        return left(who, at)
    return removed(f"+{who}", at)


@st.composite
def histories(draw: st.DrawFn) -> list[Any]:
    events: list[Any] = [created(at=50, subject="S")]
    events += [_membership_event(draw) for _ in range(draw(st.integers(0, 12)))]
    for i in range(draw(st.integers(0, 3))):
        events.append(inbound(f"in{i}", 200 + i, wa_id=draw(st.sampled_from(PEOPLE))))
    for _ in range(draw(st.integers(0, 6))):
        events.append(
            status(
                "out1",
                draw(st.sampled_from(["delivered", "read", "failed"])),
                draw(st.integers(300, 303)),
                draw(st.sampled_from(PEOPLE)),
                pricing=pricing() if draw(st.booleans()) else None,
            )
        )
    for _ in range(draw(st.integers(0, 3))):
        events.append(
            SettingsChanged(
                group_id=G1,
                subject=draw(st.sampled_from(["a", "b", "c"])),
                at=draw(st.integers(400, 402)),
            )
        )
    for _ in range(draw(st.integers(0, 3))):
        cls = draw(st.sampled_from([GroupSuspended, GroupSuspendCleared]))
        events.append(cls(group_id=G1, at=draw(st.integers(500, 502))))
    if draw(st.booleans()):
        events.append(GroupDeleted(group_id=G1, at=600))
    return events


async def _digest(events: list[Any]) -> str:
    store = await Store.open(":memory:", cost_fn=flat_cost)
    try:
        for event in events:
            await store.apply_events(None, [event])
        return await store.state_digest()
    finally:
        await store.close()


@settings(max_examples=60, deadline=None)
@given(events=histories(), data=st.data())
def test_any_arrival_order_gives_the_same_state(events: list[Any], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(events))
    assert asyncio.run(_digest(events)) == asyncio.run(_digest(list(shuffled)))
