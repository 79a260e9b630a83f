"""Fixtures and event builders for the store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from groups_tui.domain.events import (
    EventError,
    GroupCreated,
    InboundMessage,
    JoinRequestCreated,
    JoinRequestRevoked,
    MessageStatus,
    ParticipantRef,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    PricingInfo,
)
from groups_tui.domain.models import MessageKind
from groups_tui.store import RawEventIn, Store

G1 = "Y2FwaV9ncm91cDox"
G2 = "Y2FwaV9ncm91cDoy"


class Clock:
    """A settable clock for bookkeeping times."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(db_path, clock=Clock())
    try:
        yield s
    finally:
        await s.close()


def person(wa_id: str | None = None, **kw: Any) -> ParticipantRef:
    return ParticipantRef(wa_id=wa_id, **kw)


def created(group_id: str = G1, at: int = 100, request_id: str | None = "req-1", **kw: Any):
    return GroupCreated(request_id=request_id, group_id=group_id, at=at, **kw)


def joined(wa_id: str, at: int, group_id: str = G1, via: str = "invite_link"):
    return ParticipantsJoined(group_id=group_id, participants=(person(wa_id),), via=via, at=at)


def left(wa_id: str, at: int, group_id: str = G1):
    return ParticipantsLeft(group_id=group_id, participants=(person(wa_id),), at=at)


def removed(input_: str, at: int, group_id: str = G1, request_id: str | None = None):
    return ParticipantsRemoved(
        group_id=group_id,
        participants=(ParticipantRef(input=input_),),
        initiated_by="business",
        request_id=request_id,
        at=at,
    )


def inbound(
    wamid: str,
    at: int,
    text: str | None = "hello",
    group_id: str = G1,
    wa_id: str = "16505551234",
    name: str | None = "Sheena",
):
    return InboundMessage(
        wamid=wamid,
        group_id=group_id,
        sender=ParticipantRef(wa_id=wa_id, profile_name=name),
        kind=MessageKind.TEXT,
        type="text",
        text=text,
        at=at,
    )


def status(
    wamid: str,
    state: str,
    at: int,
    wa_id: str | None = None,
    group_id: str = G1,
    pricing: PricingInfo | None = None,
    errors: Sequence[EventError] = (),
):
    return MessageStatus(
        wamid=wamid,
        group_id=group_id,
        recipient_id=group_id,
        status=state,
        participant=None if wa_id is None else person(wa_id),
        pricing=pricing,
        errors=tuple(errors),
        at=at,
    )


def pricing(category: str = "group_utility", billable: bool = True) -> PricingInfo:
    return PricingInfo(billable=billable, pricing_model="PMP", type="regular", category=category)


def join_request(rid: str, wa_id: str, at: int, group_id: str = G1):
    return JoinRequestCreated(
        group_id=group_id, join_request_id=rid, participant=person(wa_id), at=at
    )


def join_revoked(rid: str, wa_id: str, at: int, group_id: str = G1):
    return JoinRequestRevoked(
        group_id=group_id, join_request_id=rid, participant=person(wa_id), at=at
    )


def flat_cost(
    category: str | None, pricing_type: str | None, billable: bool | None, wa_id: str | None
) -> Decimal | None:
    """A pricing hook for tests: utility 0.0040, service free, marketing unknown."""
    if billable is False or pricing_type != "regular":
        return Decimal("0")
    if category == "group_utility":
        return Decimal("0.0040")
    return None


class RawLog:
    """Logs events as raw rows whose body maps back to the events (a stand-in parser)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_body: dict[bytes, list[Any]] = {}
        self.n = 0

    async def deliver(self, *events: Any, key: str | None = None) -> int:
        """Log one webhook carrying ``events`` and apply it; returns the raw id."""
        self.n += 1
        body = f"body-{self.n}".encode()
        self.by_body[body] = list(events)
        dedupe = key or "|".join(e.dedupe_key for e in events) or f"k{self.n}"
        [result] = await self.store.raw.insert(
            [RawEventIn(body=body, dedupe_key=dedupe, received_at=float(self.n))]
        )
        if not result.duplicate:
            await self.store.raw.apply_events(result.raw_id, events)
        return result.raw_id

    def parse(self, body: bytes) -> list[Any]:
        return self.by_body[bytes(body)]
