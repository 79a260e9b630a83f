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


class CostCharger:
    """Prices ``cost_ledger`` lines from statuses that carry pricing (the status
    applier writes them, :mod:`.statuses`).

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

        Its columns in ``INSERT_SQL``'s order: message, participant key, group, number,
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


def charged(line: LedgerLine) -> dict[str, Any]:
    """The payload of a new line's ``cost.charged`` change-feed row."""
    return {"participant": line[1], "amount": line[9]}


def replaces(new: LedgerLine, old: Sequence[Any]) -> bool:
    """Whether a repeat ``new`` replaces the line ``old`` (the rule's one definition).

    Pricing comes once per participant, but should a repeat arrive, the line is the
    earliest status's; at the same second, the smaller (category, type, model,
    billable) one's, so arrival order does not matter.
    """
    if old[10] != new[10]:
        # A missing time compares as SQL's NULL would: never earlier.
        return old[10] is not None and new[10] is not None and bool(old[10] > new[10])
    return _order(new) < _order(old)


def _order(line: Sequence[Any]) -> tuple[str, str, str, int]:
    return (line[4] or "", line[5] or "", line[6] or "", -1 if line[7] is None else line[7])
