"""Property: what schemas v4 and v6 keep on each group row equals a fresh computation.

The inbox reads the newest message, the present members (count and filter text) and the
pending join requests from columns that triggers maintain. Whatever mix of webhooks,
outbox sends, decisions and replays happened, they must match the tables they summarise.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.models import MessageKind
from groups_tui.store import Store

from .conftest import (
    G1,
    G2,
    RawLog,
    created,
    inbound,
    join_request,
    join_revoked,
    joined,
    left,
    removed,
)

PEOPLE = ["111", "222", "333", "444"]

FRESH = """
SELECT g.id,
       (SELECT pk FROM messages WHERE group_id = g.id ORDER BY at DESC, id DESC LIMIT 1),
       (SELECT at FROM messages WHERE group_id = g.id ORDER BY at DESC, id DESC LIMIT 1),
       (SELECT substr(coalesce(text, '[' || kind || ']'), 1, 300) FROM messages
         WHERE group_id = g.id ORDER BY at DESC, id DESC LIMIT 1),
       (SELECT CASE WHEN direction = 'outbound' THEN NULL ELSE sender_name END FROM messages
         WHERE group_id = g.id ORDER BY at DESC, id DESC LIMIT 1),
       (SELECT direction = 'outbound' FROM messages
         WHERE group_id = g.id ORDER BY at DESC, id DESC LIMIT 1),
       (SELECT count(*) FROM participants p WHERE p.group_id = g.id AND p.state = 'present'),
       (SELECT count(*) FROM join_requests j WHERE j.group_id = g.id AND j.state = 'pending'),
       (SELECT group_concat(coalesce(p.profile_name, '') || ' ' || coalesce(p.wa_id, '') || ' '
                            || coalesce(p.username, ''), char(10))
          FROM participants p WHERE p.group_id = g.id AND p.state = 'present')
  FROM groups g WHERE g.id IS NOT NULL ORDER BY g.id
"""

KEPT = """
SELECT id, last_msg_pk, last_msg_at, last_msg_preview, last_msg_sender, last_msg_outbound,
       member_count,
       pending_requests, member_text
  FROM groups WHERE id IS NOT NULL ORDER BY id
"""


@st.composite
def steps(draw: st.DrawFn) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 25))):
        group = draw(st.sampled_from([G1, G2]))
        who = draw(st.sampled_from(PEOPLE))
        at = draw(st.integers(100, 130))
        kind = draw(
            st.sampled_from(
                ["join", "leave", "remove", "inbound", "request", "revoke", "send", "decide"]
            )
        )
        match kind:
            case "join":
                out.append(("event", joined(who, at, group_id=group)))
            case "leave":
                out.append(("event", left(who, at, group_id=group)))
            case "remove":
                out.append(("event", removed(f"+{who}", at, group_id=group)))
            case "inbound":
                wamid = f"in-{draw(st.integers(0, 6))}"
                out.append(("event", inbound(wamid, at, group_id=group, wa_id=who, name=who)))
            case "request":
                out.append(("event", join_request(f"jr-{who}", who, at, group_id=group)))
            case "revoke":
                out.append(("event", join_revoked(f"jr-{who}", who, at, group_id=group)))
            case "send":
                out.append(("send", (group, at)))
            case "decide":
                out.append(("decide", f"jr-{who}"))
    if draw(st.booleans()):
        out.append(("replay", None))
    return out


async def _run(plan: list[tuple[str, Any]]) -> tuple[list[Any], list[Any]]:
    store = await Store.open(":memory:")
    log = RawLog(store)
    try:
        await log.deliver(created(G1, at=50, request_id="r1"))
        await log.deliver(created(G2, at=50, request_id="r2"))
        for what, arg in plan:
            if what == "event":
                await log.deliver(arg)
            elif what == "send":
                group, at = arg
                await store.outbox.enqueue(
                    group, MessageKind.TEXT, {"text": "hi"}, text="hi", at=at
                )
            elif what == "decide":
                await store.groups.decide_join_requests([arg], "approved", 140)
            else:
                await store.raw.reset_derived_state()
                await store.raw.replay(log.parse)
        fresh = [tuple(r) for r in await store.db.fetch_all(FRESH)]
        kept = [tuple(r) for r in await store.db.fetch_all(KEPT)]
        return fresh, [(*k[:8], k[8] or None) for k in kept]
    finally:
        await store.close()


@settings(max_examples=80, deadline=None)
@given(plan=steps())
def test_group_row_summaries_match_the_tables(plan: list[tuple[str, Any]]) -> None:
    fresh, kept = asyncio.run(_run(plan))
    assert kept == fresh
