"""Applying domain events to derived state, idempotently and order-safely.

Ordering rules (event time is the webhook's ``at``, never the receipt time):

* Membership: a participant row keeps the state set by the newest event (``state_at``).
  An older join, leave or removal changes nothing but the history. At equal times the
  exit wins (present < left < removed), so any arrival order gives the same result.
* Delivery: recipient and message states only rise in :attr:`DeliveryState.rank`; at an
  equal rank the earliest time is kept.
* Subject and description: the newest event wins; equal times fall back to comparing
  the text, again so that arrival order does not matter.
* Suspension: the newest of suspend/clear wins; at equal times suspended wins.
* Deletion is terminal: a late create never revives a deleted group.
* Cost: one ledger line per (message, participant), from the first status carrying
  pricing; later ones (``read`` after ``delivered``) are ignored.

Every change appends one change-feed row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from groups_tui.domain.events import (
    DomainEvent,
    EventError,
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
    GroupSuspendCleared,
    GroupSuspended,
    InboundMessage,
    JoinRequestCreated,
    JoinRequestRevoked,
    MessageStatus,
    ParticipantRef,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
    SettingsChanged,
    SettingsChangeFailed,
    UnknownEvent,
    normalize_input,
)
from groups_tui.domain.models import JoinVia, Media, MessageKind
from groups_tui.store.codec import dumps, media_to_json
from groups_tui.store.records import CostFn, MarketFn

__all__ = ["Applier"]

_MEMBER_RANK = {"present": 0, "left": 1, "removed": 2}
_VIA_RANK = "(CASE {} WHEN 'approval' THEN 2 WHEN 'invite_link' THEN 1 ELSE 0 END)"


def _error_text(errors: Sequence[EventError]) -> str | None:
    if not errors:
        return None
    return "; ".join(
        f"{e.code if e.code is not None else '?'}: {e.title or e.message or 'error'}"
        for e in errors
    )


def _first_error(errors: Sequence[EventError]) -> tuple[int | None, str | None]:
    if not errors:
        return None, None
    e = errors[0]
    return e.code, e.title or e.message


class Applier:
    """Applies events inside a transaction the caller owns.

    Args:
        conn: Writer connection with an open transaction.
        cost_fn: Prices ledger lines (``None`` → amounts unknown).
        market_fn: Maps ``wa_id`` to a market name.
        now: Bookkeeping time for ``raw_events.applied_at``.
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        cost_fn: CostFn | None,
        market_fn: MarketFn | None,
        now: float,
    ) -> None:
        self._conn = conn
        self._cost_fn = cost_fn
        self._market_fn = market_fn
        self._now = now
        self._raw_id: int | None = None
        self.changes = 0

    # ------------------------------------------------------------------ helpers

    async def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._conn.execute(sql, params) as cur:
            return cur.rowcount

    async def _row(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def _change(
        self,
        kind: str,
        group_id: str | None,
        at: int | None,
        entity: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO change_feed(kind, group_id, entity, at, raw_id, payload) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, group_id, entity, at, self._raw_id, dumps(payload or {})),
        )
        self.changes += 1

    async def _ensure_group(self, group_id: str) -> None:
        # Events can reach a group before its create webhook; a placeholder keeps the
        # foreign keys satisfied and is filled in when the create arrives.
        await self._conn.execute(
            "INSERT INTO groups(id) VALUES (?) ON CONFLICT(id) DO NOTHING", (group_id,)
        )

    async def _touch(self, group_id: str, at: int) -> None:
        await self._conn.execute(
            "UPDATE groups SET last_activity_at = max(coalesce(last_activity_at, 0), ?) "
            "WHERE id = ?",
            (at, group_id),
        )

    async def _resolve_op(
        self,
        request_id: str | None,
        state: str,
        at: int,
        *,
        error: str | None = None,
        group_id: str | None = None,
        kind: str | None = None,
    ) -> None:
        # A failure outranks success for the same request (a partial removal reports
        # both), so 'failed' may overwrite 'done' but never the reverse.
        allowed = "('pending', 'done')" if state == "failed" else "('pending')"
        attempts: list[tuple[str, list[Any]]] = []
        if request_id is not None:
            attempts.append(("request_id = ?", [request_id]))
        if kind is not None and group_id is not None:
            # A group is deleted once, so any pending delete of it is settled. Removals and
            # settings changes whose response carried no request id are recorded under a
            # local id; the webhook that settles them is matched on the group and the kind.
            local_only = "" if kind == "delete" else " AND request_id LIKE 'local:%'"
            attempts.append((f"kind = ? AND group_id = ?{local_only}", [kind, group_id]))
        resolved: list[str] = []
        for where, params in attempts:
            async with self._conn.execute(
                "UPDATE pending_operations SET state = ?, error = ?, resolved_at = ?, "
                "resolved_by = 'webhook', group_id = coalesce(group_id, ?) "
                f"WHERE {where} AND state IN {allowed} AND coalesce(resolved_by, 'webhook') = "
                "'webhook' RETURNING request_id",
                (state, error, at, group_id, *params),
            ) as cur:
                resolved = [r[0] for r in await cur.fetchall()]
            if resolved:
                break
        for rid in resolved:
            await self._change(
                "operation.resolved", group_id, at, rid, {"state": state, "error": error}
            )

    async def _member_key(self, group_id: str | None, ref: ParticipantRef) -> str:
        """The key of an existing row for this person, else the reference's own key."""
        if group_id is None:
            return ref.key
        phones = [v for v in (ref.wa_id, normalize_input(ref.input) if ref.input else None) if v]
        keys = [v for v in (ref.user_id, *phones) if v]
        if not keys:
            return ref.key
        marks = ",".join("?" * len(keys))
        pmarks = ",".join("?" * len(phones)) or "NULL"
        row = await self._row(
            "SELECT participant_key FROM participants WHERE group_id = ? AND "
            f"(participant_key IN ({marks}) OR wa_id IN ({pmarks})) "
            "ORDER BY participant_key = ? DESC LIMIT 1",
            (group_id, *keys, *phones, ref.user_id or ""),
        )
        return str(row[0]) if row else ref.key

    # ------------------------------------------------------------------ entry

    async def apply(self, raw_id: int | None, events: Sequence[DomainEvent]) -> None:
        """Apply one raw event's domain events and mark the raw row applied."""
        self._raw_id = raw_id
        unparsed = False
        for event in events:
            if isinstance(event, UnknownEvent):
                unparsed = True
                continue
            await self._dispatch(event)
        if raw_id is not None:
            await self._conn.execute(
                "UPDATE raw_events SET applied_at = ?, parse_state = ?, error = NULL WHERE id = ?",
                (self._now, "unparsed" if unparsed else "ok", raw_id),
            )

    async def _dispatch(self, event: DomainEvent) -> None:
        match event:
            case GroupCreated():
                await self._group_created(event)
            case GroupCreateFailed():
                await self._group_create_failed(event)
            case GroupDeleted():
                await self._group_deleted(event)
            case GroupDeleteFailed():
                await self._resolve_op(
                    event.request_id,
                    "failed",
                    event.at,
                    error=_error_text(event.errors),
                    group_id=event.group_id,
                    kind="delete",
                )
            case ParticipantsJoined():
                await self._joined(event)
            case ParticipantsLeft():
                await self._exited(event.group_id, event.participants, "left", event.at)
            case ParticipantsRemoved():
                await self._exited(
                    event.group_id,
                    event.participants,
                    "removed",
                    event.at,
                    initiated_by=event.initiated_by,
                    request_id=event.request_id,
                )
                await self._resolve_op(
                    event.request_id, "done", event.at, group_id=event.group_id, kind="remove"
                )
            case ParticipantsRemoveFailed():
                await self._remove_failed(event)
            case JoinRequestCreated():
                await self._join_request_created(event)
            case JoinRequestRevoked():
                await self._join_request_revoked(event)
            case SettingsChanged():
                await self._settings_changed(event)
            case SettingsChangeFailed():
                await self._settings_failed(event)
            case GroupSuspended():
                await self._suspension(event.group_id, True, event.at)
            case GroupSuspendCleared():
                await self._suspension(event.group_id, False, event.at)
            case InboundMessage():
                await self._inbound(event)
            case MessageStatus():
                await self._status(event)
            case _:
                raise TypeError(f"not a domain event: {type(event).__name__}")

    # ------------------------------------------------------------------ lifecycle

    async def _group_created(self, e: GroupCreated) -> None:
        pending = None
        if e.request_id is not None:
            pending = await self._row(
                "SELECT pk FROM groups WHERE request_id = ? AND id IS NULL", (e.request_id,)
            )
        existing = await self._row("SELECT pk FROM groups WHERE id = ?", (e.group_id,))
        if pending and existing:
            # Another event created a placeholder first: fold the pending row into it.
            await self._exec(
                "UPDATE groups SET subject = CASE WHEN subject_at IS NULL AND subject = '' "
                "THEN (SELECT subject FROM groups WHERE pk = ?1) ELSE subject END, "
                "description = CASE WHEN description_at IS NULL AND description = '' "
                "THEN (SELECT description FROM groups WHERE pk = ?1) ELSE description END, "
                "join_approval = (SELECT join_approval FROM groups WHERE pk = ?1) "
                "WHERE pk = ?2",
                (pending[0], existing[0]),
            )
            await self._exec("DELETE FROM groups WHERE pk = ?", (pending[0],))
            await self._exec(
                "UPDATE groups SET request_id = ? WHERE pk = ?", (e.request_id, existing[0])
            )
        elif pending:
            await self._exec("UPDATE groups SET id = ? WHERE pk = ?", (e.group_id, pending[0]))
        else:
            # A create we did not ask for, or a placeholder made by an earlier-applied
            # event: either way the group exists and takes the request id if it is free.
            await self._ensure_group(e.group_id)
            await self._exec(
                "UPDATE groups SET request_id = ?2 WHERE id = ?1 AND request_id IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM groups WHERE request_id = ?2)",
                (e.group_id, e.request_id),
            )
        await self._exec(
            "UPDATE groups SET state = CASE WHEN state = 'deleted' THEN state ELSE 'active' END, "
            "state_at = CASE WHEN state = 'deleted' THEN state_at ELSE ?2 END, "
            "created_at = ?2, invite_link = coalesce(?3, invite_link), "
            "join_approval = coalesce(?4, join_approval), error_code = NULL, "
            "error_message = NULL WHERE id = ?1",
            (e.group_id, e.at, e.invite_link, e.join_approval_mode),
        )
        await self._set_texts(e.group_id, e.subject, e.description, e.at)
        await self._touch(e.group_id, e.at)
        await self._change("group.created", e.group_id, e.at, e.request_id)
        await self._resolve_op(e.request_id, "done", e.at, group_id=e.group_id)

    async def _set_texts(
        self, group_id: str, subject: str | None, description: str | None, at: int
    ) -> None:
        for column, value in (("subject", subject), ("description", description)):
            if value is None:
                continue
            await self._exec(
                f"UPDATE groups SET {column} = ?2, {column}_at = ?3 WHERE id = ?1 AND "
                f"({column}_at IS NULL OR {column}_at < ?3 "
                f"OR ({column}_at = ?3 AND {column} < ?2))",
                (group_id, value, at),
            )

    async def _group_create_failed(self, e: GroupCreateFailed) -> None:
        code, _ = _first_error(e.errors)
        text = _error_text(e.errors)
        if e.request_id is not None:
            updated = await self._exec(
                "UPDATE groups SET state = 'failed', state_at = ?, error_code = ?, "
                "error_message = ? WHERE request_id = ? AND id IS NULL",
                (e.at, code, text, e.request_id),
            )
            if not updated:
                await self._exec(
                    "INSERT INTO groups(request_id, subject, description, state, state_at, "
                    "error_code, error_message) VALUES (?, ?, ?, 'failed', ?, ?, ?) "
                    "ON CONFLICT(request_id) DO NOTHING",
                    (e.request_id, e.subject or "", e.description or "", e.at, code, text),
                )
        await self._change(
            "group.create_failed", None, e.at, e.request_id, {"error": text, "code": code}
        )
        await self._resolve_op(e.request_id, "failed", e.at, error=text)

    async def _group_deleted(self, e: GroupDeleted) -> None:
        await self._ensure_group(e.group_id)
        await self._exec(
            "UPDATE groups SET state = 'deleted', state_at = ? WHERE id = ? AND state <> 'deleted'",
            (e.at, e.group_id),
        )
        await self._touch(e.group_id, e.at)
        await self._change("group.deleted", e.group_id, e.at, e.request_id)
        await self._resolve_op(e.request_id, "done", e.at, group_id=e.group_id, kind="delete")

    # ------------------------------------------------------------------ members

    async def _set_member(
        self,
        group_id: str,
        ref: ParticipantRef,
        state: str,
        at: int,
        *,
        joined_via: str | None = None,
    ) -> tuple[str, bool]:
        """Move one participant to ``state`` unless a newer event already decided it.

        Returns:
            The member key and whether the state changed.
        """
        key = await self._member_key(group_id, ref)
        wa_id = ref.wa_id or (
            normalize_input(ref.input)
            if ref.input and normalize_input(ref.input).isdigit()
            else None
        )
        current = await self._row(
            "SELECT state, state_at FROM participants WHERE group_id = ? AND participant_key = ?",
            (group_id, key),
        )
        joined_at = at if state == "present" else None
        via = joined_via or "unknown"
        if current is None:
            await self._exec(
                "INSERT INTO participants(group_id, participant_key, wa_id, user_id, username, "
                "profile_name, joined_at, joined_via, state, state_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group_id,
                    key,
                    wa_id,
                    ref.user_id,
                    ref.username,
                    ref.profile_name,
                    joined_at,
                    via,
                    state,
                    at,
                ),
            )
            return key, True
        cur_state, cur_at = current
        newer = at > cur_at or (at == cur_at and _MEMBER_RANK[state] > _MEMBER_RANK[cur_state])
        if newer:
            await self._exec(
                "UPDATE participants SET state = ?3, state_at = ?4, "
                "wa_id = coalesce(?5, wa_id), user_id = coalesce(?6, user_id), "
                "username = coalesce(?7, username), profile_name = coalesce(?8, profile_name) "
                "WHERE group_id = ?1 AND participant_key = ?2",
                (group_id, key, state, at, wa_id, ref.user_id, ref.username, ref.profile_name),
            )
        else:
            # Stale for the state, but it may still know identity fields we lack.
            await self._exec(
                "UPDATE participants SET wa_id = coalesce(wa_id, ?3), "
                "user_id = coalesce(user_id, ?4), username = coalesce(username, ?5), "
                "profile_name = coalesce(profile_name, ?6) "
                "WHERE group_id = ?1 AND participant_key = ?2",
                (group_id, key, wa_id, ref.user_id, ref.username, ref.profile_name),
            )
        if state == "present":
            # joined_at/joined_via describe the newest join seen, even one that lost to a
            # later exit, so the result does not depend on arrival order. For the same
            # join, the more specific 'approval' beats 'invite_link' beats 'unknown'.
            await self._exec(
                "UPDATE participants SET joined_at = ?3, joined_via = ?4 "
                "WHERE group_id = ?1 AND participant_key = ?2 AND (joined_at IS NULL "
                f"OR joined_at < ?3 OR (joined_at = ?3 AND {_VIA_RANK.format('joined_via')} "
                f"< {_VIA_RANK.format('?4')}))",
                (group_id, key, at, via),
            )
        return key, newer

    async def _history(
        self,
        group_id: str,
        key: str,
        action: str,
        at: int,
        *,
        initiated_by: str | None = None,
        via: str | None = None,
        request_id: str | None = None,
        error: tuple[int | None, str | None] = (None, None),
    ) -> bool:
        return bool(
            await self._exec(
                "INSERT OR IGNORE INTO participant_history(group_id, participant_key, action, at, "
                "initiated_by, via, request_id, error_code, error_message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (group_id, key, action, at, initiated_by, via, request_id, *error),
            )
        )

    async def _joined(self, e: ParticipantsJoined) -> None:
        await self._ensure_group(e.group_id)
        for ref in e.participants:
            key = await self._member_key(e.group_id, ref)
            # Meta reports approvals with reason 'invite_link' too; an open request from
            # the same person, made before the join, tells them apart.
            approved = await self._row(
                "UPDATE join_requests SET state = 'approved', state_at = ?3 "
                "WHERE group_id = ?1 AND participant_key = ?2 AND state = 'pending' "
                "AND coalesce(created_at, 0) <= ?3 RETURNING id",
                (e.group_id, key, e.at),
            )
            via = str(JoinVia.APPROVAL) if approved else _join_via(e.via)
            key, changed = await self._set_member(e.group_id, ref, "present", e.at, joined_via=via)
            logged = await self._history(e.group_id, key, "join", e.at, via=via)
            if approved:
                await self._change("join_request.approved", e.group_id, e.at, str(approved[0]))
            if changed or logged:
                await self._change("participant.joined", e.group_id, e.at, key, {"via": via})
        await self._touch(e.group_id, e.at)

    async def _exited(
        self,
        group_id: str,
        refs: Sequence[ParticipantRef],
        state: str,
        at: int,
        *,
        initiated_by: str | None = None,
        request_id: str | None = None,
    ) -> None:
        await self._ensure_group(group_id)
        action = "leave" if state == "left" else "remove"
        kind = "participant.left" if state == "left" else "participant.removed"
        for ref in refs:
            key, changed = await self._set_member(group_id, ref, state, at)
            logged = await self._history(
                group_id,
                key,
                action,
                at,
                initiated_by=initiated_by or ("participant" if state == "left" else None),
                request_id=request_id,
            )
            if changed or logged:
                await self._change(kind, group_id, at, key)
        await self._touch(group_id, at)

    async def _remove_failed(self, e: ParticipantsRemoveFailed) -> None:
        await self._ensure_group(e.group_id)
        item_error = _first_error(e.errors)
        for failed in e.failed:
            key = await self._member_key(e.group_id, failed.participant)
            error = _first_error(failed.errors) if failed.errors else item_error
            if await self._history(
                e.group_id,
                key,
                "remove_failed",
                e.at,
                initiated_by=e.initiated_by,
                request_id=e.request_id,
                error=error,
            ):
                await self._change(
                    "participant.remove_failed", e.group_id, e.at, key, {"code": error[0]}
                )
        await self._resolve_op(
            e.request_id,
            "failed",
            e.at,
            error=_error_text(e.errors),
            group_id=e.group_id,
            kind="remove",
        )

    async def _join_request_created(self, e: JoinRequestCreated) -> None:
        await self._ensure_group(e.group_id)
        ref = e.participant
        key = await self._member_key(e.group_id, ref)
        inserted = await self._exec(
            "INSERT INTO join_requests(id, group_id, participant_key, wa_id, user_id, username, "
            "profile_name, created_at, state, state_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(id) DO NOTHING",
            (
                e.join_request_id,
                e.group_id,
                key,
                ref.wa_id,
                ref.user_id,
                ref.username,
                ref.profile_name,
                e.at,
                e.at,
            ),
        )
        if not inserted:
            # Known from a revoke that overtook it: fill in what the revoke lacked.
            await self._exec(
                "UPDATE join_requests SET created_at = coalesce(created_at, ?), "
                "wa_id = coalesce(wa_id, ?), user_id = coalesce(user_id, ?), "
                "username = coalesce(username, ?), profile_name = coalesce(profile_name, ?) "
                "WHERE id = ?",
                (e.at, ref.wa_id, ref.user_id, ref.username, ref.profile_name, e.join_request_id),
            )
            return
        decision = await self._row(
            "SELECT decision, at FROM join_request_decisions WHERE id = ?", (e.join_request_id,)
        )
        member = await self._row(
            "SELECT state_at FROM participants WHERE group_id = ? AND participant_key = ? "
            "AND state = 'present' AND state_at >= ?",
            (e.group_id, key, e.at),
        )
        if decision is not None:
            await self._exec(
                "UPDATE join_requests SET state = ?, state_at = ? WHERE id = ?",
                (decision[0], decision[1], e.join_request_id),
            )
        elif member is not None:
            # The join that approved it was applied first.
            await self._exec(
                "UPDATE join_requests SET state = 'approved', state_at = ? WHERE id = ?",
                (member[0], e.join_request_id),
            )
            await self._exec(
                "UPDATE participants SET joined_via = 'approval' "
                "WHERE group_id = ? AND participant_key = ?",
                (e.group_id, key),
            )
        await self._change("join_request.created", e.group_id, e.at, e.join_request_id)

    async def _join_request_revoked(self, e: JoinRequestRevoked) -> None:
        await self._ensure_group(e.group_id)
        ref = e.participant
        key = await self._member_key(e.group_id, ref)
        changed = await self._exec(
            "INSERT INTO join_requests(id, group_id, participant_key, wa_id, user_id, username, "
            "profile_name, created_at, state, state_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'revoked', ?) "
            "ON CONFLICT(id) DO UPDATE SET state = 'revoked', state_at = excluded.state_at "
            "WHERE join_requests.state = 'pending'",
            (
                e.join_request_id,
                e.group_id,
                key,
                ref.wa_id,
                ref.user_id,
                ref.username,
                ref.profile_name,
                e.at,
            ),
        )
        if changed:
            await self._change("join_request.revoked", e.group_id, e.at, e.join_request_id)

    # ------------------------------------------------------------------ settings

    async def _settings_changed(self, e: SettingsChanged) -> None:
        await self._ensure_group(e.group_id)
        await self._set_texts(e.group_id, e.subject, e.description, e.at)
        if e.picture is not None:
            await self._exec(
                "UPDATE groups SET picture_sha256 = ?, picture_at = ? WHERE id = ? "
                "AND (picture_at IS NULL OR picture_at <= ?)",
                (e.picture.sha256, e.at, e.group_id, e.at),
            )
        await self._touch(e.group_id, e.at)
        changed = [
            name
            for name, value in (
                ("subject", e.subject),
                ("description", e.description),
                ("picture", e.picture),
            )
            if value is not None
        ]
        await self._change("group.updated", e.group_id, e.at, e.request_id, {"changed": changed})
        await self._resolve_op(e.request_id, "done", e.at, group_id=e.group_id, kind="settings")

    async def _settings_failed(self, e: SettingsChangeFailed) -> None:
        await self._ensure_group(e.group_id)
        parts = [f"{f.setting}: {_error_text(f.errors) or 'failed'}" for f in e.failures]
        text = "; ".join(parts) or _error_text(e.errors) or "settings update failed"
        await self._change("group.settings_failed", e.group_id, e.at, e.request_id, {"error": text})
        await self._resolve_op(
            e.request_id, "failed", e.at, error=text, group_id=e.group_id, kind="settings"
        )

    async def _suspension(self, group_id: str, suspended: bool, at: int) -> None:
        await self._ensure_group(group_id)
        changed = await self._exec(
            "UPDATE groups SET suspended = ?2, suspended_at = ?3 WHERE id = ?1 AND "
            "(suspended_at IS NULL OR suspended_at < ?3 OR (suspended_at = ?3 AND ?2 = 1))",
            (group_id, int(suspended), at),
        )
        if changed:
            kind = "group.suspended" if suspended else "group.suspend_cleared"
            await self._change(kind, group_id, at)

    # ------------------------------------------------------------------ messages

    async def _inbound(self, e: InboundMessage) -> None:
        if e.group_id is None:
            return  # 1:1 messages are outside this inbox
        await self._ensure_group(e.group_id)
        sender = e.sender
        key = await self._member_key(e.group_id, sender)
        name = sender.profile_name or sender.username or key or None
        media = None
        if e.media is not None:
            media = Media(
                kind=e.kind,
                mime_type=e.media.mime_type,
                size=e.media.size,
                caption=e.media.caption,
                filename=e.media.filename,
                media_id=e.media.id,
                link=e.media.url,
            )
        text = e.text if e.text is not None else (e.media.caption if e.media else None)
        code, title = _first_error(e.errors)
        inserted = await self._exec(
            "INSERT INTO messages(id, group_id, direction, kind, sender_key, sender_name, "
            "sender_wa_id, at, text, media, extras, reply_to, error_code, error_title, origin) "
            "VALUES (?, ?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'webhook') "
            "ON CONFLICT(id) DO NOTHING",
            (
                e.wamid,
                e.group_id,
                str(e.kind if isinstance(e.kind, MessageKind) else MessageKind.UNSUPPORTED),
                key or None,
                name,
                sender.wa_id,
                e.at,
                text,
                media_to_json(media),
                dumps(dict(e.extras)) if e.extras else None,
                e.reply_to,
                code,
                title,
            ),
        )
        if not inserted:
            return
        # Unread counts only messages newer than what the operator marked read; the
        # window renews from the newest inbound message whatever the arrival order.
        await self._exec(
            "UPDATE groups SET "
            "unread = unread + (?2 > coalesce((SELECT read_through FROM group_local "
            "WHERE group_id = ?1), -1)), "
            "last_inbound_by = CASE WHEN last_inbound_at IS NULL OR ?2 > last_inbound_at "
            "THEN ?3 ELSE last_inbound_by END, "
            "last_inbound_at = max(coalesce(last_inbound_at, ?2), ?2), "
            "last_activity_at = max(coalesce(last_activity_at, ?2), ?2) WHERE id = ?1",
            (e.group_id, e.at, name),
        )
        await self._change("message.received", e.group_id, e.at, e.wamid, {"sender": key})

    async def _status(self, e: MessageStatus) -> None:
        state = e.state
        if state is None:
            return  # a status value this version does not model
        code, title = _first_error(e.errors)
        group_level = e.participant is None and e.group_id is not None
        if group_level:
            changed = await self._exec(
                "INSERT INTO message_delivery(message_id, state, rank, at, error_code, "
                "error_title) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(message_id) DO UPDATE SET "
                "state = excluded.state, rank = excluded.rank, at = excluded.at, "
                "error_code = excluded.error_code, error_title = excluded.error_title "
                "WHERE excluded.rank > message_delivery.rank OR "
                "(excluded.rank = message_delivery.rank AND excluded.at < message_delivery.at)",
                (e.wamid, str(state), state.rank, e.at, code, title),
            )
            if changed:
                await self._change(
                    "message.status", e.group_id, e.at, e.wamid, {"state": str(state)}
                )
            return
        if e.participant is not None:
            key = await self._member_key(e.group_id, e.participant)
            wa_id = e.participant.wa_id
        else:
            key, wa_id = e.recipient_id or "", e.recipient_id
        changed = await self._exec(
            "INSERT INTO recipient_status(message_id, participant_key, state, rank, at, "
            "error_code, error_title) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(message_id, participant_key) DO UPDATE SET "
            "state = excluded.state, rank = excluded.rank, at = excluded.at, "
            "error_code = excluded.error_code, error_title = excluded.error_title "
            "WHERE excluded.rank > recipient_status.rank OR "
            "(excluded.rank = recipient_status.rank AND excluded.at < recipient_status.at)",
            (e.wamid, key, str(state), state.rank, e.at, code, title),
        )
        if changed:
            await self._change(
                "message.status",
                e.group_id,
                e.at,
                e.wamid,
                {"participant": key, "state": str(state)},
            )
        if e.pricing is not None:
            await self._charge(e, key, wa_id)

    async def _charge(self, e: MessageStatus, key: str, wa_id: str | None) -> None:
        p = e.pricing
        assert p is not None
        amount = self._cost_fn(p.category, p.type, p.billable, wa_id) if self._cost_fn else None
        market = self._market_fn(wa_id) if self._market_fn else None
        inserted = await self._exec(
            "INSERT OR IGNORE INTO cost_ledger(message_id, participant_key, group_id, "
            "participant_wa_id, category, pricing_type, pricing_model, billable, market, "
            "amount, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.wamid,
                key,
                e.group_id,
                wa_id,
                p.category,
                p.type,
                p.pricing_model,
                None if p.billable is None else int(p.billable),
                market,
                None if amount is None else str(amount),
                e.at,
            ),
        )
        if not inserted:
            # Already charged. Pricing comes once per participant, but should a repeat
            # arrive, the earliest time is kept so arrival order does not matter.
            await self._exec(
                "UPDATE cost_ledger SET at = ? WHERE message_id = ? AND participant_key = ? "
                "AND at > ?",
                (e.at, e.wamid, key, e.at),
            )
            return
        await self._change(
            "cost.charged",
            e.group_id,
            e.at,
            e.wamid,
            {"participant": key, "amount": None if amount is None else str(amount)},
        )


def _join_via(reason: str) -> str:
    try:
        return str(JoinVia(reason))
    except ValueError:
        return str(JoinVia.UNKNOWN)
