"""The cost ledger: one priced line per (message, participant) from the statuses.

Rules (event time is the webhook's ``at``):

* One ledger line per (message, participant), from the earliest status carrying
  pricing; at the same second, the one with the smaller (category, type, model,
  billable); later ones (``read`` after ``delivered``) change nothing.
* The amount comes from the ledger's pricing (``cost_fn``; ``None`` leaves it unknown)
  and the market from ``market_fn``; without a number, the country a business-scoped
  user id names sets the market.
* The line is the business number's the status was routed to (a 1:1 invite has no
  group to take it from).

Each new line appends a ``cost.charged`` change-feed row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groups_tui.domain.events import MessageStatus
from groups_tui.store.apply.context import ApplyContext
from groups_tui.store.records import CostFn, MarketFn

__all__ = ["INSERT_SQL", "ROW_SQL", "CostCharger", "LedgerLine", "charged", "replaces"]

LedgerLine = tuple[Any, ...]
"""One ``cost_ledger`` row, in ``INSERT_SQL``'s column order."""

INSERT_SQL = (
    "INSERT OR IGNORE INTO cost_ledger(message_id, participant_key, group_id, "
    "participant_wa_id, category, pricing_type, pricing_model, billable, market, "
    "amount, at, phone_number_id) VALUES "
)
ROW_SQL = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_REPEAT_SQL = (
    "UPDATE cost_ledger SET at = ?3, category = ?4, pricing_type = ?5, "
    "pricing_model = ?6, billable = ?7, market = ?8, amount = ?9, "
    "participant_wa_id = ?10, group_id = ?11 "
    "WHERE message_id = ?1 AND participant_key = ?2 AND (at > ?3 OR (at = ?3 "
    "AND (coalesce(?4, ''), coalesce(?5, ''), coalesce(?6, ''), coalesce(?7, -1)) "
    "< (coalesce(category, ''), coalesce(pricing_type, ''), "
    "coalesce(pricing_model, ''), coalesce(billable, -1))))"
)


class CostCharger:
    """Writes ``cost_ledger`` lines from statuses that carry pricing.

    Args:
        ctx: The applier's shared context.
        cost_fn: Prices ledger lines (``None`` → amounts unknown).
        market_fn: Maps ``wa_id`` to a market name.
    """

    def __init__(
        self, ctx: ApplyContext, *, cost_fn: CostFn | None, market_fn: MarketFn | None
    ) -> None:
        self._ctx = ctx
        self._cost_fn = cost_fn
        self._market_fn = market_fn

    def line(self, e: MessageStatus, key: str, wa_id: str | None) -> LedgerLine:
        """The ledger line the status's pricing makes for the participant ``key``.

        Its columns in ``_INSERT_SQL``'s order: message, participant key, group, number,
        category, type, model, billable, market, amount, time, business number.
        """
        p = e.pricing
        assert p is not None
        # Without a number, the country a business-scoped user id names sets the market.
        who = wa_id or (e.participant.user_id if e.participant is not None else None)
        amount = self._cost_fn(p.category, p.type, p.billable, who) if self._cost_fn else None
        market = self._market_fn(who) if self._market_fn else None
        return (
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
            self._ctx.number,
        )

    def charge(self, e: MessageStatus, key: str, wa_id: str | None) -> None:
        """Charge the status's pricing to the participant ``key`` (number ``wa_id``)."""
        ctx = self._ctx
        line = self.line(e, key, wa_id)
        if not ctx.exec(INSERT_SQL + ROW_SQL, line):
            # Already charged. Pricing comes once per participant, but should a repeat
            # arrive, the line is the earliest status's; at the same second, the smaller
            # (category, type, model, billable) one's, so arrival order does not matter.
            ctx.exec(_REPEAT_SQL, (*line[:2], line[10], *line[4:10], line[3], line[2]))
            return
        ctx.change("cost.charged", e.group_id, e.at, e.wamid, charged(line))


def charged(line: LedgerLine) -> dict[str, Any]:
    """The payload of a new line's ``cost.charged`` change-feed row."""
    return {"participant": line[1], "amount": line[9]}


def replaces(new: LedgerLine, old: Sequence[Any]) -> bool:
    """Whether a repeat ``new`` replaces the line ``old`` (``_REPEAT_SQL``'s rule)."""
    if old[10] != new[10]:
        return bool(old[10] > new[10])
    return _order(new) < _order(old)


def _order(line: Sequence[Any]) -> tuple[str, str, str, int]:
    return (line[4] or "", line[5] or "", line[6] or "", -1 if line[7] is None else line[7])
