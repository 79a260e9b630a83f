"""A delivery to a member known only by a business-scoped user id gets a priced line."""

from __future__ import annotations

from pathlib import Path

from groups_tui.domain.events import MessageStatus, ParticipantRef
from groups_tui.domain.pricing import RateCard, ledger_functions
from groups_tui.store import Pricing, Store

from .conftest import G1, created, pricing

CARD = RateCard.load_default()


def delivered_to(wamid: str, user_id: str) -> MessageStatus:
    return MessageStatus(
        wamid=wamid,
        group_id=G1,
        recipient_id=G1,
        status="delivered",
        participant=ParticipantRef(user_id=user_id),
        pricing=pricing("group_marketing"),
        at=1000,
    )


async def test_a_bsuid_only_delivery_is_priced_by_the_country_it_names(db_path: Path) -> None:
    store = await Store.open(db_path, pricing=Pricing(*ledger_functions(CARD)))
    try:
        await store.raw.apply_events(
            None,
            [created(), delivered_to("wamid.a", "BR.134912"), delivered_to("wamid.b", "ZZ.1")],
        )
        [brazil] = await store.ledger.for_message("wamid.a")
        [nowhere] = await store.ledger.for_message("wamid.b")
    finally:
        await store.close()
    row = CARD.row_for_region("BR")
    assert row is not None
    assert (brazil.participant_key, brazil.market, brazil.amount) == (
        "BR.134912",
        "Brazil",
        row.marketing,
    )
    assert nowhere.market is None and nowhere.amount is None
