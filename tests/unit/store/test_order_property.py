"""Property: the final state does not depend on the order webhooks arrive in.

Times are drawn from a few seconds each, so many events share their second (ties), and
some events are delivered twice. Hypothesis runs derandomized: the same examples run on
every machine.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.events import (
    EventError,
    GroupDeleted,
    GroupSuspendCleared,
    GroupSuspended,
    PictureChange,
    SettingsChanged,
)
from groups_tui.store import Pricing, Store

from .conftest import (
    G1,
    created,
    flat_cost,
    inbound,
    join_request,
    join_revoked,
    joined,
    left,
    pricing,
    removed,
    status,
)

PEOPLE = ["111", "222", "333"]
CATEGORIES = ["group_utility", "group_marketing", "group_service"]


def _membership_event(draw: Any) -> Any:
    kind = draw(st.sampled_from(["join", "leave", "remove"]))
    who = draw(st.sampled_from(PEOPLE))
    at = draw(st.integers(min_value=100, max_value=103))
    if kind == "join":
        return joined(who, at)
    if kind == "leave":
        return left(who, at)
    return removed(f"+{who}", at, request_id=draw(st.sampled_from([None, "r-1", "r-2"])))


@st.composite
def histories(draw: st.DrawFn) -> list[Any]:
    events: list[Any] = [created(at=50, subject="S")]
    events += [_membership_event(draw) for _ in range(draw(st.integers(0, 12)))]
    for i in range(draw(st.integers(0, 4))):
        who = draw(st.sampled_from(PEOPLE))
        events.append(inbound(f"in{i}", draw(st.integers(200, 201)), wa_id=who, name=f"N{who}"))
    for _ in range(draw(st.integers(0, 6))):
        state = draw(st.sampled_from(["delivered", "read", "failed"]))
        errors = [EventError(draw(st.sampled_from([131000, 131049])), "e")]
        events.append(
            status(
                draw(st.sampled_from(["out1", "out2"])),
                state,
                draw(st.integers(300, 301)),
                draw(st.sampled_from([*PEOPLE, None])),
                pricing=pricing(draw(st.sampled_from(CATEGORIES))) if draw(st.booleans()) else None,
                errors=errors if state == "failed" else (),
            )
        )
    for _ in range(draw(st.integers(0, 3))):
        events.append(
            SettingsChanged(
                group_id=G1,
                subject=draw(st.sampled_from(["a", "b", "c", None])),
                picture=draw(
                    st.sampled_from(
                        [None, PictureChange("image/png", "h1"), PictureChange("image/png", "h2")]
                    )
                ),
                at=draw(st.integers(400, 401)),
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        events.append(
            created(
                at=draw(st.integers(49, 51)),
                request_id=None,
                invite_link=draw(st.sampled_from([None, "https://l/a", "https://l/b"])),
                join_approval_mode=draw(st.sampled_from([None, "approval_required", "odd"])),
            )
        )
    for i in range(draw(st.integers(0, 2))):
        who = draw(st.sampled_from(PEOPLE))
        events.append(join_request(f"jr{i}", who, draw(st.integers(90, 92))))
        if draw(st.booleans()):
            events.append(join_revoked(f"jr{i}", who, draw(st.integers(93, 94))))
    for _ in range(draw(st.integers(0, 3))):
        cls = draw(st.sampled_from([GroupSuspended, GroupSuspendCleared]))
        events.append(cls(group_id=G1, at=draw(st.integers(500, 502))))
    if draw(st.booleans()):
        events.append(GroupDeleted(group_id=G1, at=600))
    # Some deliveries come twice.
    events += draw(st.lists(st.sampled_from(events), max_size=3))
    return events


async def _digest(events: list[Any]) -> str:
    store = await Store.open(":memory:", pricing=Pricing(flat_cost))
    try:
        for event in events:
            await store.raw.apply_events(None, [event])
        return await store.raw.state_digest()
    finally:
        await store.close()


@settings(max_examples=120, deadline=None, derandomize=True)
@given(events=histories(), data=st.data())
def test_any_arrival_order_gives_the_same_state(events: list[Any], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(events))
    assert asyncio.run(_digest(events)) == asyncio.run(_digest(list(shuffled)))
