"""The listener over real HTTP: handshake, refusals, durable acknowledgement, state."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from groups_tui.cloud.webhooks import parse_body
from groups_tui.domain.models import DeliveryState, GroupState
from groups_tui.listener.app import MAX_BODY_BYTES, ListenerConfigError
from groups_tui.listener.ingest import REFUSED_COUNTER, dedupe_key_for
from groups_tui.listener.server import ListenerServer
from groups_tui.store import RawEventIn, Store
from tests.helpers.signing import TEST_VERIFY_TOKEN, encode, signature
from tests.helpers.webhooks import (
    consistent_fixture_names,
    fixture,
    fixture_bytes,
    fixture_names,
)

from .support import Running, running_listener

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
SENT_WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI4MjZGRDA0OUE2OTQ3RkEyMzcA"
READ_WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI5OTZGRDA0OUE2OTQ3RkEyMzcA"
BSUID = "US.13491208655302741918"


@pytest.fixture
async def listener(tmp_path: Path) -> AsyncIterator[Running]:
    async with running_listener(tmp_path / "groups.db") as running:
        yield running


# --- handshake --------------------------------------------------------------------------


async def test_handshake_answers_the_challenge(listener: Running) -> None:
    # GIVEN Meta's verification request with the configured token
    params = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": TEST_VERIFY_TOKEN,
    }
    # WHEN it arrives
    response = await listener.client.get(listener.server.url, params=params)
    # THEN the raw challenge is echoed
    assert response.status_code == 200
    assert response.text == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": TEST_VERIFY_TOKEN},
        {"hub.mode": "subscribe", "hub.verify_token": TEST_VERIFY_TOKEN},
        {"hub.challenge": "1", "hub.verify_token": TEST_VERIFY_TOKEN},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-challenge", "no-mode", "nothing"],
)
async def test_handshake_refuses_anything_else(listener: Running, params: dict[str, str]) -> None:
    response = await listener.client.get(listener.server.url, params=params)
    assert response.status_code == 403


async def test_handshake_refused_without_configured_token(tmp_path: Path) -> None:
    async with running_listener(tmp_path / "g.db", verify_token=None) as running:
        params = {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}
        response = await running.client.get(running.server.url, params=params)
    assert response.status_code == 403


# --- refusals ---------------------------------------------------------------------------


async def test_unsigned_and_missigned_deliveries_are_refused_and_counted(
    listener: Running,
) -> None:
    # GIVEN a valid body
    body = fixture_bytes("messages_inbound_text")
    url = listener.server.url
    # WHEN it arrives without a signature, with a wrong one, and signed with another secret
    missing = await listener.client.post(url, content=body)
    wrong = await listener.client.post(
        url, content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    other = await listener.client.post(
        url, content=body, headers={"X-Hub-Signature-256": signature(body, "other")}
    )
    # THEN 401 for the missing one, 403 for the others; nothing stored; counter at 3
    assert (missing.status_code, wrong.status_code, other.status_code) == (401, 403, 403)
    await listener.ingest.wait_idle()
    assert (await listener.store.raw.stats()).total == 0
    assert (
        await listener.store.messages.get(
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        )
        is None
    )
    health = (await listener.client.get(listener.server.base_url + "/healthz")).json()
    assert health["signatures_refused"] == 3
    assert health["events_stored"] == 0
    # AND another process sees the counter
    other_process = await Store.open_readonly(listener.db_path)
    try:
        assert (await other_process.raw.counters())[REFUSED_COUNTER] == 3
    finally:
        await other_process.close()


async def test_signed_body_that_is_not_json_gets_400(listener: Running) -> None:
    response = await listener.post_signed(b"\x00not json{")
    assert response.status_code == 400
    assert (await listener.store.raw.stats()).total == 0


async def test_body_over_the_limit_gets_413(listener: Running) -> None:
    body = b" " * (MAX_BODY_BYTES + 1)
    try:
        response = await listener.post_signed(body)
    except httpx.TransportError:
        pytest.fail("the listener closed the connection instead of answering 413")
    assert response.status_code == 413
    assert (await listener.store.raw.stats()).total == 0


async def test_four_mebibyte_body_is_accepted(listener: Running) -> None:
    # GIVEN a real status webhook padded past 4 MiB
    payload = fixture("statuses_sent_group")
    payload["entry"][0]["changes"][0]["value"]["padding"] = "x" * (4 * 1024 * 1024 + 10)
    body = encode(payload)
    # WHEN delivered
    await listener.deliver([body])
    # THEN it is stored and applied
    stats = await listener.store.raw.stats()
    assert (stats.total, stats.applied, stats.unparsed) == (1, 1, 0)
    assert await listener.store.messages.state(SENT_WAMID) is DeliveryState.SENT


@pytest.mark.parametrize(
    "body",
    [b'{"hello": "world"}', b"[1, 2, 3]", b'"text"', encode(fixture("unknown_field"))],
    ids=["object", "array", "string", "unknown-field"],
)
async def test_signed_unknown_shape_is_stored_raw_and_acknowledged(
    listener: Running, body: bytes
) -> None:
    await listener.deliver([body])
    (raw,) = await listener.store.raw.events()
    assert raw.body == body
    assert raw.parse_state == "unparsed"


async def test_refuses_to_start_without_app_secret(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "g.db")
    try:
        with pytest.raises(ListenerConfigError, match="--insecure-no-signature"):
            ListenerServer(store, app_secret=None, verify_token=None, port=0)
    finally:
        await store.close()


async def test_insecure_mode_accepts_unsigned(tmp_path: Path) -> None:
    async with running_listener(
        tmp_path / "g.db", app_secret=None, insecure_no_signature=True
    ) as running:
        body = fixture_bytes("lifecycle_group_create")
        response = await running.client.post(running.server.url, content=body)
        await running.ingest.wait_idle()
        assert response.status_code == 200
        assert await running.store.groups.get(GROUP) is not None


# --- durable acknowledgement and state ----------------------------------------------------


async def test_acknowledged_body_is_already_in_the_log(listener: Running) -> None:
    body = fixture_bytes("group_status_suspend")
    response = await listener.post_signed(body)
    assert response.status_code == 200
    # Read through a separate connection: what was acknowledged was committed.
    other = await Store.open_readonly(listener.db_path)
    try:
        assert [r.body for r in await other.raw.events()] == [body]
    finally:
        await other.close()


@pytest.mark.parametrize("name", fixture_names())
async def test_each_fixture_is_stored_and_applied(listener: Running, name: str) -> None:
    await listener.deliver([fixture_bytes(name)])
    (raw,) = await listener.store.raw.events()
    assert raw.applied_at is not None
    expected = "unparsed" if name.startswith("unknown_") else "ok"
    assert raw.parse_state == expected


async def test_every_fixture_in_order_gives_the_documented_state(listener: Running) -> None:
    # GIVEN every recorded webhook, delivered once, in event-time order
    names = fixture_names()
    bodies = sorted((fixture_bytes(n) for n in names), key=lambda b: parse_body(b)[0].at)
    # WHEN delivered over HTTP
    await listener.deliver(bodies)
    store = listener.store
    stats = await store.raw.stats()
    assert (stats.total, stats.applied, stats.errors) == (len(names), len(names), 0)
    assert stats.unparsed == 2
    # THEN the group: created, renamed, suspension cleared, and finally deleted
    group = await store.groups.get(GROUP)
    assert group is not None
    assert group.request_id == "106540352242922"
    assert group.subject == "Order 1042 - delivered"
    assert group.description == "Delivery done. Group closes on Friday."
    assert group.suspended is False
    assert group.state is GroupState.DELETED
    # AND membership follows event time: everyone left or was removed but the BSUID member
    members = {m.key for m in await store.groups.members(GROUP)}
    assert members == {BSUID}
    # AND the join request was revoked, so none is pending
    assert await store.groups.join_requests(GROUP) == []
    # AND inbound messages are stored, the BSUID sender keyed by user id
    for wamid in (
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ1RgA=",
        "wamid.IMAGEINBOUND0001",
    ):
        assert await store.messages.get(wamid) is not None
    bsuid_message = await store.messages.get("wamid.BSUIDINBOUND0001")
    assert bsuid_message is not None and bsuid_message.sender_key == BSUID
    # AND per-participant statuses never move backward; read implies delivered
    states = {
        s.participant_key: s.state for s in await store.messages.recipient_statuses(SENT_WAMID)
    }
    assert states == {"16505551234": DeliveryState.READ, "447700900123": DeliveryState.DELIVERED}
    read_states = {s.participant_key for s in await store.messages.recipient_statuses(READ_WAMID)}
    assert read_states == {"16505551234", BSUID}
    # AND one ledger line per (message, participant), whatever the pricing layout
    lines = await store.ledger.for_message(SENT_WAMID)
    assert sorted(line.participant_key for line in lines) == ["16505551234", "447700900123"]
    assert {line.category for line in lines} == {"group_utility"}


async def test_duplicates_and_reverse_order_give_the_same_state(tmp_path: Path) -> None:
    bodies = [fixture_bytes(n) for n in consistent_fixture_names()]
    async with running_listener(tmp_path / "ordered.db") as ordered:
        await ordered.deliver(bodies)
        expected = await ordered.store.raw.state_digest()
    async with running_listener(tmp_path / "shuffled.db") as shuffled:
        replayed = list(reversed(bodies)) + bodies[::3] + list(reversed(bodies))[::2]
        await shuffled.deliver(replayed)
        assert await shuffled.store.raw.state_digest() == expected
        stats = await shuffled.store.raw.stats()
        assert stats.total == len(bodies)
        assert shuffled.ingest.duplicates == len(replayed) - len(bodies)


async def test_healthz_reports_counts(listener: Running) -> None:
    await listener.deliver([fixture_bytes("lifecycle_group_create")])
    health = (await listener.client.get(listener.server.base_url + "/healthz")).json()
    assert health["ok"] is True
    assert health["events_stored"] == 1
    assert health["signatures_refused"] == 0
    assert health["last_event_at"] is not None
    assert health["started_at"] is not None


async def test_restart_applies_what_was_logged_but_not_applied(tmp_path: Path) -> None:
    # GIVEN raw events logged by a run that died before applying them
    db = tmp_path / "g.db"
    store = await Store.open(db)
    try:
        bodies = [fixture_bytes("lifecycle_group_create"), fixture_bytes("participants_leave")]
        await store.raw.insert(
            [RawEventIn(body=b, dedupe_key=dedupe_key_for(b), received_at=1.0) for b in bodies]
        )
    finally:
        await store.close()
    # WHEN a listener starts on that database
    async with running_listener(db) as running:
        await running.ingest.wait_idle()
        # THEN it applies them
        stats = await running.store.raw.stats()
        assert (stats.total, stats.applied) == (2, 2)
        assert await running.store.groups.get(GROUP) is not None


async def test_embedded_server_leaves_ctrl_c_to_the_host(tmp_path: Path) -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    async with running_listener(tmp_path / "g.db") as running:
        assert running.server.port > 0
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert not running.server.running
