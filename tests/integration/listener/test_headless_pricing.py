"""The headless listener prices the cost ledger with the rate card, as the TUI does."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import httpx

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import RateCard
from groups_tui.store import Store
from tests.helpers.signing import signed_headers
from tests.integration.listener.test_kill import GROUP, ListenerProcess

GERMAN_MEMBER = "4915112345678"


def delivered_with_pricing(wamid: str) -> bytes:
    status = {
        "id": wamid,
        "status": "delivered",
        "timestamp": "1795000000",
        "recipient_id": GROUP,
        "recipient_type": "group",
        "recipient_participant_id": GERMAN_MEMBER,
        "pricing": {
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": "group_marketing",
        },
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {"messaging_product": "whatsapp", "statuses": [status]},
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


async def test_ledger_amount_comes_from_the_rate_card(tmp_path: Path) -> None:
    # GIVEN `groups-tui listen` running headless on a database
    db = tmp_path / "listen.db"
    listener = ListenerProcess(db)
    listener.start()
    try:
        # WHEN a delivered status with a marketing pricing object arrives
        body = delivered_with_pricing("wamid.PRICED1")
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(listener.url, content=body, headers=signed_headers(body))
        assert response.status_code == 200
        # THEN (once applied) the ledger line is priced at the member's marketing rate
        store = await Store.open_readonly(db)
        try:
            for _ in range(200):
                lines = await store.ledger.for_message("wamid.PRICED1")
                if lines:
                    break
                await asyncio.sleep(0.05)
        finally:
            await store.close()
    finally:
        listener.terminate()
    (line,) = lines
    expected = RateCard.load_default().rate_for(TemplateCategory.MARKETING, GERMAN_MEMBER)
    assert expected is not None and expected > Decimal(0)
    assert line.amount == expected
    assert line.market == "Germany"
