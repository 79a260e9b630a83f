"""An account with three business numbers, for the UI: a real store and a real service.

The store is a temporary SQLite file serving US, BR and DE; groups, members, messages,
priced statuses (today's spend, the month's service allowance) and a moderation flag are
applied as webhooks would, each under its number. The service is the real
:class:`~groups_tui.service.InboxService` (read-only: no Cloud API client), on a frozen
clock in October 2026, when the monthly free service allowance is in force.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from groups_tui.domain.events import (
    DomainEvent,
    GroupCreated,
    InboundMessage,
    MessageStatus,
    ParticipantRef,
    ParticipantsJoined,
    PricingInfo,
)
from groups_tui.domain.models import MessageKind
from groups_tui.domain.numbers import BusinessNumber
from groups_tui.domain.pricing import RateCard
from groups_tui.service import InboxService
from groups_tui.service.types import AccountInfo, Mode
from groups_tui.store import Pricing, Store
from groups_tui.ui.app import GroupsApp, make_app
from tests.ui.seed import epoch
from tests.ui.world import FrozenClock

__all__ = ["NOW", "NUMBERS", "numbered_app", "open_numbered"]

NOW = epoch(2026, 10, 15, 12, 0)
"""The frozen now: the service allowance (1,000 per number per month) is in force."""

NUMBERS = (
    BusinessNumber("100000000000001", "US", "200000000000002", "+1 555 010 0000"),
    BusinessNumber("100000000000002", "BR", "200000000000002", "+55 11 95550 0000"),
    BusinessNumber("100000000000003", "DE", "200000000001002", "+49 151 5550 0000"),
)

_GROUPS = {
    "US": ("Order 1042 – delivery", "Book club #7 📚", "Tenants of building 12", "Team offsite"),
    "BR": ("Pedido 3003 – entrega", "Clube do livro", "Futebol de domingo ⚽"),
    "DE": ("Bestellung 77", "Elternabend Klasse 4b"),
}
_PEOPLE = {
    "US": ("16505551234", "Sheena Nelson"),
    "BR": ("5511987654321", "João Silva"),
    "DE": ("4915112345678", "Zoë Müller"),
}


def _group_id(label: str, n: int) -> str:
    return f"G-{label}-{n}"


async def open_numbered(path: Path, clock: FrozenClock) -> Store:
    """Open (and fill) the three-number store at ``path``."""
    card = RateCard.load_default()
    store = await Store.open(
        path, clock=clock, pricing=Pricing.from_rate_card(card), numbers=NUMBERS
    )
    events: list[DomainEvent] = []
    for number in NUMBERS:
        pnid, label = number.phone_number_id, number.label
        wa_id, name = _PEOPLE[label]
        for n, subject in enumerate(_GROUPS[label]):
            gid = _group_id(label, n)
            at = NOW - 86_400 * 10 + n * 60 + len(label)
            person = ParticipantRef(wa_id=wa_id, profile_name=name)
            events += [
                GroupCreated(
                    request_id=None, group_id=gid, subject=subject, at=at, phone_number_id=pnid
                ),
                ParticipantsJoined(
                    group_id=gid, participants=(person,), at=at + 1, phone_number_id=pnid
                ),
            ]
            spoke = NOW - 600 * (n + 1) - 7 * len(label) * (NUMBERS.index(number) + 1)
            events.append(
                InboundMessage(
                    wamid=f"wamid.{gid}.in",
                    group_id=gid,
                    sender=person,
                    kind=MessageKind.TEXT,
                    type="text",
                    text=f"Hello from {label} group {n}",
                    at=spoke,
                    phone_number_id=pnid,
                )
            )
            # Today's charges: a utility template to the group, and a service reply.
            for kind, category in (("tpl", "group_utility"), ("svc", "group_service")):
                events.append(
                    MessageStatus(
                        wamid=f"wamid.{gid}.{kind}",
                        group_id=gid,
                        recipient_id=gid,
                        status="delivered",
                        participant=person,
                        pricing=PricingInfo(
                            billable=True, pricing_model="PMP", type="regular", category=category
                        ),
                        at=spoke + 30,
                        phone_number_id=pnid,
                    )
                )
    await store.raw.apply_events(None, events)
    await store.moderation.add_flag(
        rule="link_flood",
        action="notify",
        group_id=_group_id("BR", 0),
        participant_key=_PEOPLE["BR"][0],
        wa_id=_PEOPLE["BR"][0],
        message_id=f"wamid.{_group_id('BR', 0)}.in",
        join_request_id=None,
        at=NOW - 300,
        reason="3 links in 1 minute",
    )
    return store


def numbered_app(path: Path) -> tuple[GroupsApp, Store, FrozenClock]:
    """The app over the three-number store (the store opened in its own loop, as the
    snapshot runner starts the app in another)."""
    clock = FrozenClock(NOW)
    store = asyncio.run(open_numbered(path, clock))
    service = InboxService(
        store,
        None,
        account=AccountInfo("+1 555 010 0000", NUMBERS[0].phone_number_id, Mode.SANDBOX),
        clock=clock,
        numbers=NUMBERS,
    )
    app = make_app(service, clock=clock, bell=False, sandbox_note="SANDBOX — simulated users")
    return app, store, clock
