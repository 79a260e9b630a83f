"""Pacing on a virtual clock, forwarding order and backoff, and the automation tables."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.automations.config import ForwardTarget
from groups_tui.automations.pacing import Pacer, VirtualClock
from groups_tui.service import InboxService
from groups_tui.service.changes import normalize
from groups_tui.service.types import AccountInfo, Change, Mode
from groups_tui.store import Store
from groups_tui.store.automations import BulkRow
from groups_tui.store.schema import LATEST_VERSION
from groups_tui.workers.forwarding import SIGNATURE_HEADER, Forwarder, sign


@settings(max_examples=40, deadline=None)
@given(rate=st.sampled_from([0.5, 1.0, 2.0, 5.0, 20.0, 80.0]), calls=st.integers(1, 120))
async def test_pacer_never_exceeds_the_rate_per_virtual_second(rate: float, calls: int) -> None:
    clock = VirtualClock(1_000.0)
    pacer = Pacer(rate, 1.0, clock=clock.now, sleep=clock.sleep)
    stamps = []
    for _ in range(calls):
        await pacer.acquire()
        stamps.append(clock.now())
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert all(gap >= 1 / rate for gap in gaps)
    per_second = Counter(int(t) for t in stamps)
    assert max(per_second.values()) <= max(1, rate)
    # The waits requested add up to the virtual time that passed.
    assert sum(clock.sleeps) == pytest.approx(stamps[-1] - 1_000.0)


async def test_pacer_burst_allows_back_to_back_calls() -> None:
    clock = VirtualClock()
    pacer = Pacer(1.0, 3.0, clock=clock.now, sleep=clock.sleep)
    for _ in range(3):
        await pacer.acquire()
    assert clock.sleeps == []
    await pacer.acquire()
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(1.0, abs=1e-3)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "unit.db")
    yield s
    await s.close()


def over(store: Store) -> InboxService:
    """A read-only service over the store (what the forwarder goes through)."""
    return InboxService(store, None, account=AccountInfo("", "", Mode.SANDBOX))


def change(cid: int, group: str | None, kind: str = "participant.joined") -> Change:
    return Change(cid, kind, group, f"e{cid}", 1_700_000_000 + cid, None, {})


async def test_forwarding_keeps_group_order_and_backs_off(store: Store) -> None:
    # GIVEN an endpoint that refuses group B's first event twice
    now = [1000.0]
    seen: list[dict[str, object]] = []
    failures = {"B": 2}
    signatures_ok = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content
        signatures_ok.append(request.headers[SIGNATURE_HEADER] == sign(b"k", body))
        event = json.loads(body)
        if event["group_id"] == "B" and failures["B"] > 0:
            failures["B"] -= 1
            return httpx.Response(503)
        seen.append(event)
        return httpx.Response(200)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    target = ForwardTarget(
        name="crm", url="http://127.0.0.1:1/x", secret="k", backoff_initial=2.0, backoff_max=3.0
    )
    forwarder = Forwarder(over(store), [target], clock=lambda: now[0], http=http)
    changes = [
        change(1, "A"),
        change(2, "B"),
        change(3, "A"),
        change(4, "B"),
        change(5, None, "message.status"),
        change(6, "A", "outbox.queued"),
    ]
    queued = await forwarder.enqueue(changes, position_key="pos")
    assert queued == 5  # local bookkeeping kinds are not forwarded
    assert await store.feed.get_meta("pos") == "6"

    # WHEN delivering: B's head fails, A and the group-less lane proceed
    first = await forwarder.deliver()
    assert [e["id"] for e in seen] == [1, 3, 5]
    assert first[0].failed == 1 and "HTTP 503" in (first[0].last_error or "")
    # THEN B is not retried before its backoff, and event 4 never overtakes event 2
    assert (await forwarder.deliver())[0].failed == 0
    items = {i.change_id: i for i in await store.automations.forward_items("crm")}
    assert items[2].next_attempt_at == pytest.approx(1002.0) and items[4].attempts == 0
    now[0] += 2.0
    await forwarder.deliver()
    items = {i.change_id: i for i in await store.automations.forward_items("crm")}
    assert items[2].next_attempt_at == pytest.approx(1002.0 + 3.0)  # capped at backoff_max
    now[0] += 3.0
    await forwarder.deliver()
    assert [e["id"] for e in seen] == [1, 3, 5, 2, 4]
    assert all(signatures_ok)
    assert await store.automations.forward_counts("crm") == (0, 5)
    # AND enqueueing the same changes again adds nothing
    assert await forwarder.enqueue(changes, position_key="pos") == 0
    await http.aclose()


async def test_command_target_failure_names_the_target(store: Store, tmp_path: Path) -> None:
    target = ForwardTarget(name="script", command=("sh", "-c", "echo boom >&2; exit 3"))
    forwarder = Forwarder(over(store), [target], clock=lambda: 0.0)
    await forwarder.enqueue([change(1, "A")], position_key="pos")
    result = (await forwarder.deliver())[0]
    assert result.failed == 1
    assert result.last_error == "forward target 'script': 'sh' exited with 3: boom"
    missing = ForwardTarget(name="nothere", command=(str(tmp_path / "no-such-program"),))
    other = Forwarder(over(store), [missing], clock=lambda: 0.0)
    await other.enqueue([change(2, "A")], position_key="pos2")
    error = (await other.deliver())[0].last_error or ""
    assert error.startswith("forward target 'nothere': cannot run")
    await forwarder.aclose()
    await other.aclose()


def test_normalized_event_shape_and_signature() -> None:
    event = normalize(
        Change(7, "cost.charged", "G", "wamid.X", 99, 3, {"participant": "p", "amount": "0.01"})
    )
    assert event == {
        "id": 7,
        "kind": "cost.charged",
        "group_id": "G",
        "at": 99,
        "data": {"entity": "wamid.X", "participant": "p", "amount": "0.01"},
    }
    body = b'{"a":1}'
    assert sign(b"key", body) == "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()


async def test_automation_tables(store: Store) -> None:
    assert LATEST_VERSION >= 3
    job = await store.automations.create_job("j", "bulk_create", "fp", {"rows": 2})
    assert (await store.automations.create_job("j", "bulk_create", "fp", {})).params == job.params
    await store.automations.bulk_rows_insert("j", [BulkRow(2, "A", tag="t"), BulkRow(3, "B")])
    await store.automations.bulk_rows_insert("j", [BulkRow(2, "changed")])  # existing rows are kept
    await store.automations.bulk_row_update("j", 2, "requested", request_id="r1")
    await store.automations.bulk_row_update("j", 2, "created", group_id="G1")
    rows = await store.automations.bulk_rows("j")
    assert (rows[0].subject, rows[0].state, rows[0].request_id, rows[0].group_id) == (
        "A",
        "created",
        "r1",
        "G1",
    )
    assert await store.automations.bulk_find_created("A", "t") == [("j", "G1")]
    assert await store.automations.bulk_find_created("A", "t", exclude_job="j") == []
    assert await store.automations.bulk_invite_begin("j", 2, "49")
    assert not await store.automations.bulk_invite_begin("j", 2, "49")

    sid = await store.automations.invite_flow_begin("rule", "49", "G", state="calling", at=100.0)
    assert await store.automations.invite_flow_recent("rule", "49", "G", since=50.0)
    assert not await store.automations.invite_flow_recent("rule", "49", "G", since=150.0)
    await store.automations.invite_flow_update(sid, "failed", error="x")
    assert not await store.automations.invite_flow_recent("rule", "49", "G", since=50.0)

    await store.automations.set_paused("crm", True)
    await store.automations.set_paused("crm", True)
    assert await store.automations.paused() == {"crm"}
    await store.automations.set_paused("crm", False)
    assert await store.automations.paused() == set()
    await store.automations.add_run("crm", "forward", False, "down")
    await store.automations.add_run("crm", "forward", True, "ok")
    assert [r.detail for r in await store.automations.runs()] == ["ok", "down"]
    assert [r.detail for r in await store.automations.runs(failures_only=True)] == ["down"]


async def test_the_forwarders_own_client_is_built_off_the_loop_at_its_first_delivery(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a receiver over real HTTP, and HTTP clients recording the thread they are built on
    built: list[bool] = []
    real_init = httpx.AsyncClient.__init__

    def init(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        built.append(threading.current_thread() is threading.main_thread())
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", init)
    received: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read())["id"])
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        # WHEN a forwarder without a client of its own is made
        target = ForwardTarget(name="crm", url=f"http://127.0.0.1:{port}/events")
        forwarder = Forwarder(over(store), [target], clock=lambda: 0.0)
        # THEN it builds none yet (httpx and the CA bundle wait for an HTTP delivery)
        assert built == []
        # WHEN it delivers twice
        await forwarder.enqueue([change(1, "A")], position_key="pos")
        first = (await forwarder.deliver())[0]
        await forwarder.enqueue([change(2, "A")], position_key="pos")
        second = (await forwarder.deliver())[0]
        # THEN both arrived, through one client built once, on another thread than the loop's
        assert (first.delivered, second.delivered, received) == (1, 1, [1, 2])
        assert built == [False]
        await forwarder.aclose()
        await forwarder.aclose()  # closing twice is harmless
    finally:
        await runner.cleanup()
