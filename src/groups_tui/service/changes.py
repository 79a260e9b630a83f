"""The change feed, for its followers: the TUI, the workers and ``events tail``.

Every applied webhook event (and every local change such as an outbox update) appends a
row to the store's change feed. Followers poll it by id, from this process or another
one writing the same database; each worker keeps its own position under a name.

The same feed, normalised to ``{"id", "kind", "group_id", "at", "data"}``, is what
forwarding delivers and ``groups-tui events tail`` prints (:meth:`Changes.events`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from groups_tui.service.core import ServiceCore
from groups_tui.service.types import Change, RawEvent

__all__ = ["FORWARDED_KINDS", "Changes", "normalize"]

FORWARDED_KINDS = frozenset(
    {
        "group.created",
        "group.create_failed",
        "group.deleted",
        "group.updated",
        "group.settings_failed",
        "group.suspended",
        "group.suspend_cleared",
        "participant.joined",
        "participant.left",
        "participant.removed",
        "participant.remove_failed",
        "join_request.created",
        "join_request.approved",
        "join_request.revoked",
        "message.received",
        "message.status",
        "cost.charged",
    }
)
"""Change-feed kinds that are group events applied from webhooks (local bookkeeping such
as outbox or annotation changes is not forwarded)."""


def normalize(change: Change, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The normalised JSON object of a change-feed row."""
    data: dict[str, Any] = {}
    if change.entity is not None:
        data["entity"] = change.entity
    data.update(change.payload or {})
    if extra:
        data.update(extra)
    return {
        "id": change.id,
        "kind": change.kind,
        "group_id": change.group_id,
        "at": change.at,
        "data": data,
    }


class Changes:
    """Following the change feed (and, for 1:1 messages, the raw webhook log).

    Args:
        core: The store, client and clock shared by the service's parts.
    """

    def __init__(self, core: ServiceCore) -> None:
        self._store = core.store

    async def latest_id(self) -> int:
        """The newest change-feed id (start following from here)."""
        return await self._store.feed.latest_id()

    async def since(self, after_id: int, limit: int = 500) -> list[Change]:
        """Change-feed rows after `after_id`, oldest first."""
        return await self._store.feed.since(after_id, limit)

    async def follow(
        self, after_id: int, poll_interval: float = 0.25, *, until_idle: bool = False
    ) -> AsyncIterator[list[Change]]:
        """Yield batches of changes as they are written, by this or another process.

        Polls ``PRAGMA data_version`` first, so an idle follower costs one cheap query
        per interval.

        Args:
            after_id: Follow from the change after this one.
            poll_interval: Real seconds between polls.
            until_idle: Stop once every change written so far was yielded, instead of
                following forever.
        """
        last = after_id
        seen_version: int | None = None
        while True:
            version = await self._store.feed.data_version()
            if version != seen_version:
                seen_version = version
                while batch := await self._store.feed.since(last, 1000):
                    last = batch[-1].id
                    yield batch
                    if len(batch) < 1000:
                        break
            if until_idle:
                return
            await asyncio.sleep(poll_interval)

    async def position(self, name: str) -> int | None:
        """Where the follower called `name` stopped (``None`` before its first run)."""
        value = await self._store.feed.get_meta(name)
        return None if value is None else int(value)

    async def set_position(self, name: str, position: int) -> None:
        """Remember where the follower called `name` stopped."""
        await self._store.feed.set_meta(name, str(position))

    async def events(
        self, changes: Sequence[Change], kinds: frozenset[str] = FORWARDED_KINDS
    ) -> list[dict[str, Any]]:
        """The changes of `kinds` among `changes`, normalised, in feed order.

        A received message carries its text, type and sender; a created or updated group
        its subject (what a CRM wants beside the change).
        """
        return [normalize(c, await self._details(c)) for c in changes if c.kind in kinds]

    async def _details(self, change: Change) -> dict[str, Any]:
        if change.kind == "message.received" and change.entity:
            message = await self._store.messages.get(change.entity)
            if message is not None:
                return {
                    "text": message.text,
                    "type": str(message.kind),
                    "sender_name": message.sender_name,
                    "sender_wa_id": message.sender_wa_id,
                }
        if change.kind in ("group.created", "group.updated") and change.group_id:
            group = await self._store.groups.get(change.group_id)
            if group is not None:
                return {"subject": group.subject}
        return {}

    # --- the raw log: 1:1 messages never reach the change feed -----------------------------
    async def latest_raw_id(self) -> int:
        """The newest raw webhook's id."""
        return await self._store.raw.latest_id()

    async def raw_since(self, after_id: int, limit: int = 500) -> list[RawEvent]:
        """Raw webhooks logged after `after_id`, oldest first (as received, signed)."""
        return await self._store.raw.events(after_id, limit)
