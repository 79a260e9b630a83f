"""The cost ledger as evidence: how Meta priced each group delivery, and the window at send.

The window is derived from stored message times (the group's inbound messages before the
outbound message's own time), so it does not depend on the order webhooks arrived in and a
replay of the raw log gives the same evidence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from groups_tui.domain.events import MessageStatus, PricingInfo
from groups_tui.domain.models import MessageKind
from groups_tui.domain.pricing import DeliveryTally
from groups_tui.store import Store

from .conftest import G1, RawLog, created, inbound, status

DAY1 = int(datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp())
"""A member writes to the group (the window opens until DAY1 + 24 h)."""
FREE = PricingInfo(
    billable=False,
    pricing_model="PMP",
    type="free_group_customer_service",
    category="group_marketing",
)
CHARGED = PricingInfo(
    billable=True, pricing_model="PMP", type="regular", category="group_marketing"
)
MEMBERS = ("4915112345678", "5511987654321", "919876543210")


async def _send(store: Store, wamid: str, at: int) -> None:
    """The business sends a template to G1 at ``at`` (outbox, then the API's wamid)."""
    item = await store.outbox.enqueue(
        G1,
        MessageKind.TEMPLATE,
        {"type": "template", "name": "weekly_offers"},
        template_name="weekly_offers",
        template_category="marketing",
        at=at,
    )
    await store.outbox.mark_accepted(item.id, wamid)


def _priced(wamid: str, at: int, pricing: PricingInfo, *who: str) -> list[MessageStatus]:
    return [status(wamid, "delivered", at, wa_id, pricing=pricing) for wa_id in who]


async def _world(store: Store, log: RawLog) -> None:
    await log.deliver(created(at=DAY1 - 3600))
    # Sent one hour after the inbound message, and at the last second of the window:
    # open. Sent at the 24th hour exactly: closed (domain.window: open while now < last
    # + 24 h).
    await _send(store, "wamid.open", DAY1 + 3600)
    await _send(store, "wamid.edge", DAY1 + 86_399)
    await _send(store, "wamid.closed", DAY1 + 86_400)
    await log.deliver(*_priced("wamid.open", DAY1 + 3610, FREE, *MEMBERS))
    await log.deliver(*_priced("wamid.edge", DAY1 + 86_410, FREE, MEMBERS[0]))
    await log.deliver(*_priced("wamid.closed", DAY1 + 86_410, CHARGED, *MEMBERS[:2]))
    # The inbound message's webhook arrives after the statuses: the window is derived
    # from message times, not from the order of arrival.
    await log.deliver(inbound("wamid.in", DAY1))
    # Not evidence: a message this database did not send, and a 1:1 message.
    await log.deliver(*_priced("wamid.elsewhere", DAY1 + 3610, FREE, MEMBERS[0]))
    one_to_one = MessageStatus(
        wamid="wamid.1to1",
        group_id=None,
        recipient_id=MEMBERS[0],
        status="delivered",
        participant=None,
        pricing=PricingInfo(billable=True, pricing_model="PMP", type="regular", category="utility"),
        at=DAY1 + 3610,
    )
    await log.deliver(one_to_one)


EXPECTED = [
    DeliveryTally(
        "group_marketing", "free_group_customer_service", False, True, date(2026, 12, 1), 3
    ),
    DeliveryTally(
        "group_marketing", "free_group_customer_service", False, True, date(2026, 12, 2), 1
    ),
    DeliveryTally("group_marketing", "regular", True, False, date(2026, 12, 2), 2),
]


async def test_evidence_counts_deliveries_with_the_window_at_send(store: Store) -> None:
    log = RawLog(store)
    await _world(store, log)
    tallies = await store.ledger.pricing_evidence(DAY1 - 86_400, DAY1 + 3 * 86_400)
    assert sorted(tallies, key=lambda t: (t.sent_on, t.pricing_type or "")) == EXPECTED


async def test_evidence_is_bounded_by_send_time(store: Store) -> None:
    log = RawLog(store)
    await _world(store, log)
    # Only the message sent at DAY1 + 3600 falls before DAY1 + 86_399.
    tallies = await store.ledger.pricing_evidence(DAY1, DAY1 + 86_399)
    assert tallies == [EXPECTED[0]]
    assert await store.ledger.pricing_evidence(DAY1 + 86_401, DAY1 + 9 * 86_400) == []


async def test_a_replay_gives_the_same_evidence(store: Store) -> None:
    log = RawLog(store)
    await _world(store, log)
    before = await store.ledger.pricing_evidence(DAY1 - 86_400, DAY1 + 3 * 86_400)
    await store.raw.reset_derived_state()
    assert await store.ledger.pricing_evidence(DAY1 - 86_400, DAY1 + 3 * 86_400) == []
    await store.raw.replay(log.parse)
    assert await store.ledger.pricing_evidence(DAY1 - 86_400, DAY1 + 3 * 86_400) == before


async def test_the_service_weighs_the_evidence_and_reuses_it_for_a_minute(store: Store) -> None:
    from groups_tui.domain.pricing import CALIBRATION_MAX_AGE, DisputedRule
    from groups_tui.service import InboxService
    from groups_tui.service.types import AccountInfo, Mode

    now = [float(DAY1 + 2 * 86_400)]
    service = InboxService(
        store, None, account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX), clock=lambda: now[0]
    )
    # GIVEN no evidence yet
    first = await service.sending.pricing_calibration()
    assert first.decided() == {}
    # WHEN Meta's statuses say four in-window marketing deliveries were free
    log = RawLog(store)
    await _world(store, log)
    # THEN a calibration of less than a minute ago is reused ...
    now[0] += CALIBRATION_MAX_AGE - 1
    assert await service.sending.pricing_calibration() is first
    # ... and an older one is weighed again: the evidence settles the rule
    now[0] += 1
    fresh = await service.sending.pricing_calibration()
    assert fresh.decided() == {DisputedRule.MARKETING_IN_WINDOW: False}
    assert [e.rule for e in fresh.contradictions] == [DisputedRule.MARKETING_IN_WINDOW]
