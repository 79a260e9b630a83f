"""Fixtures for the sandbox tests: a signed-webhook receiver and sandbox servers.

Everything runs over real loopback HTTP. Waits are bounded polls on received data (never
assertions on elapsed time).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from groups_tui.sandbox import ManualClock, SandboxKnobs, SandboxServer, WebhookKnobs

SECRET = "test-app-secret"
TOKEN = "test-token"
PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
VERSION = "v25.0"
SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC).timestamp()


@dataclass
class Delivery:
    """One webhook POST as the receiver saw it."""

    body: bytes
    headers: dict[str, str]
    payload: dict[str, Any]
    signature_ok: bool


@dataclass
class Receiver:
    """A tiny listener: verifies signatures, records POSTs, answers scripted statuses."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def changes(self, field_name: str | None = None) -> list[dict[str, Any]]:
        """Every change of accepted deliveries (status 200), in arrival order."""
        out = []
        for d, status in zip(self.deliveries, self.answered, strict=True):
            if status != 200:
                continue
            for entry in d.payload["entry"]:
                for change in entry["changes"]:
                    if field_name is None or change["field"] == field_name:
                        out.append(change)
        return out

    def group_items(self, field_name: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Every ``value.groups[]`` item of one field (optionally of one ``type``)."""
        return [
            item
            for change in self.changes(field_name)
            for item in change["value"].get("groups", [])
            if kind is None or item.get("type") == kind
        ]

    def statuses(self) -> list[dict[str, Any]]:
        """Every status object received."""
        return [s for c in self.changes("messages") for s in c["value"].get("statuses", [])]

    def inbound(self) -> list[dict[str, Any]]:
        """Every inbound message received."""
        return [m for c in self.changes("messages") for m in c["value"].get("messages", [])]

    async def wait_for(
        self, predicate: Callable[[], Any], *, within: float = 10.0, what: str = "webhook"
    ) -> Any:
        """Wait (bounded) until ``predicate()`` is truthy and return its value."""

        async def loop() -> Any:
            for _ in range(100_000):
                value = predicate()
                if value:
                    return value
                self._event.clear()
                try:
                    await asyncio.wait_for(self._event.wait(), 0.5)
                except TimeoutError:
                    pass
            raise AssertionError(f"never saw {what}")

        try:
            return await asyncio.wait_for(loop(), within)
        except TimeoutError:
            raise AssertionError(f"no {what} arrived") from None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        got = request.headers.get("X-Hub-Signature-256", "")
        status = self.script.pop(0) if self.script else 200
        self.deliveries.append(
            Delivery(
                body=body,
                headers=dict(request.headers),
                payload=json.loads(body),
                signature_ok=hmac.compare_digest(expected, got),
            )
        )
        self.answered.append(status)
        self._event.set()
        return web.Response(status=status, text="ok" if status == 200 else "nope")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/webhook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/webhook"
    yield rec
    await runner.cleanup()


ServerFactory = Callable[..., Awaitable[SandboxServer]]


@pytest.fixture
async def make_server(receiver: Receiver) -> AsyncIterator[ServerFactory]:
    """Start sandboxes on free ports with a manual clock (stopped at teardown)."""
    started: list[SandboxServer] = []

    async def factory(
        *,
        clock: ManualClock | None = None,
        knobs: SandboxKnobs | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        webhook_url: str | None | bool = True,
        **kwargs: Any,
    ) -> SandboxServer:
        server = SandboxServer(
            webhook_url=receiver.url if webhook_url is True else (webhook_url or None),
            app_secret=SECRET,
            access_token=TOKEN,
            phone_number_id=PHONE_ID,
            business_account_id=WABA_ID,
            clock=clock or ManualClock(SEPT_15),
            knobs=knobs or SandboxKnobs(op_delay=0, failure_rate=0.0),
            webhook_knobs=webhook_knobs or WebhookKnobs(backoff_initial=0.01, backoff_max=0.05),
            simulate=kwargs.pop("simulate", False),
            population_size=kwargs.pop("population_size", 300),
            **kwargs,
        )
        await server.start()
        started.append(server)
        return server

    yield factory
    for server in started:
        await server.stop()


def api(server: SandboxServer, token: str = TOKEN) -> httpx.AsyncClient:
    """An httpx client on the sandbox's Graph root with a bearer token."""
    return httpx.AsyncClient(
        base_url=f"{server.base_url}/{VERSION}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )


def control(server: SandboxServer) -> httpx.AsyncClient:
    """An httpx client on the sandbox's control routes."""
    return httpx.AsyncClient(base_url=f"{server.base_url}/_sandbox", timeout=10.0)


async def create_group(
    server: SandboxServer,
    receiver: Receiver,
    subject: str = "Order 1042",
    mode: str = "auto_approve",
) -> dict[str, Any]:
    """Create a group over HTTP and return its ``group_create`` webhook item."""
    async with api(server) as http:
        r = await http.post(
            f"/{PHONE_ID}/groups",
            json={"messaging_product": "whatsapp", "subject": subject, "join_approval_mode": mode},
        )
    assert r.status_code == 200, r.text
    request_id = r.json()["request_id"]

    def found() -> dict[str, Any] | None:
        for item in receiver.group_items("group_lifecycle_update", "group_create"):
            if item["request_id"] == request_id:
                return item
        return None

    item: dict[str, Any] = await receiver.wait_for(found, what="group_create")
    return item


def outsiders(server: SandboxServer, n: int, *, exclude_us: bool = True) -> list[str]:
    """``n`` wa_ids from the population (non-US by default, to avoid 131049)."""
    people = [
        p.wa_id
        for p in server.world.population.people
        if not p.spammer and (not exclude_us or p.country != "US")
    ]
    return people[:n]
