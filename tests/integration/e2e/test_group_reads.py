"""Reading a group through the API (``groups show``, a sync) is idempotent.

A read records only real changes: someone not seen before, someone gone since. Webhooks
that were missed and arrive late take the place of what the read recorded, so each
change ends as exactly one history row, with the webhook's time.
"""

from __future__ import annotations

from groups_tui.store.records import HistoryEntry

from .support import BR, DE, MX, Stack


def rows(history: list[HistoryEntry]) -> list[tuple[str, str, int, bool]]:
    return [(h.participant_key, h.action, h.at, h.observed) for h in history]


async def test_five_reads_of_a_group_record_nothing_new(stack: Stack) -> None:
    service = stack.service
    # GIVEN a group whose two members joined by link (webhooks applied)
    group_id = await stack.create_group("Order 5005")
    await stack.join(group_id, DE, BR)
    history = await stack.store.groups.member_history(group_id)
    joined_at = {m.key: m.joined_at for m in await service.reading.members(group_id)}
    feed = await stack.store.feed.latest_id()

    # WHEN the group is read five times, a minute apart (what `groups show` does)
    for _ in range(5):
        stack.clock.advance(60)
        await service.reading.sync_group(group_id)

    # THEN the history, the join times and the change feed are as they were
    assert await stack.store.groups.member_history(group_id) == history
    assert [h.action for h in history] == ["join", "join"]
    assert {m.key: m.joined_at for m in await service.reading.members(group_id)} == joined_at
    assert await stack.store.feed.latest_id() == feed


async def test_changes_told_by_webhooks_are_not_recorded_again_by_reads(stack: Stack) -> None:
    service = stack.service
    group_id = await stack.create_group("Order 5007")
    await stack.join(group_id, DE, BR)
    await service.reading.sync_group(group_id)
    before = rows(await stack.store.groups.member_history(group_id))
    # GIVEN MX joins and BR leaves between two reads, and their webhooks arrive
    stack.clock.advance(60)
    await stack.join(group_id, MX)
    stack.world.persons.leave(group_id, BR)
    await stack.settle()
    at = int(stack.clock.now())
    # WHEN the group is read three more times
    for _ in range(3):
        stack.clock.advance(60)
        await service.reading.sync_group(group_id)
    # THEN each change is one row, the webhook's
    assert rows(await stack.store.groups.member_history(group_id)) == [
        *before,
        (MX, "join", at, False),
        (BR, "leave", at, False),
    ]


async def test_missed_changes_are_read_once_and_late_webhooks_replace_them(stack: Stack) -> None:
    service = stack.service
    group_id = await stack.create_group("Order 5006")
    await stack.join(group_id, DE, BR)
    before = rows(await stack.store.groups.member_history(group_id))

    # GIVEN webhooks stop reaching the listener while MX joins and BR leaves
    stack.sandbox.set_webhook_url(None)
    stack.world.persons.join(group_id, MX)
    stack.world.persons.leave(group_id, BR)
    changed_at = int(stack.clock.now())
    stack.clock.advance(120)
    read_at = int(stack.clock.now())

    # WHEN the group is read, and read again
    await service.reading.sync_group(group_id)
    await service.reading.sync_group(group_id)
    stack.clock.advance(60)
    await service.reading.sync_group(group_id)

    # THEN exactly one row each records what the read saw, at the first read's time
    assert rows(await stack.store.groups.member_history(group_id)) == [
        *before,
        (MX, "join", read_at, True),
        (BR, "leave", read_at, True),
    ]
    assert {m.key for m in await service.reading.members(group_id)} == {DE, MX}

    # WHEN the missed webhooks finally arrive
    stack.sandbox.set_webhook_url(stack.listener.url)
    await stack.settle()

    # THEN they replace the observations: still one row each, with the webhooks' time
    assert rows(await stack.store.groups.member_history(group_id)) == [
        *before,
        (MX, "join", changed_at, False),
        (BR, "leave", changed_at, False),
    ]
    members = {m.key: m for m in await service.reading.members(group_id)}
    assert set(members) == {DE, MX} and members[MX].joined_at == changed_at
