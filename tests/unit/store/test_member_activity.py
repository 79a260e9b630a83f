"""The members screen's activity columns: read from the newest messages in one go."""

from __future__ import annotations

from groups_tui.service import InboxService
from groups_tui.service.types import AccountInfo, Mode
from groups_tui.store import Store

from .conftest import created, inbound, joined

WA = "16505551234"


async def test_member_activity_is_read_in_one_statement_of_senders(store: Store) -> None:
    # GIVEN a member who wrote 600 messages (more than a page of 500)
    events = [created(), joined(WA, 150)]
    events += [inbound(f"w{i}", 200 + i, text=f"note {i}", wa_id=WA) for i in range(600)]
    await store.raw.apply_events(None, events)
    service = InboxService(store, None, account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX))
    statements: list[str] = []
    await store.db.execute_fn(lambda conn: conn.set_trace_callback(statements.append))
    # WHEN the members screen reads its rows
    (row,) = await service.admin.member_rows(created().group_id)
    await store.db.execute_fn(lambda conn: conn.set_trace_callback(None))
    # THEN the counts and the last message are those of every message
    assert (row.message_count, row.count_is_partial) == (600, False)
    assert (row.last_message_at, row.last_message) == (799, "note 599")
    assert row.member.profile_name == "Sheena"
    # AND the messages were read once, not page by page as whole messages
    reads = [s for s in statements if "FROM messages" in s]
    assert len(reads) == 1, reads


async def test_member_activity_beyond_the_scan_is_partial(store: Store) -> None:
    events = [created(), joined(WA, 150)]
    events += [inbound(f"w{i}", 200 + i, text=f"note {i}", wa_id=WA) for i in range(600)]
    await store.raw.apply_events(None, events)
    service = InboxService(store, None, account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX))
    service.admin.MEMBER_SCAN_LIMIT = 400  # one page of 500
    (row,) = await service.admin.member_rows(created().group_id)
    assert (row.message_count, row.count_is_partial) == (500, True)
    assert row.last_message == "note 599"
