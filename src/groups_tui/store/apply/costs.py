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

from groups_tui.domain.events import MessageStatus
from groups_tui.store.apply.context import ApplyContext
from groups_tui.store.records import CostFn, MarketFn

__all__ = ["CostCharger"]


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

    def charge(self, e: MessageStatus, key: str, wa_id: str | None) -> None:
        """Charge the status's pricing to the participant ``key`` (number ``wa_id``)."""
        p = e.pricing
        assert p is not None
        ctx = self._ctx
        # Without a number, the country a business-scoped user id names sets the market.
        who = wa_id or (e.participant.user_id if e.participant is not None else None)
        amount = self._cost_fn(p.category, p.type, p.billable, who) if self._cost_fn else None
        market = self._market_fn(who) if self._market_fn else None
        inserted = ctx.exec(
            "INSERT OR IGNORE INTO cost_ledger(message_id, participant_key, group_id, "
            "participant_wa_id, category, pricing_type, pricing_model, billable, market, "
            "amount, at, phone_number_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                ctx.number,
            ),
        )
        if not inserted:
            # Already charged. Pricing comes once per participant, but should a repeat
            # arrive, the line is the earliest status's; at the same second, the smaller
            # (category, type, model, billable) one's, so arrival order does not matter.
            ctx.exec(
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
        ctx.change(
            "cost.charged",
            e.group_id,
            e.at,
            e.wamid,
            {"participant": key, "amount": None if amount is None else str(amount)},
        )
