"""The simulated Meta account and the people around it, composed from its parts.

:class:`World` is the single source of truth of the sandbox. It owns the shared state
(:mod:`.state`: knobs, the group registry, the message log), time and ids
(:mod:`.scheduling`), the webhook :class:`~.emitter.Emitter`, and the components that act
on them:

* :attr:`World.groups_api` (:mod:`.groups_api`): create, list, read, delete groups, their
  settings and invite links;
* :attr:`World.members_api` (:mod:`.members_api`): participants and join requests;
* :attr:`World.messaging` (:mod:`.messaging`) with :attr:`World.statuses`
  (:mod:`.statuses`): what the business sends, its statuses and their pricing;
* :attr:`World.media` (:mod:`.media`) and :attr:`World.templates` (:mod:`.templates`);
* :attr:`World.persons` (:mod:`.person_actions`): what the simulated people do.

The API components are what the HTTP app calls (they take parsed request bodies, return
response bodies and raise :class:`~groups_tui.sandbox.errors.GraphError`); the person
actions are what the behaviour scheduler, tests in-process and the ``/_sandbox`` control
routes use. Every change Meta would announce goes out as a webhook change through the
emitter, normally to the :class:`~groups_tui.sandbox.webhooks.WebhookSender`.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from .clock import Clock
from .emitter import Emitter, Sink
from .errors import SandboxError
from .groups_api import GroupsApi
from .media import MediaStore
from .members_api import MembersApi
from .messaging import Messaging
from .people import Population
from .person_actions import PersonActions
from .scheduling import Ids, Scheduler, Timeline, TokenBucket
from .state import GroupRegistry, Json, MessageLog, SandboxKnobs
from .statuses import Statuses
from .templates import Templates

__all__ = ["World"]


class World:
    """The simulated Meta account and the people around it.

    Args:
        phone_number_id: The business phone number id (path segment).
        business_account_id: The WABA id (``entry[].id`` in webhooks).
        clock: Simulated time.
        seed: Seed for every random choice (ids, delivery outcomes).
        knobs: Tunables; see :class:`SandboxKnobs`.
        population: The simulated people; built from ``seed`` when omitted.
        display_phone_number: The business number shown in webhook metadata.
        limiter_time: Real time source of the rate limiters (tests may freeze it).
        timeline: The simulated clock's schedule, shared by the worlds of several
            business numbers (a new one when omitted).
    """

    def __init__(
        self,
        *,
        phone_number_id: str,
        business_account_id: str,
        clock: Clock,
        seed: int = 7,
        knobs: SandboxKnobs | None = None,
        population: Population | None = None,
        display_phone_number: str = "15550783881",
        limiter_time: Callable[[], float] = time.monotonic,
        timeline: Timeline | None = None,
    ) -> None:
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.display_phone_number = display_phone_number
        self.clock = clock
        self.seed = seed
        self.knobs = k = knobs or SandboxKnobs()
        self.population = population or Population(seed)
        self.rng = random.Random(f"world:{seed}")
        """The one random source of ids and outcomes every component shares."""
        self.timeline = timeline or Timeline(clock)
        self.ids = Ids(self.rng, display_phone_number)
        self.emitter = Emitter(
            phone_number_id=phone_number_id,
            display_phone_number=display_phone_number,
            knobs=k,
            population=self.population,
            seed=seed,
        )
        self.log = MessageLog()
        self.groups = GroupRegistry(
            self.ids,
            self.timeline,
            TokenBucket(k.group_ops_per_second, k.group_ops_burst, limiter_time),
        )
        self.media = MediaStore(ids=self.ids, timeline=self.timeline)
        self.templates = Templates(business_account_id)
        ids, emitter, timeline = self.ids, self.emitter, self.timeline
        self.groups_api = GroupsApi(
            groups=self.groups, ids=ids, emitter=emitter, timeline=timeline, knobs=k
        )
        self.members_api = MembersApi(
            groups=self.groups,
            population=self.population,
            ids=ids,
            emitter=emitter,
            timeline=timeline,
            knobs=k,
        )
        self.persons = PersonActions(
            groups=self.groups,
            population=self.population,
            ids=ids,
            emitter=emitter,
            timeline=timeline,
            media=self.media,
            log=self.log,
            knobs=k,
            rng=self.rng,
        )
        self.statuses = Statuses(
            timeline=self.timeline,
            emitter=self.emitter,
            knobs=k,
            population=self.population,
            rng=self.rng,
        )
        self.messaging = Messaging(
            groups=self.groups,
            templates=self.templates,
            media=self.media,
            statuses=self.statuses,
            persons=self.persons,
            ids=self.ids,
            timeline=self.timeline,
            log=self.log,
            knobs=k,
            limiter=TokenBucket(k.messages_per_second, k.message_burst, limiter_time),
        )

    # ------------------------------------------------------------------ time and output

    @property
    def scheduler(self) -> Scheduler:
        """The actions due at simulated times."""
        return self.timeline.scheduler

    def now(self) -> float:
        """The simulated time."""
        return self.timeline.now()

    def tick(self) -> int:
        """Run every scheduled action that is due; returns how many ran."""
        return self.timeline.tick()

    def advance(self, seconds: float) -> int:
        """Move a manual or scaled clock forward and run what became due.

        Raises:
            SandboxError: If the clock cannot be moved.
        """
        return self.timeline.advance(seconds)

    def finish_in_flight(self) -> int:
        """Run every scheduled action now, each at its own time: operations, delivery
        receipts and delayed joins still in flight complete (before the world is kept:
        what is scheduled is code, not data, and is not saved).

        Returns:
            How many actions ran.
        """
        return self.timeline.scheduler.run_due(math.inf)

    def attach_sink(self, sink: Sink | None) -> None:
        """Send emitted changes to ``sink`` (``None`` collects them in ``emitter.emitted``)."""
        self.emitter.attach(sink)

    # ------------------------------------------------------------------ inspection

    def state(self) -> Json:
        """A summary for ``GET /_sandbox/state``."""
        active = self.groups.active()
        now = self.now()
        return {
            "now": now,
            "groups": len(active),
            "deleted_groups": len(self.groups) - len(active),
            "pending_creates": self.groups_api.pending_creates,
            "suspended": sum(1 for g in active if g.suspended),
            "windows_open": sum(1 for g in active if g.window_open(now)),
            "members": sum(len(g.members) for g in active),
            "join_requests": sum(len(g.join_requests) for g in active),
            "people": len(self.population),
            "outbound_messages": len(self.log.sent),
            "inbound_messages": len(self.log.received),
            "scheduled": len(self.scheduler),
            "emitted_changes": self.emitter.emitted_count,
        }

    def group_state(self, group_id: str) -> Json:
        """Everything about one group, for ``GET /_sandbox/groups/{id}``."""
        group = self.groups.get(group_id)
        if group is None:
            raise SandboxError(f"no group {group_id}")
        return {
            "id": group.id,
            "subject": group.subject,
            "description": group.description,
            "join_approval_mode": group.mode,
            "created_at": group.created_at,
            "invite_link": group.invite_link,
            "suspended": group.suspended,
            "deleted": group.deleted,
            "last_inbound_at": group.last_inbound_at,
            "window_open": group.window_open(self.now()),
            "members": [
                {
                    "wa_id": w,
                    "user_id": self.population.meet(w).user_id,
                    "phone_hidden": self.emitter.phone_hidden(w),
                    "name": self.population.meet(w).name,
                    "joined_at": at,
                }
                for w, at in group.members.items()
            ],
            "removed": sorted(group.removed),
            "join_requests": [
                {"join_request_id": jr.id, "wa_id": jr.wa_id, "created_at": jr.created_at}
                for jr in group.join_requests.values()
            ],
            "pins": list(group.pins),
        }

    def people(self, limit: int = 100, offset: int = 0) -> list[Json]:
        """A slice of the population for drivers."""
        return [
            {
                "wa_id": p.wa_id,
                "user_id": p.user_id,
                "phone_hidden": p.phone_hidden,
                "name": p.name,
                "country": p.country,
                "spammer": p.spammer,
                "hostile": p.hostile,
            }
            for p in self.population.people[offset : offset + limit]
        ]
