"""The cost ledger: one line per (message, participant) charged, priced when applied.

Lines are written by the applier (``apply/costs.py``) from status webhooks, priced with the
:class:`~groups_tui.store.records.Pricing` this repository was built with; the listener,
the TUI and ``events replay`` open the store with the same rate card, so a replay rebuilds
the same ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from groups_tui.domain.pricing import DeliveryTally
from groups_tui.domain.window import WINDOW_SECONDS
from groups_tui.store.codec import dec_or_none
from groups_tui.store.database import Database
from groups_tui.store.records import UNPRICED, LedgerLine, Pricing, SpendRow, SpendSummary
from groups_tui.store.repository import Repository

__all__ = ["SPEND_BUCKETS", "Ledger"]

SPEND_BUCKETS = {
    "day": "date(at, 'unixepoch')",
    "group": "group_id",
    "market": "market",
    "category": "category",
    "number": "phone_number_id",
}
"""How :meth:`Ledger.spend_by` can bucket the ledger: name -> SQL expression."""

_SERVICE_CATEGORIES = ("group_service", "service")

_COST_COLUMNS = (
    "message_id, participant_key, group_id, category, pricing_type, billable, market, amount, at"
)


def _cost_from_row(row: Any) -> LedgerLine:
    return LedgerLine(
        message_id=row[0],
        participant_key=row[1],
        group_id=row[2],
        category=row[3],
        pricing_type=row[4],
        billable=None if row[5] is None else bool(row[5]),
        market=row[6],
        amount=dec_or_none(row[7]),
        at=row[8],
    )


class Ledger(Repository):
    """The cost ledger and how it is priced.

    Args:
        db: The database.
        pricing: Prices new ledger lines (the default leaves every amount unknown).
        clock: Returns the current epoch time.
    """

    def __init__(
        self,
        db: Database,
        *,
        pricing: Pricing = UNPRICED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(db, clock=clock)
        self.pricing = pricing
        """How new ledger lines are priced (fixed for the store's lifetime)."""

    async def for_message(self, message_id: str) -> list[LedgerLine]:
        """Ledger lines of one message (one per participant charged)."""
        rows = await self._all(
            f"SELECT {_COST_COLUMNS} FROM cost_ledger WHERE message_id = ? "
            "ORDER BY participant_key",
            (message_id,),
        )
        return [_cost_from_row(r) for r in rows]

    async def spend_between(
        self, t0: int, t1: int, phone_number_id: str | None = None
    ) -> SpendSummary:
        """Known spend with ``t0 <= at < t1`` (of one number, if given), summed as
        Decimal while streaming."""
        by_number = await self.spend_by_number(t0, t1)
        if phone_number_id is not None:
            return by_number.get(phone_number_id, SpendSummary(Decimal(0), 0, 0))
        return SpendSummary(
            total=sum((s.total for s in by_number.values()), Decimal(0)),
            charges=sum(s.charges for s in by_number.values()),
            unknown=sum(s.unknown for s in by_number.values()),
        )

    async def spend_by_number(self, t0: int, t1: int) -> dict[str, SpendSummary]:
        """Known spend with ``t0 <= at < t1`` of each number that spent anything."""
        sums: dict[str, list[Any]] = {}
        async for rows in self.db.iterate(
            "SELECT phone_number_id, amount FROM cost_ledger WHERE at >= ? AND at < ?",
            (t0, t1),
            batch=2000,
        ):
            for number, amount in rows:
                tally = sums.get(number)
                if tally is None:
                    tally = sums[number] = [Decimal(0), 0, 0]
                tally[1] += 1
                value = dec_or_none(amount)
                if value is None:
                    tally[2] += 1
                else:
                    tally[0] += value
        return {n: SpendSummary(total=t[0], charges=t[1], unknown=t[2]) for n, t in sums.items()}

    async def spend_by(
        self, by: str, t0: int, t1: int, phone_number_id: str | None = None
    ) -> list[SpendRow]:
        """Spend with ``t0 <= at < t1`` per bucket (:data:`SPEND_BUCKETS`), by key.

        Amounts are summed as Decimal while streaming (never as SQLite floats).

        Args:
            by: ``day``, ``group``, ``market``, ``category`` or ``number``.
            t0: Start (epoch seconds, included).
            t1: End (excluded).
            phone_number_id: Only this number's lines, if given.

        Returns:
            One row per bucket that has lines, ordered by key (``None`` last).

        Raises:
            ValueError: An unknown bucket.
        """
        expr = SPEND_BUCKETS.get(by)
        if expr is None:
            raise ValueError(f"cannot bucket spend by {by!r}")
        sums: dict[str | None, list[Any]] = {}
        one = "" if phone_number_id is None else " AND phone_number_id = ?"
        async for rows in self.db.iterate(
            f"SELECT {expr}, amount FROM cost_ledger WHERE at >= ? AND at < ?{one}",
            (t0, t1) if phone_number_id is None else (t0, t1, phone_number_id),
            batch=2000,
        ):
            for key, amount in rows:
                bucket = sums.setdefault(key, [Decimal(0), 0, 0])
                bucket[1] += 1
                value = dec_or_none(amount)
                if value is None:
                    bucket[2] += 1
                else:
                    bucket[0] += value
        order = sorted(sums, key=lambda k: (k is None, k or ""))
        return [SpendRow(k, sums[k][0], sums[k][1], sums[k][2]) for k in order]

    async def service_messages_delivered_in_month(
        self, year: int, month: int, phone_number_id: str | None = None
    ) -> int:
        """Service (free-form) deliveries in a UTC calendar month, per participant (of
        one number, if given: the allowance is each number's).

        Counts ledger lines with a service category, which is what the monthly free
        allowance of 1,000 per number consumes (one per delivered member).
        """
        counts = await self.service_messages_by_number_in_month(year, month)
        if phone_number_id is not None:
            return counts.get(phone_number_id, 0)
        return sum(counts.values())

    async def service_messages_by_number_in_month(self, year: int, month: int) -> dict[str, int]:
        """Service deliveries of each number in a UTC calendar month."""
        start = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        end = int(datetime(ny, nm, 1, tzinfo=UTC).timestamp())
        rows = await self._all(
            "SELECT phone_number_id, count(*) FROM cost_ledger "
            "WHERE category IN (?, ?) AND at >= ? AND at < ? GROUP BY phone_number_id",
            (*_SERVICE_CATEGORIES, start, end),
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def pricing_evidence(self, since: int, until: int) -> list[DeliveryTally]:
        """What Meta charged for the business's group messages sent in ``[since, until)``.

        Ledger lines of group messages, grouped by how Meta priced them (category, type,
        billable), whether the group's window was open when the message was sent, and
        the day it was sent. Both times come from stored messages, never from the clock,
        so a replay of the raw log gives the same answer: the send time is the outbound
        message's own time (a line whose message this database did not send is left
        out), and the window was open when an inbound message of the group is at most
        24 hours older than it (``domain.window``: open while ``now < last + 24 h``).

        Args:
            since: Earliest send time counted (epoch seconds).
            until: Send times before this count.

        Returns:
            One tally per (category, type, billable, window open, day sent).
        """
        # Lines are counted per message first, so the window is looked up once per
        # message rather than once per member.
        rows = await self._all(
            "WITH lines AS (SELECT message_id, category, pricing_type, billable, count(*) AS n "
            "FROM cost_ledger WHERE group_id IS NOT NULL AND at >= ? "
            "GROUP BY message_id, category, pricing_type, billable) "
            "SELECT l.category, l.pricing_type, l.billable, "
            "EXISTS (SELECT 1 FROM messages i WHERE i.group_id = m.group_id "
            "AND i.direction = 'inbound' AND i.kind != 'system' AND i.at <= m.at "
            "AND i.at > m.at - ?) AS open, "
            "date(m.at, 'unixepoch') AS day, sum(l.n) "
            "FROM lines l JOIN messages m ON m.id = l.message_id AND m.direction = 'outbound' "
            "WHERE m.at >= ? AND m.at < ? "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 5, 1, 2, 3, 4",
            (since, WINDOW_SECONDS, since, until),
        )
        return [
            DeliveryTally(
                category=r[0],
                pricing_type=r[1],
                billable=None if r[2] is None else bool(r[2]),
                window_open=bool(r[3]),
                sent_on=date.fromisoformat(r[4]),
                count=int(r[5]),
            )
            for r in rows
        ]
