"""Webhook delivery: signature, retries, batching, duplicates and reordering."""

from __future__ import annotations

import hashlib
import hmac

from groups_tui.sandbox import SandboxKnobs, WebhookKnobs

from .conftest import (
    PHONE_ID,
    SECRET,
    Receiver,
    ServerFactory,
    api,
    control,
    create_group,
    outsiders,
)

FAST = {"backoff_initial": 0.01, "backoff_max": 0.05}


async def test_retry_after_500_then_200(make_server: ServerFactory, receiver: Receiver) -> None:
    receiver.script = [500, 503, 200]
    server = await make_server()
    item = await create_group(server, receiver)
    assert receiver.answered[:3] == [500, 503, 200]
    bodies = {d.body for d in receiver.deliveries[:3]}
    assert len(bodies) == 1, "a retry re-sends the same signed bytes"
    assert all(d.signature_ok for d in receiver.deliveries)
    assert item["group_id"]
    assert server.webhooks.stats.failed_attempts == 2


async def test_connection_errors_are_retried_until_a_listener_appears(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(
        webhook_url="http://127.0.0.1:9/nothing-listens-here",
        webhook_knobs=WebhookKnobs(max_attempts=10_000, **FAST),
    )
    server.world.groups_api.suspend(server.world.groups.add("x").id)
    await receiver.wait_for(
        lambda: server.webhooks.stats.failed_attempts >= 1 or None, what="a failed attempt"
    )
    # The listener becomes available: the queued change is delivered there.
    server.set_webhook_url(receiver.url)
    items = await receiver.wait_for(lambda: receiver.group_items("group_status_update"))
    assert items[0]["type"] == "group_suspend"


async def test_signature_uses_the_app_secret(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server()
    await create_group(server, receiver)
    d = receiver.deliveries[0]
    mac = hmac.new(SECRET.encode(), d.body, hashlib.sha256).hexdigest()
    assert d.headers["X-Hub-Signature-256"] == f"sha256={mac}"
    wrong = hmac.new(b"other", d.body, hashlib.sha256).hexdigest()
    assert d.headers["X-Hub-Signature-256"] != f"sha256={wrong}"


async def test_duplicates_knob(make_server: ServerFactory, receiver: Receiver) -> None:
    server = await make_server(webhook_knobs=WebhookKnobs(duplicate_rate=1.0, **FAST))
    await create_group(server, receiver)
    await server.drain_webhooks()
    assert len(receiver.deliveries) == 2
    assert receiver.deliveries[0].body == receiver.deliveries[1].body
    assert server.webhooks.stats.duplicates == 1


async def test_batching_and_reorder_knobs(make_server: ServerFactory, receiver: Receiver) -> None:
    server = await make_server(
        webhook_url=False, webhook_knobs=WebhookKnobs(batch_max=3, reorder_rate=1.0, **FAST)
    )
    world = server.world
    group = world.groups.add("quiet")
    people = outsiders(server, 6)
    for wa in people:
        world.persons.join(group.id, wa)
    server.set_webhook_url(receiver.url)
    await server.drain_webhooks()
    assert len(receiver.deliveries) == 2
    assert all(len(d.payload["entry"][0]["changes"]) == 3 for d in receiver.deliveries)
    got = [
        i["added_participants"][0]["wa_id"]
        for i in receiver.group_items("group_participants_update")
    ]
    assert sorted(got) == sorted(people)
    assert got != people, "the reorder knob changes the order of delivery"
    assert server.webhooks.stats.reordered >= 1


async def test_async_operations_wait_for_the_clock(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(knobs=SandboxKnobs(op_delay=5.0))
    async with api(server) as http:
        r = await http.post(
            f"/{PHONE_ID}/groups", json={"messaging_product": "whatsapp", "subject": "later"}
        )
    assert r.status_code == 200
    await server.drain_webhooks()
    assert receiver.group_items("group_lifecycle_update") == []
    assert server.world.groups_api.pending_creates == 1
    async with control(server) as ctl:
        await ctl.post("/clock/advance", json={"seconds": 5})
    item = (await receiver.wait_for(lambda: receiver.group_items("group_lifecycle_update")))[0]
    assert item["request_id"] == r.json()["request_id"]
    assert int(item["timestamp"]) == int(server.clock.now())
