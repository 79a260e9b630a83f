"""Pre-populated worlds: ``--groups N`` (up to 10,000, fast) and the ~50-group demo.

Groups are written straight into the world's state (no per-event work), then announced to
the listener as Meta would have told it over time: ``group_create`` lifecycle items,
``group_participants_add`` for every member, open join requests, the short message history
and suspensions. Items are packed into changes (``groups[]`` / ``messages[]`` arrays) and
flagged *bulk* so the webhook sender batches them (Meta batches up to 1000 updates per POST;
each POST stays under 3 MB).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from groups_tui.domain.events import (
    FIELD_LIFECYCLE,
    FIELD_MESSAGES,
    FIELD_PARTICIPANTS,
    FIELD_STATUS,
)

from .people import HOSTILE_TEXTS, SPAM_TEXTS, Person
from .state import JoinRequestRec, Json, SimGroup
from .world import World

__all__ = ["GroupPlan", "populate_demo", "prepopulate"]

_SUBJECTS = (
    "Order {n} – delivery coordination",
    "Tenants of building {n} 🏠",
    "Book club #{n} 📚",
    "Support ticket {n}",
    "Wedding planning {n} 💍",
    "Team offsite {n}",
    "Pedido {n} – entrega",
    "Заказ {n}",
    "طلب رقم {n}",
    "הזמנה {n}",
    "注文 {n} 🚚",
    "ऑर्डर {n}",
    "Parents of class {n}",
    "Football Sunday ⚽ {n}",
)
_ITEMS_PER_CHANGE = 200
DAY = 86_400.0


@dataclass
class GroupPlan:
    """What one pre-populated group looks like.

    Attributes:
        subject: Group subject.
        mode: ``auto_approve`` or ``approval_required``.
        members: Members besides the business.
        pending: Open join requests (approval groups).
        last_inbound_ago: Seconds since the latest member message (``None``: never).
        history: Messages in the history (the latest at ``last_inbound_ago``).
        spammers: Spammers among the members.
        hostile: Members with hostile names.
        suspended: Suspended by WhatsApp.
        age: Seconds since creation.
        description: Group description.
        hostile_texts: Whether the history includes hostile bodies.
    """

    subject: str
    mode: str = "auto_approve"
    members: int = 3
    pending: int = 0
    last_inbound_ago: float | None = None
    history: int = 3
    spammers: int = 0
    hostile: int = 0
    suspended: bool = False
    age: float = 7 * DAY
    description: str = ""
    hostile_texts: bool = False


class _Announcer:
    """Collects announcement items and emits them packed into bulk changes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lifecycle: list[Json] = []
        self.participants: list[Json] = []
        self.requests: list[Json] = []
        self.messages: list[tuple[Json, Json]] = []
        self.status: list[Json] = []

    def flush(self) -> int:
        w = self.world
        changes = 0
        for field_name, items in (
            (FIELD_LIFECYCLE, self.lifecycle),
            (FIELD_PARTICIPANTS, self.participants),
            (FIELD_PARTICIPANTS, self.requests),
        ):
            for start in range(0, len(items), _ITEMS_PER_CHANGE):
                w.emitter.emit(
                    field_name, {"groups": items[start : start + _ITEMS_PER_CHANGE]}, bulk=True
                )
                changes += 1
        for start in range(0, len(self.messages), _ITEMS_PER_CHANGE):
            chunk = self.messages[start : start + _ITEMS_PER_CHANGE]
            contacts: dict[str, Json] = {}
            for contact, _ in chunk:
                contacts.setdefault(str(contact.get("wa_id") or contact.get("user_id")), contact)
            w.emitter.emit(
                FIELD_MESSAGES,
                {"contacts": list(contacts.values()), "messages": [m for _, m in chunk]},
                bulk=True,
            )
            changes += 1
        if self.status:
            for start in range(0, len(self.status), _ITEMS_PER_CHANGE):
                w.emitter.emit(
                    FIELD_STATUS,
                    {"groups": self.status[start : start + _ITEMS_PER_CHANGE]},
                    bulk=True,
                )
                changes += 1
        return changes


def _build(world: World, plan: GroupPlan, rng: random.Random, out: _Announcer) -> SimGroup:
    now = world.now()
    created = now - plan.age
    group = world.groups.add(
        plan.subject,
        description=plan.description,
        mode=plan.mode,
        created_at=created,
        liveliness=round(rng.uniform(0.3, 3.0), 2),
    )
    item: Json = {
        "timestamp": world.emitter.ts(created + 2),
        "group_id": group.id,
        "type": "group_create",
        "request_id": world.ids.request_id(),
        "subject": group.subject,
        "invite_link": group.invite_link,
        "join_approval_mode": group.mode,
    }
    if plan.description:
        item["description"] = plan.description
    out.lifecycle.append(item)

    pop = world.population
    chosen: list[Person] = []
    taken: set[str] = set()

    def add(pool: list[Person], count: int) -> None:
        for _ in range(count * 6):  # bounded
            if count <= 0 or not pool:
                return
            person = pool[rng.randrange(len(pool))]
            if person.wa_id not in taken:
                taken.add(person.wa_id)
                chosen.append(person)
                count -= 1

    size = min(plan.members, world.knobs.max_participants)
    add(pop.spammers, min(plan.spammers, size))
    add(pop.hostile, min(plan.hostile, size - len(chosen)))
    add(pop.people, size - len(chosen))
    first_msg = (
        now - plan.last_inbound_ago - plan.history * 3600.0
        if plan.last_inbound_ago is not None
        else now - DAY
    )
    join_span = max(60.0, min(first_msg, now) - created - 60.0)
    for person in chosen:
        joined = created + 60.0 + rng.random() * join_span
        group.members[person.wa_id] = joined
        out.participants.append(
            {
                "timestamp": world.emitter.ts(joined),
                "group_id": group.id,
                "type": "group_participants_add",
                "reason": "invite_link",
                "added_participants": [world.emitter.person_ids(person.wa_id)],
            }
        )
    if plan.mode == "approval_required":
        for _ in range(plan.pending * 4):  # bounded
            if len(group.join_requests) >= plan.pending:
                break
            person = pop.people[rng.randrange(len(pop.people))]
            if person.wa_id in group.members or any(
                jr.wa_id == person.wa_id for jr in group.join_requests.values()
            ):
                continue
            at = now - rng.uniform(600, 2 * DAY)
            jr = JoinRequestRec(world.ids.join_request_id(person.wa_id), person.wa_id, at)
            group.join_requests[jr.id] = jr
            out.requests.append(
                world.persons.join_request_item(group, jr, "group_join_request_created", at)
            )
    if group.members and plan.last_inbound_ago is not None and plan.history > 0:
        members = list(group.members)
        last = now - plan.last_inbound_ago
        times = sorted(
            last - rng.uniform(0, plan.history * 3600.0) for _ in range(plan.history - 1)
        )
        times.append(last)
        spammer_ids = [p.wa_id for p in chosen if p.spammer]
        for i, t in enumerate(times):
            sender = rng.choice(members)
            text: str | None = None
            kind = "text"
            if sender in spammer_ids:
                text = rng.choice(SPAM_TEXTS).format(n=i)
            elif plan.hostile_texts and rng.random() < 0.5:
                text = rng.choice(HOSTILE_TEXTS)
            elif rng.random() < 0.1:
                kind = rng.choice(("image", "document", "audio"))
            message = world.persons.inbound_message(
                group, sender, t, kind=kind, text=text, rng=rng, max_media_size=150_000
            )
            who = pop.get(sender)
            contact = {
                "profile": {"name": who.name if who else sender},
                **world.emitter.person_ids(sender),
            }
            out.messages.append((contact, message))
    if plan.suspended:
        group.suspended = True
        out.status.append(
            {
                "timestamp": world.emitter.ts(now - 3600),
                "type": "group_suspend",
                "group_id": group.id,
            }
        )
    return group


def _random_plan(rng: random.Random, n: int) -> GroupPlan:
    roll = rng.random()
    if roll < 0.35:
        last: float | None = rng.uniform(60, 20 * 3600)
    elif roll < 0.45:
        last = rng.uniform(22.5 * 3600, 23.9 * 3600)
    elif roll < 0.85:
        last = rng.uniform(1.1 * DAY, 10 * DAY)
    else:
        last = None
    members = rng.choices(range(9), weights=(3, 6, 10, 12, 12, 10, 8, 6, 5))[0]
    mode = "approval_required" if rng.random() < 0.25 else "auto_approve"
    return GroupPlan(
        subject=rng.choice(_SUBJECTS).format(n=1000 + n),
        mode=mode,
        members=members,
        pending=rng.choice((0, 1, 1, 2, 3)) if mode == "approval_required" else 0,
        last_inbound_ago=last if members else None,
        history=rng.randint(1, 6),
        spammers=1 if rng.random() < 0.05 else 0,
        hostile=1 if rng.random() < 0.03 else 0,
        suspended=rng.random() < 0.005,
        age=rng.uniform(11 * DAY, 60 * DAY),
        hostile_texts=rng.random() < 0.02,
    )


def prepopulate(
    world: World, n: int, *, seed: int | None = None, announce: bool = True
) -> list[SimGroup]:
    """Add ``n`` groups with members, requests and a short history, and announce them.

    Args:
        world: The world to fill.
        n: Groups to add; together with existing ones at most ``knobs.max_groups``.
        seed: Seed of the plans (defaults to the world's seed).
        announce: Emit the bulk webhooks that tell the listener about them.

    Returns:
        The new groups.
    """
    rng = random.Random(f"prepopulate:{world.seed if seed is None else seed}")
    room = max(0, world.knobs.max_groups - world.groups.active_count)
    out = _Announcer(world)
    groups = [_build(world, _random_plan(rng, i), rng, out) for i in range(min(n, room))]
    if announce:
        out.flush()
    return groups


def _demo_plans() -> list[GroupPlan]:
    h = 3600.0
    return [
        GroupPlan(
            "Order 1042 – delivery coordination",
            members=4,
            last_inbound_ago=600,
            history=6,
            description="Driver, warehouse and customer for order 1042.",
        ),
        GroupPlan(
            "Tenants of Calle Mayor 12 🏠",
            mode="approval_required",
            members=5,
            pending=3,
            last_inbound_ago=2 * h,
            history=5,
        ),
        GroupPlan("Book club 📚 — Kraków", members=6, last_inbound_ago=23.5 * h, history=4),
        GroupPlan("VIP customers (full)", members=8, last_inbound_ago=3 * 24 * h, history=5),
        GroupPlan(
            "Flash sale alerts (suspended)",
            members=3,
            last_inbound_ago=30 * h,
            history=2,
            suspended=True,
        ),
        GroupPlan("New group — nobody joined yet", members=0, history=0, age=3 * h),
        GroupPlan("Deals & Chat 🔥", members=6, spammers=2, last_inbound_ago=15 * 60, history=6),
        GroupPlan(
            "[bold]Markup[/bold] subject [@click=app.quit]x[/]",
            members=5,
            hostile=4,
            last_inbound_ago=40 * 60,
            history=6,
            hostile_texts=True,
        ),
        GroupPlan(
            "Пекарня «Хлеб» — заказы",
            mode="approval_required",
            members=3,
            pending=1,
            last_inbound_ago=5 * 24 * h,
            history=3,
        ),
        GroupPlan("مجموعة التوصيل السريع", members=4, last_inbound_ago=3 * h, history=4),
        GroupPlan("קבוצת לקוחות VIP", members=3, last_inbound_ago=23.8 * h, history=3),
        GroupPlan("配送グループ 🚚 東京", members=5, last_inbound_ago=8 * h, history=4),
        GroupPlan(
            "Supplier chat \u202eevil\u202c",
            members=2,
            hostile=1,
            last_inbound_ago=50 * h,
            history=2,
        ),
        GroupPlan(
            "Wedding 💍 María & José",
            mode="approval_required",
            members=7,
            pending=2,
            last_inbound_ago=20 * 60,
            history=6,
        ),
        GroupPlan(
            "Football Sunday ⚽", members=8, spammers=1, last_inbound_ago=22.9 * h, history=5
        ),
    ]


def populate_demo(world: World, n: int = 50, *, announce: bool = True) -> list[SimGroup]:
    """The embedded-mode world: about ``n`` groups in deliberately varied states.

    Includes groups with the window open, closing soon and closed, approval groups with
    pending requests, one suspended group, one full group (8 members), one with nobody but
    the business, spammers, hostile names and bodies, and subjects in many scripts.

    Args:
        world: The world to fill.
        n: Total groups (the hand-made ones first, then random ones).
        announce: Emit the bulk webhooks.

    Returns:
        The new groups.
    """
    rng = random.Random(f"demo:{world.seed}")
    out = _Announcer(world)
    plans = _demo_plans()[:n]
    plans += [_random_plan(rng, i) for i in range(max(0, n - len(plans)))]
    groups = [_build(world, plan, rng, out) for plan in plans]
    if announce:
        out.flush()
    return groups
