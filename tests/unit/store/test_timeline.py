"""A group's timeline (membership, join requests, the group's own events) and when each
member's copy of a message was delivered and read."""

from __future__ import annotations

from groups_tui.domain.events import (
    GroupSuspended,
    PictureChange,
    SettingsChanged,
)
from groups_tui.domain.models import DeliveryState
from groups_tui.domain.timeline import EventKind, describe
from groups_tui.store import Store

from .conftest import G1, created, join_request, joined, left, removed, status


async def test_timeline_holds_membership_requests_and_the_groups_own_events(
    store: Store,
) -> None:
    # GIVEN a group's life: created, a request, joins, a leave, a removal, changes
    await store.raw.apply_events(None, [created(at=100, subject="Order 1042")])
    await store.raw.apply_events(None, [join_request("jr1", "222", 110)])
    await store.raw.apply_events(None, [joined("111", 120), joined("222", 130)])
    await store.raw.apply_events(None, [left("111", 140), removed("+222", 150)])
    await store.raw.apply_events(
        None,
        [
            SettingsChanged(group_id=G1, request_id="s-1", subject="Order 1042 – late", at=160),
            SettingsChanged(
                group_id=G1, picture=PictureChange("image/png", "abc"), description="Gate B", at=170
            ),
            GroupSuspended(group_id=G1, at=180),
        ],
    )
    # WHEN the whole timeline is read
    events = await store.groups.timeline(G1)
    # THEN every event is there once, oldest first, with who and what
    assert [(e.kind, e.at) for e in events] == [
        (EventKind.CREATED, 100),
        (EventKind.ASKED_TO_JOIN, 110),
        (EventKind.JOINED, 120),
        (EventKind.JOINED, 130),
        (EventKind.LEFT, 140),
        (EventKind.REMOVED, 150),
        (EventKind.SUBJECT, 160),
        (EventKind.DESCRIPTION, 170),
        (EventKind.PICTURE, 170),
        (EventKind.SUSPENDED, 180),
    ]
    lines = [describe(e) for e in events]
    assert lines[0] == "Group created as “Order 1042”"
    assert lines[4] == "+111 left"
    assert lines[5] == "+222 was removed by you"
    assert lines[6] == "Subject changed to “Order 1042 – late”"
    # AND a stretch of time reads only its own events (since included, until excluded)
    stretch = await store.groups.timeline(G1, since=130, until=160)
    assert [e.at for e in stretch] == [130, 140, 150]
    # AND applying the same webhooks again adds nothing
    await store.raw.apply_events(
        None, [created(at=100, subject="Order 1042"), GroupSuspended(group_id=G1, at=180)]
    )
    assert len(await store.groups.timeline(G1)) == len(events)


async def test_only_the_earliest_create_of_a_group_is_in_its_timeline(store: Store) -> None:
    # A read of the group (a create at its creation time) and the webhook, in any order.
    await store.raw.apply_events(None, [created(at=105, subject="Later", request_id=None)])
    await store.raw.apply_events(None, [created(at=100, subject="First")])
    await store.raw.apply_events(None, [created(at=110, subject="Latest", request_id=None)])
    events = await store.groups.timeline(G1)
    assert [(e.kind, e.at, e.value) for e in events] == [(EventKind.CREATED, 100, "First")]


async def test_a_read_does_not_hide_when_the_copy_was_delivered(store: Store) -> None:
    # GIVEN a member's delivered and read statuses, the read one arriving first
    await store.raw.apply_events(None, [created(at=100), joined("111", 110)])
    await store.raw.apply_events(None, [status("wamid.1", "read", 300, "111")])
    await store.raw.apply_events(None, [status("wamid.1", "delivered", 250, "111")])
    await store.raw.apply_events(None, [status("wamid.1", "delivered", 260, "111")])
    # THEN the row is read, first delivered at 250 and first read at 300
    [row] = await store.messages.recipient_statuses("wamid.1")
    assert row.state is DeliveryState.READ
    assert (row.delivered_at, row.read_at) == (250, 300)
