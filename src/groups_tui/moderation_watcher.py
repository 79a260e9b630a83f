"""Runs the moderation rules over the change feed and carries out automatic actions.

The rules themselves are pure (`groups_tui.domain.moderation`); this watcher feeds them
the messages, joins and join requests the listener applied, stores every flag, and for
rules switched to ``auto_remove`` or ``auto_reject`` calls the service. Its position in
the change feed is kept in the store, so a restart neither misses nor repeats events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.domain.moderation.engine import ModerationEngine
from groups_tui.domain.moderation.rules import Flag, RuleAction
from groups_tui.store.records import Change

if TYPE_CHECKING:
    from groups_tui.service import InboxService

POSITION_KEY = "moderation.position"
log = logging.getLogger(__name__)


class ModerationWatcher:
    """Follows the change feed and flags spam.

    Args:
        service: The service (for its store and for automatic actions).
        config: Thresholds and actions; the store's blocklist is added to its entries.
    """

    def __init__(self, service: InboxService, config: ModerationConfig | None = None) -> None:
        self.service = service
        self.store = service.store
        self.config = config or ModerationConfig()
        self.engine = ModerationEngine(self.config)
        self._task: asyncio.Task[None] | None = None

    async def prepare(self) -> int:
        """Merge the stored blocklist into the rules; return the feed position to start at.

        A first run starts at the end of the feed: history is not re-judged.
        """
        stored = [key for key, _reason in await self.store.moderation.blocklist()]
        if stored:
            from dataclasses import replace

            merged = tuple(dict.fromkeys((*self.config.blocklist, *stored)))
            self.config = replace(self.config, blocklist=merged)
            self.engine = ModerationEngine(self.config)
        position = await self.store.feed.get_meta(POSITION_KEY)
        if position is None:
            latest = await self.store.feed.latest_id()
            await self.store.feed.set_meta(POSITION_KEY, str(latest))
            return latest
        return int(position)

    async def process(self, changes: Sequence[Change]) -> list[Flag]:
        """Judge a batch of changes; store flags and run automatic actions."""
        flags: list[Flag] = []
        for change in changes:
            flags.extend(await self._judge(change))
        for flag in flags:
            await self._record(flag)
        if changes:
            await self.store.feed.set_meta(POSITION_KEY, str(changes[-1].id))
        return flags

    async def _judge(self, change: Change) -> list[Flag]:
        if change.group_id is None or change.entity is None:
            return []
        if change.kind == "message.received":
            message = await self.store.messages.get(change.entity)
            if message is None or message.sender_key is None:
                return []
            member = next(
                (
                    m
                    for m in await self.store.groups.members(change.group_id)
                    if m.key == message.sender_key
                ),
                None,
            )
            return self.engine.observe_message(
                change.group_id,
                message.sender_key,
                message.sender_wa_id,
                message.id,
                message.text,
                message.at,
                member.joined_at if member else None,
            )
        if change.kind == "participant.joined":
            member = next(
                (
                    m
                    for m in await self.store.groups.members(change.group_id)
                    if m.key == change.entity
                ),
                None,
            )
            if member is None:
                return []
            return self.engine.observe_join(
                change.group_id, member.key, member.wa_id, member.joined_at or change.at or 0
            )
        if change.kind == "join_request.created":
            request = next(
                (
                    r
                    for r in await self.store.groups.join_requests(change.group_id)
                    if r.join_request_id == change.entity
                ),
                None,
            )
            if request is None:
                return []
            return self.engine.observe_join_request(
                change.group_id,
                request.join_request_id,
                request.key,
                request.wa_id,
                request.created_at or change.at or 0,
            )
        return []

    async def _record(self, flag: Flag) -> None:
        flag_id = await self.store.moderation.add_flag(
            rule=str(flag.rule),
            action=str(flag.action),
            group_id=flag.group_id,
            participant_key=flag.participant_key,
            wa_id=flag.wa_id,
            message_id=flag.message_id,
            join_request_id=flag.join_request_id,
            at=flag.at,
            reason=flag.reason,
            evidence=flag.evidence,
        )
        if flag_id is None or flag.action is RuleAction.NOTIFY:
            return
        from groups_tui.service import ServiceError

        try:
            if flag.action is RuleAction.AUTO_REJECT and flag.join_request_id:
                await self.service.reject_join_requests(flag.group_id, [flag.join_request_id])
                outcome = "join request rejected automatically"
            elif flag.participant_key:
                await self.service.remove_participants(flag.group_id, [flag.participant_key])
                outcome = "member removed automatically"
            else:
                return
        except ServiceError as exc:
            await self.store.moderation.set_flag_state(flag_id, "auto_failed", str(exc))
            return
        await self.store.moderation.set_flag_state(flag_id, "auto_acted", outcome)

    async def run(self, poll_interval: float = 0.25) -> None:
        """Follow the feed until cancelled."""
        position = await self.prepare()
        async for batch in self.service.follow_changes(position, poll_interval):
            try:
                await self.process(batch)
            except Exception:
                log.exception("moderation batch failed")

    def start(self) -> None:
        """Run in the background of the current loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Cancel the background task."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
