"""The world the UI tests run in: the real :class:`InboxService` over a real SQLite store.

Nothing here decides anything the service decides. The store is filled the way
production fills it (see :mod:`tests.ui.seed`), and tests add to it the same way:
Meta-shaped webhooks (:mod:`tests.helpers.meta`) go through the listener's writer
(:class:`~groups_tui.listener.ingest.IngestWriter`, the parse and apply path of the HTTP
listener), and operator actions go through the service. Calls that reach the Cloud API
are answered by a :class:`~tests.helpers.meta.GraphDouble` on an
:class:`httpx.MockTransport`, which records them; tests assert on those requests.

Time is a :class:`FrozenClock` shared by the store, the writer, the service and the app.
Building a seeded store takes a moment, so each :class:`~tests.ui.seed.Seed` is built
once per process into a template database that every test copies.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import itertools
import json
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from groups_tui.cloud.client import CloudClient
from groups_tui.domain.pricing import RateCard
from groups_tui.listener.ingest import IngestWriter
from groups_tui.service import InboxService
from groups_tui.service.types import AccountInfo, Mode
from groups_tui.store import Pricing, Store
from tests.helpers import meta
from tests.helpers.meta import GraphDouble, Person
from tests.ui.seed import HELD_BACK, T0, TEMPLATES, History, Seed

__all__ = ["FrozenClock", "World", "run_aside"]

T = TypeVar("T")

ACCOUNT = AccountInfo("+1 555 0100", meta.PHONE_NUMBER_ID, Mode.SANDBOX)
LISTENER_URL = "http://127.0.0.1:8080/webhook"
OPERATOR = "operator"
FEED_POLL = 0.02
"""Seconds between change-feed polls of the app (production polls every 0.25 s)."""


class FrozenClock:
    """A clock that only moves when told to.

    Attributes:
        now: Current epoch seconds.
    """

    def __init__(self, now: float = T0) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds

    def set(self, now: float) -> None:
        """Jump to a time."""
        self.now = float(now)


# ---------------------------------------------------------------------------- running


def run_aside(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in an event loop of its own, on another thread.

    The store's connections serve whichever loop awaits them, so a world opened here is
    used later in a test's loop, or in the loop of a snapshot run.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


_TEMPLATE_DIR: Path | None = None
_TEMPLATES_BUILT: dict[Seed, Path] = {}


def _template_db(seed: Seed) -> Path:
    """The database of `seed`, built on first use in this process."""
    global _TEMPLATE_DIR
    built = _TEMPLATES_BUILT.get(seed)
    if built is not None:
        return built
    if _TEMPLATE_DIR is None:
        _TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="ui-world-"))
        atexit.register(shutil.rmtree, _TEMPLATE_DIR, True)
    path = _TEMPLATE_DIR / f"seed-{len(_TEMPLATES_BUILT)}.db"
    run_aside(lambda: _build(path, seed))
    _TEMPLATES_BUILT[seed] = path
    return path


async def _build(path: Path, seed: Seed) -> None:
    clock = FrozenClock(seed.now)
    graph = GraphDouble(
        templates=TEMPLATES,
        request_ids=(f"req-seed-{n}" for n in itertools.count(1)),
        wamids=(f"wamid.seed.{n}" for n in itertools.count(1)),
    )
    world = await World.create(path, clock, graph)
    try:
        await History(world, seed).write()
    finally:
        await world.aclose()


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    """The real service over a store, a recording Graph API double and a frozen clock.

    Attributes:
        clock: The clock of every part.
        store: The open store.
        graph: The Cloud API double (requests reached it, answers came from it).
        service: The real service.
        start_change: The newest change-feed id when the test began.
    """

    clock: FrozenClock
    store: Store
    graph: GraphDouble
    service: InboxService
    client: CloudClient
    start_change: int = 0
    _wamids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _guard: asyncio.Task[None] | None = None

    @classmethod
    async def create(cls, path: Path, clock: FrozenClock, graph: GraphDouble) -> World:
        """Open (or create) the store at `path` and build the service on it."""
        card = RateCard.load_default()
        store = await Store.open(path, pricing=Pricing.from_rate_card(card), clock=clock)
        client = CloudClient(
            access_token="test-token",
            phone_number_id=meta.PHONE_NUMBER_ID,
            business_account_id=meta.WABA_ID,
            graph_version=meta.GRAPH_VERSION,
            transport=graph.transport(),
        )
        service = InboxService(
            store,
            client,
            account=ACCOUNT,
            clock=clock,
            rate_card=card,
            listener_url=LISTENER_URL,
            os_user=OPERATOR,
        )
        # The app follows the change feed with the service's default poll interval;
        # a shorter one keeps the tests quick (settle() waits for the feed to catch up).
        service.changes.follow = functools.partial(  # type: ignore[method-assign]
            service.changes.follow, poll_interval=FEED_POLL
        )
        world = cls(clock, store, graph, service, client)
        world.start_change = await store.feed.latest_id()
        return world

    @classmethod
    async def open(
        cls, directory: Path, seed: Seed | None = None, clock: FrozenClock | None = None
    ) -> World:
        """A copy of `seed`'s world in `directory`, ready for a test.

        Close it with :meth:`aclose` in the same event loop the test ran the app in:
        a query still in flight when that loop closes would leave the store unable to
        close.
        """
        seed = seed or Seed()
        path = directory / "inbox.db"
        shutil.copyfile(_template_db(seed), path)
        clock = clock or FrozenClock(seed.now)
        assert int(clock()) == seed.now, "the clock must start at the seed's now"
        return await cls.create(path, clock, GraphDouble(templates=TEMPLATES))

    @classmethod
    def open_aside(
        cls, directory: Path, seed: Seed | None = None, clock: FrozenClock | None = None
    ) -> World:
        """:meth:`open` for a synchronous test, whose app runs in a loop of its own.

        Run that app with :meth:`in_app`, which closes the world inside the app's loop
        as it ends; call :meth:`close` afterwards in any case.
        """
        return run_aside(lambda: cls.open(directory, seed, clock))

    def in_app(self, setup: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
        """Wrap a snapshot's ``run_before`` so the world closes when the app's loop ends.

        The app runs in its own event loop (``App.run``); when that loop finishes it
        cancels the tasks left, and this one then closes the client and the store there,
        after the queries the app's cancelled workers had in flight.
        """

        async def guard() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await self.aclose()
                raise

        async def run_before(pilot: Any) -> None:
            self._guard = asyncio.get_running_loop().create_task(guard())
            await setup(pilot)

        return run_before

    def close(self) -> None:
        """Close the client and the store from synchronous code (idempotent)."""
        run_aside(self.aclose)

    async def aclose(self) -> None:
        """Close the client and the store (idempotent)."""
        await self.client.aclose()
        await self.store.close()

    def sync(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run a call on the world from synchronous code (before any app runs)."""

        async def call() -> T:
            return await make()

        return run_aside(call)

    # ------------------------------------------------------------------ webhooks

    async def webhook(self, *changes: meta.Json) -> None:
        """Deliver one webhook holding `changes` through the listener's writer."""
        await self.deliveries([meta.envelope(*changes)])

    async def deliveries(self, payloads: Sequence[meta.Json]) -> None:
        """Deliver several webhooks at once: the writer commits them together."""
        writer = IngestWriter(self.store, clock=self.clock)
        await writer.start()
        try:
            bodies = [json.dumps(p, ensure_ascii=False).encode() for p in payloads]
            await asyncio.gather(
                *(writer.submit(b, p) for b, p in zip(bodies, payloads, strict=True))
            )
            await writer.wait_idle()
        finally:
            await writer.stop()
        if writer.apply_failures:
            failures = await self.store.raw.failures()
            raise AssertionError(f"a webhook could not be applied: {failures}")

    # ------------------------------------------------------------------ people

    async def receive(
        self, group_id: str, sender: Person, text: str, *, at: int | None = None
    ) -> str:
        """A member writes to the group; returns the message id."""
        wamid = f"wamid.in.{next(self._wamids)}"
        when = int(self.clock()) if at is None else at
        await self.webhook(meta.inbound(group_id, wamid, when, sender, text=text))
        return wamid

    async def burst(self, messages: Sequence[tuple[str, Person, str]]) -> None:
        """Many members write at once: one delivery each, arriving together."""
        now = int(self.clock())
        payloads = []
        for group_id, sender, text in messages:
            wamid = f"wamid.in.{next(self._wamids)}"
            payloads.append(meta.envelope(meta.inbound(group_id, wamid, now, sender, text=text)))
        await self.deliveries(payloads)

    async def join(self, group_id: str, *people: Person, at: int | None = None) -> None:
        """People join the group by its invite link."""
        when = int(self.clock()) if at is None else at
        await self.webhook(meta.joined(group_id, when, people))

    async def leave_removed(self, group_id: str, person: Person, at: int) -> None:
        """The business removed `person` (through another tool) at `at`."""
        await self.webhook(meta.removed(group_id, at, [person.key]))

    async def ask(self, group_id: str, requests: Sequence[tuple[str, Person]], at: int) -> None:
        """People ask to join: ``(join request id, person)`` each."""
        await self.webhook(*(meta.join_request(group_id, rid, at, p) for rid, p in requests))

    async def revoke(self, group_id: str, join_request_id: str, person: Person) -> None:
        """Someone withdraws their join request."""
        await self.webhook(
            meta.join_request(group_id, join_request_id, int(self.clock()), person, revoked=True)
        )

    async def deliver(
        self,
        group_id: str,
        wamid: str,
        *,
        delivered: Sequence[Person],
        read: Sequence[Person] = (),
        failed: Sequence[Person] = (),
        category: str = "group_service",
        at: int | None = None,
    ) -> None:
        """Status webhooks of one of our messages: who got it, read it, or did not."""
        when = int(self.clock()) if at is None else at
        price = meta.pricing(category, charged=False)
        changes = [meta.statuses(wamid, group_id, when, "delivered", delivered, price=price)]
        if read:
            changes.append(meta.statuses(wamid, group_id, when + 1, "read", read))
        if failed:
            changes.append(meta.statuses(wamid, group_id, when, "failed", failed, error=HELD_BACK))
        await self.deliveries([meta.envelope(c) for c in changes])

    # ------------------------------------------------------------------ Meta answers

    async def confirm(self, request_id: str, *, error: tuple[int, str] | None = None) -> str | None:
        """Meta carries out the asynchronous call answered with `request_id`.

        The webhook is the one Meta sends for that call: the group created (or not), the
        members removed, the settings changed. Returns the new group id of a create.
        """
        call = self.graph.answer_to(request_id)
        now = int(self.clock())
        body = call.body if isinstance(call.body, dict) else {}
        if call.path == f"{meta.PHONE_NUMBER_ID}/groups":
            subject = str(body["subject"])
            if error is not None:
                code, title = error
                await self.webhook(meta.group_create_failed(request_id, subject, now, code, title))
                return None
            group_id = f"g-new-{request_id}"
            approval = body.get("join_approval_mode") == "approval_required"
            await self.webhook(
                meta.group_created(
                    group_id,
                    subject,
                    now,
                    request_id=request_id,
                    description=body.get("description"),
                    approval=approval,
                )
            )
            return group_id
        if call.path.endswith("/participants"):
            inputs = [str(p.get("user") or p.get("user_id")) for p in body["participants"]]
            await self.webhook(meta.removed(call.group_id, now, inputs, request_id=request_id))
            return None
        picture = "sha-of-the-picture" if "file" in body else None
        await self.webhook(
            meta.settings_updated(
                call.group_id,
                now,
                request_id,
                subject=body.get("subject"),
                description=body.get("description"),
                picture_sha256=picture,
            )
        )
        return None

    async def confirm_delete(self, group_id: str) -> None:
        """Meta deletes the group (its delete call is answered without a request id)."""
        assert self.graph.calls("DELETE", group_id), f"{group_id} was never deleted"
        await self.webhook(meta.group_deleted(group_id, int(self.clock()), "req-delete"))

    # ------------------------------------------------------------------ local facts

    async def flag(
        self,
        rule: str,
        group_id: str,
        person: Person,
        reason: str,
        *,
        at: int | None = None,
        message_id: str | None = None,
        join_request_id: str | None = None,
    ) -> int:
        """Raise a moderation flag as the moderation watcher records it."""
        flag_id = await self.store.moderation.add_flag(
            rule=rule,
            action="notify",
            group_id=group_id,
            participant_key=person.key,
            wa_id=person.wa_id,
            message_id=message_id,
            join_request_id=join_request_id,
            at=int(self.clock()) if at is None else at,
            reason=reason,
        )
        assert flag_id is not None, "the same flag was raised twice"
        return flag_id

    async def audit_at(
        self,
        at: float,
        action: str,
        group_id: str | None,
        targets: Sequence[Any] = (),
        result: Any = None,
        cost: Decimal | None = None,
    ) -> None:
        """An operator action recorded in the audit log at `at`."""
        now = self.clock()
        self.clock.set(at)
        try:
            await self.service.automations.audit(
                action, group_id=group_id, targets=targets, result=result, cost=cost
            )
        finally:
            self.clock.set(now)

    # ------------------------------------------------------------------ reading

    async def reads(self) -> list[str]:
        """Groups the operator marked read since the test began, in order."""
        changes = await self.store.feed.since(self.start_change, 10_000)
        return [c.group_id or "" for c in changes if c.kind == "group.read"]

    async def all_flags(self) -> list[Any]:
        """Every moderation flag, oldest first."""
        every = ("open", "acted", "dismissed", "auto_acted", "auto_failed")
        return list(reversed(await self.service.moderation.flags_page(every, limit=10_000)))
