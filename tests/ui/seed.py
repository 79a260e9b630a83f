"""The seeded history of the UI tests: who is in which group, who said what, and when.

:class:`History` writes it into a :class:`~tests.ui.world.World` the way production
writes a store: Meta-shaped webhooks (:mod:`tests.helpers.meta`) through the listener's
writer, and operator actions through the service at the time they happened. Everything
is relative to the seed's "now" and deterministic (nothing is drawn at random).

The seed:

* 30 groups created 60 days ago, their members joining 30 days ago by the invite link:
  the Book club (five members in four markets, one known only by a business-scoped id,
  120 older messages, a system notice, a photo, three sends of ours with their delivery
  statuses, and Alice's last message), Runners Lisbon (window closing in 30 min), Parents
  3B (full, window closed, two join requests), a suspended group, a group being created,
  a flagged group, two groups named with markup and control characters, one with wide
  characters, an empty group and 20 "Neighbourhood" groups.
* Unread counts as left by the operator reading each group at some point.
* Two open moderation flags, four older audit entries, and the account's templates.
* Statuses with pricing for messages another app sent from the same number (WhatsApp
  sends the webhooks of every message of the number to every subscribed app): they make
  today's spend $1.2345, and with our own three sends 120 service deliveries this month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from groups_tui.listener.ingest import IngestWriter
from tests.helpers import meta
from tests.helpers.meta import Person

if TYPE_CHECKING:
    from tests.ui.world import World

__all__ = [
    "ALICE",
    "BOOK_CLUB",
    "BOOK_MEMBERS",
    "BRUNO",
    "CHEN",
    "DAY",
    "DIETER",
    "GHOST",
    "HELD_BACK",
    "HOSTILE",
    "RUI",
    "RUNNERS",
    "RUNNERS_MEMBERS",
    "T0",
    "TEMPLATES",
    "History",
    "Seed",
    "epoch",
    "filler",
]


def epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """UTC epoch seconds of a calendar time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


T0 = epoch(2026, 9, 15, 12, 0)
"""The frozen "now" of the seed (before the 2026-10-01 pricing change)."""

HOSTILE: tuple[str, ...] = (
    "[bold]not bold[/bold]",
    "[@click=app.quit]quit[/]",
    "[link=https://evil.example]click me[/link]",
    "[red",
    "unbalanced ] [ [/] [/nope]",
    "\x1b[31mred escape\x1b[0m",
    "bell\x07 and backspace\x08",
    "c1 csi\x9b31m",
    "rtl \u202eevil\u202c end",
    "isolate \u2066x\u2069 mark \u200f",
    ":smile: $variable {{1}}",
    "[b]" * 40,
)
"""Strings that must be shown literally and must fire nothing."""

BOOK_CLUB = "g-book"
ALICE = Person("Alice Martin", "447911123456")
BRUNO = Person("Bruno Souza", "5511987654321")
CHEN = Person("Chen Wei", "6591234567")
DIETER = Person("Dieter Müller", "4915123456789")
GHOST = Person("Nameless", None, user_id="BSUID.ghost")
"""Known by a business-scoped id only (not one of the documented shape: no market)."""
BOOK_MEMBERS = (ALICE, BRUNO, CHEN, DIETER, GHOST)

INES = Person("Inês", "351912345678")
RUI = Person("Rui", "351913333333")
RUNNERS = "g-runners"
RUNNERS_MEMBERS = (INES, RUI)
PARENTS = tuple(Person(f"Parent {i}", f"3361234567{i}") for i in range(8))
SAM = Person("Sam", "12025550111")
ZOE = Person("Zoë", "34612345678")
MALLORY = Person("[@click=app.quit]Mallory[/]", "447700900666")
EVE = Person("Eve\x07\x08", "447700900667")
YAMADA = Person("山田太郎", "81312345678")
REQUESTERS = tuple(Person(f"Requester {i}", f"4477009001{i:02d}") for i in range(2))
HOSTILE_RED = "\x1b[31mred\x1b[0m \u202eevil"
HELD_BACK = (131049, "This message was not delivered to maintain healthy ecosystem engagement")

DAY = 86_400
UTILITY_CHARGED_FROM = epoch(2026, 10, 1)
"""From this day a utility template inside the window is charged."""


def filler(i: int) -> Person:
    """The one member of "Neighbourhood {i}"."""
    return Person(f"Member {i}", f"4479111{i:05d}")


def _template(
    id_: str, name: str, language: str, category: str, body: str, status: str = "APPROVED"
) -> dict[str, Any]:
    return {
        "name": name,
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}],
        "language": language,
        "status": status,
        "category": category,
        "id": id_,
    }


TEMPLATES = (
    _template("881001", "order_update", "en_US", "UTILITY", "Your order {{1}} has {{2}}"),
    _template("881002", "spring_sale", "en_US", "MARKETING", "Spring sale: {{1}} off everything"),
    _template("881003", "login_code", "en_US", "AUTHENTICATION", "{{1}} is your code."),
    _template("881004", "draft_promo", "en_US", "MARKETING", "Coming soon", status="PENDING"),
    _template(
        "881005",
        "group_invite_upon_request",
        "en",
        "UTILITY",
        "Here is the link to join the group you asked about.",
    ),
)
"""The account's message templates, as the template API lists them."""


@dataclass(frozen=True)
class Seed:
    """Which world to build.

    Attributes:
        now: The "now" the history is relative to.
        fillers: How many "Neighbourhood" groups.
        book_messages: How many older messages the Book club holds.
        requests_to_book_club: Also the three join requests to the Book club of the
            administration snapshots (one from a blocklisted number).
    """

    now: int = T0
    fillers: int = 20
    book_messages: int = 120
    requests_to_book_club: bool = False


# ---------------------------------------------------------------------------- the history


@dataclass
class History:
    """Writes the seeded history, oldest first, at the times it happened."""

    world: World
    seed: Seed
    pending: list[meta.Json] = field(default_factory=list)
    template_wamid: str = ""

    @property
    def now(self) -> int:
        return self.seed.now

    def post(self, *changes: meta.Json) -> None:
        """Queue webhooks; they are delivered together before the next operator action."""
        self.pending.extend(meta.envelope(c) for c in changes)

    async def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            await self.world.deliveries(batch)

    async def at(self, when: float) -> None:
        """Deliver what happened before, then move the clock to an operator's action."""
        await self.flush()
        self.world.clock.set(when)

    async def write(self) -> None:
        now = self.now
        service = self.world.service
        await self.at(now - 60 * DAY)
        await service.reading.templates(refresh=True)
        self.groups()
        self.members()
        self.older_messages()
        self.campaigns()
        await self.at(now - 3 * 3_600 - 60)
        for group_id in self.read_groups():
            await service.reading.mark_read(group_id)
        await self.hostile_messages()
        await self.at(now - 9_000)  # 09:30: the operator asks Meta for a new group
        await service.admin.create_group("New group being created")
        await self.book_club_tail()
        await self.operator_history()
        self.post(meta.join_request("g-parents", "jr-g-parents-0", now - 600, REQUESTERS[0]))
        self.post(meta.join_request("g-parents", "jr-g-parents-1", now - 600, REQUESTERS[1]))
        if self.seed.requests_to_book_club:
            await self.requests_to_book_club()
        await self.flags()
        await self.at(now - 42)
        # The last webhook so far: the third member reads our template, 42 s ago.
        self.post(meta.statuses(self.template_wamid, BOOK_CLUB, now - 42, "read", [CHEN]))
        await self.at(now - 30)
        await IngestWriter(self.world.store, clock=self.world.clock).note_refused_signature()
        await self.at(now)
        stats = await self.world.store.raw.stats()
        assert stats.errors == 0 and stats.applied == stats.total, stats

    # ---- groups and members

    def group_specs(self) -> list[tuple[str, str]]:
        specs = [
            (BOOK_CLUB, "Book club"),
            ("g-runners", "Runners Lisbon"),
            ("g-parents", "Parents 3B"),
            ("g-suspended", "Suspended group"),
            ("g-flagged", "Flagged customers"),
            ("g-hostile-1", "[bold]Pwn[/bold] [@click=app.quit]x[/]"),
            ("g-hostile-2", "[link=https://evil.example]click[/link] [unbalanced"),
            ("g-wide", "読書クラブ 東京 🚀 とても長い名前のグループです"),
            ("g-empty", "Nobody here yet"),
        ]
        specs += [(f"g-filler-{i:03d}", f"Neighbourhood {i:03d}") for i in range(self.seed.fillers)]
        return specs

    def groups(self) -> None:
        created = self.now - 60 * DAY
        for group_id, subject in self.group_specs():
            self.post(meta.group_created(group_id, subject, created))

    def members(self) -> None:
        joined = self.now - 30 * DAY
        members: dict[str, Sequence[Person]] = {
            BOOK_CLUB: BOOK_MEMBERS,
            "g-runners": (INES, RUI),
            "g-parents": PARENTS,
            "g-suspended": (SAM,),
            "g-flagged": (ZOE,),
            "g-hostile-1": (MALLORY,),
            "g-hostile-2": (EVE,),
            "g-wide": (YAMADA,),
        }
        for i in range(self.seed.fillers):
            members[f"g-filler-{i:03d}"] = (filler(i),)
        for group_id, people in members.items():
            # One second apart, so the members list keeps the order they joined in.
            for n, person in enumerate(people):
                self.post(meta.joined(group_id, joined + n, [person]))
        # The join requests' signals: one asker is a member elsewhere, one was removed
        # from a group before.
        if self.seed.fillers:
            self.post(meta.joined("g-filler-019", self.now - 20 * DAY, [REQUESTERS[0]]))
        self.post(meta.joined("g-runners", self.now - 20 * DAY, [REQUESTERS[1]]))
        self.post(meta.removed("g-runners", self.now - 10 * DAY, [REQUESTERS[1].key]))

    # ---- messages

    def message(self, group_id: str, wamid: str, at: int, sender: Person | None, **kw: Any) -> None:
        who = sender if sender is not None else Person(None, None)
        self.post(meta.inbound(group_id, wamid, at, who, **kw))

    def older_messages(self) -> None:
        now, count = self.now, self.seed.book_messages
        start = now - 4 * 3_600 - count * 120
        for i in range(count):
            sender = BRUNO if i % 2 else CHEN
            self.message(
                BOOK_CLUB, f"w-old-{i:04d}", start + i * 120, sender, text=f"Chapter {i} thoughts"
            )
        self.message("g-parents", "w-p-1", now - 2 * DAY, PARENTS[1], text="Thanks all")
        self.message("g-flagged", "w-f-1", now - 5 * 3_600, ZOE, text="Refund please")
        self.message("g-hostile-2", "w-h2-1", now - 9_000, EVE, text="[red [/] \x9b31m")
        self.message("g-wide", "w-wide-1", now - 20_000, YAMADA, text="こんにちは、皆さん！")
        for i in range(self.seed.fillers):
            at = now - 40_000 - i * 2_000
            self.message(
                f"g-filler-{i:03d}", f"w-fill-{i:03d}", at, filler(i), text=f"Message number {i}"
            )

    def read_groups(self) -> list[str]:
        """Groups the operator had read up to their latest message."""
        fillers = [f"g-filler-{i:03d}" for i in range(self.seed.fillers)]
        return [BOOK_CLUB, "g-parents", "g-flagged", "g-hostile-2", "g-wide", *fillers]

    async def hostile_messages(self) -> None:
        now = self.now
        for i, text in enumerate(HOSTILE):
            at = now - 7_200 - (len(HOSTILE) - i) * 60
            self.message("g-hostile-1", f"w-h-{i:02d}", at, MALLORY, text=text)
            if i == len(HOSTILE) - 2:
                await self.at(at + 1)
                await self.world.service.reading.mark_read("g-hostile-1")
        self.message("g-hostile-1", "w-h-red", now - 7_200, MALLORY, text=HOSTILE_RED)
        self.message("g-runners", "w-r-1", now - DAY + 30 * 60, INES, text="Route for Sunday?")
        self.message("g-suspended", "w-s-1", now - 1_800, SAM, text="hello")
        self.post(meta.group_suspended("g-suspended", now - 1_700))
        await self.at(now - 1_600)
        await self.world.service.reading.mark_read("g-suspended")

    async def book_club_tail(self) -> None:
        now, service = self.now, self.world.service
        self.message(
            BOOK_CLUB,
            "w-sys-1",
            now - 3 * 3_600,
            None,
            system="Dieter Müller joined via invite link",
        )
        photo = {
            "caption": "Cover of the next book",
            "mime_type": "image/jpeg",
            "sha256": "COVER_HASH",
            "id": "1479537139650973",
            "file_size": 2_400_000,
        }
        self.message(BOOK_CLUB, "w-img-1", now - 2 * 3_600 - 60, BRUNO, image=photo)
        await self.at(now - 2 * 3_600)
        reminder = await service.sending.send_text(BOOK_CLUB, "Reminder: meeting Thursday 7pm")
        await self.at(now - 90 * 60)
        order_update = await service.reading.find_template("order_update")
        shipped = await service.sending.send_template(BOOK_CLUB, order_update, ["42", "shipped"])
        await self.at(now - 80 * 60)
        venue = await service.sending.send_text(BOOK_CLUB, "Link to the venue")
        assert reminder.wamid and shipped.wamid and venue.wamid
        self.template_wamid = shipped.wamid
        service_price = meta.pricing("group_service", charged=False)
        # A utility template inside the window is free until 2026-09-30 and charged from
        # 2026-10-01 (pricing.md): the statuses price it as the rule in force says, so
        # the ledger's evidence agrees with the configured reading on either side.
        utility_price = meta.pricing("group_utility", charged=now >= UTILITY_CHARGED_FROM)
        self.post(
            meta.statuses(
                reminder.wamid,
                BOOK_CLUB,
                now - 7_140,
                "delivered",
                (ALICE, BRUNO, CHEN, DIETER),
                price=service_price,
            ),
            meta.statuses(reminder.wamid, BOOK_CLUB, now - 6_900, "read", (ALICE, BRUNO)),
            meta.statuses(
                shipped.wamid,
                BOOK_CLUB,
                now - 5_340,
                "delivered",
                BOOK_MEMBERS,
                price=utility_price,
            ),
            meta.statuses(shipped.wamid, BOOK_CLUB, now - 5_000, "read", (ALICE, BRUNO)),
            meta.statuses(
                venue.wamid,
                BOOK_CLUB,
                now - 4_740,
                "delivered",
                (ALICE, BRUNO, CHEN),
                price=service_price,
            ),
            meta.statuses(venue.wamid, BOOK_CLUB, now - 4_500, "read", (ALICE,)),
            meta.statuses(
                venue.wamid, BOOK_CLUB, now - 4_740, "failed", (DIETER,), error=HELD_BACK
            ),
        )
        self.message(BOOK_CLUB, "w-last", now - 3_600, ALICE, text="See you Thursday!")

    def campaigns(self) -> None:
        """Statuses of messages another app on this number sent (see the module doc)."""
        now = self.now
        service = meta.pricing("group_service", charged=False)
        # Replies to the parents two days ago: 113 deliveries, 120 with our own this month.
        for n in range(15):
            at = now - 2 * DAY + 600 + n * 60
            people = PARENTS if n < 14 else PARENTS[:1]
            self.post(
                meta.statuses(
                    f"wamid.crm.s{n}", "g-parents", at, "delivered", people, price=service
                )
            )
        marketing = meta.pricing("group_marketing", charged=True)
        utility = meta.pricing("group_utility", charged=True)
        charged = [  # this morning; the charges add up to $1.2345
            (BOOK_CLUB, (BRUNO,), marketing),
            (BOOK_CLUB, (BRUNO, CHEN), utility),
            ("g-runners", (INES, RUI), marketing),
            ("g-parents", PARENTS[4:], marketing),
            ("g-parents", PARENTS, marketing),
        ]
        for n, (group_id, people, price) in enumerate(charged):
            at = now - 4 * 3_600 + n * 60
            self.post(
                meta.statuses(f"wamid.crm.{n}", group_id, at, "delivered", people, price=price)
            )

    # ---- the operator's history

    async def operator_history(self) -> None:
        now, world = self.now, self.world
        await self.at(now - 3_600)
        await world.store.groups.annotate("g-flagged", flagged=True)
        older = [
            ("group.create", None, ["Book club"], "req-a", None),
            ("participants.remove", BOOK_CLUB, ["447700900999"], "req-b", None),
            ("send.template", BOOK_CLUB, [7], {"wamid": "wamid.x"}, Decimal("0.0878")),
            (
                "join_requests.approve",
                "g-parents",
                ["jr-x"],
                {"error": "group is full", "code": 131204},
                None,
            ),
        ]
        for i, (action, group_id, targets, result, cost) in enumerate(older):
            await self.at(now - 3_600 + i * 60)
            await world.service.automations.audit(
                action, group_id=group_id, targets=targets, result=result, cost=cost
            )

    async def requests_to_book_club(self) -> None:
        now, world = self.now, self.world
        eve = Person("[@click=app.quit]Eve[/]", "447700900201")
        marta = Person("Marta", "5215512345001")
        blocked = Person(None, "919876543210")
        self.post(
            meta.joined("g-filler-019", now - 20 * DAY, [Person(None, eve.wa_id)]),
            meta.joined("g-runners", now - 20 * DAY, [Person(None, marta.wa_id)]),
            meta.removed("g-runners", now - 10 * DAY, [str(marta.wa_id)]),
            meta.join_request(BOOK_CLUB, "jr-a", now - 90, eve),
            meta.join_request(BOOK_CLUB, "jr-b", now - 4_000, marta),
            meta.join_request(BOOK_CLUB, "jr-c", now - 90_000, blocked),
        )
        await self.at(now - 60)
        await world.service.moderation.block("919876543210")

    async def flags(self) -> None:
        now, world = self.now, self.world
        await self.at(now - 300)
        await world.flag(
            "burst",
            BOOK_CLUB,
            BRUNO,
            "5 messages within 60 s from +5511987654321",
            at=now - 300,
            message_id=f"w-old-{self.seed.book_messages - 1:04d}",
        )
        await world.flag(
            "blocklist",
            "g-parents",
            REQUESTERS[0],
            "blocklisted number +447700900100 asked to join",
            at=now - 600,
            join_request_id="jr-g-parents-0",
        )
