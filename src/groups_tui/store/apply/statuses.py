"""Delivery statuses of outbound messages: per recipient, and for the group as a whole.

Ordering rules (event time is the webhook's ``at``):

* Delivery: recipient and message states only rise in :attr:`DeliveryState.rank`; at an
  equal rank the earliest time is kept; at an equal rank and time the greater
  (state, error code, error title) is kept (``_wins``, the rule's one definition).
* First delivered and first read (``delivered_at``, ``read_at``): the earliest status
  that reached the member (delivered or read) and the earliest read, whatever the order
  statuses arrive in; a read never hides when the copy arrived.
* A status value this version does not model changes nothing.
* A participant's status that carries pricing is charged once (:mod:`.costs`), whether
  or not it changed the delivery state.

The rules are decided in Python, on both paths: a status keeps its place in the change
feed and :meth:`StatusApplier.flush_pending` reads the stored rows of the statuses'
messages once, applies the statuses to them in arrival order with the rules above, fills
in the change-feed places of the statuses that changed something (and of the new ledger
lines), and writes each touched row once: new rows in multi-row inserts, the others in
one ``executemany``. Outside isolation (:meth:`StatusApplier.status` with ``defer``) the
applier runs it for a whole batch, before any event other than a message or a status
(none of those reads or writes these tables) and before it commits; if it fails, the
caller applies the batch again event by event, and each status is then flushed alone, in
its own savepoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groups_tui.domain.events import MessageStatus
from groups_tui.domain.models import DeliveryState
from groups_tui.store.apply.context import ApplyContext, first_error
from groups_tui.store.apply.costs import (
    INSERT_SQL,
    ROW_SQL,
    CostCharger,
    LedgerLine,
    charged,
    replaces,
)

__all__ = ["StatusApplier"]

# Set-based writes of the rows a batch touched (their values worked out in Python).
_MESSAGE_INSERT = (
    "INSERT INTO message_delivery(message_id, state, rank, at, error_code, error_title) VALUES "
)
_MESSAGE_ROW = "(?, ?, ?, ?, ?, ?)"
_MESSAGE_UPDATE = (
    "UPDATE message_delivery SET state = ?2, rank = ?3, at = ?4, error_code = ?5, "
    "error_title = ?6 WHERE message_id = ?1"
)
_RECIPIENT_INSERT = (
    "INSERT INTO recipient_status(message_id, participant_key, state, rank, at, "
    "error_code, error_title, delivered_at, read_at) VALUES "
)
_RECIPIENT_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_RECIPIENT_UPDATE = (
    "UPDATE recipient_status SET state = ?3, rank = ?4, at = ?5, error_code = ?6, "
    "error_title = ?7, delivered_at = ?8, read_at = ?9 "
    "WHERE message_id = ?1 AND participant_key = ?2"
)
_LEDGER_UPDATE = (
    "UPDATE cost_ledger SET group_id = ?3, participant_wa_id = ?4, category = ?5, "
    "pricing_type = ?6, pricing_model = ?7, billable = ?8, market = ?9, amount = ?10, "
    "at = ?11 WHERE message_id = ?1 AND participant_key = ?2"
)

# A pending status: the row's values, whether it reached the member / was read, its
# group, its change-feed place and raw row, and its ledger line (with the line's place).
_Delivery = tuple[Any, ...]  # state, rank, at, error code, error title
_Pending = tuple[
    str, str | None, _Delivery, bool, bool, str | None, int, int | None, LedgerLine | None, int
]


def _wins(new: _Delivery, old: Sequence[Any]) -> bool:
    """Whether a status ``new`` replaces the stored ``old`` (state, rank, at, code, title).

    The one definition of the delivery rule: a higher rank wins; at an equal rank the
    earlier time; at an equal rank and time (two failures in the same second) the greater
    (state, error code, error title), so that arrival order never decides.
    """
    if new[1] != old[1]:
        return bool(new[1] > old[1])
    if new[2] != old[2]:
        # A missing time compares as SQL's NULL would: never earlier.
        return new[2] is not None and old[2] is not None and bool(new[2] < old[2])
    return _tie(new) > _tie(old)


def _earliest(stored: int | None, at: int | None) -> int | None:
    """The first time kept: the earlier of the two (unknown without ``at``, as in SQL)."""
    if stored is None or at is None:
        return at
    return min(stored, at)


def _tie(d: Sequence[Any]) -> tuple[str, int, str]:
    return (d[0], -1 if d[3] is None else d[3], "" if d[4] is None else d[4])


class StatusApplier:
    """Applies message status webhooks (``message_delivery``, ``recipient_status``).

    Args:
        ctx: The applier's shared context.
        costs: Charges the statuses that carry pricing.
    """

    def __init__(self, ctx: ApplyContext, costs: CostCharger) -> None:
        self._ctx = ctx
        self._costs = costs
        self._pending: list[_Pending] = []

    def status(self, e: MessageStatus, *, defer: bool = False) -> None:
        """A message was sent, delivered, read or failed, for one member or the group.

        With ``defer`` it waits for :meth:`flush_pending`, keeping its change-feed place;
        without, it is flushed at once, alone.
        """
        state = e.state
        if state is None:
            return  # a status value this version does not model
        ctx = self._ctx
        code, title = first_error(e.errors)
        name = str(state)
        if e.participant is None and e.group_id is not None:  # the group as a whole
            values = (name, state.rank, e.at, code, title)
            place = ctx.reserve()
            self._pending.append(
                (e.wamid, None, values, False, False, e.group_id, place, ctx.raw_id, None, -1)
            )
            if not defer:
                self.flush_pending()
            return
        if e.participant is not None:
            key = ctx.member_key(e.group_id, e.participant)
            wa_id = e.participant.wa_id
        else:
            key, wa_id = e.recipient_id or "", e.recipient_id
        values = (name, state.rank, e.at, code, title)
        place = ctx.reserve()
        line, line_place = None, -1
        if e.pricing is not None:
            line, line_place = self._costs.line(e, key, wa_id), ctx.reserve()
        self._pending.append(
            (
                e.wamid,
                key,
                values,
                state.reached_member,
                state is DeliveryState.READ,
                e.group_id,
                place,
                ctx.raw_id,
                line,
                line_place,
            )
        )
        if not defer:
            self.flush_pending()

    def flush_pending(self) -> None:
        """Apply the deferred statuses: read their rows once, decide, write each once."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        ctx = self._ctx
        wamids = list(dict.fromkeys(p[0] for p in pending))
        group_rows = ctx.rows_in(
            "SELECT message_id, state, rank, at, error_code, error_title FROM "
            "message_delivery WHERE message_id IN ",
            wamids,
        )
        messages: dict[str, list[Any]] = {r[0]: list(r[1:]) for r in group_rows}
        stored_rows = ctx.rows_in(
            "SELECT message_id, participant_key, state, rank, at, error_code, error_title, "
            "delivered_at, read_at FROM recipient_status WHERE message_id IN ",
            wamids,
        )
        recipients: dict[tuple[str, str], list[Any]] = {
            (r[0], r[1]): list(r[2:]) for r in stored_rows
        }
        line_rows = ctx.rows_in(
            "SELECT message_id, participant_key, group_id, participant_wa_id, category, "
            "pricing_type, pricing_model, billable, market, amount, at, phone_number_id "
            "FROM cost_ledger WHERE message_id IN ",
            wamids,
        )
        lines: dict[tuple[str, str], list[Any]] = {(r[0], r[1]): list(r) for r in line_rows}
        new_messages: dict[str, list[Any]] = {}
        new_recipients: dict[tuple[str, str], list[Any]] = {}
        new_lines: dict[tuple[str, str], list[Any]] = {}
        touched_messages: set[str] = set()
        touched: set[tuple[str, str]] = set()
        touched_lines: set[tuple[str, str]] = set()
        for wamid, key, values, reached, read, group_id, place, raw_id, line, lp in pending:
            at = values[2]
            if key is None:  # the group as a whole
                row = messages.get(wamid)
                if row is None:
                    messages[wamid] = new_messages[wamid] = list(values)
                elif _wins(values, row):
                    row[:] = values
                    touched_messages.add(wamid)
                else:
                    continue
                ctx.fill(place, raw_id, "message.status", group_id, at, wamid, {"state": values[0]})
                continue
            both = (wamid, key)
            row = recipients.get(both)
            if row is None:
                row = [*values, at if reached else None, at if read else None]
                recipients[both] = new_recipients[both] = row
                changed = True
            else:
                changed = _wins(values, row)
                if changed:
                    row[:5] = values
                if reached:
                    row[5] = _earliest(row[5], at)
                if read:
                    row[6] = _earliest(row[6], at)
                touched.add(both)
            if changed:
                payload = {"participant": key, "state": values[0]}
                ctx.fill(place, raw_id, "message.status", group_id, at, wamid, payload)
            if line is None:
                continue
            known = lines.get(both)
            if known is None:
                lines[both] = new_lines[both] = list(line)
                ctx.fill(lp, raw_id, "cost.charged", group_id, at, wamid, charged(line))
            elif replaces(line, known):
                known[2:11] = line[2:11]  # the business number stays the first line's
                touched_lines.add(both)
        # Read absent at the start of the batch: should one be stored meanwhile, this raises.
        what = "status rows"
        new = [(w, *r) for w, r in new_messages.items()]
        ctx.insert_rows(_MESSAGE_INSERT, _MESSAGE_ROW, new, what=what)
        new = [(*k, *r) for k, r in new_recipients.items()]
        ctx.insert_rows(_RECIPIENT_INSERT, _RECIPIENT_ROW, new, what=what)
        ctx.insert_rows(INSERT_SQL, ROW_SQL, list(new_lines.values()), what=what)
        updates = [(w, *messages[w]) for w in touched_messages if w not in new_messages]
        if updates:
            ctx.exec_many(_MESSAGE_UPDATE, updates)
        changed_rows = [(*k, *recipients[k]) for k in touched if k not in new_recipients]
        if changed_rows:
            ctx.exec_many(_RECIPIENT_UPDATE, changed_rows)
        repeats = [lines[k][:11] for k in touched_lines if k not in new_lines]
        if repeats:
            ctx.exec_many(_LEDGER_UPDATE, repeats)
