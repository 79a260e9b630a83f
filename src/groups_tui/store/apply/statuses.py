"""Delivery statuses of outbound messages: per recipient, and for the group as a whole.

Ordering rules (event time is the webhook's ``at``):

* Delivery: recipient and message states only rise in :attr:`DeliveryState.rank`; at an
  equal rank the earliest time is kept; at an equal rank and time the greater
  (state, error code, error title) is kept (``_DELIVERY_WINS``).
* First delivered and first read (``delivered_at``, ``read_at``): the earliest status
  that reached the member (delivered or read) and the earliest read, whatever the order
  statuses arrive in; a read never hides when the copy arrived.
* A status value this version does not model changes nothing.
* A participant's status that carries pricing is charged once (:mod:`.costs`), whether
  or not it changed the delivery state.
"""

from __future__ import annotations

from groups_tui.domain.events import MessageStatus
from groups_tui.domain.models import DeliveryState
from groups_tui.store.apply.context import ApplyContext, first_error
from groups_tui.store.apply.costs import CostCharger

__all__ = ["StatusApplier"]

# A status replaces the stored one when it ranks higher; at an equal rank the earlier one
# is kept; at an equal rank and time (two failures in the same second) the greater
# (state, error code, error title) is, so that arrival order never decides.
_DELIVERY_WINS = (
    "excluded.rank > {t}.rank OR (excluded.rank = {t}.rank AND (excluded.at < {t}.at "
    "OR (excluded.at = {t}.at AND (excluded.state, coalesce(excluded.error_code, -1), "
    "coalesce(excluded.error_title, '')) > ({t}.state, coalesce({t}.error_code, -1), "
    "coalesce({t}.error_title, '')))))"
)
_MESSAGE_SQL = (
    "INSERT INTO message_delivery(message_id, state, rank, at, error_code, "
    "error_title) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(message_id) DO UPDATE SET "
    "state = excluded.state, rank = excluded.rank, at = excluded.at, "
    "error_code = excluded.error_code, error_title = excluded.error_title "
    "WHERE " + _DELIVERY_WINS.format(t="message_delivery")
)
# The first delivered and first read times ride along with the status when it is stored
# (a new row, or one it wins); a status that loses sets them with _REACHED_SQL.
_RECIPIENT_SQL = (
    "INSERT INTO recipient_status(message_id, participant_key, state, rank, at, "
    "error_code, error_title, delivered_at, read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(message_id, participant_key) DO UPDATE SET "
    "state = excluded.state, rank = excluded.rank, at = excluded.at, "
    "error_code = excluded.error_code, error_title = excluded.error_title, "
    "delivered_at = CASE WHEN excluded.delivered_at IS NULL THEN delivered_at "
    "ELSE min(coalesce(delivered_at, excluded.delivered_at), excluded.delivered_at) END, "
    "read_at = CASE WHEN excluded.read_at IS NULL THEN read_at "
    "ELSE min(coalesce(read_at, excluded.read_at), excluded.read_at) END "
    "WHERE " + _DELIVERY_WINS.format(t="recipient_status")
)
_REACHED_SQL = (
    "UPDATE recipient_status SET "
    "delivered_at = min(coalesce(delivered_at, ?3), ?3), "
    "read_at = CASE WHEN ?4 THEN min(coalesce(read_at, ?3), ?3) ELSE read_at END "
    "WHERE message_id = ?1 AND participant_key = ?2"
)


class StatusApplier:
    """Applies message status webhooks (``message_delivery``, ``recipient_status``).

    Args:
        ctx: The applier's shared context.
        costs: Charges the statuses that carry pricing.
    """

    def __init__(self, ctx: ApplyContext, costs: CostCharger) -> None:
        self._ctx = ctx
        self._costs = costs

    def status(self, e: MessageStatus) -> None:
        """A message was sent, delivered, read or failed, for one member or the group."""
        state = e.state
        if state is None:
            return  # a status value this version does not model
        ctx = self._ctx
        code, title = first_error(e.errors)
        group_level = e.participant is None and e.group_id is not None
        if group_level:
            changed = ctx.exec(_MESSAGE_SQL, (e.wamid, str(state), state.rank, e.at, code, title))
            if changed:
                ctx.change("message.status", e.group_id, e.at, e.wamid, {"state": str(state)})
            return
        if e.participant is not None:
            key = ctx.member_key(e.group_id, e.participant)
            wa_id = e.participant.wa_id
        else:
            key, wa_id = e.recipient_id or "", e.recipient_id
        reached = state.reached_member
        read = state is DeliveryState.READ
        changed = ctx.exec(
            _RECIPIENT_SQL,
            (
                e.wamid,
                key,
                str(state),
                state.rank,
                e.at,
                code,
                title,
                e.at if reached else None,
                e.at if read else None,
            ),
        )
        if reached and not changed:
            ctx.exec(_REACHED_SQL, (e.wamid, key, e.at, int(read)))
        if changed:
            ctx.change(
                "message.status",
                e.group_id,
                e.at,
                e.wamid,
                {"participant": key, "state": str(state)},
            )
        if e.pricing is not None:
            self._costs.charge(e, key, wa_id)
