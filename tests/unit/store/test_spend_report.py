"""Spend by day, group, market and category, summed exactly from the cost ledger."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from groups_tui.store import Store

DAY0 = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


async def _fill(
    store: Store, lines: list[tuple[str, str | None, str | None, str | None, int]]
) -> None:
    await store.db.execute_write_fn(
        lambda conn: conn.executemany(
            "INSERT INTO cost_ledger(message_id, participant_key, group_id, category, market, "
            "amount, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(f"wamid.{n}", "111", g, c, m, a, at) for n, (g, c, m, a, at) in enumerate(lines)],
        )
    )


@pytest.mark.parametrize("seed", [7, 2026])
async def test_spend_by_sums_every_bucket_exactly(store: Store, seed: int) -> None:
    print(f"seed={seed}")
    rng = random.Random(seed)
    lines = [
        (
            rng.choice(["G1", "G2", None]),
            rng.choice(["marketing", "utility", None]),
            rng.choice(["India", "Brazil", None]),
            rng.choice(["0.1", "0.2", "0.0618", None]),
            DAY0 + rng.randrange(0, 5 * 86_400),
        )
        for _ in range(300)
    ]
    await _fill(store, lines)
    for by, pick in (
        ("group", lambda ln: ln[0]),
        ("category", lambda ln: ln[1]),
        ("market", lambda ln: ln[2]),
        ("day", lambda ln: datetime.fromtimestamp(ln[4], UTC).date().isoformat()),
    ):
        want: dict[str | None, list[object]] = defaultdict(lambda: [Decimal(0), 0, 0])
        for ln in lines:
            bucket = want[pick(ln)]
            bucket[1] += 1  # type: ignore[operator]
            if ln[3] is None:
                bucket[2] += 1  # type: ignore[operator]
            else:
                bucket[0] += Decimal(ln[3])  # type: ignore[operator]
        rows = await store.ledger.spend_by(by, DAY0, DAY0 + 5 * 86_400)
        assert {r.key: [r.amount, r.charges, r.unknown] for r in rows} == dict(want), by
        keys = [r.key for r in rows]
        assert keys == sorted(k for k in keys if k is not None) + [None] * (None in keys)
    # A period boundary: lines at the end time are outside
    assert await store.ledger.spend_by("day", DAY0, DAY0) == []
    with pytest.raises(ValueError, match="cannot bucket"):
        await store.ledger.spend_by("amount; DROP TABLE cost_ledger", DAY0, DAY0 + 1)
