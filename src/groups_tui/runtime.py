"""Assembling the running parts: store, client, service, and in sandbox mode the simulator
and an in-process webhook listener, all inside one asyncio loop.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from groups_tui.config import ConfigError, Settings
from groups_tui.service import InboxService
from groups_tui.service_types import AccountInfo, Mode

SANDBOX_PHONE_NUMBER_ID = "100000000000001"
SANDBOX_WABA_ID = "200000000000002"
SANDBOX_DISPLAY_NUMBER = "+1 555 010 0000"


@dataclass
class Runtime:
    """What a running TUI needs: the service and, in sandbox mode, its servers."""

    service: InboxService
    sandbox: Any | None = None
    listener: Any | None = None


def _rate_card(settings: Settings) -> Any:
    from groups_tui.domain.pricing import RateCard

    return RateCard.configured(settings.rates_csv)


@asynccontextmanager
async def open_live_service(
    settings: Settings, *, clock: Callable[[], float] | None = None
) -> AsyncIterator[InboxService]:
    """Store + Cloud API client + service for a configured live account."""
    from groups_tui.cloud.client import CloudClient
    from groups_tui.store import Store

    if not settings.is_live:
        raise ConfigError(
            "no Cloud API credentials: set WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID "
            "(see `groups-tui config check`)"
        )
    assert settings.access_token is not None and settings.phone_number_id is not None
    async with AsyncExitStack() as stack:
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        store = await Store.open(settings.db_path)
        stack.push_async_callback(store.close)
        client = CloudClient(
            access_token=settings.access_token.get_secret_value(),
            phone_number_id=settings.phone_number_id,
            business_account_id=settings.business_account_id,
            base_url=settings.api_base_url,
            graph_version=settings.graph_version,
        )
        stack.push_async_callback(client.aclose)
        account = AccountInfo(
            display_phone_number=settings.phone_number_id,
            phone_number_id=settings.phone_number_id,
            mode=Mode.LIVE,
        )
        service = InboxService(
            store,
            client,
            account=account,
            rate_card=_rate_card(settings),
            clock=clock or time.time,
        )
        yield service


open_cli_service = open_live_service


@asynccontextmanager
async def open_sandbox_runtime(
    settings: Settings,
    *,
    demo: bool = True,
    groups: int = 0,
    seed: int = 7,
    speed: float = 1.0,
    simulate: bool = True,
) -> AsyncIterator[Runtime]:
    """Start the simulator and an in-process listener on free loopback ports.

    The sandbox has its own database file, recreated at every start, so simulated groups
    never mix with a live account's.
    """
    from groups_tui.cloud.client import CloudClient
    from groups_tui.listener.server import ListenerServer
    from groups_tui.sandbox.server import SandboxServer
    from groups_tui.store import Store

    app_secret = secrets.token_hex(16)
    token = "sandbox-" + secrets.token_hex(8)
    db_path = settings.sandbox_db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    async with AsyncExitStack() as stack:
        store = await Store.open(db_path)
        stack.push_async_callback(store.close)
        rate_card = _rate_card(settings)
        listener = ListenerServer(store, app_secret=app_secret, verify_token=None, port=0)
        await listener.start()
        stack.push_async_callback(listener.stop)
        sandbox = SandboxServer(
            webhook_url=listener.url,
            app_secret=app_secret,
            access_token=token,
            phone_number_id=SANDBOX_PHONE_NUMBER_ID,
            business_account_id=SANDBOX_WABA_ID,
            seed=seed,
            speed=speed,
            groups=groups,
            demo=demo,
            simulate=simulate,
        )
        await sandbox.start()
        stack.push_async_callback(sandbox.stop)
        client = CloudClient(
            access_token=token,
            phone_number_id=SANDBOX_PHONE_NUMBER_ID,
            business_account_id=SANDBOX_WABA_ID,
            base_url=sandbox.base_url,
            graph_version=settings.graph_version,
        )
        stack.push_async_callback(client.aclose)
        account = AccountInfo(
            display_phone_number=SANDBOX_DISPLAY_NUMBER,
            phone_number_id=SANDBOX_PHONE_NUMBER_ID,
            mode=Mode.SANDBOX,
        )
        service = InboxService(
            store,
            client,
            account=account,
            rate_card=rate_card,
            clock=sandbox.clock.now,
            listener_url=listener.url,
        )
        yield Runtime(service=service, sandbox=sandbox, listener=listener)
