"""Participants: joins, leaves, removals, failed removals, and what a read of the group shows.

Ordering rules (event time is the webhook's ``at``):

* Membership: a participant row keeps the state set by the newest event (``state_at``).
  An older join, leave or removal changes nothing but the history. At equal times the
  exit wins (present < left < removed), so any arrival order gives the same result.
* Joining: ``joined_at``/``joined_via`` describe the newest join seen, even one that lost
  to a later exit. How a join came about (``via``, and the join request it settled) is
  derived by :mod:`.joins`, never taken from what happened to be applied first.
* Reads of the group through the API (:class:`GroupRead`): a read sees who is in the
  group, not when anyone came or went. It records only what differs from the store, a
  member not known to be present (a join) or one present and no longer listed (a leave),
  at the read's time and marked ``observed``; a member already present, or an exit newer
  than the read, records nothing, so repeated reads change nothing. The webhook for an
  observed change, arriving later with an earlier time, replaces the observation when
  nothing else of that person lies between the two
  (:meth:`MemberApplier._replace_observation`), so webhook-then-read and read-then-webhook
  end in the same state.
* Participant history: one row per (person, action, second); two removals, leaves or
  failed removals in the same second keep the greater (request id, initiator, error).
  A join row's ``via`` and request are re-derived by :meth:`.JoinSettler.settle`.

Names: the name of a member's newest message wins (:data:`.context.MESSAGE_NAME_SQL`).
Known limit: a participant's identity fields (name, username, numbers) take the newest
event's non-empty values and fill gaps from older ones; two events of different times
carrying different non-empty names can leave either name, depending on arrival order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groups_tui.domain.events import (
    GroupRead,
    ParticipantRef,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
    normalize_input,
)
from groups_tui.domain.models import JoinVia
from groups_tui.store.apply.context import (
    MESSAGE_NAME_SQL,
    ApplyContext,
    error_text,
    first_error,
)
from groups_tui.store.apply.joins import JoinSettler, stated_via
from groups_tui.store.apply.operations import OperationSettler

__all__ = ["MemberApplier"]

_MEMBER_RANK = {"present": 0, "left": 1, "removed": 2}


class MemberApplier:
    """Applies participant webhooks and a read's list of members.

    Args:
        ctx: The applier's shared context.
        joins: Re-derives how each join came about.
        operations: Settles the removals these webhooks report on.
    """

    def __init__(self, ctx: ApplyContext, joins: JoinSettler, operations: OperationSettler) -> None:
        self._ctx = ctx
        self._joins = joins
        self._operations = operations

    # ------------------------------------------------------------------ webhooks

    def joined(self, e: ParticipantsJoined) -> None:
        """People joined the group."""
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        stated = stated_via(e.via)
        for ref in e.participants:
            self._replace_observation(e.group_id, ctx.member_key(e.group_id, ref), True, e.at)
            key, changed = self._set_member(
                e.group_id, ref, "present", e.at, joined_via=stated or str(JoinVia.INVITE_LINK)
            )
            # Logged with what the webhook itself says; the settler then derives an
            # approval from the person's join requests (Meta reports those as invite_link).
            logged = self._history(
                e.group_id, key, "join", e.at, via=stated or str(JoinVia.INVITE_LINK)
            )
            vias, touched = self._joins.settle(e.group_id, key)
            via = vias.get(e.at, stated or str(JoinVia.INVITE_LINK))
            if changed or logged:
                ctx.change("participant.joined", e.group_id, e.at, key, {"via": via})
            elif touched:
                ctx.change("participant.updated", e.group_id, e.at, key, {"via": via})
        ctx.touch(e.group_id, e.at)

    def left(self, e: ParticipantsLeft) -> None:
        """People left the group."""
        self._exited(e.group_id, e.participants, "left", e.at)

    def removed(self, e: ParticipantsRemoved) -> None:
        """People were removed; the removal's operation is done."""
        self._exited(
            e.group_id,
            e.participants,
            "removed",
            e.at,
            initiated_by=e.initiated_by,
            request_id=e.request_id,
        )
        self._operations.resolve(e.request_id, "done", e.at, group_id=e.group_id, kind="remove")

    def remove_failed(self, e: ParticipantsRemoveFailed) -> None:
        """Removals were refused: logged per person; the removal's operation failed."""
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        item_error = first_error(e.errors)
        for failed in e.failed:
            key = ctx.member_key(e.group_id, failed.participant)
            error = first_error(failed.errors) if failed.errors else item_error
            if self._history(
                e.group_id,
                key,
                "remove_failed",
                e.at,
                initiated_by=e.initiated_by,
                request_id=e.request_id,
                error=error,
            ):
                ctx.change("participant.remove_failed", e.group_id, e.at, key, {"code": error[0]})
        self._operations.resolve(
            e.request_id,
            "failed",
            e.at,
            error=error_text(e.errors),
            group_id=e.group_id,
            kind="remove",
        )

    # ------------------------------------------------------------------ reads

    def read(self, e: GroupRead) -> None:
        """Record what a read of the group shows that the store did not know (docstring).

        The group itself is known by then (:meth:`.GroupApplier.read`).
        """
        ctx = self._ctx
        listed: set[str] = set()
        for ref in e.participants:
            key = ctx.member_key(e.group_id, ref)
            listed.add(key)
            row = ctx.row(
                "SELECT state, state_at FROM participants WHERE group_id = ? "
                "AND participant_key = ?",
                (e.group_id, key),
            )
            if row is None or (row[0] != "present" and row[1] < e.at):
                self._observe(e.group_id, ref, "present", e.at)
            elif ctx.exec(
                "UPDATE participants SET wa_id = coalesce(wa_id, ?3), "
                "user_id = coalesce(user_id, ?4), username = coalesce(username, ?5) "
                "WHERE group_id = ?1 AND participant_key = ?2 AND ("
                "(wa_id IS NULL AND ?3 IS NOT NULL) OR (user_id IS NULL AND ?4 IS NOT NULL) "
                "OR (username IS NULL AND ?5 IS NOT NULL))",
                (e.group_id, key, ref.wa_id, ref.user_id, ref.username),
            ):
                ctx.change("participant.updated", e.group_id, e.at, key)
        present = ctx.rows(
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
            vias, _ = self._joins.settle(group_id, key)
            payload["via"] = vias.get(at, via)
        self._ctx.change(
            "participant.joined" if joining else "participant.left", group_id, at, key, payload
        )

    def _replace_observation(self, group_id: str, key: str, joining: bool, at: int) -> None:
        """Let a webhook take the place of a read's observation of the same change.

        The observation (a join, or a leave for an exit) is the person's first at or after
        ``at``; it is the same change only if no other membership change of that person
        lies between ``at`` and it. It is deleted, and the participant row's times that it set
        are moved back to ``at``, so the webhook then applies as if the read came after it.
        """
        ctx = self._ctx
        actions = "('join')" if joining else "('leave', 'remove')"
        row = ctx.row(
            "SELECT id, at FROM participant_history WHERE group_id = ? AND participant_key = ? "
            f"AND observed = 1 AND action IN {actions} AND at >= ? ORDER BY at LIMIT 1",
            (group_id, key, at),
        )
        if row is None:
            return
        observed_id, observed_at = row
        # At the event's own second only an exit follows a join (exits win ties), so only
        # an exit there parts a join from a later observed join.
        between = ctx.row(
            "SELECT 1 FROM participant_history WHERE group_id = ?1 AND participant_key = ?2 "
            "AND id <> ?3 AND action IN ('join', 'leave', 'remove') AND at <= ?5 "
            "AND (at > ?4 OR (at = ?4 AND ?6 AND action <> 'join')) LIMIT 1",
            (group_id, key, observed_id, at, observed_at, int(joining)),
        )
        if between is not None:
            return
        ctx.exec("DELETE FROM participant_history WHERE id = ?", (observed_id,))
        ctx.exec(
            "UPDATE participants SET "
            "state_at = CASE WHEN state_at = ?3 THEN ?4 ELSE state_at END, "
            "joined_at = CASE WHEN ?5 AND joined_at = ?3 THEN NULL ELSE joined_at END "
            "WHERE group_id = ?1 AND participant_key = ?2",
            (group_id, key, observed_at, at, int(joining)),
        )

    # ------------------------------------------------------------------ rows

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
        ctx = self._ctx
        ctx.ensure_group(group_id)
        action = "leave" if state == "left" else "remove"
        kind = "participant.left" if state == "left" else "participant.removed"
        for ref in refs:
            self._replace_observation(group_id, ctx.member_key(group_id, ref), False, at)
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
                ctx.change(kind, group_id, at, key)
        ctx.touch(group_id, at)

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

        ``joined_via`` only seeds a new row; :meth:`.JoinSettler.settle` sets the final value.

        Returns:
            The member key and whether the state changed.
        """
        ctx = self._ctx
        key = ctx.member_key(group_id, ref)
        wa_id = ref.wa_id
        if wa_id is None and ref.input:
            phone = normalize_input(ref.input)
            wa_id = phone if phone.isdigit() else None
        current = ctx.row(
            "SELECT state, state_at FROM participants WHERE group_id = ? AND participant_key = ?",
            (group_id, key),
        )
        joined_at = at if state == "present" else None
        if current is None:
            ctx.exec(
                "INSERT INTO participants(group_id, participant_key, wa_id, user_id, username, "
                "profile_name, joined_at, joined_via, state, state_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, coalesce("
                + MESSAGE_NAME_SQL.format(g="?1", k="?2")
                + ", ?6), ?7, ?8, ?9, ?10)",
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
            ctx.forget_keys()  # a new row can change which key a reference resolves to
            return key, True
        cur_state, cur_at = current
        newer = at > cur_at or (at == cur_at and _MEMBER_RANK[state] > _MEMBER_RANK[cur_state])
        if newer:
            ctx.exec(
                "UPDATE participants SET state = ?3, state_at = ?4, "
                "wa_id = coalesce(?5, wa_id), user_id = coalesce(?6, user_id), "
                "username = coalesce(?7, username), profile_name = coalesce("
                + MESSAGE_NAME_SQL.format(g="?1", k="?2")
                + ", ?8, profile_name), "
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
            ctx.exec(
                "UPDATE participants SET wa_id = coalesce(wa_id, ?3), "
                "user_id = coalesce(user_id, ?4), username = coalesce(username, ?5), "
                "profile_name = coalesce("
                + MESSAGE_NAME_SQL.format(g="?1", k="?2")
                + ", profile_name, ?6), "
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
        """Log one membership change; whether a new history row was written."""
        ctx = self._ctx
        row = (group_id, key, action, at, initiated_by, via, request_id, *error)
        if ctx.exec(
            "INSERT OR IGNORE INTO participant_history(group_id, participant_key, action, at, "
            "initiated_by, via, request_id, error_code, error_message, observed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, int(observed)),
        ):
            return True
        if action != "join":
            # Two removals (or leaves, failures) of one person in the same second: the
            # row keeps the greater (request, initiator, error), whatever came first.
            # Joins keep theirs: the settler re-derives their via and request.
            ctx.exec(
                "UPDATE participant_history SET initiated_by = ?5, request_id = ?7, "
                "error_code = ?8, error_message = ?9 WHERE group_id = ?1 AND "
                "participant_key = ?2 AND action = ?3 AND at = ?4 AND "
                "(coalesce(?7, ''), coalesce(?5, ''), coalesce(?8, -1), coalesce(?9, '')) > "
                "(coalesce(request_id, ''), coalesce(initiated_by, ''), "
                "coalesce(error_code, -1), coalesce(error_message, ''))",
                row,
            )
        return False
