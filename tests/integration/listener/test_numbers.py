"""One webhook endpoint for every configured number, over real HTTP.

Meta posts every number of a WABA (and several WABAs of one app) to one URL; the listener
routes each change by its ``metadata.phone_number_id``. A status of another number's 1:1
message (Meta's own sample, priced) once booked into this number's ledger and spend.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from groups_tui.domain.numbers import BusinessNumber
from tests.helpers.signing import encode
from tests.helpers.webhooks import fixture, fixture_bytes

from .support import running_listener

pytestmark = pytest.mark.xdist_group("listener")

OURS = BusinessNumber("100000000000001", "Support", "102290129340398")
SALES = BusinessNumber("100000000000002", "Sales", "102290129340398")
SAMPLE_NUMBER = "106540352242922"
"""The number of Meta's samples: not one of ours here."""


def _for(name: str, number: str) -> bytes:
    payload = copy.deepcopy(fixture(name))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    return encode(payload)


async def test_another_numbers_status_is_kept_raw_and_books_nothing(tmp_path: Path) -> None:
    async with running_listener(tmp_path / "l.db", numbers=[OURS, SALES]) as running:
        store = running.store
        latest = await store.feed.latest_id()
        # WHEN Meta's 1:1 status sample (delivered, billable marketing) of a number this
        # account did not configure is posted to the one webhook URL
        await running.deliver([fixture_bytes("statuses_delivered_one_to_one")])
        # THEN it is acknowledged and logged, marked another number's...
        [raw] = await store.raw.events()
        assert raw.phone_number_id == SAMPLE_NUMBER and raw.other_number
        # ...and never enters the ledger, today's spend, the change feed or the inbox
        assert await store.db.fetch_all("SELECT * FROM cost_ledger") == []
        assert (await store.ledger.spend_between(0, 2**40)).charges == 0
        assert await store.feed.latest_id() == latest


async def test_one_endpoint_serves_every_configured_number(tmp_path: Path) -> None:
    async with running_listener(tmp_path / "l.db", numbers=[OURS, SALES]) as running:
        store = running.store
        # WHEN a group is created on each number and each gets a priced status
        await running.deliver(
            [
                _for("lifecycle_group_create", OURS.phone_number_id),
                _for("statuses_delivered_one_to_one", SALES.phone_number_id),
                _for("statuses_read_with_pricing", OURS.phone_number_id),
            ]
        )
        # THEN each fact is its own number's
        groups = await store.db.fetch_all("SELECT phone_number_id FROM groups")
        assert groups == [(OURS.phone_number_id,)]
        ledger = await store.db.fetch_all(
            "SELECT phone_number_id, group_id IS NULL FROM cost_ledger ORDER BY 1"
        )
        assert ledger == [(OURS.phone_number_id, 0), (SALES.phone_number_id, 1)]
        assert (await store.ledger.spend_between(0, 2**40, SALES.phone_number_id)).charges == 1
        assert all(not r.other_number for r in await store.raw.events())
