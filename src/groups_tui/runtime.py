"""Assembling the running parts: store, client, service, and in sandbox mode the simulator
and an in-process webhook listener, all inside one asyncio loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, overload

from groups_tui.config import ConfigError, Settings
from groups_tui.domain.numbers import BusinessNumber
from groups_tui.service import InboxService
from groups_tui.service.types import AccountInfo, Mode

if TYPE_CHECKING:
    from groups_tui.cloud.client import CloudClient
    from groups_tui.cloud.retry import RetryPolicy
    from groups_tui.domain.pricing import PricingConfig, RateCard
    from groups_tui.listener.server import ListenerServer
    from groups_tui.sandbox.clock import Clock
    from groups_tui.sandbox.server import SandboxServer
    from groups_tui.sandbox.state import SandboxKnobs
    from groups_tui.sandbox.webhooks import WebhookKnobs
    from groups_tui.sandbox.world import World
    from groups_tui.store import Store
    from groups_tui.store.records import RawStats

log = logging.getLogger(__name__)

SANDBOX_PHONE_NUMBER_ID = "100000000000001"
SANDBOX_WABA_ID = "200000000000002"
SANDBOX_DISPLAY_NUMBER = "+1 555 010 0000"


def _rate_card(settings: Settings) -> RateCard:
    from groups_tui.domain.pricing import RateCard

    return RateCard.configured(settings.rates_csv)


def pricing_config(settings: Settings) -> PricingConfig:
    """The ``[pricing]`` settings (disputed rules, evidence thresholds), validated."""
    from groups_tui.domain.pricing import PricingConfig

    try:
        return PricingConfig.from_mapping(settings.pricing)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@asynccontextmanager
async def open_live_service(
    settings: Settings, *, clock: Callable[[], float] | None = None
) -> AsyncIterator[InboxService]:
    """Store + Cloud API client + service for a configured live account."""
    async with _open_live(settings, clock=clock, listen=None) as (service, _listener):
        yield service


@dataclass(frozen=True)
class ListenOptions:
    """Where a process that owns the account receives its webhooks."""

    host: str = "127.0.0.1"
    port: int = 8080
    path: str = "/webhook"


@asynccontextmanager
async def open_serving_runtime(
    settings: Settings, listen: ListenOptions
) -> AsyncIterator[tuple[InboxService, ListenerServer]]:
    """The live service and its webhook listener, for ``groups-tui serve``.

    The listener writes the same store the service does (one writer thread), so every
    write to the database happens in this one process.

    Raises:
        ConfigError: No credentials, or no app secret to check webhooks with.
    """
    if not (settings.app_secret and settings.app_secret.get_secret_value()):
        raise ConfigError("no app secret: set WHATSAPP_APP_SECRET so the daemon can check webhooks")
    async with _open_live(settings, clock=None, listen=listen) as (service, listener):
        assert listener is not None
        yield service, listener


@asynccontextmanager
async def _open_live(
    settings: Settings, *, clock: Callable[[], float] | None, listen: ListenOptions | None
) -> AsyncIterator[tuple[InboxService, ListenerServer | None]]:
    from groups_tui.service import LazyClient
    from groups_tui.store import Pricing, Store

    if not settings.is_live:
        raise ConfigError(
            "no Cloud API credentials: set WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID "
            "(see `groups-tui config check`)"
        )
    configured = settings.business_numbers()
    if not configured:
        raise ConfigError(
            "no business number: set WHATSAPP_PHONE_NUMBER_ID or add [[numbers]] to the "
            "config file (see `groups-tui config check`)"
        )
    card = _rate_card(settings)
    pricing = pricing_config(settings)
    numbers = [n.number for n in configured]
    async with AsyncExitStack() as stack:
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        store = await Store.open(
            settings.db_path, pricing=Pricing.from_rate_card(card), numbers=numbers
        )
        stack.push_async_callback(store.close)
        listener: ListenerServer | None = None
        if listen is not None:  # the daemon only: a command or the TUI imports no aiohttp
            from groups_tui.listener.server import ListenerServer

            secret = settings.app_secret.get_secret_value() if settings.app_secret else None
            verify = settings.verify_token.get_secret_value() if settings.verify_token else None
            listener = ListenerServer(
                store,
                app_secret=secret,
                verify_token=verify,
                host=listen.host,
                port=listen.port,
                path=listen.path,
                access_log=True,
            )
            await listener.start()
            stack.push_async_callback(listener.stop)

        def builder(number: BusinessNumber, token: str) -> Callable[[], CloudClient]:
            def build() -> CloudClient:
                # Imported here: httpx and TLS cost more than a read command's whole work.
                from groups_tui.cloud.client import CloudClient

                return CloudClient(
                    access_token=token,
                    phone_number_id=number.phone_number_id,
                    business_account_id=number.business_account_id,
                    base_url=settings.api_base_url,
                    graph_version=settings.graph_version,
                )

            return build

        clients: list[LazyClient] = []
        for number, token in configured:
            # One client per number: its own token, its own rate limits and retries.
            assert token is not None  # business_numbers() refuses a live number without
            client = LazyClient(
                builder(number, token.get_secret_value()), phone_number_id=number.phone_number_id
            )
            stack.push_async_callback(client.aclose)
            clients.append(client)
        first = numbers[0]
        account = AccountInfo(
            display_phone_number=first.display_phone_number or first.label,
            phone_number_id=first.phone_number_id,
            mode=Mode.LIVE,
        )
        service = InboxService(
            store,
            clients[0],
            account=account,
            rate_card=card,
            clock=clock or time.time,
            listener_url=listener.url if listener is not None else None,
            pricing=pricing,
            numbers=numbers,
            clients=clients,
        )
        yield service, listener


@asynccontextmanager
async def open_cli_service(settings: Settings) -> AsyncIterator[InboxService]:
    """The service a command uses: the daemon's client when one is configured or found at
    its default path (team mode), otherwise the live service itself (single-user mode),
    or without credentials the sandbox the TUI uses (its world and database).

    Raises:
        ConfigError: Several sandbox numbers and no credentials.
        ServiceError: A daemon is configured but does not answer.
    """
    from groups_tui.daemon.wire import find_socket

    socket_path = find_socket(settings.socket)
    if socket_path is not None:
        from groups_tui.daemon.client import open_remote_service

        async with open_remote_service(socket_path) as remote:
            yield remote
        return
    if not settings.is_live:
        async with _open_sandbox_cli_service(settings) as sandbox_service:
            yield sandbox_service
        return
    async with open_live_service(settings) as service:
        yield service


@asynccontextmanager
async def _open_sandbox_cli_service(settings: Settings) -> AsyncIterator[InboxService]:
    """The sandbox the TUI uses, its world and database, for a command without credentials.

    With a TUI running on the sandbox (its endpoint published beside the database), the
    command calls that sandbox and writes the same database; otherwise it starts the
    embedded sandbox from its kept world (simulated people idle) and keeps it again.
    """
    if settings.sandbox_numbers > 1:
        # Its world is not kept (nor published): a command would start another one and
        # recreate the database a running TUI uses.
        raise ConfigError(
            "the sandbox simulates several numbers (GROUPS_TUI_SANDBOX_NUMBERS): commands "
            "work on it with one number only, or with Cloud API credentials"
        )
    endpoint = running_sandbox(settings)
    if endpoint is not None:
        async with _connect_sandbox(settings, endpoint) as service:
            yield service
        return
    async with open_sandbox_runtime(settings, simulate=False) as running:
        yield running.service
        await running.settle()


def sandbox_endpoint_path(settings: Settings) -> Path:
    """Where a TUI running on the sandbox publishes how to reach it (for the CLI)."""
    return settings.sandbox_db_path.with_name("sandbox.endpoint")


def running_sandbox(settings: Settings) -> dict[str, str] | None:
    """The published endpoint of a TUI running on the sandbox, if its process lives."""
    path = sandbox_endpoint_path(settings)
    try:
        endpoint = json.loads(path.read_text())
        pid = int(endpoint["pid"])
        url, token = str(endpoint["url"]), str(endpoint["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # left behind by a TUI that did not stop cleanly
    except PermissionError:
        pass  # alive, another user's: its file would not be readable anyway
    return {"url": url, "token": token}


def _publish_endpoint(settings: Settings, running: SandboxStack) -> Path:
    path = sandbox_endpoint_path(settings)
    body = {"url": running.sandbox.base_url, "token": running.access_token, "pid": os.getpid()}
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)
    tmp.replace(path)
    return path


@asynccontextmanager
async def _connect_sandbox(
    settings: Settings, endpoint: dict[str, str]
) -> AsyncIterator[InboxService]:
    """Store + client of the sandbox a running TUI serves (its webhooks reach the TUI's
    listener, which writes the same database)."""
    from groups_tui.cloud.client import CloudClient
    from groups_tui.store import Pricing, Store

    card = _rate_card(settings)
    async with AsyncExitStack() as stack:
        store = await Store.open(settings.sandbox_db_path, pricing=Pricing.from_rate_card(card))
        stack.push_async_callback(store.close)
        client = CloudClient(
            access_token=endpoint["token"],
            phone_number_id=SANDBOX_PHONE_NUMBER_ID,
            business_account_id=SANDBOX_WABA_ID,
            base_url=endpoint["url"],
            graph_version=settings.graph_version,
        )
        stack.push_async_callback(client.aclose)
        account = AccountInfo(
            display_phone_number=SANDBOX_DISPLAY_NUMBER,
            phone_number_id=SANDBOX_PHONE_NUMBER_ID,
            mode=Mode.SANDBOX,
        )
        yield InboxService(
            store, client, account=account, rate_card=card, pricing=pricing_config(settings)
        )


@asynccontextmanager
async def open_readonly_service(db_path: Path) -> AsyncIterator[InboxService]:
    """A read-only service over an existing database (no Cloud API client).

    For commands that only read what a running listener or TUI writes (the audit log,
    ``events tail``); the store is opened read-only, so nothing is migrated or written.
    """
    from groups_tui.store import Store

    store = await Store.open_readonly(db_path)
    try:
        account = AccountInfo(display_phone_number="", phone_number_id="", mode=Mode.LIVE)
        # The numbers the writer registered: ``--number`` names them, output labels them.
        yield InboxService(store, None, account=account, numbers=store.numbers.served)
    finally:
        await store.close()


@dataclass(frozen=True)
class SandboxOptions:
    """How to start the in-process sandbox stack (every part injectable).

    Attributes:
        db_path: The stack's database file, recreated at every start unless the world
            is kept (``world_path``).
        clock: Simulated time of the sandbox and the service; a
            :class:`~groups_tui.sandbox.clock.ScaledClock` at ``speed`` when omitted.
        speed: Simulated seconds per real second when no clock is given.
        seed: Seed of everything the sandbox draws.
        groups: Groups to pre-populate.
        demo: Pre-populate the demo world (``groups`` or 50 groups) instead.
        simulate: Run the simulated people's spontaneous behaviour.
        knobs: Meta-side knobs (limits, delays, the ``bsuid`` payloads...).
        webhook_knobs: Webhook delivery knobs (batching, retries...).
        population_size: People in the sandbox (default scales with ``groups``).
        app_secret: Secret that signs the sandbox's webhooks and that the listener checks;
            a random one when omitted.
        access_token: The bearer token the sandbox accepts; a random one when omitted.
        phone_number_id: The business phone number id.
        business_account_id: The WABA id.
        display_phone_number: The business number the service shows.
        graph_version: Graph API version of the client's requests.
        retry: The client's retry policy (its default when omitted).
        rate_card: The service's rate card (the packaged one when omitted).
        pricing: The service's ``[pricing]`` settings (the defaults when omitted).
        operator: Who the audit log names (the OS user when omitted).
        receipt_clock: Clock of the store and the listener (receipt times); real time by
            default, the simulated clock's ``now`` in tests that freeze time.
        limiter_time: Time source of the sandbox's rate limiters.
        numbers: Business numbers to simulate (1 to 9): the first is
            ``phone_number_id``, the others follow it, each with its own groups, people
            of its market, limits and client (see :mod:`groups_tui.sandbox.numbers`).
        number_tokens: Give every number after the first an access token of its own
            (the sandbox then refuses another number's token for it).
        world_path: Where the sandbox's world is kept between runs: read (and consumed)
            at start, written at a clean stop. With a kept world the database is kept
            too; without one (none yet, unreadable) both start afresh. ``None``: both
            start afresh every time. Kept only with one number.
    """

    db_path: Path
    clock: Clock | None = None
    speed: float = 1.0
    seed: int = 7
    groups: int = 0
    demo: bool = False
    simulate: bool = True
    knobs: SandboxKnobs | None = None
    webhook_knobs: WebhookKnobs | None = None
    population_size: int | None = None
    app_secret: str | None = None
    access_token: str | None = None
    phone_number_id: str = SANDBOX_PHONE_NUMBER_ID
    business_account_id: str = SANDBOX_WABA_ID
    display_phone_number: str = SANDBOX_DISPLAY_NUMBER
    graph_version: str = "v25.0"
    retry: RetryPolicy | None = None
    rate_card: RateCard | None = None
    pricing: PricingConfig | None = None
    operator: str | None = None
    receipt_clock: Callable[[], float] = time.time
    limiter_time: Callable[[], float] = time.monotonic
    numbers: int = 1
    number_tokens: bool = False
    world_path: Path | None = None


@dataclass
class SandboxStack:
    """The running parts of the in-process sandbox stack.

    The service calls the sandbox over loopback HTTP through the client; the sandbox posts
    signed webhooks to the listener, which writes the store the service reads.
    """

    clock: Clock
    store: Store
    listener: ListenerServer
    sandbox: SandboxServer
    client: CloudClient
    service: InboxService
    app_secret: str
    access_token: str
    numbers: tuple[BusinessNumber, ...] = ()
    """Every business number of the stack, the first one first."""
    clients: tuple[CloudClient, ...] = ()
    """One client per number (``client`` is the first number's)."""
    kept: bool = False
    """The world and database were kept from the last run (else they start afresh)."""

    @property
    def world(self) -> World:
        """The sandbox's simulated Meta state and people (the first number's)."""
        return self.sandbox.world

    def world_of(self, number: str) -> World:
        """The simulated state of one number (by label or phone number id)."""
        for candidate in self.numbers:
            if number in (candidate.label, candidate.phone_number_id):
                return self.sandbox.world_of(candidate.phone_number_id)
        raise KeyError(number)

    async def settle(self, seconds: float = 0.0, *, within: float = 15.0) -> RawStats:
        """Advance simulated time, run what became due, and wait until it is applied.

        Args:
            seconds: Simulated seconds to move the clock forward first.
            within: Real seconds each wait may take.

        Returns:
            The raw log's counts once every stored webhook was applied.

        Raises:
            TimeoutError: If delivery or applying takes longer than ``within``.
        """
        self.world.advance(seconds)
        await self.sandbox.drain_webhooks(within=within)
        ingest = self.listener.ingest
        if ingest is None:
            raise RuntimeError("the listener is not running")
        await asyncio.wait_for(ingest.wait_idle(), within)
        for _ in range(500):
            stats = await self.store.raw.stats()
            if stats.applied == stats.total:
                return stats
            await asyncio.sleep(0.01)
        raise TimeoutError("the listener never applied every stored webhook")


StackT = TypeVar("StackT", bound=SandboxStack)


@overload
def sandbox_stack(options: SandboxOptions) -> AbstractAsyncContextManager[SandboxStack]: ...


@overload
def sandbox_stack(
    options: SandboxOptions, *, handle: type[StackT]
) -> AbstractAsyncContextManager[StackT]: ...


def sandbox_stack(
    options: SandboxOptions, *, handle: type[SandboxStack] = SandboxStack
) -> AbstractAsyncContextManager[SandboxStack]:
    """Start store, listener, sandbox, client and service on free loopback ports.

    Everything runs in the current asyncio loop and stops in reverse order on exit.

    Args:
        options: What to start and how.
        handle: The handle class to yield (a subclass may add helpers).

    Returns:
        An async context manager yielding the running stack.
    """
    return _sandbox_stack(options, handle)


@asynccontextmanager
async def _sandbox_stack(
    options: SandboxOptions, handle: type[SandboxStack]
) -> AsyncIterator[SandboxStack]:
    from groups_tui.cloud.client import CloudClient
    from groups_tui.domain.pricing import RateCard
    from groups_tui.listener.server import ListenerServer
    from groups_tui.sandbox.clock import ScaledClock
    from groups_tui.sandbox.numbers import sim_numbers
    from groups_tui.sandbox.persistence import load_world
    from groups_tui.sandbox.server import SandboxServer
    from groups_tui.store import Pricing, Store

    app_secret = options.app_secret or secrets.token_hex(16)
    token = options.access_token or "sandbox-" + secrets.token_hex(8)
    simulated = sim_numbers(
        options.numbers,
        phone_number_id=options.phone_number_id,
        business_account_id=options.business_account_id,
    )
    if options.number_tokens:
        simulated = simulated[:1] + tuple(
            replace(n, access_token=f"sandbox-{n.label.lower()}-" + secrets.token_hex(8))
            for n in simulated[1:]
        )
    numbers = tuple(
        BusinessNumber(
            phone_number_id=n.phone_number_id,
            label=n.label if options.numbers > 1 else options.display_phone_number,
            business_account_id=n.business_account_id,
            display_phone_number=options.display_phone_number
            if i == 0
            else "+" + n.display_phone_number,
        )
        for i, n in enumerate(simulated)
    )
    kept = None
    if options.world_path is not None and options.numbers == 1:
        kept = load_world(options.world_path)
    clock = kept.clock if kept is not None else options.clock or ScaledClock(speed=options.speed)
    db_path = options.db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if kept is None:
        remove_database(db_path)
    # The cost ledger is priced where the store is opened, with the service's card.
    card = options.rate_card or RateCard.load_default()
    async with AsyncExitStack() as stack:
        store = await Store.open(
            db_path,
            pricing=Pricing.from_rate_card(card),
            clock=options.receipt_clock,
            numbers=numbers,
        )
        stack.push_async_callback(store.close)
        listener = ListenerServer(
            store, app_secret=app_secret, verify_token=None, port=0, clock=options.receipt_clock
        )
        await listener.start()
        stack.push_async_callback(listener.stop)
        sandbox = SandboxServer(
            webhook_url=listener.url,
            app_secret=app_secret,
            access_token=token,
            phone_number_id=options.phone_number_id,
            business_account_id=options.business_account_id,
            seed=options.seed,
            clock=clock,
            groups=options.groups,
            demo=options.demo,
            simulate=options.simulate,
            knobs=options.knobs,
            webhook_knobs=options.webhook_knobs,
            population_size=options.population_size,
            limiter_time=options.limiter_time,
            numbers=simulated,
            world=kept,
        )
        await sandbox.start()
        stack.push_async_callback(sandbox.stop)
        if options.world_path is not None and options.numbers == 1:
            stack.push_async_callback(_keep_world, sandbox, listener, options.world_path)
        clients: list[CloudClient] = []
        for number in simulated:
            one = CloudClient(
                access_token=number.access_token or token,
                phone_number_id=number.phone_number_id,
                business_account_id=number.business_account_id,
                base_url=sandbox.base_url,
                graph_version=options.graph_version,
                retry=options.retry,
            )
            stack.push_async_callback(one.aclose)
            clients.append(one)
        client = clients[0]
        account = AccountInfo(
            display_phone_number=options.display_phone_number,
            phone_number_id=options.phone_number_id,
            mode=Mode.SANDBOX,
        )
        service = InboxService(
            store,
            client,
            account=account,
            rate_card=card,
            clock=clock.now,
            listener_url=listener.url,
            os_user=options.operator,
            pricing=options.pricing,
            numbers=numbers,
            clients=clients,
        )
        yield handle(
            clock=clock,
            store=store,
            listener=listener,
            sandbox=sandbox,
            client=client,
            service=service,
            app_secret=app_secret,
            access_token=token,
            numbers=numbers,
            clients=tuple(clients),
            kept=kept is not None,
        )


def remove_database(db_path: Path) -> list[Path]:
    """Delete a SQLite database and its WAL files; returns those that existed."""
    removed = []
    for suffix in ("", "-wal", "-shm"):
        path = db_path.with_name(db_path.name + suffix)
        if path.exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


async def _keep_world(sandbox: SandboxServer, listener: ListenerServer, path: Path) -> None:
    """Deliver and apply what the world emitted, then write it down for the next run."""
    sandbox.behaviour.withdraw()  # nothing spontaneous is scheduled while it is kept
    sandbox.world.finish_in_flight()
    try:
        await sandbox.drain_webhooks(within=5.0)
        if listener.ingest is not None:
            await asyncio.wait_for(listener.ingest.wait_idle(), 5.0)
    except TimeoutError:
        log.warning("some sandbox webhooks were not applied before saving the world")
    _save_or_forget(sandbox.world, path)


def _save_or_forget(world: World, path: Path) -> None:
    """Keep the world; if it cannot be kept, the next run starts afresh (quitting never
    fails over it)."""
    from groups_tui.sandbox.persistence import save_world

    try:
        save_world(world, path)
    except Exception:
        log.exception("the sandbox world could not be kept; the next run starts afresh")
        path.unlink(missing_ok=True)


def sandbox_world_path(settings: Settings) -> Path:
    """Where the TUI's sandbox keeps its world between runs (beside its database)."""
    return settings.sandbox_db_path.with_name("sandbox.world")


def reset_sandbox(settings: Settings) -> list[Path]:
    """Forget the kept sandbox world and database: the next run starts from the seed.

    Returns:
        The files removed.
    """
    world = sandbox_world_path(settings)
    removed = [world] if world.exists() else []
    world.unlink(missing_ok=True)
    return removed + remove_database(settings.sandbox_db_path)


@asynccontextmanager
async def open_sandbox_runtime(
    settings: Settings,
    *,
    demo: bool = True,
    groups: int = 0,
    seed: int = 7,
    speed: float = 1.0,
    simulate: bool = True,
    keep: bool = True,
    publish: bool = False,
) -> AsyncIterator[SandboxStack]:
    """Start the simulator and an in-process listener on free loopback ports.

    The sandbox has its own database file, so simulated groups never mix with a live
    account's. ``GROUPS_TUI_SANDBOX_NUMBERS`` (1 to 9) sets how many business numbers it
    simulates. With one number its world and database are kept between runs (``keep``;
    :func:`reset_sandbox` starts afresh); :attr:`SandboxStack.kept` says which. With
    ``publish`` (the TUI), commands run meanwhile reach it (:func:`open_cli_service`).
    """
    options = SandboxOptions(
        numbers=settings.sandbox_numbers,
        db_path=settings.sandbox_db_path,
        world_path=sandbox_world_path(settings) if keep else None,
        speed=speed,
        seed=seed,
        groups=groups,
        demo=demo,
        simulate=simulate,
        graph_version=settings.graph_version,
        rate_card=_rate_card(settings),
        pricing=pricing_config(settings),
    )
    async with sandbox_stack(options) as running:
        if not publish or options.numbers > 1:
            yield running
            return
        published = _publish_endpoint(settings, running)
        try:
            yield running
        finally:
            published.unlink(missing_ok=True)
