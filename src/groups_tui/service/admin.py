"""Administration: groups, members, join requests, settings, local details, the audit log.

Group operations are asynchronous at Meta: each call returns a request id and the
outcome arrives by webhook, so every change here is recorded as a pending operation
that the listener settles.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groups_tui.cloud.errors import ApiError, CreateGroupOutcomeUnknown, PartialFailure
from groups_tui.domain import limits
from groups_tui.domain.identity import is_bsuid, is_phone_number
from groups_tui.domain.models import Direction, GroupState, JoinApproval
from groups_tui.domain.sending import Refusal
from groups_tui.service.core import ServiceCore
from groups_tui.service.errors import ServiceError, refused
from groups_tui.service.reading import Reading
from groups_tui.service.sending import read_file
from groups_tui.service.types import (
    AuditEntry,
    Contact,
    DecisionResult,
    HistoryEntry,
    KnownPerson,
    MemberRow,
    PendingOperation,
)

if TYPE_CHECKING:
    from groups_tui.cloud.models import FailedItem

__all__ = ["Admin"]


class Admin:
    """Creating and deleting groups, members and join requests, settings, contacts.

    Args:
        core: The store, client and clock shared by the service's parts.
        reading: Reads the group an operation is checked against.
    """

    MEMBER_SCAN_LIMIT = 2_000
    """Newest messages scanned per group for the members screen's counts."""

    def __init__(self, core: ServiceCore, reading: Reading) -> None:
        self._core = core
        self._store = core.store
        self._reading = reading

    # --- groups ----------------------------------------------------------------------------
    async def create_group(
        self,
        subject: str,
        description: str | None = None,
        join_approval: bool = False,
        *,
        number: str | None = None,
    ) -> PendingOperation:
        """Ask Meta to create a group on a number; it stays pending until the lifecycle
        webhook.

        Args:
            subject: The group's subject.
            description: Its description.
            join_approval: People ask to join and are approved one by one.
            number: The number to create it on (label or id); the only number by
                default, refused when there are several and none is named.

        Raises:
            ServiceError: A refusal (subject, description, the number's 10,000 groups,
                no number chosen) or the API's error.
        """
        subject = subject.strip()
        for refusal in (limits.check_subject(subject), limits.check_description(description or "")):
            if refusal is not None:
                raise refused(refusal)
        chosen = self._core.number(number) if self._core.numbers else None
        pnid = chosen.phone_number_id if chosen is not None else self._core.api().phone_number_id
        api = self._core.api_for(pnid)
        count = await self._store.groups.count_of_number(pnid)
        too_many = limits.check_group_count(count, chosen.label if chosen else "this number")
        if too_many is not None:
            raise refused(too_many)
        try:
            request_id = await self._core.call(
                "group.create",
                None,
                [subject],
                api.groups.create(subject, description, join_approval),
                phone_number_id=pnid,
            )
        except ServiceError as exc:
            if isinstance(exc.cause, CreateGroupOutcomeUnknown):
                raise ServiceError(
                    "no answer to the create request: the group may exist; check the "
                    "group list before creating it again",
                    cause=exc.cause,
                ) from exc
            raise
        await self._store.groups.create_pending(
            request_id,
            subject,
            description=description or "",
            join_approval=(
                JoinApproval.APPROVAL_REQUIRED if join_approval else JoinApproval.AUTO_APPROVE
            ),
            phone_number_id=pnid,
        )
        op = await self._store.operations.get(request_id)
        assert op is not None
        return op

    async def _pending(
        self, kind: str, group_id: str, request_id: str | None, payload: dict[str, Any]
    ) -> PendingOperation:
        rid = request_id or f"local:{kind}:{uuid.uuid4().hex}"
        await self._store.operations.add(rid, kind, group_id=group_id, payload=payload)
        op = await self._store.operations.get(rid)
        assert op is not None
        return op

    async def delete_group(self, group_id: str) -> PendingOperation:
        """Delete a group; pending until the lifecycle webhook."""
        group = await self._core.group(group_id)
        if group.state is GroupState.DELETED:
            raise ServiceError(f"group {group.subject!r} is already deleted")
        api = self._core.api_for_group(group)
        await self._core.call(
            "group.delete", group_id, [group.subject], api.groups.delete(group_id)
        )
        return await self._pending("delete", group_id, None, {"subject": group.subject})

    async def invite_link(self, group_id: str, reset: bool = False) -> str:
        """The group's invite link, optionally reset first."""
        api = await self._core.api_for_group_id(group_id)
        if reset:
            link = await self._core.call(
                "invite_link.reset", group_id, [], api.invite_links.reset(group_id)
            )
        else:
            try:
                link = await api.invite_links.get(group_id)
            except ApiError as exc:
                raise ServiceError(str(exc), cause=exc) from exc
        await self._store.groups.set_invite_link(group_id, link)
        return str(link)

    async def update_settings(
        self,
        group_id: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        picture: Path | None = None,
    ) -> PendingOperation:
        """Change subject, description or picture; pending until the settings webhook."""
        if subject is None and description is None and picture is None:
            raise ServiceError("nothing to change")
        checks = [
            limits.check_subject(subject) if subject is not None else None,
            limits.check_description(description) if description is not None else None,
        ]
        data: bytes | None = None
        if picture is not None:
            data = await asyncio.to_thread(read_file, picture)
            checks.append(limits.check_picture_data(data))
        for refusal in checks:
            if refusal is not None:
                raise refused(refusal)
        api = await self._core.api_for_group_id(group_id)
        rid: str | None = None
        payload: dict[str, Any] = {}
        if subject is not None or description is not None:
            rid = await self._core.call(
                "group.settings",
                group_id,
                [],
                api.groups.update_settings(group_id, subject=subject, description=description),
            )
            payload.update(
                {
                    k: v
                    for k, v in (("subject", subject), ("description", description))
                    if v is not None
                }
            )
        if data is not None:
            rid = (
                await self._core.call(
                    "group.picture", group_id, [], api.groups.update_picture(group_id, data)
                )
                or rid
            )
            payload["picture"] = str(picture)
        return await self._pending("settings", group_id, rid, payload)

    async def set_tag(self, group_id: str, tag: str | None) -> None:
        """Tag a group (a local annotation, never sent to Meta)."""
        await self._store.groups.annotate(group_id, tag=tag)

    # --- members ---------------------------------------------------------------------------
    async def remove_participants(self, group_id: str, keys: Sequence[str]) -> PendingOperation:
        """Remove members in calls of at most 8; pending until the webhook confirms.

        Members are addressed by ``wa_id`` (or the business-scoped id when that is all
        we have, which the client sends as ``user_id``); `keys` may be member keys,
        phone numbers or business-scoped user ids.
        """
        if not keys:
            raise ServiceError("nobody to remove")
        api = await self._core.api_for_group_id(group_id)
        members = {m.key: m for m in await self._store.groups.members(group_id)}
        by_wa = {m.wa_id: m for m in members.values() if m.wa_id}
        users: list[str] = []
        for key in dict.fromkeys(keys):
            digits = key.lstrip("+").replace(" ", "")
            member = members.get(key) or by_wa.get(digits)
            user = member.wa_id or member.key if member else digits
            if not (is_phone_number(user) or is_bsuid(user)):
                raise refused(
                    Refusal(
                        "not_a_person",
                        f"{key!r} is neither a phone number nor a business-scoped user id",
                        100,
                    )
                )
            users.append(user)
        request_ids: list[str | None] = []
        refused_at_once: list[list[str]] = []
        for start in range(0, len(users), limits.MAX_REMOVE_PER_CALL):
            chunk = users[start : start + limits.MAX_REMOVE_PER_CALL]
            try:
                request_ids.append(
                    await self._core.call(
                        "participants.remove",
                        group_id,
                        chunk,
                        api.participants.remove(group_id, chunk),
                    )
                )
            except ServiceError as exc:
                if not isinstance(exc.cause, PartialFailure):
                    raise
                request_ids.append(None)
                refused_at_once += [[f.ref or "?", _failed_reason(f)] for f in exc.cause.failed]
        rid = next((r for r in request_ids if r), None)
        payload: dict[str, Any] = {"users": users}
        if refused_at_once:
            # A synchronous partial answer (131201, HTTP 206): these will not be removed.
            payload["refused"] = refused_at_once
        return await self._pending("remove", group_id, rid, payload)

    async def remove_everywhere(self, key: str) -> list[PendingOperation]:
        """Remove one member (key or number) from every group they are in, whichever
        number each group belongs to: each removal goes through its group's number."""
        ops = []
        for group_id in await self._store.groups.of_member(key.lstrip("+")):
            ops.append(await self.remove_participants(group_id, [key]))
        return ops

    async def member_rows(self, group_id: str) -> list[MemberRow]:
        """Current members with their activity, open flags and local details.

        Message counts come from the newest :attr:`MEMBER_SCAN_LIMIT` messages (read by
        keyset); ``count_is_partial`` says when older history was not scanned.
        """
        store = self._store
        members = await store.groups.members(group_id)
        last: dict[str, tuple[int, str | None]] = {}
        counts: dict[str, int] = {}
        # Join webhooks often carry no profile name; messages do.
        names: dict[str, str] = {}
        # The newest MEMBER_SCAN_LIMIT messages, rounded up to whole pages of 500 as they
        # were once read page by page: partial when the last of those pages was full.
        scan = -(-self.MEMBER_SCAN_LIMIT // 500) * 500
        recent = await store.messages.recent_senders(group_id, scan)
        partial = len(recent) == scan
        for direction, key, name, sent_at, body in recent:
            if direction == Direction.INBOUND and key:
                counts[key] = counts.get(key, 0) + 1
                last.setdefault(key, (sent_at, body))
                if name:
                    names.setdefault(key, name)
        flags: dict[str, list[str]] = {}
        for flag in await store.moderation.flags(("open",), limit=500):
            if flag.group_id == group_id and flag.participant_key:
                flags.setdefault(flag.participant_key, []).append(flag.rule)
        removing: set[str] = set()
        for op in await store.operations.pending("pending"):
            if op.group_id == group_id and op.kind == "remove":
                removing.update(str(u) for u in op.payload.get("users", ()))
        rows = []
        for m in members:
            contact = await store.moderation.contact(m.key)
            match = self._core.rate_card.match_member(m.wa_id, m.user_id)
            at, text = last.get(m.key, (None, None))
            if not m.profile_name and m.key in names:
                m = replace(m, profile_name=names[m.key])
            rows.append(
                MemberRow(
                    member=m,
                    country=match.country_iso2 if match else None,
                    last_message_at=at,
                    last_message=text,
                    message_count=counts.get(m.key, 0),
                    count_is_partial=partial,
                    flags=tuple(flags.get(m.key, ())),
                    contact_name=contact.display_name if contact else None,
                    note=contact.note if contact else None,
                    removing=bool({m.key, m.wa_id} & removing),
                    blocklisted=await store.moderation.is_blocked(m.key)
                    or (m.wa_id is not None and await store.moderation.is_blocked(m.wa_id)),
                )
            )
        return rows

    async def member_history(self, group_id: str, limit: int = 200) -> list[HistoryEntry]:
        """The group's newest joins, leaves and removals (at most `limit`), oldest first.

        A group holds at most eight members, so its membership history stays small; the
        store pages it oldest first by a row id the entries do not carry, hence one read.
        """
        return (await self._store.groups.member_history(group_id, limit=100_000))[-limit:]

    async def contact(self, key: str) -> Contact | None:
        """Local details about a member."""
        return await self._store.moderation.contact(key)

    async def set_contact(self, key: str, *, display_name: str | None, note: str | None) -> None:
        """Save local details about a member (audited; never sent to Meta)."""
        await self._store.moderation.set_contact(
            key, display_name=display_name or None, note=note or None
        )
        await self._core.audit(
            "contact.update", None, [key], {"display_name": display_name, "note": note}
        )

    async def known_people(self, groups: int = 100) -> list[KnownPerson]:
        """People the invite picker offers: members of the most recently active groups.

        Bounded to `groups` groups, so it costs the same on an account with 10,000.
        """
        listed, _cursor = await self._store.groups.page(limit=groups)
        people: dict[str, KnownPerson] = {}
        for group in listed:
            if not group.id:
                continue
            for m in await self._store.groups.members(group.id):
                if not m.wa_id:
                    continue
                known = people.get(m.wa_id)
                if known is None:
                    contact = await self._store.moderation.contact(m.key)
                    name = (contact.display_name if contact else None) or m.display_name
                    people[m.wa_id] = KnownPerson(m.key, m.wa_id, name, 1)
                else:
                    people[m.wa_id] = KnownPerson(
                        known.key, known.wa_id, known.name, known.groups + 1
                    )
        return sorted(people.values(), key=lambda p: (p.name.lower(), p.wa_id))

    # --- join requests ---------------------------------------------------------------------
    async def _decide(
        self, group_id: str, request_ids: Sequence[str], approve: bool
    ) -> DecisionResult:
        if not request_ids:
            raise ServiceError("no join requests chosen")
        if approve:
            detail = await self._reading.group_detail(group_id)
            refusal = limits.check_capacity(len(detail.members), len(request_ids))
            if refusal is not None:
                raise refused(refusal)
        api = await self._core.api_for_group_id(group_id)
        call = (
            api.join_requests.approve(group_id, list(request_ids))
            if approve
            else api.join_requests.reject(group_id, list(request_ids))
        )
        verb = "approved" if approve else "rejected"
        result = await self._core.call(
            f"join_requests.{'approve' if approve else 'reject'}", group_id, list(request_ids), call
        )
        done = list(result.approved if approve else result.rejected)
        failed = [(f.ref or "?", _failed_reason(f)) for f in result.failed]
        if done:
            await self._store.groups.decide_join_requests(done, verb, self._core.now())
        return DecisionResult(done=tuple(done), failed=tuple(failed))

    async def approve_join_requests(
        self, group_id: str, request_ids: Sequence[str]
    ) -> DecisionResult:
        """Approve join requests (refused when the group would exceed 8 members)."""
        return await self._decide(group_id, request_ids, True)

    async def reject_join_requests(
        self, group_id: str, request_ids: Sequence[str]
    ) -> DecisionResult:
        """Reject join requests."""
        return await self._decide(group_id, request_ids, False)

    # --- the audit log ---------------------------------------------------------------------
    async def audit_page(
        self,
        before_id: int | None = None,
        limit: int = 100,
        group_id: str | None = None,
        *,
        number: str | None = None,
    ) -> list[AuditEntry]:
        """A keyset page of the audit log (of a group, of a number), newest first."""
        return await self._store.audit.entries(
            group_id=group_id,
            before_id=before_id,
            limit=limit,
            phone_number_id=self._core.number_id(number),
        )

    async def record_refusal(self, action: str, group_id: str | None, reason: str) -> None:
        """Audit an attempt the daemon refused (as the caller it is acting for)."""
        await self._core.audit(action, group_id, [], {"refused": reason})

    async def spent_today_by(self, user: str) -> Decimal:
        """What `user`'s audited sends since local midnight were previewed to cost."""
        now = self._core.clock()
        local = time.localtime(now)
        midnight = int(now) - (local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec)
        return await self._store.audit.cost_since(user, midnight)


def _failed_reason(item: FailedItem) -> str:
    """Why one item of a bulk call failed, from its errors."""
    return "; ".join(e.message or e.title or str(e.code) for e in item.errors) or "failed"
