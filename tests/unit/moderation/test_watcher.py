"""The moderation watcher: change feed in, stored flags and automatic actions out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from groups_tui.domain.events import (
    GroupCreated,
    InboundMessage,
    JoinRequestCreated,
    ParticipantRef,
    ParticipantsJoined,
)
from groups_tui.domain.models import MessageKind
from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.domain.moderation.rules import RuleAction
from groups_tui.service import InboxService, ServiceError
from groups_tui.service.types import AccountInfo, Mode
from groups_tui.store import Store
from groups_tui.workers.moderation import ModerationWatcher

G1 = "Y2FwaV9ncm91cDox"
SPAMMER = "447700900123"


class RecordingService(InboxService):
    """The real service over the store, with its two moderation levers (removing members,
    rejecting join requests: Cloud API calls) recorded instead of called."""

    def __init__(self, store: Store, fail: bool = False) -> None:
        super().__init__(store, None, account=AccountInfo("", "", Mode.SANDBOX))
        self.removed: list[tuple[str, list[str]]] = []
        self.rejected: list[tuple[str, list[str]]] = []
        self.fail = fail
        self.admin.remove_participants = self._remove  # type: ignore[method-assign]
        self.admin.reject_join_requests = self._reject  # type: ignore[method-assign]

    async def _remove(self, group_id: str, keys: Sequence[str]) -> Any:
        if self.fail:
            raise ServiceError("(#131207) group suspended")
        self.removed.append((group_id, list(keys)))

    async def _reject(self, group_id: str, ids: Sequence[str]) -> Any:
        self.rejected.append((group_id, list(ids)))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "m.db")
    await s.raw.apply_events(
        None,
        [
            GroupCreated(request_id=None, group_id=G1, subject="Shop", at=100),
            ParticipantsJoined(group_id=G1, participants=(ParticipantRef(wa_id=SPAMMER),), at=200),
        ],
    )
    yield s
    await s.close()


def link_message(n: int, at: int) -> InboundMessage:
    return InboundMessage(
        wamid=f"wamid.spam{n}",
        group_id=G1,
        sender=ParticipantRef(wa_id=SPAMMER, profile_name="[bold]Deals[/bold]"),
        kind=MessageKind.TEXT,
        type="text",
        text=f"cheap stuff https://spam.example/{n}",
        at=at,
    )


async def watcher_for(service: RecordingService, config: ModerationConfig) -> ModerationWatcher:
    watcher = ModerationWatcher(service, config)
    await watcher.prepare()
    return watcher


async def test_link_flood_is_flagged_for_the_operator(store: Store) -> None:
    # GIVEN a watcher with default (notify-only) rules, started before the spam
    service = RecordingService(store)
    watcher = await watcher_for(service, ModerationConfig())
    start = await store.feed.latest_id()
    # WHEN a member posts three links within a minute
    await store.raw.apply_events(None, [link_message(i, 100_000 + i * 10) for i in range(3)])
    flags = await watcher.process(await store.feed.since(start))
    # THEN one link-flood flag is stored, open, and nobody was removed
    assert [f.rule for f in flags] == ["link_flood"]
    queue = await store.moderation.flags()
    assert len(queue) == 1 and queue[0].state == "open"
    assert queue[0].participant_key == SPAMMER and queue[0].group_id == G1
    assert service.removed == []


async def test_auto_remove_rule_removes_and_records_the_outcome(store: Store) -> None:
    service = RecordingService(store)
    config = ModerationConfig(link_flood_action=RuleAction.AUTO_REMOVE)
    watcher = await watcher_for(service, config)
    start = await store.feed.latest_id()
    await store.raw.apply_events(None, [link_message(i, 100_000 + i * 10) for i in range(3)])
    await watcher.process(await store.feed.since(start))
    assert service.removed == [(G1, [SPAMMER])]
    (flag,) = await store.moderation.flags(("auto_acted",))
    assert flag.outcome == "member removed automatically"


async def test_failed_automatic_action_stays_visible(store: Store) -> None:
    service = RecordingService(store, fail=True)
    config = ModerationConfig(link_flood_action=RuleAction.AUTO_REMOVE)
    watcher = await watcher_for(service, config)
    start = await store.feed.latest_id()
    await store.raw.apply_events(None, [link_message(i, 100_000 + i * 10) for i in range(3)])
    await watcher.process(await store.feed.since(start))
    (flag,) = await store.moderation.flags(("auto_failed",))
    assert "131207" in (flag.outcome or "")


async def test_blocklisted_requester_is_rejected_automatically(store: Store) -> None:
    await store.moderation.block("234")
    service = RecordingService(store)
    config = ModerationConfig(blocklist_action=RuleAction.AUTO_REJECT)
    watcher = await watcher_for(service, config)
    start = await store.feed.latest_id()
    await store.raw.apply_events(
        None,
        [
            JoinRequestCreated(
                group_id=G1,
                join_request_id="jr-1",
                participant=ParticipantRef(wa_id="2348031234567"),
                at=20_000,
            ),
        ],
    )
    await watcher.process(await store.feed.since(start))
    assert service.rejected == [(G1, ["jr-1"])]


async def test_position_survives_a_restart_and_nothing_is_judged_twice(store: Store) -> None:
    service = RecordingService(store)
    watcher = await watcher_for(service, ModerationConfig())
    start = await store.feed.latest_id()
    await store.raw.apply_events(None, [link_message(i, 100_000 + i * 10) for i in range(3)])
    await watcher.process(await store.feed.since(start))
    # WHEN a new watcher starts on the same store
    again = await watcher_for(service, ModerationConfig())
    position = await again.prepare()
    # THEN it resumes after what was judged: what follows is only its own bookkeeping,
    # and judging it adds no flag
    assert all(c.kind.startswith("moderation.") for c in await store.feed.since(position))
    assert await again.process(await store.feed.since(position)) == []
    assert len(await store.moderation.flags()) == 1


async def test_link_from_a_new_member_is_flagged(store: Store) -> None:
    # GIVEN a member who joined at t=200 WHEN they post a link an hour later
    service = RecordingService(store)
    watcher = await watcher_for(service, ModerationConfig())
    start = await store.feed.latest_id()
    await store.raw.apply_events(None, [link_message(1, 200 + 3600)])
    flags = await watcher.process(await store.feed.since(start))
    # THEN the new-member-link rule fires (and the flood rule does not, for one link)
    assert [str(f.rule) for f in flags] == ["new_member_link"]
