"""Runs the moderation rules over the change feed; the service records and acts.

The rules themselves are pure (`groups_tui.domain.moderation`); this watcher feeds them
the messages, joins and join requests the listener applied and hands every flag to
``service.moderation.record``, which stores it and, for rules switched to
``auto_remove`` or ``auto_reject``, acts. Its position in the change feed is kept in the
store, so a restart neither misses nor repeats events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.domain.moderation.engine import ModerationEngine
from groups_tui.domain.moderation.rules import Flag
from groups_tui.service import InboxService
from groups_tui.service.types import Change

POSITION_KEY = "moderation.position"
log = logging.getLogger(__name__)


class ModerationWatcher:
    """Follows the change feed and flags spam.

    Args:
        service: The service (its moderation, reading and change-feed parts).
        config: Thresholds and actions; the stored blocklist is added to its entries.
    """

    def __init__(self, service: InboxService, config: ModerationConfig | None = None) -> None:
        self.service = service
        self.config = config or ModerationConfig()
        self.engine = ModerationEngine(self.config)
        self._task: asyncio.Task[None] | None = None

    async def prepare(self) -> int:
        """Merge the stored blocklist into the rules; return the feed position to start at.

        A first run starts at the end of the feed: history is not re-judged.
        """
        stored = [key for key, _reason in await self.service.moderation.blocklist()]
        if stored:
            merged = tuple(dict.fromkeys((*self.config.blocklist, *stored)))
            self.config = replace(self.config, blocklist=merged)
            self.engine = ModerationEngine(self.config)
        changes = self.service.changes
        position = await changes.position(POSITION_KEY)
        if position is None:
            position = await changes.latest_id()
            await changes.set_position(POSITION_KEY, position)
        return position

    async def process(self, changes: Sequence[Change]) -> list[Flag]:
        """Judge a batch of changes; store flags and run automatic actions."""
        flags: list[Flag] = []
        for change in changes:
            flags.extend(await self._judge(change))
        for flag in flags:
            await self.service.moderation.record(flag)
        if changes:
            await self.service.changes.set_position(POSITION_KEY, changes[-1].id)
        return flags

    async def _judge(self, change: Change) -> list[Flag]:
        if change.group_id is None or change.entity is None:
            return []
        reading = self.service.reading
        if change.kind == "message.received":
            message = await reading.message(change.entity)
            if message is None or message.sender_key is None:
                return []
            member = await reading.member(change.group_id, message.sender_key)
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
            member = await reading.member(change.group_id, change.entity)
            if member is None:
                return []
            return self.engine.observe_join(
                change.group_id, member.key, member.wa_id, member.joined_at or change.at or 0
            )
        if change.kind == "join_request.created":
            request = await reading.join_request(change.group_id, change.entity)
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

    async def run(self, poll_interval: float = 0.25) -> None:
        """Follow the feed until cancelled."""
        position = await self.prepare()
        async for batch in self.service.changes.follow(position, poll_interval):
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
