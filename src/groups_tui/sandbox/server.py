"""Run the sandbox inside an already running asyncio loop.

:class:`SandboxServer` wires the world, the simulated people, the webhook sender and the
aiohttp app together and serves them on a loopback port with ``AppRunner`` + ``TCPSite``
(no signal handlers, so it can live inside Textual's loop or a test's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from aiohttp import web

from .app import build_app
from .behaviour import Behaviour, BehaviourKnobs
from .clock import Clock, ManualClock, ScaledClock
from .numbers import SHARED_PEOPLE, SimNumber, sim_numbers
from .people import Population
from .prefill import populate_demo, prepopulate
from .state import Json, SandboxKnobs
from .webhooks import WebhookKnobs, WebhookSender
from .world import World

__all__ = ["SandboxServer"]

log = logging.getLogger(__name__)


class SandboxServer:
    """The simulated Cloud API on a real loopback port.

    Args:
        host: Interface to bind; loopback only.
        port: TCP port; 0 picks a free one.
        webhook_url: Listener URL; may be set later with :meth:`set_webhook_url`.
        app_secret: Secret that signs webhooks.
        access_token: The bearer token the API accepts.
        phone_number_id: The business phone number id.
        business_account_id: The WABA id.
        seed: Seed of everything random.
        clock: Simulated time; defaults to a :class:`ScaledClock` at ``speed``.
        speed: Simulated seconds per real second when no clock is given.
        groups: Groups to pre-populate (up to ``knobs.max_groups``).
        demo: Pre-populate with :func:`populate_demo` (``groups`` or 50 groups) instead.
        simulate: Run the simulated people's spontaneous behaviour.
        knobs: Meta-side knobs (limits, rates, status shapes).
        webhook_knobs: Delivery knobs (batching, duplicates, reordering, retries).
        behaviour_knobs: Liveliness of the simulated people.
        population_size: People in the world (default scales with ``groups``).
        tick_interval: Real seconds between scheduler runs.
        limiter_time: Real time source of the rate limiters.
        numbers: The business numbers to simulate (:func:`~.numbers.sim_numbers`); the
            first must be ``phone_number_id``. By default that one number alone. Each
            has its own world (groups, people of its market, rate limits, group limit);
            pre-population fills each with ``groups`` groups.
        world: A kept world to serve (:mod:`.persistence`) instead of a new one from
            ``seed``; its own clock and state win over ``clock``, ``groups`` and ``demo``
            (one number only).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        business_account_id: str,
        seed: int = 7,
        clock: Clock | None = None,
        speed: float = 1.0,
        groups: int = 0,
        demo: bool = False,
        simulate: bool = True,
        knobs: SandboxKnobs | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        behaviour_knobs: BehaviourKnobs | None = None,
        population_size: int | None = None,
        tick_interval: float = 0.2,
        limiter_time: Callable[[], float] = time.monotonic,
        numbers: tuple[SimNumber, ...] = (),
        world: World | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox only listens on loopback")
        self.host = host
        self.port = port
        self.access_token = access_token
        self.app_secret = app_secret
        self.seed = seed
        self.clock: Clock = world.clock if world else clock or ScaledClock(speed=speed)
        self.groups_to_populate = 0 if world else groups
        self.demo = demo and world is None
        self.simulate = simulate
        self.tick_interval = tick_interval
        size = population_size or max(300, min(5000, groups // 2))
        self.numbers = numbers or sim_numbers(
            1, phone_number_id=phone_number_id, business_account_id=business_account_id
        )
        if self.numbers[0].phone_number_id != phone_number_id:
            raise ValueError("the first simulated number must be phone_number_id")
        if world is not None and len(self.numbers) > 1:
            raise ValueError("a kept world is for one simulated number")
        self.world = world or World(
            phone_number_id=phone_number_id,
            business_account_id=business_account_id,
            clock=self.clock,
            seed=seed,
            knobs=knobs,
            population=Population(seed, size),
            limiter_time=limiter_time,
        )
        self.worlds: list[World] = [self.world]
        """Every number's world, the first number's first."""
        for index, number in enumerate(self.numbers[1:], start=1):
            self.worlds.append(
                self._number_world(number, seed + 7919 * index, size, knobs, limiter_time)
            )
        self.webhooks = WebhookSender(
            app_secret=app_secret,
            business_account_id=business_account_id,
            url=webhook_url,
            knobs=webhook_knobs or WebhookKnobs(seed=seed),
        )
        self.world.attach_sink(self.webhooks.enqueue)
        for world in self.worlds[1:]:
            # Every number's webhooks go to the one URL, under the number's own WABA.
            world.attach_sink(partial(self._enqueue, waba=world.business_account_id))
        self.behaviour = Behaviour(self.world, seed=seed, knobs=behaviour_knobs)
        self.behaviours = [self.behaviour] + [
            Behaviour(world, seed=world.seed, knobs=behaviour_knobs) for world in self.worlds[1:]
        ]
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._bound_port: int | None = None

    def _number_world(
        self,
        number: SimNumber,
        seed: int,
        size: int,
        knobs: SandboxKnobs | None,
        limiter_time: Callable[[], float],
    ) -> World:
        """The world of a number after the first: its market's people, with a share of
        the first number's (someone can be in groups of two numbers), on the first
        world's clock and schedule."""
        population = Population(seed, size, market=number.market)
        shared = self.world.population.people
        for person in shared[: int(len(shared) * SHARED_PEOPLE)]:
            if population.get(person.wa_id) is None:
                population.add(person)
        return World(
            phone_number_id=number.phone_number_id,
            business_account_id=number.business_account_id,
            clock=self.clock,
            seed=seed,
            knobs=replace(knobs) if knobs is not None else None,
            population=population,
            display_phone_number=number.display_phone_number,
            limiter_time=limiter_time,
            timeline=self.world.timeline,
        )

    def _enqueue(self, change: Json, bulk: bool, *, waba: str) -> None:
        self.webhooks.enqueue(change, bulk, waba=waba)

    def world_of(self, phone_number_id: str) -> World:
        """The world of one simulated number.

        Raises:
            KeyError: The sandbox does not simulate that number.
        """
        for world in self.worlds:
            if world.phone_number_id == phone_number_id:
                return world
        raise KeyError(phone_number_id)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (valid after :meth:`start`)."""
        if self._bound_port is None:
            raise RuntimeError("the sandbox is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    @property
    def webhook_url(self) -> str | None:
        """Where webhooks go."""
        return self.webhooks.url

    def set_webhook_url(self, url: str | None) -> None:
        """Point webhooks at ``url``; queued ones are then delivered."""
        self.webhooks.set_url(url)

    async def start(self) -> None:
        """Populate, then serve (inside the running loop)."""
        if self._runner is not None:
            return
        for world in self.worlds:
            if self.demo:
                populate_demo(world, self.groups_to_populate or 50)
            elif self.groups_to_populate:
                prepopulate(world, self.groups_to_populate)
        app = build_app(
            self.world,
            access_token=self.access_token,
            webhooks=self.webhooks,
            worlds=self.worlds,
            tokens={n.phone_number_id: n.access_token for n in self.numbers if n.access_token},
        )
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._bound_port = int(address[1])
        await self.webhooks.start()
        if self.simulate:
            for behaviour in self.behaviours:
                behaviour.start()
        self._ticker = asyncio.create_task(self._tick_loop(), name="sandbox-clock")

    async def stop(self) -> None:
        """Stop serving and delivering."""
        for behaviour in self.behaviours:
            behaviour.stop()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.webhooks.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def drain_webhooks(self, within: float = 10.0) -> None:
        """Wait until every webhook emitted so far was delivered (or dropped)."""
        await self.webhooks.drain(within)

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tick_loop(self) -> None:
        # A manual clock only moves when a test moves it; ticking it is harmless and keeps
        # due actions flowing when a test advances the clock directly.
        manual = isinstance(self.clock, ManualClock)
        while True:
            try:
                self.world.tick()
            except Exception:  # keep the sandbox alive; the failure is logged
                log.exception("sandbox scheduler action failed")
            await asyncio.sleep(self.tick_interval * (2 if manual else 1))
