"""Queries for the service and UI: paging, inbox, search, outbox, operations, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from groups_tui.domain.models import Direction, Media, MessageKind, Template, TemplateCategory
from groups_tui.store import Store

from .conftest import G1, G2, created, inbound, join_request, joined


async def test_messages_page_never_skips_or_repeats(store: Store) -> None:
    await store.raw.apply_events(None, [created()])
    # many messages share a timestamp: the id breaks ties
    events = [inbound(f"wamid.{i:03d}", 1000 + i // 5, text=f"m{i}") for i in range(103)]
    await store.raw.apply_batch([(None, events[:50]), (None, events[50:])])
    await store.outbox.enqueue(G1, MessageKind.TEXT, {}, text="outbound", at=1005)
    seen: list[tuple[int, str]] = []
    before = None
    while True:
        page = await store.messages.page(G1, before, limit=7)
        seen.extend((m.at, m.id) for m in page.items)
        if page.next_before is None:
            break
        before = page.next_before
    assert len(seen) == 104 and len(set(seen)) == 104
    assert seen == sorted(seen, reverse=True)
    empty = await store.messages.page(G2)
    assert empty.items == [] and empty.next_before is None


async def test_message_round_trip(store: Store) -> None:
    await store.raw.apply_events(None, [created(), inbound("wamid.1", 1000, text="hi there")])
    message = await store.messages.get("wamid.1")
    assert message is not None
    assert message.direction is Direction.INBOUND and message.kind is MessageKind.TEXT
    assert message.sender_key == "16505551234" and message.sender_name == "Sheena"
    assert message.text == "hi there" and message.renews_window


async def test_list_groups_keyset_paging(store: Store) -> None:
    events = [created(group_id=f"g{i:02d}", request_id=f"r{i}", at=100 + i % 3) for i in range(25)]
    await store.raw.apply_events(None, events)
    seen: list[str | None] = []
    cursor = None
    while True:
        groups, cursor = await store.groups.page(cursor, limit=4)
        seen.extend(g.id for g in groups)
        if cursor is None:
            break
    assert len(seen) == 25 and len(set(seen)) == 25


async def test_inbox_rows(store: Store) -> None:
    await store.groups.create_pending("req-p", "Pending one")
    await store.raw.apply_events(
        None,
        [
            created(subject="First", at=100),
            created(group_id=G2, request_id="req-2", subject="Second", at=110),
            joined("111", 200),
            joined("222", 201),
            join_request("jr1", "333", 202),
            inbound("w1", 300, text="newest", name="Ann"),
        ],
    )
    await store.groups.annotate(G2, flagged=True, tag="vip")
    rows = [row async for row in store.groups.inbox_rows(batch=2)]
    assert [r.subject for r in rows] == ["First", "Second", "Pending one"]
    first, second, pending = rows
    assert (first.participant_count, first.unread, first.pending_requests) == (2, 1, 1)
    assert (first.last_sender, first.last_text, first.last_activity_at) == ("Ann", "newest", 300)
    assert first.last_inbound_at == 300 and first.state == "active" and not first.flagged
    assert second.flagged and second.tag == "vip" and second.last_text is None
    assert pending.group_id == "pending:req-p" and pending.is_pending and not first.is_pending
    assert pending.request_id == "req-p" and pending.state == "pending"
    assert not first.last_outbound and not second.last_outbound
    # WHEN the business answers in the first group
    await store.outbox.enqueue(
        G1, MessageKind.TEXT, {"text": "on my way"}, text="on my way", at=310
    )
    first = next(r for r in [row async for row in store.groups.inbox_rows()] if r.group_id == G1)
    # THEN its newest message is ours, with no member named as sender
    assert (first.last_outbound, first.last_sender, first.last_text) == (True, None, "on my way")


async def test_search_finds_messages_and_pages(store: Store) -> None:
    texts = ["I'm at the gate", "Gate code is 1234", "leave it at reception", "gateway down"]
    await store.raw.apply_events(
        None, [created()] + [inbound(f"w{i}", 1000 + i, text=t) for i, t in enumerate(texts)]
    )
    hits = await store.messages.search("gate")
    assert [h.message_id for h in hits] == ["w3", "w1", "w0"]  # prefix match, newest first
    assert all(h.group_id == G1 for h in hits)
    assert (hits[0].snippet, hits[0].spans) == ("gateway down", ((0, 7),))
    first = await store.messages.search("gate", limit=2)
    rest = await store.messages.search("gate", limit=2, after=(first[-1].at, first[-1].message_id))
    assert [h.message_id for h in first + rest] == ["w3", "w1", "w0"]
    assert [h.message_id for h in await store.messages.search("GATE code")] == ["w1"]


@pytest.mark.parametrize(
    "query",
    [
        '"foo" OR',
        "*",
        '"unbalanced',
        "AND",
        "NEAR(",
        "col:gate",
        "^gate",
        "(gate",
        "gate)",
        "-gate",
        '""""',
        "",
        "   ",
        "\x00",
        "'; DROP TABLE messages; --",
        "NOT NOT",
    ],
)
async def test_search_survives_hostile_input(store: Store, query: str) -> None:
    await store.raw.apply_events(None, [created(), inbound("w1", 1000, text="foo gate col")])
    hits = await store.messages.search(query)
    assert isinstance(hits, list)
    assert await store.messages.get("w1") is not None


async def test_outbox_lifecycle(store: Store) -> None:
    await store.raw.apply_events(None, [created()])
    media = Media(kind=MessageKind.IMAGE, media_id="m1", caption="photo")
    item = await store.outbox.enqueue(
        G1, MessageKind.IMAGE, {"image": {"id": "m1"}}, text="photo", media=media, at=900
    )
    assert item.state == "queued" and item.message_id == f"local:{item.id}"
    assert [i.id for i in await store.outbox.pending()] == [item.id]
    local = await store.messages.get(item.message_id)
    assert local is not None and local.direction is Direction.OUTBOUND and local.media == media

    accepted = await store.outbox.mark_accepted(item.id, "wamid.out")
    assert accepted is not None and accepted.state == "accepted" and accepted.wamid == "wamid.out"
    assert await store.messages.get("wamid.out") is not None
    assert await store.messages.get(item.message_id) is None
    assert await store.outbox.pending() == []

    second = await store.outbox.enqueue(G1, "text", {"text": {"body": "x"}})
    failed = await store.outbox.mark_failed(second.id, 131047, "Re-engagement message")
    assert failed is not None and (failed.error_code, failed.state) == (131047, "failed")
    third = await store.outbox.enqueue(G1, "text", {})
    await store.outbox.mark_unknown(third.id)
    assert [i.id for i in await store.outbox.pending()] == [third.id]
    assert [i.id for i in await store.outbox.pending(("queued",))] == []
    assert [i.id for i in await store.outbox.for_group(G1)] == [third.id, second.id, item.id]
    assert await store.outbox.mark_unknown(999) is None
    kinds = [c.kind for c in await store.feed.since(0)]
    assert kinds.count("outbox.updated") == 6


async def test_pending_operations_crud(store: Store) -> None:
    await store.operations.add("op-1", "settings", group_id=G1, payload={"subject": "x"})
    await store.operations.add("op-1", "settings", group_id=G1)  # idempotent
    await store.groups.create_pending("op-2", "New")
    ops = await store.operations.pending()
    assert [(o.request_id, o.kind) for o in ops] == [("op-1", "settings"), ("op-2", "create")]
    assert ops[0].payload == {"subject": "x"}
    assert await store.operations.resolve("op-2", "failed", "timeout")
    assert not await store.operations.resolve("op-2", "done")
    group = await store.groups.get_by_request("op-2")
    assert group is not None and group.state.value == "failed"
    assert [o.request_id for o in await store.operations.pending()] == ["op-1"]
    assert len(await store.operations.pending(None)) == 2
    with pytest.raises(ValueError):
        await store.operations.resolve("op-1", "weird")


async def test_audit_log(store: Store) -> None:
    ids = [
        await store.audit.append(
            "alice",
            "send",
            group_id=G1,
            targets=["g"],
            api_result={"ok": True},
            cost=Decimal("0.01"),
        ),
        await store.audit.append("bob", "remove", group_id=G2, targets=["111", "222"]),
        await store.audit.append("alice", "send", group_id=G1),
    ]
    entries = await store.audit.entries()
    assert [e.id for e in entries] == ids[::-1]
    older = await store.audit.entries(before_id=ids[2], limit=1)
    assert [e.id for e in older] == [ids[1]] and older[0].targets == ["111", "222"]
    mine = await store.audit.entries(group_id=G1)
    assert [e.cost for e in mine] == [None, Decimal("0.01")]
    assert mine[1].api_result == {"ok": True} and mine[1].os_user == "alice"


async def test_templates_contacts_blocklist_annotations(store: Store) -> None:
    template = Template(
        name="order_update",
        language="en_US",
        category=TemplateCategory.UTILITY,
        body_params=2,
        components=({"type": "BODY", "text": "{{1}} {{2}}"},),
    )
    await store.messages.save_templates([template])
    assert await store.messages.templates() == [template]

    await store.moderation.set_contact("111", display_name="Ann (driver)", note="call first")
    contact = await store.moderation.contact("111")
    assert contact is not None and contact.display_name == "Ann (driver)"
    assert await store.moderation.contact("nobody") is None

    await store.moderation.block("111", "spam")
    assert await store.moderation.is_blocked("111") and await store.moderation.blocklist() == [
        ("111", "spam")
    ]
    await store.moderation.unblock("111")
    assert not await store.moderation.is_blocked("111")

    await store.groups.annotate(G1, flagged=True, tag="t", note="n")
    await store.groups.annotate(G1, flagged=False, clear_tag=True)
    notes = await store.groups.annotations(G1)
    assert (notes.flagged, notes.tag, notes.note) == (False, None, "n")
    assert (await store.groups.annotations(G2)).flagged is False


async def test_join_request_and_member_round_trips(store: Store) -> None:
    await store.raw.apply_events(
        None, [created(), join_request("jr1", "333", 205), joined("111", 200)]
    )
    [member] = await store.groups.members(G1)
    assert member.wa_id == "111" and member.joined_at == 200
    [request] = await store.groups.join_requests(G1)
    assert (request.join_request_id, request.group_id, request.key) == ("jr1", G1, "333")
    [history] = await store.groups.member_history(G1)
    assert history.action == "join" and history.via == "invite_link"
