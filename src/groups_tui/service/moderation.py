"""Moderation: the flags the rules raise, acting on them, and the local blocklist.

The rules themselves are pure (:mod:`groups_tui.domain.moderation`); the moderation
watcher (:mod:`groups_tui.workers.moderation`) feeds them the change feed and hands every
flag to :meth:`Moderation.record`, which stores it and carries out an automatic action.
"""

from __future__ import annotations

from collections.abc import Sequence

from groups_tui.domain.models import Direction
from groups_tui.domain.moderation.rules import Flag, RuleAction
from groups_tui.service.admin import Admin
from groups_tui.service.core import ServiceCore
from groups_tui.service.errors import ServiceError
from groups_tui.service.types import FlaggedPerson, PendingOperation, StoredFlag

__all__ = ["Moderation"]


class Moderation:
    """The moderation queue, its actions and the blocklist.

    Args:
        core: The store, client and clock shared by the service's parts.
        admin: Removes members and rejects join requests when a flag is acted on.
    """

    def __init__(self, core: ServiceCore, admin: Admin) -> None:
        self._core = core
        self._store = core.store
        self._admin = admin

    # --- the queue -------------------------------------------------------------------------
    async def flags_page(
        self, states: Sequence[str] = ("open",), before_id: int | None = None, limit: int = 50
    ) -> list[StoredFlag]:
        """A keyset page of moderation flags, newest first."""
        return await self._store.moderation.flags(states, before_id=before_id, limit=limit)

    async def act_on_flag(self, flag_id: int) -> StoredFlag:
        """Do what a flag calls for: reject its join request, or remove the member."""
        flag = await self._store.moderation.get_flag(flag_id)
        if flag is None:
            raise ServiceError(f"no moderation flag {flag_id}")
        if flag.state != "open":
            raise ServiceError(f"flag {flag_id} is already {flag.state}")
        if flag.group_id is None or flag.participant_key is None:
            raise ServiceError("this flag names no group member to act on")
        if flag.join_request_id:
            await self._admin.reject_join_requests(flag.group_id, [flag.join_request_id])
            outcome = "join request rejected"
        else:
            await self._admin.remove_participants(flag.group_id, [flag.participant_key])
            outcome = "member removed"
        await self._store.moderation.set_flag_state(flag_id, "acted", outcome)
        updated = await self._store.moderation.get_flag(flag_id)
        assert updated is not None
        return updated

    async def people_page(
        self, before_id: int | None = None, limit: int = 50
    ) -> list[FlaggedPerson]:
        """A keyset page of the open queue, one entry per person across groups."""
        return await self._store.moderation.open_people(before_id=before_id, limit=limit)

    async def open_count(self) -> int:
        """How many flags are open."""
        return await self._store.moderation.open_count()

    async def groups_of(self, who: str) -> list[str]:
        """The active groups a number or member key is in now."""
        return await self._store.groups.of_member(who.lstrip("+"))

    async def act_on_person(self, who: str) -> str:
        """Remove a flagged person everywhere: from every group they are in, and reject
        their flagged join requests; their open flags are then acted.

        Each group is tried even when another refuses; the flags of a group that refused
        stay open and the refusal is raised after the others were done.

        Args:
            who: :attr:`FlaggedPerson.who` (a number, else a member key).

        Returns:
            What was done, in one line ("removed from 3 groups").

        Raises:
            ServiceError: When a removal or rejection was refused (the others stand).
        """
        store = self._store
        flags = await store.moderation.open_flags_of(who)
        refused: dict[str, ServiceError] = {}
        rejected: set[str] = set()
        requests: dict[str, list[str]] = {}
        for flag in flags:
            if flag.group_id and flag.join_request_id:
                requests.setdefault(flag.group_id, []).append(flag.join_request_id)
        for group_id, ids in requests.items():
            try:
                await self._admin.reject_join_requests(group_id, sorted(set(ids)))
                rejected.add(group_id)
            except ServiceError as exc:
                refused[group_id] = exc
        removed: list[str] = []
        for group_id in await self.groups_of(who):
            try:
                await self._admin.remove_participants(group_id, [who])
                removed.append(group_id)
            except ServiceError as exc:
                refused[group_id] = exc
        parts = []
        if removed:
            parts.append(f"removed from {len(removed)} group{'s' if len(removed) != 1 else ''}")
        if rejected:
            n = len(rejected)
            parts.append(f"join request{'s' if n != 1 else ''} rejected in {n}")
        outcome = ", ".join(parts) or "no longer in any group"
        for flag in flags:
            if flag.group_id not in refused:
                await store.moderation.set_flag_state(flag.id, "acted", outcome)
        if refused:
            group_id, first = next(iter(refused.items()))
            raise ServiceError(
                f"{outcome}; refused in {len(refused)} group(s): {first.message}",
                refusal=first.refusal,
                cause=first.cause,
            )
        return outcome

    async def dismiss_person(self, who: str) -> int:
        """Close every open flag of one person without acting.

        Returns:
            How many flags were closed.
        """
        flags = await self._store.moderation.open_flags_of(who)
        for flag in flags:
            await self._store.moderation.set_flag_state(
                flag.id, "dismissed", f"dismissed by {self._core.os_user}"
            )
        await self._core.audit("moderation.dismiss", None, [f.id for f in flags])
        return len(flags)

    async def dismiss_flag(self, flag_id: int) -> None:
        """Close a flag without acting."""
        await self._store.moderation.set_flag_state(
            flag_id, "dismissed", f"dismissed by {self._core.os_user}"
        )
        await self._core.audit("moderation.dismiss", None, [flag_id])

    async def remove_sender(self, message_id: str) -> PendingOperation:
        """Remove the member who sent `message_id` from its group."""
        message = await self._store.messages.get(message_id)
        if message is None or message.direction is not Direction.INBOUND:
            raise ServiceError("choose a message sent by a member")
        if not message.sender_key:
            raise ServiceError("the sender of this message is unknown")
        return await self._admin.remove_participants(message.group_id, [message.sender_key])

    # --- what the watcher records ----------------------------------------------------------
    async def record(self, flag: Flag) -> int | None:
        """Store a flag the rules raised and carry out its automatic action, if any.

        A rule switched to ``auto_reject`` rejects the join request, one switched to
        ``auto_remove`` removes the member; the flag is then ``auto_acted``, or
        ``auto_failed`` with the reason when the API refused.

        Returns:
            The flag's id, or ``None`` when the same flag was stored before (nothing is
            done twice).
        """
        flag_id = await self._store.moderation.add_flag(
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
            return flag_id
        try:
            if flag.action is RuleAction.AUTO_REJECT and flag.join_request_id:
                await self._admin.reject_join_requests(flag.group_id, [flag.join_request_id])
                outcome = "join request rejected automatically"
            elif flag.participant_key:
                await self._admin.remove_participants(flag.group_id, [flag.participant_key])
                outcome = "member removed automatically"
            else:
                return flag_id
        except ServiceError as exc:
            await self._store.moderation.set_flag_state(flag_id, "auto_failed", str(exc))
            return flag_id
        await self._store.moderation.set_flag_state(flag_id, "auto_acted", outcome)
        return flag_id

    # --- the blocklist ---------------------------------------------------------------------
    async def block(self, key: str, reason: str | None = None) -> None:
        """Put a number or member key on the local blocklist."""
        await self._store.moderation.block(key.lstrip("+"), reason)
        await self._core.audit("blocklist.add", None, [key], reason)

    async def blocklist(self) -> list[tuple[str, str | None]]:
        """Every blocked number or member key, with the reason given."""
        return await self._store.moderation.blocklist()
