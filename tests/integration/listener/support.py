"""A real listener on a loopback port for the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from groups_tui.domain.numbers import BusinessNumber
from groups_tui.listener.commands import listener_pricing
from groups_tui.listener.ingest import IngestWriter
from groups_tui.listener.server import ListenerServer
from groups_tui.store import Store
from tests.helpers.signing import TEST_APP_SECRET, TEST_VERIFY_TOKEN, signed_headers


@dataclass
class Running:
    """A started listener, its store and an HTTP client pointed at it."""

    server: ListenerServer
    store: Store
    client: httpx.AsyncClient
    db_path: Path

    @property
    def ingest(self) -> IngestWriter:
        writer = self.server.ingest
        assert writer is not None
        return writer

    async def post_signed(self, body: bytes) -> httpx.Response:
        return await self.client.post(self.server.url, content=body, headers=signed_headers(body))

    async def deliver(self, bodies: Iterable[bytes]) -> None:
        """Post each body signed, expect 200 for each, and wait until all are applied."""
        for body in bodies:
            response = await self.post_signed(body)
            assert response.status_code == 200, response.text
        await self.ingest.wait_idle()


@asynccontextmanager
async def running_listener(
    db_path: Path,
    *,
    app_secret: str | None = TEST_APP_SECRET,
    verify_token: str | None = TEST_VERIFY_TOKEN,
    insecure_no_signature: bool = False,
    numbers: Sequence[BusinessNumber] = (),
) -> AsyncIterator[Running]:
    """Open a store at ``db_path`` and serve the listener on a free loopback port.

    The store prices the cost ledger with the packaged rate card, as ``groups-tui listen``
    does, and serves ``numbers`` (as configured) when given.
    """
    store = await Store.open(db_path, pricing=listener_pricing(None), numbers=numbers)
    try:
        server = ListenerServer(
            store,
            app_secret=app_secret,
            verify_token=verify_token,
            port=0,
            insecure_no_signature=insecure_no_signature,
        )
        async with server, httpx.AsyncClient(timeout=30) as client:
            yield Running(server, store, client, db_path)
    finally:
        await store.close()
