"""Event forwarding over real HTTP: a receiver down for a while, then up."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from groups_tui.automations.config import AutomationsConfig, ForwardTarget
from groups_tui.service.changes import FORWARDED_KINDS
from groups_tui.workers.forwarding import SIGNATURE_HEADER
from groups_tui.workers.runner import AutomationRunner

from .support import BR, DE, IN, Stack

SECRET = "crm-secret"
BACKOFF_MAX = 8.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Crm:
    """A CRM endpoint on a fixed loopback port that can be started late."""

    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get(SIGNATURE_HEADER, "")):
            self.bad_signatures += 1
            return web.Response(status=401)
        self.received.append(json.loads(body))
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/events", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def group_activity(stack: Stack, subject: str) -> str:
    """A group is created, people join, write and leave (webhooks applied)."""
    op = await stack.service.admin.create_group(subject)
    await stack.settle()
    group = await stack.store.groups.get_by_request(op.request_id)
    assert group is not None and group.id
    for wa in (DE, BR, IN):
        stack.world.persons.join(group.id, wa)
    stack.world.persons.message(group.id, DE, f"hello from {subject}")
    stack.world.persons.leave(group.id, BR)
    await stack.settle()
    return group.id


async def test_events_reach_a_crm_that_was_down_once_each_in_group_order(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a CRM target whose endpoint is down, and a local command target that works
    crm = Crm(free_port())
    sink = tmp_path / "events.jsonl"
    config = AutomationsConfig(
        forward=(
            ForwardTarget(
                name="crm",
                url=crm.url,
                secret=SECRET,
                backoff_initial=1.0,
                backoff_max=BACKOFF_MAX,
                timeout=5.0,
            ),
            ForwardTarget(name="log", command=("sh", "-c", f"cat >> '{sink}'")),
        )
    )
    runner = AutomationRunner(stack.service, config)
    await runner.step()  # starts following from here
    try:
        # WHEN three groups see activity while the CRM is down
        groups = [await group_activity(stack, f"Class {i}") for i in range(3)]
        first = await runner.step()
        await runner.step()
        stack.world.advance(3.0)
        await runner.step()

        # THEN nothing reached the CRM, the failure names the target, the command got all
        assert first.queued > 0 and first.delivery_failures > 0
        status = await runner.status()
        crm_view = next(t for t in status.targets if t.name == "crm")
        assert crm_view.pending > 0 and crm_view.delivered == 0
        assert crm_view.last_error is not None and "'crm'" in crm_view.last_error
        assert "unreachable" in crm_view.last_error
        assert any(f.name == "crm" for f in status.failures)
        log_view = next(t for t in status.targets if t.name == "log")
        assert log_view.pending == 0 and log_view.delivered > 0

        # WHEN it comes back, and more happens meanwhile
        await crm.start()
        more = await group_activity(stack, "Class late")
        for _ in range(20):
            stack.world.advance(BACKOFF_MAX)
            await runner.step()
            if (await runner.status()).targets[0].pending == 0:
                break

        # THEN every forwarded event arrived exactly once, signed, in order per group
        expected = [
            c.id for c in await stack.store.feed.since(0, 100_000) if c.kind in FORWARDED_KINDS
        ]
        ids = [e["id"] for e in crm.received]
        assert crm.bad_signatures == 0
        assert sorted(ids) == sorted(set(ids))
        assert set(ids) == {i for i in expected if i > 0}
        by_group: dict[str | None, list[int]] = defaultdict(list)
        for event in crm.received:
            by_group[event["group_id"]].append(event["id"])
        for group_id in [*groups, more]:
            assert by_group[group_id] == sorted(by_group[group_id])
            kinds = [e["kind"] for e in crm.received if e["group_id"] == group_id]
            assert kinds[0] == "group.created"
            assert {"participant.joined", "message.received", "participant.left"} <= set(kinds)
        # AND the events carry what a CRM needs
        message = next(e for e in crm.received if e["kind"] == "message.received")
        assert set(message) == {"id", "kind", "group_id", "at", "data"}
        assert message["data"]["text"].startswith("hello from")
        # AND the command target saw the same feed
        lines = [json.loads(line) for line in sink.read_text().splitlines() if line.strip()]
        assert [e["id"] for e in lines] == sorted(ids)  # healthy target: feed order
    finally:
        await runner.stop()
        await crm.stop()


async def test_a_paused_target_keeps_its_queue_until_resumed(stack: Stack, tmp_path: Path) -> None:
    # GIVEN a command target that is paused
    sink = tmp_path / "paused.jsonl"
    config = AutomationsConfig(
        forward=(ForwardTarget(name="log", command=("sh", "-c", f"cat >> '{sink}'")),)
    )
    runner = AutomationRunner(stack.service, config)
    await runner.step()
    await runner.pause("log")
    try:
        # WHEN events happen
        await group_activity(stack, "Paused class")
        await runner.step()
        # THEN nothing is delivered, but everything is queued
        status = await runner.status()
        assert status.targets[0].paused and status.targets[0].pending > 0
        assert not sink.exists()
        # WHEN resumed THEN the queue drains
        await runner.resume("log")
        await runner.step()
        status = await runner.status()
        assert status.targets[0].pending == 0 and not status.targets[0].paused
        assert len(sink.read_text().splitlines()) == status.targets[0].delivered
        actions = [e.action for e in await stack.store.audit.entries(limit=50)]
        assert "automation.pause" in actions and "automation.resume" in actions
    finally:
        await runner.stop()


async def test_runner_started_in_the_loop_delivers_and_stops(stack: Stack, tmp_path: Path) -> None:
    # GIVEN a runner started as a task of the running loop
    sink = tmp_path / "live.jsonl"
    config = AutomationsConfig(
        forward=(ForwardTarget(name="log", command=("sh", "-c", f"cat >> '{sink}'")),)
    )
    runner = AutomationRunner(stack.service, config, poll_interval=0.02)
    await runner.step()
    await runner.start()
    try:
        # WHEN events are applied
        await group_activity(stack, "Live class")
        # THEN the task forwards them (bounded wait on the queue, not on time)
        for _ in range(500):
            status = await runner.status()
            if status.targets[0].delivered and not status.targets[0].pending:
                break
            await asyncio.sleep(0.02)
        assert status.running and status.targets[0].delivered > 0
        assert status.targets[0].pending == 0
    finally:
        await runner.stop()
    assert not (await runner.status()).running
