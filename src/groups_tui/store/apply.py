"""Applying domain events to derived state, idempotently and order-safely.

Ordering rules (event time is the webhook's ``at``, never the receipt time):

* Membership: a participant row keeps the state set by the newest event (``state_at``).
  An older join, leave or removal changes nothing but the history. At equal times the
  exit wins (present < left < removed), so any arrival order gives the same result.
* Joining: ``joined_at``/``joined_via`` describe the newest join seen, even one that lost
  to a later exit. How a join came about is derived from the stored facts of that person
  (their joins and join requests), never from what happened to be applied first; it is
  re-derived whenever one of those facts arrives (see :meth:`Applier._settle_joins`):

  - A join request is settled by the person's earliest join at or after its creation,
    which approves it (``state_at`` = that join), unless it was revoked before that join
    (a join at the revoke's own second still approves it). A local decision
    (``join_request_decisions``) always wins over both.
  - A join whose webhook ``reason`` says ``approval`` is an approval. One whose reason is
    ``invite_link`` (Meta reports approvals that way too) or absent is an approval when it
    settled a join request (``participant_history.request_id`` then names the request),
    otherwise ``invite_link``: a link is the only other way into a Cloud API group. Any
    other reason is kept as ``unknown``.
* Reads of the group through the API (:class:`GroupRead`): a read sees who is in the
  group, not when anyone came or went. It records only what differs from the store, a
  member not known to be present (a join) or one present and no longer listed (a leave),
  at the read's time and marked ``observed``; a member already present, or an exit newer
  than the read, records nothing, so repeated reads change nothing. The webhook for an
  observed change, arriving later with an earlier time, replaces the observation when
  nothing else of that person lies between the two (:meth:`Applier._replace_observation`),
  so webhook-then-read and read-then-webhook end in the same state.
* Delivery: recipient and message states only rise in :attr:`DeliveryState.rank`; at an
  equal rank the earliest time is kept; at an equal rank and time the greater
  (state, error code, error title) is kept (``_DELIVERY_WINS``).
* Subject, description, invite link and join-approval mode (from creates and settings
  changes): the newest event carrying a value wins (``<column>_at``); equal times fall
  back to comparing the text, the greater wins, again so that arrival order does not
  matter. A join-approval mode this version does not know is stored as received.
* Picture: the newest wins; at equal times the greater hash.
* Creation: ``created_at`` is the earliest create of the group, and so is the
  ``state_at`` of an active group.
* Suspension: the newest of suspend/clear wins; at equal times suspended wins.
* Deletion is terminal: a late create never revives a deleted group.
* Last inbound message (the window, ``last_inbound_by``): the newest message; at equal
  times the one with the greater message id. The newest message of either direction
  (``last_msg_*``, kept by the schema v4/v6 triggers) follows the same rule.
* Participant history: one row per (person, action, second); two removals, leaves or
  failed removals in the same second keep the greater (request id, initiator, error).
  A join row's ``via`` and request are re-derived by :meth:`Applier._settle_joins`.
* Join requests: a revoke closes a request at its earliest revoke.
* Operations settled by webhooks (``pending_operations``, and ``early_outcomes`` for the
  ones not yet recorded): a failure outranks a success; between two outcomes of the same
  state the earlier stands, at the same second the greater error text.
* Cost: one ledger line per (message, participant), from the earliest status carrying
  pricing; at the same second, the one with the smaller (category, type, model,
  billable); later ones (``read`` after ``delivered``) change nothing.

Known limit: a participant's identity fields (name, username, numbers) take the newest
event's non-empty values and fill gaps from older ones; two events of different times
carrying different non-empty names can leave either name, depending on arrival order.

An event that raises is rolled back alone when the caller asks for isolation (the
listener's write path, see ``raw_log.apply_isolated``): it is recorded in
``event_failures`` and the rest of its body is applied.

Every change appends one change-feed row in the same transaction.

The applier is synchronous and runs inside a write function on the database's writer
thread (see ``RawLog.apply_batch``), so a whole batch costs one hop to that thread. Change-feed rows
and ``raw_events`` bookkeeping are buffered and written with ``executemany`` by
:meth:`Applier.flush`; nothing in here reads those tables back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    EventError,
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
    GroupRead,
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
from groups_tui.store.records import CostFn, EventFailure, MarketFn

__all__ = ["EARLY_OUTCOME_KINDS", "Applier", "event_key"]

_MEMBER_RANK = {"present": 0, "left": 1, "removed": 2}

# A status replaces the stored one when it ranks higher; at an equal rank the earlier one
# is kept; at an equal rank and time (two failures in the same second) the greater
# (state, error code, error title) is, so that arrival order never decides.
_DELIVERY_WINS = (
    "excluded.rank > {t}.rank OR (excluded.rank = {t}.rank AND (excluded.at < {t}.at "
    "OR (excluded.at = {t}.at AND (excluded.state, coalesce(excluded.error_code, -1), "
    "coalesce(excluded.error_title, '')) > ({t}.state, coalesce({t}.error_code, -1), "
    "coalesce({t}.error_title, '')))))"
)

# An early outcome replaces the kept one when it is a failure over a success, or of the
# same state with a greater (error text, kind, group) (arrival order never decides).
_EARLY_WINS = (
    "((excluded.state = 'failed' AND state = 'done') OR (excluded.state = state AND "
    "(coalesce(excluded.error, ''), excluded.kind, coalesce(excluded.group_id, '')) > "
    "(coalesce(error, ''), kind, coalesce(group_id, ''))))"
)

_CHANGE_SQL = (
    "INSERT INTO change_feed(kind, group_id, entity, at, raw_id, payload) VALUES (?, ?, ?, ?, ?, ?)"
)
_APPLIED_SQL = "UPDATE raw_events SET applied_at = ?, parse_state = ?, error = NULL WHERE id = ?"
_EMPTY_PAYLOAD = dumps({})


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


EARLY_OUTCOME_KINDS = ("remove", "settings")
"""Operations whose webhook can overtake the answer and is kept until it is recorded
(creates and deletes are settled from the group row instead)."""


class Applier:
    """Applies events inside a transaction the caller owns, synchronously.

    Call :meth:`flush` before committing: change-feed rows and the ``applied_at`` marks
    are buffered until then.

    Args:
        conn: Writer ``sqlite3`` connection with an open transaction (used only from the
            thread that owns it).
        cost_fn: Prices ledger lines (``None`` → amounts unknown).
        market_fn: Maps ``wa_id`` to a market name.
        now: Bookkeeping time for ``raw_events.applied_at``.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        cost_fn: CostFn | None,
        market_fn: MarketFn | None,
        now: float,
    ) -> None:
        self._cur = conn.cursor()
        self._cost_fn = cost_fn
        self._market_fn = market_fn
        self._now = now
        self._raw_id: int | None = None
        self._feed: list[tuple[str, str | None, str | None, int | None, int | None, str]] = []
        self._applied: list[tuple[float, str, int]] = []
        self._groups: set[str] = set()
        self._keys: dict[tuple[str, str | None, str | None, str | None], str] = {}
        self.changes = 0
        self.failures: list[EventFailure] = []
        """Events that :meth:`apply` with ``isolate`` could not apply, in order."""

    # ------------------------------------------------------------------ helpers

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._cur.execute(sql, params).rowcount

    def _row(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql, params).fetchone()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._cur.execute(sql, params).fetchall()

    def _change(
        self,
        kind: str,
        group_id: str | None,
        at: int | None,
        entity: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self._feed.append(
            (
                kind,
                group_id,
                entity,
                at,
                self._raw_id,
                dumps(payload) if payload else _EMPTY_PAYLOAD,
            )
        )
        self.changes += 1

    def flush(self) -> None:
        """Write the buffered change-feed rows and ``applied_at`` marks."""
        if self._feed:
            self._cur.executemany(_CHANGE_SQL, self._feed)
            self._feed.clear()
        if self._applied:
            self._cur.executemany(_APPLIED_SQL, self._applied)
            self._applied.clear()

    def _ensure_group(self, group_id: str) -> None:
        # Events can reach a group before its create webhook; a placeholder keeps the
        # foreign keys satisfied and is filled in when the create arrives.
        if group_id in self._groups:
            return
        self._exec("INSERT INTO groups(id) VALUES (?) ON CONFLICT(id) DO NOTHING", (group_id,))
        self._groups.add(group_id)

    def _touch(self, group_id: str, at: int) -> None:
        self._exec(
            "UPDATE groups SET last_activity_at = max(coalesce(last_activity_at, 0), ?) "
            "WHERE id = ?",
            (at, group_id),
        )

    def _resolve_op(
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
        # both), so 'failed' may overwrite 'done' but never the reverse; between two
        # outcomes of the same state the earlier one stands, and at the same second the
        # greater error text, so that arrival order never decides.
        wins = (
            "(state = 'pending' OR (?1 = 'failed' AND state = 'done') OR (state = ?1 AND "
            "(resolved_at > ?3 OR (resolved_at = ?3 AND coalesce(?2, '') > coalesce(error, '')))))"
        )
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
            rows = self._rows(
                "UPDATE pending_operations SET state = ?1, error = ?2, resolved_at = ?3, "
                "resolved_by = 'webhook', group_id = coalesce(group_id, ?4) "
                f"WHERE {where} AND {wins} AND coalesce(resolved_by, 'webhook') = "
                "'webhook' RETURNING request_id",
                (state, error, at, group_id, *params),
            )
            resolved = [r[0] for r in rows]
            if resolved:
                break
        for rid in resolved:
            self._change("operation.resolved", group_id, at, rid, {"state": state, "error": error})
        if (
            not resolved
            and request_id is not None
            and kind in EARLY_OUTCOME_KINDS
            and self._row("SELECT 1 FROM pending_operations WHERE request_id = ?", (request_id,))
            is None
        ):
            # The webhook overtook the API's answer: keep the outcome for the operation
            # the service is about to record (Operations.add settles it).
            self._exec(
                "INSERT INTO early_outcomes(request_id, kind, group_id, state, error, at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(request_id) DO UPDATE SET "
                f"state = CASE WHEN {_EARLY_WINS} THEN excluded.state ELSE state END, "
                f"error = CASE WHEN {_EARLY_WINS} THEN excluded.error ELSE error END, "
                f"kind = CASE WHEN {_EARLY_WINS} THEN excluded.kind ELSE kind END, "
                f"group_id = CASE WHEN {_EARLY_WINS} THEN excluded.group_id ELSE group_id END, "
                "at = max(at, excluded.at)",
                (request_id, kind, group_id, state, error, at),
            )

    def _member_key(self, group_id: str | None, ref: ParticipantRef) -> str:
        """The key of an existing row for this person, else the reference's own key."""
        if group_id is None:
            return ref.key
        memo = (group_id, ref.user_id, ref.wa_id, ref.input)
        known = self._keys.get(memo)
        if known is not None:
            return known
        phones = [v for v in (ref.wa_id, normalize_input(ref.input) if ref.input else None) if v]
        keys = [v for v in (ref.user_id, *phones) if v]
        if not keys:
            return ref.key
        marks = ",".join("?" * len(keys))
        pmarks = ",".join("?" * len(phones)) or "NULL"
        row = self._row(
            "SELECT participant_key FROM participants WHERE group_id = ? AND "
            f"(participant_key IN ({marks}) OR wa_id IN ({pmarks})) "
            "ORDER BY participant_key = ? DESC LIMIT 1",
            (group_id, *keys, *phones, ref.user_id or ""),
        )
        key = str(row[0]) if row else ref.key
        # Valid until a participant row is inserted (see _set_member).
        self._keys[memo] = key
        return key

    # ------------------------------------------------------------------ entry

    def apply(
        self,
        raw_id: int | None,
        events: Sequence[DomainEvent],
        *,
        mark: bool = True,
        isolate: bool = False,
        only: Collection[str] = (),
    ) -> bool:
        """Apply one raw event's domain events and mark the raw row applied (on flush).

        Args:
            raw_id: The raw row the events came from (recorded in the change feed).
            events: Its domain events.
            mark: Set the row's ``applied_at`` and parse state on flush; a caller that
                wrote the row already marked passes False.
            isolate: Apply each event in its own savepoint: an event that raises is
                rolled back alone, recorded in :attr:`failures`, and the next one is
                applied. Without it the first failure propagates (the caller rolls back).
            only: Apply only the events with these dedupe keys (re-applying the failed
                events of a body); empty applies every event.

        Returns:
            True when the events included a shape this version does not know (the row's
            parse state is then ``unparsed``).
        """
        self._raw_id = raw_id
        unparsed = False
        for index, event in enumerate(events):
            if isinstance(event, UnknownEvent):
                unparsed = True
                continue
            if only and event_key(event) not in only:
                continue
            if isolate:
                self._isolated(raw_id, index, event)
            else:
                self._dispatch(event)
        if raw_id is not None and mark:
            self._applied.append((self._now, "unparsed" if unparsed else "ok", raw_id))
        return unparsed

    def _isolated(self, raw_id: int | None, index: int, event: DomainEvent) -> None:
        """Apply one event in a savepoint; on failure undo it alone and record why."""
        feed_mark, changes_mark = len(self._feed), self.changes
        self._cur.execute("SAVEPOINT apply_event")
        try:
            self._dispatch(event)
        except Exception as exc:
            self._cur.execute("ROLLBACK TO apply_event")
            self._cur.execute("RELEASE apply_event")
            # Whatever the event did is undone: its feed rows, and the caches that may
            # name rows it inserted.
            del self._feed[feed_mark:]
            self.changes = changes_mark
            self._groups.clear()
            self._keys.clear()
            failure = EventFailure(
                raw_id=raw_id or 0,
                index=index,
                kind=str(getattr(event, "event_kind", type(event).__name__)),
                group_id=_event_group(event),
                event_key=event_key(event),
                at=_event_at(event),
                reason=f"apply: {type(exc).__name__}: {exc}"[:500],
                failed_at=self._now,
            )
            self.failures.append(failure)
            self._change(
                "event.failed",
                None,
                failure.at,
                failure.kind,
                {"raw_id": failure.raw_id, "index": index, "reason": failure.reason},
            )
            return
        self._cur.execute("RELEASE apply_event")

    def _dispatch(self, event: DomainEvent) -> None:
        match event:
            case GroupCreated():
                self._group_created(event)
            case GroupCreateFailed():
                self._group_create_failed(event)
            case GroupDeleted():
                self._group_deleted(event)
            case GroupDeleteFailed():
                self._resolve_op(
                    event.request_id,
                    "failed",
                    event.at,
                    error=_error_text(event.errors),
                    group_id=event.group_id,
                    kind="delete",
                )
            case ParticipantsJoined():
                self._joined(event)
            case ParticipantsLeft():
                self._exited(event.group_id, event.participants, "left", event.at)
            case ParticipantsRemoved():
                self._exited(
                    event.group_id,
                    event.participants,
                    "removed",
                    event.at,
                    initiated_by=event.initiated_by,
                    request_id=event.request_id,
                )
                self._resolve_op(
                    event.request_id, "done", event.at, group_id=event.group_id, kind="remove"
                )
            case ParticipantsRemoveFailed():
                self._remove_failed(event)
            case JoinRequestCreated():
                self._join_request_created(event)
            case JoinRequestRevoked():
                self._join_request_revoked(event)
            case SettingsChanged():
                self._settings_changed(event)
            case SettingsChangeFailed():
                self._settings_failed(event)
            case GroupSuspended():
                self._suspension(event.group_id, True, event.at)
            case GroupSuspendCleared():
                self._suspension(event.group_id, False, event.at)
            case InboundMessage():
                self._inbound(event)
            case MessageStatus():
                self._status(event)
            case GroupRead():
                self._group_read(event)
            case _:
                raise TypeError(f"not a domain event: {type(event).__name__}")

    # ------------------------------------------------------------------ lifecycle

    def _group_created(self, e: GroupCreated) -> None:
        pending = None
        if e.request_id is not None:
            pending = self._row(
                "SELECT pk FROM groups WHERE request_id = ? AND id IS NULL", (e.request_id,)
            )
        existing = self._row("SELECT pk FROM groups WHERE id = ?", (e.group_id,))
        if pending and existing:
            # Another event created a placeholder first: fold the pending row into it.
            self._exec(
                "UPDATE groups SET subject = CASE WHEN subject_at IS NULL AND subject = '' "
                "THEN (SELECT subject FROM groups WHERE pk = ?1) ELSE subject END, "
                "description = CASE WHEN description_at IS NULL AND description = '' "
                "THEN (SELECT description FROM groups WHERE pk = ?1) ELSE description END, "
                "join_approval = (SELECT join_approval FROM groups WHERE pk = ?1) "
                "WHERE pk = ?2",
                (pending[0], existing[0]),
            )
            self._exec("DELETE FROM groups WHERE pk = ?", (pending[0],))
            self._exec("UPDATE groups SET request_id = ? WHERE pk = ?", (e.request_id, existing[0]))
        elif pending:
            self._exec("UPDATE groups SET id = ? WHERE pk = ?", (e.group_id, pending[0]))
        else:
            # A create we did not ask for, or a placeholder made by an earlier-applied
            # event: either way the group exists and takes the request id if it is free.
            self._ensure_group(e.group_id)
            self._exec(
                "UPDATE groups SET request_id = ?2 WHERE id = ?1 AND request_id IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM groups WHERE request_id = ?2)",
                (e.group_id, e.request_id),
            )
        # Several creates of one group (a webhook, then a sync) may come in any order:
        # the earliest gives the creation time, and each value comes from the newest
        # create that carries one (_set_texts).
        self._exec(
            "UPDATE groups SET state = CASE WHEN state = 'deleted' THEN state ELSE 'active' END, "
            "state_at = CASE WHEN state = 'deleted' THEN state_at "
            "WHEN state = 'active' AND state_at IS NOT NULL THEN min(state_at, ?2) ELSE ?2 END, "
            "created_at = min(coalesce(created_at, ?2), ?2), error_code = NULL, "
            "error_message = NULL WHERE id = ?1",
            (e.group_id, e.at),
        )
        self._set_texts(
            e.group_id,
            e.subject,
            e.description,
            e.at,
            invite_link=e.invite_link,
            join_approval=e.join_approval_mode,
        )
        self._touch(e.group_id, e.at)
        self._change("group.created", e.group_id, e.at, e.request_id)
        self._resolve_op(e.request_id, "done", e.at, group_id=e.group_id)

    def _set_texts(
        self,
        group_id: str,
        subject: str | None,
        description: str | None,
        at: int,
        *,
        invite_link: str | None = None,
        join_approval: str | None = None,
    ) -> None:
        """Set each given value unless a newer event set it; at a tie the greater text wins."""
        for column, value in (
            ("subject", subject),
            ("description", description),
            ("invite_link", invite_link),
            ("join_approval", join_approval),
        ):
            if value is None:
                continue
            self._exec(
                f"UPDATE groups SET {column} = ?2, {column}_at = ?3 WHERE id = ?1 AND "
                f"({column}_at IS NULL OR {column}_at < ?3 "
                f"OR ({column}_at = ?3 AND {column} < ?2))",
                (group_id, value, at),
            )

    def _group_create_failed(self, e: GroupCreateFailed) -> None:
        code, _ = _first_error(e.errors)
        text = _error_text(e.errors)
        if e.request_id is not None:
            updated = self._exec(
                "UPDATE groups SET state = 'failed', state_at = ?, error_code = ?, "
                "error_message = ? WHERE request_id = ? AND id IS NULL",
                (e.at, code, text, e.request_id),
            )
            if not updated:
                self._exec(
                    "INSERT INTO groups(request_id, subject, description, state, state_at, "
                    "error_code, error_message) VALUES (?, ?, ?, 'failed', ?, ?, ?) "
                    "ON CONFLICT(request_id) DO NOTHING",
                    (e.request_id, e.subject or "", e.description or "", e.at, code, text),
                )
        self._change("group.create_failed", None, e.at, e.request_id, {"error": text, "code": code})
        self._resolve_op(e.request_id, "failed", e.at, error=text)

    def _group_deleted(self, e: GroupDeleted) -> None:
        self._ensure_group(e.group_id)
        self._exec(
            "UPDATE groups SET state = 'deleted', state_at = ? WHERE id = ? AND state <> 'deleted'",
            (e.at, e.group_id),
        )
        self._touch(e.group_id, e.at)
        self._change("group.deleted", e.group_id, e.at, e.request_id)
        self._resolve_op(e.request_id, "done", e.at, group_id=e.group_id, kind="delete")

    # ------------------------------------------------------------------ members

    def _set_member(
        self,
        group_id: str,
        ref: ParticipantRef,
        state: str,
        at: int,
        *,
        joined_via: str | None = None,
    ) -> tuple[str, bool]:
        """Move one participant to ``state`` unless a newer event already decided it.

        ``joined_via`` only seeds a new row; :meth:`_settle_joins` sets the final value.

        Returns:
            The member key and whether the state changed.
        """
        key = self._member_key(group_id, ref)
        wa_id = ref.wa_id
        if wa_id is None and ref.input:
            phone = normalize_input(ref.input)
            wa_id = phone if phone.isdigit() else None
        current = self._row(
            "SELECT state, state_at FROM participants WHERE group_id = ? AND participant_key = ?",
            (group_id, key),
        )
        joined_at = at if state == "present" else None
        if current is None:
            self._exec(
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
                    joined_via or str(JoinVia.UNKNOWN),
                    state,
                    at,
                ),
            )
            self._keys.clear()  # a new row can change which key a reference resolves to
            return key, True
        cur_state, cur_at = current
        newer = at > cur_at or (at == cur_at and _MEMBER_RANK[state] > _MEMBER_RANK[cur_state])
        if newer:
            self._exec(
                "UPDATE participants SET state = ?3, state_at = ?4, "
                "wa_id = coalesce(?5, wa_id), user_id = coalesce(?6, user_id), "
                "username = coalesce(?7, username), profile_name = coalesce(?8, profile_name), "
                "joined_at = CASE WHEN ?9 IS NOT NULL AND coalesce(joined_at, ?9) <= ?9 "
                "THEN ?9 ELSE joined_at END "
                "WHERE group_id = ?1 AND participant_key = ?2",
                (
                    group_id,
                    key,
                    state,
                    at,
                    wa_id,
                    ref.user_id,
                    ref.username,
                    ref.profile_name,
                    joined_at,
                ),
            )
        else:
            # Stale for the state, but it may still know identity fields we lack, and
            # joined_at describes the newest join seen, even one that lost to a later exit.
            self._exec(
                "UPDATE participants SET wa_id = coalesce(wa_id, ?3), "
                "user_id = coalesce(user_id, ?4), username = coalesce(username, ?5), "
                "profile_name = coalesce(profile_name, ?6), "
                "joined_at = CASE WHEN ?7 IS NOT NULL AND coalesce(joined_at, ?7) <= ?7 "
                "THEN ?7 ELSE joined_at END "
                "WHERE group_id = ?1 AND participant_key = ?2",
                (group_id, key, wa_id, ref.user_id, ref.username, ref.profile_name, joined_at),
            )
        return key, newer

    def _history(
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
        observed: bool = False,
    ) -> bool:
        row = (group_id, key, action, at, initiated_by, via, request_id, *error)
        if self._exec(
            "INSERT OR IGNORE INTO participant_history(group_id, participant_key, action, at, "
            "initiated_by, via, request_id, error_code, error_message, observed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, int(observed)),
        ):
            return True
        if action != "join":
            # Two removals (or leaves, failures) of one person in the same second: the
            # row keeps the greater (request, initiator, error), whatever came first.
            # Joins keep theirs: _settle_joins re-derives their via and request.
            self._exec(
                "UPDATE participant_history SET initiated_by = ?5, request_id = ?7, "
                "error_code = ?8, error_message = ?9 WHERE group_id = ?1 AND "
                "participant_key = ?2 AND action = ?3 AND at = ?4 AND "
                "(coalesce(?7, ''), coalesce(?5, ''), coalesce(?8, -1), coalesce(?9, '')) > "
                "(coalesce(request_id, ''), coalesce(initiated_by, ''), "
                "coalesce(error_code, -1), coalesce(error_message, ''))",
                row,
            )
        return False

    def _joined(self, e: ParticipantsJoined) -> None:
        self._ensure_group(e.group_id)
        stated = _stated_via(e.via)
        for ref in e.participants:
            self._replace_observation(e.group_id, self._member_key(e.group_id, ref), True, e.at)
            key, changed = self._set_member(
                e.group_id, ref, "present", e.at, joined_via=stated or str(JoinVia.INVITE_LINK)
            )
            # Logged with what the webhook itself says; _settle_joins then derives an
            # approval from the person's join requests (Meta reports those as invite_link).
            logged = self._history(
                e.group_id, key, "join", e.at, via=stated or str(JoinVia.INVITE_LINK)
            )
            vias, touched = self._settle_joins(e.group_id, key)
            via = vias.get(e.at, stated or str(JoinVia.INVITE_LINK))
            if changed or logged:
                self._change("participant.joined", e.group_id, e.at, key, {"via": via})
            elif touched:
                self._change("participant.updated", e.group_id, e.at, key, {"via": via})
        self._touch(e.group_id, e.at)

    def _settle_joins(self, group_id: str, key: str) -> tuple[dict[int, str], bool]:
        """Re-derive one person's join request outcomes and join methods from stored facts.

        Called after any join, join request or revoke of the person, so that the result
        depends on the set of events and not on their arrival order (module docstring,
        "Joining"). Appends change-feed rows for what it changes.

        Returns:
            The derived ``via`` of each of the person's joins by time, and whether a
            join's ``via`` (history or participant row) changed.
        """
        joins = self._rows(
            "SELECT at, via, request_id FROM participant_history WHERE group_id = ? "
            "AND participant_key = ? AND action = 'join' ORDER BY at",
            (group_id, key),
        )
        requests = self._rows(
            "SELECT r.id, r.created_at, r.state, r.state_at, d.decision, d.at "
            "FROM join_requests r LEFT JOIN join_request_decisions d ON d.id = r.id "
            "WHERE r.group_id = ? AND r.participant_key = ? ORDER BY r.created_at, r.id",
            (group_id, key),
        )
        times = [row[0] for row in joins]
        settled: dict[int, str] = {}  # join time -> the request it settled (latest wins)
        for rid, created_at, state, state_at, decision, decided_at in requests:
            first = None
            if created_at is not None:
                first = next((t for t in times if t >= created_at), None)
            if decision is not None:
                target = (decision, decided_at)
                if decision != "approved":
                    first = None
            elif created_at is None:
                target = (state, state_at)  # known only from its revoke so far
            elif first is not None and (state != "revoked" or first <= state_at):
                target = ("approved", first)
            else:
                first = None
                target = (state, state_at)
            if first is not None:
                settled[first] = rid
            if target != (state, state_at):
                self._exec(
                    "UPDATE join_requests SET state = ?, state_at = ? WHERE id = ?",
                    (*target, rid),
                )
                if target[0] in ("approved", "revoked") and decision is None:
                    self._change(f"join_request.{target[0]}", group_id, target[1], rid)
        vias: dict[int, str] = {}
        touched = False
        for at, via, request_id in joins:
            # A stated approval (no request id) and an unrecognised reason are kept.
            if via == JoinVia.INVITE_LINK or request_id is not None:
                settled_id = settled.get(at)
                derived = str(JoinVia.APPROVAL if settled_id else JoinVia.INVITE_LINK)
                if (derived, settled_id) != (via, request_id):
                    self._exec(
                        "UPDATE participant_history SET via = ?, request_id = ? "
                        "WHERE group_id = ? AND participant_key = ? AND action = 'join' "
                        "AND at = ?",
                        (derived, settled_id, group_id, key, at),
                    )
                    touched = True
                via = derived
            vias[at] = via
        if joins:
            newest_at = joins[-1][0]
            touched |= bool(
                self._exec(
                    "UPDATE participants SET joined_via = ?1 WHERE group_id = ?2 "
                    "AND participant_key = ?3 AND joined_at = ?4 AND joined_via <> ?1",
                    (vias[newest_at], group_id, key, newest_at),
                )
            )
        return vias, touched

    def _exited(
        self,
        group_id: str,
        refs: Sequence[ParticipantRef],
        state: str,
        at: int,
        *,
        initiated_by: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self._ensure_group(group_id)
        action = "leave" if state == "left" else "remove"
        kind = "participant.left" if state == "left" else "participant.removed"
        for ref in refs:
            self._replace_observation(group_id, self._member_key(group_id, ref), False, at)
            key, changed = self._set_member(group_id, ref, state, at)
            logged = self._history(
                group_id,
                key,
                action,
                at,
                initiated_by=initiated_by or ("participant" if state == "left" else None),
                request_id=request_id,
            )
            if changed or logged:
                self._change(kind, group_id, at, key)
        self._touch(group_id, at)

    # ------------------------------------------------------------------ reads

    def _group_read(self, e: GroupRead) -> None:
        """Record what a read of the group shows that the store did not know (docstring)."""
        known = self._row("SELECT created_at FROM groups WHERE id = ?", (e.group_id,))
        if known is None or known[0] is None:
            self._group_created(
                GroupCreated(
                    request_id=None,
                    group_id=e.group_id,
                    subject=e.subject,
                    description=e.description,
                    join_approval_mode=e.join_approval_mode,
                    at=e.created_at,
                )
            )
        listed: set[str] = set()
        for ref in e.participants:
            key = self._member_key(e.group_id, ref)
            listed.add(key)
            row = self._row(
                "SELECT state, state_at FROM participants WHERE group_id = ? "
                "AND participant_key = ?",
                (e.group_id, key),
            )
            if row is None or (row[0] != "present" and row[1] < e.at):
                self._observe(e.group_id, ref, "present", e.at)
            elif self._exec(
                "UPDATE participants SET wa_id = coalesce(wa_id, ?3), "
                "user_id = coalesce(user_id, ?4), username = coalesce(username, ?5) "
                "WHERE group_id = ?1 AND participant_key = ?2 AND ("
                "(wa_id IS NULL AND ?3 IS NOT NULL) OR (user_id IS NULL AND ?4 IS NOT NULL) "
                "OR (username IS NULL AND ?5 IS NOT NULL))",
                (e.group_id, key, ref.wa_id, ref.user_id, ref.username),
            ):
                self._change("participant.updated", e.group_id, e.at, key)
        present = self._rows(
            "SELECT participant_key FROM participants WHERE group_id = ? AND state = 'present' "
            "AND state_at < ?",
            (e.group_id, e.at),
        )
        for (key,) in present:
            if key not in listed:
                # Named by its key alone, as removals are, so no identity field is touched.
                self._observe(e.group_id, ParticipantRef(input=key), "left", e.at)

    def _observe(self, group_id: str, ref: ParticipantRef, state: str, at: int) -> None:
        """One observed join (``present``) or leave (``left``) at the read's time."""
        joining = state == "present"
        via = str(JoinVia.INVITE_LINK) if joining else None
        key, _ = self._set_member(group_id, ref, state, at, joined_via=via)
        self._history(group_id, key, "join" if joining else "leave", at, via=via, observed=True)
        payload: dict[str, Any] = {"observed": True}
        if joining:
            # As for a join webhook without a reason: a link, or an approval it settled.
            vias, _ = self._settle_joins(group_id, key)
            payload["via"] = vias.get(at, via)
        self._change(
            "participant.joined" if joining else "participant.left", group_id, at, key, payload
        )

    def _replace_observation(self, group_id: str, key: str, joining: bool, at: int) -> None:
        """Let a webhook take the place of a read's observation of the same change.

        The observation (a join, or a leave for an exit) is the person's first at or after
        ``at``; it is the same change only if no other membership change of that person
        lies between ``at`` and it. It is deleted, and the participant row's times that it set
        are moved back to ``at``, so the webhook then applies as if the read came after it.
        """
        actions = "('join')" if joining else "('leave', 'remove')"
        row = self._row(
            "SELECT id, at FROM participant_history WHERE group_id = ? AND participant_key = ? "
            f"AND observed = 1 AND action IN {actions} AND at >= ? ORDER BY at LIMIT 1",
            (group_id, key, at),
        )
        if row is None:
            return
        observed_id, observed_at = row
        # At the event's own second only an exit follows a join (exits win ties), so only
        # an exit there parts a join from a later observed join.
        between = self._row(
            "SELECT 1 FROM participant_history WHERE group_id = ?1 AND participant_key = ?2 "
            "AND id <> ?3 AND action IN ('join', 'leave', 'remove') AND at <= ?5 "
            "AND (at > ?4 OR (at = ?4 AND ?6 AND action <> 'join')) LIMIT 1",
            (group_id, key, observed_id, at, observed_at, int(joining)),
        )
        if between is not None:
            return
        self._exec("DELETE FROM participant_history WHERE id = ?", (observed_id,))
        self._exec(
            "UPDATE participants SET "
            "state_at = CASE WHEN state_at = ?3 THEN ?4 ELSE state_at END, "
            "joined_at = CASE WHEN ?5 AND joined_at = ?3 THEN NULL ELSE joined_at END "
            "WHERE group_id = ?1 AND participant_key = ?2",
            (group_id, key, observed_at, at, int(joining)),
        )

    def _remove_failed(self, e: ParticipantsRemoveFailed) -> None:
        self._ensure_group(e.group_id)
        item_error = _first_error(e.errors)
        for failed in e.failed:
            key = self._member_key(e.group_id, failed.participant)
            error = _first_error(failed.errors) if failed.errors else item_error
            if self._history(
                e.group_id,
                key,
                "remove_failed",
                e.at,
                initiated_by=e.initiated_by,
                request_id=e.request_id,
                error=error,
            ):
                self._change("participant.remove_failed", e.group_id, e.at, key, {"code": error[0]})
        self._resolve_op(
            e.request_id,
            "failed",
            e.at,
            error=_error_text(e.errors),
            group_id=e.group_id,
            kind="remove",
        )

    def _join_request_created(self, e: JoinRequestCreated) -> None:
        self._ensure_group(e.group_id)
        ref = e.participant
        key = self._member_key(e.group_id, ref)
        inserted = self._exec(
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
            # Known already (a duplicate, or a revoke that overtook it): fill in what the
            # revoke lacked. The row keeps the key it was first stored under.
            row = self._row(
                "UPDATE join_requests SET created_at = coalesce(created_at, ?), "
                "wa_id = coalesce(wa_id, ?), user_id = coalesce(user_id, ?), "
                "username = coalesce(username, ?), profile_name = coalesce(profile_name, ?) "
                "WHERE id = ? RETURNING participant_key",
                (e.at, ref.wa_id, ref.user_id, ref.username, ref.profile_name, e.join_request_id),
            )
            if row is not None:
                key = str(row[0])
        # A join that this request led to may have been applied first, and a local
        # decision on it is re-applied: both are settled from the stored facts.
        _, touched = self._settle_joins(e.group_id, key)
        if touched:
            self._change("participant.updated", e.group_id, e.at, key)
        if inserted:
            self._change("join_request.created", e.group_id, e.at, e.join_request_id)

    def _join_request_revoked(self, e: JoinRequestRevoked) -> None:
        self._ensure_group(e.group_id)
        ref = e.participant
        key = self._member_key(e.group_id, ref)
        # A revoke closes a pending request, and also one approved by a join that came
        # after the revoke (arrival order put the join first); a local decision stays.
        row = self._row(
            "INSERT INTO join_requests(id, group_id, participant_key, wa_id, user_id, username, "
            "profile_name, created_at, state, state_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'revoked', ?) "
            "ON CONFLICT(id) DO UPDATE SET state = 'revoked', state_at = excluded.state_at "
            "WHERE (join_requests.state = 'pending' OR (join_requests.state IN "
            "('approved', 'revoked') AND join_requests.state_at > excluded.state_at)) "
            "AND NOT EXISTS (SELECT 1 FROM join_request_decisions d WHERE d.id = excluded.id) "
            "RETURNING participant_key",
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
        if row is None:
            return
        key = str(row[0])
        _, touched = self._settle_joins(e.group_id, key)
        if touched:
            self._change("participant.updated", e.group_id, e.at, key)
        self._change("join_request.revoked", e.group_id, e.at, e.join_request_id)

    # ------------------------------------------------------------------ settings

    def _settings_changed(self, e: SettingsChanged) -> None:
        self._ensure_group(e.group_id)
        self._set_texts(e.group_id, e.subject, e.description, e.at)
        if e.picture is not None:
            self._exec(
                "UPDATE groups SET picture_sha256 = ?1, picture_at = ?2 WHERE id = ?3 "
                "AND (picture_at IS NULL OR picture_at < ?2 OR (picture_at = ?2 "
                "AND coalesce(?1, '') > coalesce(picture_sha256, '')))",
                (e.picture.sha256, e.at, e.group_id),
            )
        self._touch(e.group_id, e.at)
        changed = [
            name
            for name, value in (
                ("subject", e.subject),
                ("description", e.description),
                ("picture", e.picture),
            )
            if value is not None
        ]
        self._change("group.updated", e.group_id, e.at, e.request_id, {"changed": changed})
        self._resolve_op(e.request_id, "done", e.at, group_id=e.group_id, kind="settings")

    def _settings_failed(self, e: SettingsChangeFailed) -> None:
        self._ensure_group(e.group_id)
        parts = [f"{f.setting}: {_error_text(f.errors) or 'failed'}" for f in e.failures]
        text = "; ".join(parts) or _error_text(e.errors) or "settings update failed"
        self._change("group.settings_failed", e.group_id, e.at, e.request_id, {"error": text})
        self._resolve_op(
            e.request_id, "failed", e.at, error=text, group_id=e.group_id, kind="settings"
        )

    def _suspension(self, group_id: str, suspended: bool, at: int) -> None:
        self._ensure_group(group_id)
        changed = self._exec(
            "UPDATE groups SET suspended = ?2, suspended_at = ?3 WHERE id = ?1 AND "
            "(suspended_at IS NULL OR suspended_at < ?3 OR (suspended_at = ?3 AND ?2 = 1))",
            (group_id, int(suspended), at),
        )
        if changed:
            kind = "group.suspended" if suspended else "group.suspend_cleared"
            self._change(kind, group_id, at)

    # ------------------------------------------------------------------ messages

    def _inbound(self, e: InboundMessage) -> None:
        if e.group_id is None:
            return  # 1:1 messages are outside this inbox
        self._ensure_group(e.group_id)
        sender = e.sender
        key = self._member_key(e.group_id, sender)
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
        inserted = self._exec(
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
        self._exec(
            "UPDATE groups SET "
            "unread = unread + (?2 > coalesce((SELECT read_through FROM group_local "
            "WHERE group_id = ?1), -1)), "
            "last_inbound_by = CASE WHEN last_inbound_at IS NULL OR ?2 > last_inbound_at "
            "OR (?2 = last_inbound_at AND ?4 = (SELECT max(m.id) FROM messages m "
            "WHERE m.group_id = ?1 AND m.at = ?2 AND m.direction = 'inbound')) "
            "THEN ?3 ELSE last_inbound_by END, "
            "last_inbound_at = max(coalesce(last_inbound_at, ?2), ?2), "
            "last_activity_at = max(coalesce(last_activity_at, ?2), ?2) WHERE id = ?1",
            (e.group_id, e.at, name, e.wamid),
        )
        self._change("message.received", e.group_id, e.at, e.wamid, {"sender": key})

    def _status(self, e: MessageStatus) -> None:
        state = e.state
        if state is None:
            return  # a status value this version does not model
        code, title = _first_error(e.errors)
        group_level = e.participant is None and e.group_id is not None
        if group_level:
            changed = self._exec(
                "INSERT INTO message_delivery(message_id, state, rank, at, error_code, "
                "error_title) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(message_id) DO UPDATE SET "
                "state = excluded.state, rank = excluded.rank, at = excluded.at, "
                "error_code = excluded.error_code, error_title = excluded.error_title "
                f"WHERE {_DELIVERY_WINS.format(t='message_delivery')}",
                (e.wamid, str(state), state.rank, e.at, code, title),
            )
            if changed:
                self._change("message.status", e.group_id, e.at, e.wamid, {"state": str(state)})
            return
        if e.participant is not None:
            key = self._member_key(e.group_id, e.participant)
            wa_id = e.participant.wa_id
        else:
            key, wa_id = e.recipient_id or "", e.recipient_id
        changed = self._exec(
            "INSERT INTO recipient_status(message_id, participant_key, state, rank, at, "
            "error_code, error_title) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(message_id, participant_key) DO UPDATE SET "
            "state = excluded.state, rank = excluded.rank, at = excluded.at, "
            "error_code = excluded.error_code, error_title = excluded.error_title "
            f"WHERE {_DELIVERY_WINS.format(t='recipient_status')}",
            (e.wamid, key, str(state), state.rank, e.at, code, title),
        )
        if changed:
            self._change(
                "message.status",
                e.group_id,
                e.at,
                e.wamid,
                {"participant": key, "state": str(state)},
            )
        if e.pricing is not None:
            self._charge(e, key, wa_id)

    def _charge(self, e: MessageStatus, key: str, wa_id: str | None) -> None:
        p = e.pricing
        assert p is not None
        # Without a number, the country a business-scoped user id names sets the market.
        who = wa_id or (e.participant.user_id if e.participant is not None else None)
        amount = self._cost_fn(p.category, p.type, p.billable, who) if self._cost_fn else None
        market = self._market_fn(who) if self._market_fn else None
        inserted = self._exec(
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
            # arrive, the line is the earliest status's; at the same second, the smaller
            # (category, type, model, billable) one's, so arrival order does not matter.
            self._exec(
                "UPDATE cost_ledger SET at = ?3, category = ?4, pricing_type = ?5, "
                "pricing_model = ?6, billable = ?7, market = ?8, amount = ?9, "
                "participant_wa_id = ?10, group_id = ?11 "
                "WHERE message_id = ?1 AND participant_key = ?2 AND (at > ?3 OR (at = ?3 "
                "AND (coalesce(?4, ''), coalesce(?5, ''), coalesce(?6, ''), coalesce(?7, -1)) "
                "< (coalesce(category, ''), coalesce(pricing_type, ''), "
                "coalesce(pricing_model, ''), coalesce(billable, -1))))",
                (
                    e.wamid,
                    key,
                    e.at,
                    p.category,
                    p.type,
                    p.pricing_model,
                    None if p.billable is None else int(p.billable),
                    market,
                    None if amount is None else str(amount),
                    wa_id,
                    e.group_id,
                ),
            )
            return
        self._change(
            "cost.charged",
            e.group_id,
            e.at,
            e.wamid,
            {"participant": key, "amount": None if amount is None else str(amount)},
        )


def event_key(event: object) -> str | None:
    """The event's dedupe key, or ``None`` for something that is not an event."""
    try:
        key = getattr(event, "dedupe_key", None)
    except Exception:  # a malformed event must not hide the original failure
        return None
    return key if isinstance(key, str) else None


def _event_group(event: object) -> str | None:
    group_id = getattr(event, "group_id", None)
    return group_id if isinstance(group_id, str) else None


def _event_at(event: object) -> int | None:
    at = getattr(event, "at", None)
    return at if isinstance(at, int) else None


def _stated_via(reason: str) -> str | None:
    """What a join's ``reason`` fixes: ``approval``, ``unknown``, or ``None`` (derived)."""
    if reason == JoinVia.APPROVAL:
        return str(JoinVia.APPROVAL)
    if reason in ("", JoinVia.INVITE_LINK, JoinVia.UNKNOWN):
        return None  # invite_link or absent: an approval if it settled a join request
    return str(JoinVia.UNKNOWN)
