"""Outbound statuses per participant, with pricing that follows the simulated date."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from groups_tui.sandbox import ManualClock, SandboxKnobs, SandboxServer

from .conftest import PHONE_ID, Receiver, ServerFactory, api, control, create_group, outsiders

WA = {"messaging_product": "whatsapp"}
SEPT_20 = datetime(2026, 9, 20, 9, 0, tzinfo=UTC).timestamp()
OCT_05 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC).timestamp()


def template(name: str, *params: str) -> dict[str, Any]:
    return {
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": "en_US"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ],
        },
    }


async def group_with_members(
    server: SandboxServer, receiver: Receiver, n: int, *, talk: bool
) -> tuple[str, list[str]]:
    gid = (await create_group(server, receiver))["group_id"]
    people = outsiders(server, n)
    async with control(server) as ctl:
        for wa in people:
            assert (await ctl.post(f"/groups/{gid}/join", json={"wa_id": wa})).is_success
        if talk:
            await ctl.post(f"/groups/{gid}/message", json={"wa_id": people[0], "text": "hi"})
    return gid, people


async def send_and_settle(
    server: SandboxServer, receiver: Receiver, gid: str, body: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    async with api(server) as http:
        r = await http.post(
            f"/{PHONE_ID}/messages", json={**WA, "recipient_type": "group", "to": gid, **body}
        )
    assert r.status_code == 200, r.text
    wamid: str = r.json()["messages"][0]["id"]
    async with control(server) as ctl:
        await ctl.post("/clock/advance", json={"seconds": 2 * 3600})
    await server.drain_webhooks()
    return wamid, [s for s in receiver.statuses() if s["id"] == wamid]


def pricing_by_participant(statuses: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for s in statuses:
        if "pricing" in s:
            who = str(s.get("recipient_participant_id") or s.get("participant_recipient_id"))
            assert who not in out, "pricing at most once per participant"
            out[who] = s["pricing"]
    return out


async def run_case(
    make_server: ServerFactory,
    receiver: Receiver,
    when: float,
    body: dict[str, Any],
    talk: bool,
    *,
    marketing_in_window: str = "charged",
) -> tuple[list[str], list[dict[str, Any]]]:
    # Several servers may share the receiver in one test: start from a clean slate.
    receiver.deliveries.clear()
    receiver.answered.clear()
    server = await make_server(
        clock=ManualClock(when),
        knobs=SandboxKnobs(
            op_delay=0,
            failure_rate=0.0,
            read_rate=1.0,
            marketing_in_window=marketing_in_window,
        ),
        seed=int(when) % 997,
    )
    gid, people = await group_with_members(server, receiver, 4, talk=talk)
    _, statuses = await send_and_settle(server, receiver, gid, body)
    return people, statuses


async def test_statuses_sent_then_per_participant(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    people, statuses = await run_case(
        make_server, receiver, SEPT_20, template("weekly_offers", "20%"), talk=False
    )
    sent = [s for s in statuses if s["status"] == "sent"]
    assert len(sent) == 1
    assert sent[0]["recipient_type"] == "group"
    assert "recipient_participant_id" not in sent[0] and "pricing" not in sent[0]
    assert isinstance(sent[0]["timestamp"], str)
    per = [s for s in statuses if s["status"] in ("delivered", "read")]
    assert {s["recipient_participant_id"] for s in per} == set(people)
    assert all(s["recipient_id"] == sent[0]["recipient_id"] for s in per)
    assert set(pricing_by_participant(statuses)) == set(people)


async def test_marketing_is_charged_before_and_after_october(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    for when in (SEPT_20, OCT_05):
        people, statuses = await run_case(
            make_server, receiver, when, template("weekly_offers", "10%"), talk=True
        )
        prices = pricing_by_participant(statuses)
        assert set(prices) == set(people)
        for p in prices.values():
            assert p == {
                "billable": True,
                "pricing_model": "PMP",
                "type": "regular",
                "category": "group_marketing",
            }


async def test_marketing_in_window_can_be_played_free(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    # GIVEN a sandbox that sides with the Groups pricing page of 2025-10-22
    for when in (SEPT_20, OCT_05):
        # WHEN marketing goes to a group whose window is open
        people, statuses = await run_case(
            make_server,
            receiver,
            when,
            template("weekly_offers", "10%"),
            talk=True,
            marketing_in_window="free",
        )
        # THEN every delivery is free, in the shape of a free group status
        prices = pricing_by_participant(statuses)
        assert set(prices) == set(people)
        for p in prices.values():
            assert p == {
                "billable": False,
                "pricing_model": "PMP",
                "type": "free_group_customer_service",
                "category": "group_marketing",
            }
    # AND with the window closed it is charged as ever
    _, closed = await run_case(
        make_server,
        receiver,
        OCT_05,
        template("weekly_offers", "10%"),
        talk=False,
        marketing_in_window="free",
    )
    assert {p["type"] for p in pricing_by_participant(closed).values()} == {"regular"}


def test_marketing_in_window_knob_accepts_only_known_values() -> None:
    with pytest.raises(ValueError, match="marketing_in_window must be one of charged, free"):
        SandboxKnobs(marketing_in_window="sometimes")


async def test_in_window_utility_free_before_october_charged_after(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    body = template("delivery_update_group", "1042", "14:30")
    _, before = await run_case(make_server, receiver, SEPT_20, body, talk=True)
    _, after = await run_case(make_server, receiver, OCT_05, body, talk=True)
    for p in pricing_by_participant(before).values():
        assert p["type"] == "free_group_customer_service" and p["billable"] is False
        assert p["category"] == "group_utility"
    for p in pricing_by_participant(after).values():
        assert p["type"] == "regular" and p["billable"] is True
        assert p["category"] == "group_utility"


async def test_utility_outside_window_is_charged_and_service_is_free_in_window(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    _, outside = await run_case(
        make_server, receiver, SEPT_20, template("delivery_update_group", "1", "2"), talk=False
    )
    assert all(p["type"] == "regular" for p in pricing_by_participant(outside).values())
    _, service = await run_case(
        make_server, receiver, OCT_05, {"type": "text", "text": {"body": "hello"}}, talk=True
    )
    prices = pricing_by_participant(service).values()
    # From 2026-10-01 service messages use the monthly allowance first: still free.
    assert prices and all(
        p
        == {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_group_customer_service",
            "category": "group_service",
        }
        for p in prices
    )


async def test_status_shape_knobs_and_failures(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(
        knobs=SandboxKnobs(
            op_delay=0,
            participant_field="participant_recipient_id",
            timestamp_style="int",
            failure_rate=1.0,
        )
    )
    gid, people = await group_with_members(server, receiver, 3, talk=False)
    _, statuses = await send_and_settle(server, receiver, gid, template("weekly_offers", "5%"))
    failed = [s for s in statuses if s["status"] == "failed"]
    assert {s["participant_recipient_id"] for s in failed} == set(people)
    assert all(isinstance(s["timestamp"], int) for s in statuses)
    assert all(s["errors"][0]["code"] == 131026 for s in failed)
    assert not any("pricing" in s for s in statuses)


async def test_us_members_do_not_get_marketing(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server()
    gid = (await create_group(server, receiver))["group_id"]
    us = next(p.wa_id for p in server.world.population.people if p.country == "US")
    async with control(server) as ctl:
        await ctl.post(f"/groups/{gid}/join", json={"wa_id": us})
    _, statuses = await send_and_settle(server, receiver, gid, template("weekly_offers", "5%"))
    failed = [s for s in statuses if s["status"] == "failed"]
    assert failed and failed[0]["errors"][0]["code"] == 131049
