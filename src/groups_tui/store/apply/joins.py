"""Join requests, and how each join came about.

How a join came about is derived from the stored facts of that person (their joins and
join requests), never from what happened to be applied first; it is re-derived whenever
one of those facts arrives (:meth:`JoinSettler.settle`, called after any join, join
request or revoke of the person):

* A join request is settled by the person's earliest join at or after its creation,
  which approves it (``state_at`` = that join), unless it was revoked before that join
  (a join at the revoke's own second still approves it). A local decision
  (``join_request_decisions``) always wins over both.
* A join whose webhook ``reason`` says ``approval`` is an approval. One whose reason is
  ``invite_link`` (Meta reports approvals that way too) or absent is an approval when it
  settled a join request (``participant_history.request_id`` then names the request),
  otherwise ``invite_link``: a link is the only other way into a Cloud API group. Any
  other reason is kept as ``unknown`` (:func:`stated_via`).
* A join request closes at its earliest revoke: a revoke closes a pending request, and
  one approved by a join that came after the revoke (arrival order put the join first);
  a local decision stays.
"""

from __future__ import annotations

from groups_tui.domain.events import JoinRequestCreated, JoinRequestRevoked
from groups_tui.domain.models import JoinVia
from groups_tui.store.apply.context import ApplyContext

__all__ = ["JoinRequestApplier", "JoinSettler", "stated_via"]


def stated_via(reason: str) -> str | None:
    """What a join's ``reason`` fixes: ``approval``, ``unknown``, or ``None`` (derived)."""
    if reason == JoinVia.APPROVAL:
        return str(JoinVia.APPROVAL)
    if reason in ("", JoinVia.INVITE_LINK, JoinVia.UNKNOWN):
        return None  # invite_link or absent: an approval if it settled a join request
    return str(JoinVia.UNKNOWN)


class JoinSettler:
    """Derives one person's join request outcomes and join methods from stored facts.

    Args:
        ctx: The applier's shared context.
    """

    def __init__(self, ctx: ApplyContext) -> None:
        self._ctx = ctx

    def settle(self, group_id: str, key: str) -> tuple[dict[int, str], bool]:
        """Re-derive one person's join request outcomes and join methods from stored facts.

        Called after any join, join request or revoke of the person, so that the result
        depends on the set of events and not on their arrival order (module docstring).
        Appends change-feed rows for the requests it approves or revokes.

        Returns:
            The derived ``via`` of each of the person's joins by time, and whether a
            join's ``via`` (history or participant row) changed.
        """
        ctx = self._ctx
        joins = ctx.rows(
            "SELECT at, via, request_id FROM participant_history WHERE group_id = ? "
            "AND participant_key = ? AND action = 'join' ORDER BY at",
            (group_id, key),
        )
        requests = ctx.rows(
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
                ctx.exec(
                    "UPDATE join_requests SET state = ?, state_at = ? WHERE id = ?",
                    (*target, rid),
                )
                if target[0] in ("approved", "revoked") and decision is None:
                    ctx.change(f"join_request.{target[0]}", group_id, target[1], rid)
        vias: dict[int, str] = {}
        touched = False
        for at, via, request_id in joins:
            # A stated approval (no request id) and an unrecognised reason are kept.
            if via == JoinVia.INVITE_LINK or request_id is not None:
                settled_id = settled.get(at)
                derived = str(JoinVia.APPROVAL if settled_id else JoinVia.INVITE_LINK)
                if (derived, settled_id) != (via, request_id):
                    ctx.exec(
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
                ctx.exec(
                    "UPDATE participants SET joined_via = ?1 WHERE group_id = ?2 "
                    "AND participant_key = ?3 AND joined_at = ?4 AND joined_via <> ?1",
                    (vias[newest_at], group_id, key, newest_at),
                )
            )
        return vias, touched


class JoinRequestApplier:
    """Applies join request webhooks (created, revoked).

    Args:
        ctx: The applier's shared context.
        joins: Re-derives the person's joins and requests after each one.
    """

    def __init__(self, ctx: ApplyContext, joins: JoinSettler) -> None:
        self._ctx = ctx
        self._joins = joins

    def created(self, e: JoinRequestCreated) -> None:
        """Someone asked to join."""
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        ref = e.participant
        key = ctx.member_key(e.group_id, ref)
        inserted = ctx.exec(
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
            row = ctx.row(
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
        _, touched = self._joins.settle(e.group_id, key)
        if touched:
            ctx.change("participant.updated", e.group_id, e.at, key)
        if inserted:
            ctx.change("join_request.created", e.group_id, e.at, e.join_request_id)

    def revoked(self, e: JoinRequestRevoked) -> None:
        """Someone withdrew their request (closed at its earliest revoke)."""
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        ref = e.participant
        key = ctx.member_key(e.group_id, ref)
        # A revoke closes a pending request, and also one approved by a join that came
        # after the revoke (arrival order put the join first); a local decision stays.
        row = ctx.row(
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
        _, touched = self._joins.settle(e.group_id, key)
        if touched:
            ctx.change("participant.updated", e.group_id, e.at, key)
        ctx.change("join_request.revoked", e.group_id, e.at, e.join_request_id)
