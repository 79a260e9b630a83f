"""The cost ledger's pricing is given once, where the store is opened."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from groups_tui.domain.pricing import RateCard
from groups_tui.service import InboxService
from groups_tui.service.types import AccountInfo, Mode
from groups_tui.store import UNPRICED, Pricing, Store

from .conftest import created, flat_cost, pricing, status


async def _priced_line(store: Store) -> Decimal | None:
    await store.raw.apply_events(
        None, [created(), status("wamid.p", "delivered", 1000, "15550001111", pricing=pricing())]
    )
    [line] = await store.ledger.for_message("wamid.p")
    return line.amount


async def test_a_service_over_the_store_does_not_reprice_its_ledger(db_path: Path) -> None:
    # GIVEN a store opened with its pricing
    store = await Store.open(db_path, pricing=Pricing(flat_cost))
    try:
        # WHEN a service with another rate card is built over it
        InboxService(
            store,
            None,
            account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX),
            rate_card=RateCard.load_default(),
        )
        # THEN the ledger keeps pricing as the store was opened
        assert store.ledger.pricing == Pricing(flat_cost)
        assert await _priced_line(store) == Decimal("0.0040")
    finally:
        await store.close()


async def test_a_store_opened_without_pricing_leaves_amounts_unknown(db_path: Path) -> None:
    store = await Store.open(db_path)
    try:
        assert store.ledger.pricing == UNPRICED
        assert await _priced_line(store) is None
    finally:
        await store.close()


async def test_pricing_from_a_rate_card_prices_like_the_card(db_path: Path) -> None:
    card = RateCard.load_default()
    store = await Store.open(db_path, pricing=Pricing.from_rate_card(card))
    try:
        amount = await _priced_line(store)
    finally:
        await store.close()
    assert amount is not None and amount == card.rate_for("utility", "15550001111")
