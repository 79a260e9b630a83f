"""A fake :class:`InboxService` over seeded in-memory data, with a frozen clock.

It implements the same public methods the screens call, applies the real domain rules
(window, sending refusals, pricing with the packaged rate card) and records every call
that would reach the Cloud API, so tests can assert that a refused send never did.
Hostile strings are part of the seed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from groups_tui.domain.media import media_for_file
from groups_tui.domain.models import (
    DeliverySummary,
    Direction,
    Group,
    GroupState,
    JoinRequest,
    Media,
    Message,
    MessageKind,
    Participant,
    Template,
    TemplateCategory,
)
from groups_tui.domain.numbers import BusinessNumber, label_of
from groups_tui.domain.pricing import (
    Calibration,
    CostPreview,
    DeliveryTally,
    MemberRef,
    RateCard,
    calibrate,
    preview_cost,
)
from groups_tui.domain.sending import Refusal, SendKind, can_send
from groups_tui.domain.window import window_state
from groups_tui.service import InboxService, ServiceError
from groups_tui.service.types import (
    AccountInfo,
    Change,
    DecisionResult,
    GroupDetail,
    InboxRow,
    InviteOutcome,
    JoinRequestView,
    KnownPerson,
    ListenerStatus,
    MemberRow,
    MessagePage,
    MessageView,
    Mode,
    OutboxItem,
    PendingOperation,
    SearchHit,
)
from groups_tui.store.records import AuditEntry, Contact, HistoryEntry, StoredFlag

__all__ = ["HOSTILE", "T0", "FakeService", "FrozenClock", "epoch"]


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


def _member(name: str | None, wa_id: str | None, user_id: str | None = None) -> Participant:
    return Participant(wa_id=wa_id, user_id=user_id, profile_name=name, joined_at=T0 - 86_400 * 30)


BOOK_CLUB = "g-book"
"""The main seeded group: five members in four markets, one without a number."""


class FakeService(InboxService):
    """Seeded, in-memory stand-in for :class:`InboxService` (same public methods)."""

    def __init__(
        self,
        clock: FrozenClock | None = None,
        *,
        filler_groups: int = 20,
        messages_in_book_club: int = 120,
    ) -> None:
        self.clock = clock or FrozenClock()
        self.account = AccountInfo("+1 555 0100", "PNID-1", Mode.SANDBOX)
        self.numbers = (BusinessNumber("PNID-1", "+1 555 0100"),)
        self.card = RateCard.load_default()
        self.groups: dict[str, Group] = {}
        self.people: dict[str, list[Participant]] = {}
        self.messages: dict[str, list[MessageView]] = {}
        self.flagged: set[str] = set()
        self.requests: dict[str, list[JoinRequest]] = {}
        self.api_calls: list[tuple[str, str]] = []
        """Calls that would reach the Cloud API: ``(method, group_id)``."""
        self.read: list[str] = []
        self.service_used_this_month = 120
        self.pricing_tallies: list[DeliveryTally] = []
        """What Meta charged for recent group messages (evidence on disputed rules)."""
        self.spend = Decimal("1.2345")
        self._changes: list[Change] = []
        self._change_ids = itertools.count(1)
        self._wake: asyncio.Event | None = None
        self._ids = itertools.count(1)
        self.ops: dict[str, PendingOperation] = {}
        self.created: dict[str, str] = {}
        """Pending create ids mapped to the group ids their webhooks brought."""
        self.history: dict[str, list[HistoryEntry]] = {}
        self.contacts: dict[str, Contact] = {}
        self.flags: list[StoredFlag] = []
        self.audit: list[AuditEntry] = []
        self.blocked: set[str] = set()
        self.removed_batches: list[tuple[str, list[str]]] = []
        self.link_resets = 0
        self._seed(filler_groups, messages_in_book_club)
        self._seed_admin()
        # One object plays every sub-API the screens reach (service.reading, ...).
        self.reading = self.sending = self.admin = self.moderation = self.changes = self  # type: ignore[assignment]

    # ------------------------------------------------------------------ seed

    def _add_group(
        self,
        group_id: str,
        subject: str,
        members: list[Participant],
        *,
        last_inbound_ago: int | None,
        last_by: str | None = None,
        preview: str | None = None,
        unread: int = 0,
        requests: int = 0,
        **fields: object,
    ) -> None:
        now = int(self.clock())
        last_inbound = None if last_inbound_ago is None else now - last_inbound_ago
        group = Group(
            id=group_id,
            subject=subject,
            participant_count=len(members),
            last_inbound_at=last_inbound,
            last_inbound_by=last_by,
            last_message_preview=preview,
            last_activity_at=last_inbound,
            unread=unread,
            pending_requests=requests,
            created_at=now - 86_400 * 60,
            **fields,  # type: ignore[arg-type]
        )
        self.groups[group_id] = group
        self.people[group_id] = members
        self.messages[group_id] = []
        self.requests[group_id] = [
            JoinRequest(
                f"jr-{group_id}-{i}",
                group_id,
                f"4477009001{i:02d}",
                profile_name=f"Requester {i}",
                created_at=now - 600,
            )
            for i in range(requests)
        ]

    def _seed(self, filler: int, book_messages: int) -> None:
        alice = _member("Alice Martin", "447911123456")
        bruno = _member("Bruno Souza", "5511987654321")
        chen = _member("Chen Wei", "6591234567")
        dieter = _member("Dieter Müller", "4915123456789")
        ghost = _member("Nameless", None, user_id="BSUID.ghost")
        self._add_group(
            BOOK_CLUB,
            "Book club",
            [alice, bruno, chen, dieter, ghost],
            last_inbound_ago=3_600,
            last_by="Alice Martin",
            preview="See you Thursday!",
            unread=3,
        )
        self._add_group(
            "g-runners",
            "Runners Lisbon",
            [_member("Inês", "351912345678"), _member("Rui", "351913333333")],
            last_inbound_ago=86_400 - 30 * 60,
            last_by="Inês",
            preview="Route for Sunday?",
            unread=1,
        )
        self._add_group(
            "g-parents",
            "Parents 3B",
            [_member(f"Parent {i}", f"3361234567{i}") for i in range(8)],
            last_inbound_ago=2 * 86_400,
            last_by="Parent 1",
            preview="Thanks all",
            requests=2,
        )
        self._add_group(
            "g-suspended",
            "Suspended group",
            [_member("Sam", "12025550111")],
            last_inbound_ago=1_800,
            last_by="Sam",
            preview="hello",
            suspended=True,
            suspended_reason="policy violation",
        )
        self._add_group(
            "g-pending",
            "New group being created",
            [],
            last_inbound_ago=None,
            state=GroupState.PENDING,
        )
        self._add_group(
            "g-flagged",
            "Flagged customers",
            [_member("Zoë", "34612345678")],
            last_inbound_ago=5 * 3_600,
            last_by="Zoë",
            preview="Refund please",
        )
        self.flagged.add("g-flagged")
        self._add_group(
            "g-hostile-1",
            "[bold]Pwn[/bold] [@click=app.quit]x[/]",
            [_member("[@click=app.quit]Mallory[/]", "447700900666")],
            last_inbound_ago=7_200,
            last_by="[@click=app.quit]Mallory[/]",
            preview="\x1b[31mred\x1b[0m \u202eevil",
            unread=2,
        )
        self._add_group(
            "g-hostile-2",
            "[link=https://evil.example]click[/link] [unbalanced",
            [_member("Eve\x07\x08", "447700900667")],
            last_inbound_ago=9_000,
            last_by="Eve\x07\x08",
            preview="[red [/] \x9b31m",
        )
        self._add_group(
            "g-wide",
            "読書クラブ 東京 🚀 とても長い名前のグループです",
            [_member("山田太郎", "81312345678")],
            last_inbound_ago=20_000,
            last_by="山田太郎",
            preview="こんにちは、皆さん！",
        )
        self._add_group("g-empty", "Nobody here yet", [], last_inbound_ago=None)
        for i in range(filler):
            self._add_group(
                f"g-filler-{i:03d}",
                f"Neighbourhood {i:03d}",
                [_member(f"Member {i}", f"4479111{i:05d}")],
                last_inbound_ago=40_000 + i * 2_000,
                last_by=f"Member {i}",
                preview=f"Message number {i}",
            )
        self._seed_messages(book_messages)

    def _seed_messages(self, count: int) -> None:
        now = int(self.clock())
        book = self.messages[BOOK_CLUB]
        start = now - 4 * 3_600 - count * 120
        for i in range(count):
            sender = ("Bruno Souza", "5511987654321") if i % 2 else ("Chen Wei", "6591234567")
            book.append(
                self._inbound(
                    BOOK_CLUB, f"w-old-{i:04d}", start + i * 120, sender, f"Chapter {i} thoughts"
                )
            )
        tail = [
            MessageView(
                Message(
                    "w-sys-1",
                    BOOK_CLUB,
                    Direction.INBOUND,
                    MessageKind.SYSTEM,
                    None,
                    None,
                    None,
                    now - 3 * 3_600,
                    system_event="Dieter Müller joined via invite link",
                )
            ),
            self._inbound(
                BOOK_CLUB,
                "w-img-1",
                now - 2 * 3_600 - 60,
                ("Bruno Souza", "5511987654321"),
                None,
                media=Media(
                    MessageKind.IMAGE, "image/jpeg", 2_400_000, caption="Cover of the next book"
                ),
            ),
            MessageView(
                Message(
                    "w-out-1",
                    BOOK_CLUB,
                    Direction.OUTBOUND,
                    MessageKind.TEXT,
                    None,
                    None,
                    None,
                    now - 2 * 3_600,
                    text="Reminder: meeting Thursday 7pm",
                ),
                delivery=DeliverySummary(5, 4, 2, 0),
                outbox_state="accepted",
            ),
            MessageView(
                Message(
                    "w-out-2",
                    BOOK_CLUB,
                    Direction.OUTBOUND,
                    MessageKind.TEMPLATE,
                    None,
                    None,
                    None,
                    now - 90 * 60,
                    text="Your order 42 has shipped",
                    template_name="order_update",
                ),
                delivery=DeliverySummary(5, 5, 3, 0),
                outbox_state="accepted",
                cost=Decimal("0.0878"),
            ),
            MessageView(
                Message(
                    "w-out-3",
                    BOOK_CLUB,
                    Direction.OUTBOUND,
                    MessageKind.TEXT,
                    None,
                    None,
                    None,
                    now - 80 * 60,
                    text="Link to the venue",
                ),
                delivery=DeliverySummary(5, 3, 1, 1),
                outbox_state="accepted",
                error="131049: This message was not delivered to maintain healthy ecosystem "
                "engagement",
            ),
            self._inbound(
                BOOK_CLUB,
                "w-last",
                now - 3_600,
                ("Alice Martin", "447911123456"),
                "See you Thursday!",
            ),
        ]
        book.extend(tail)
        hostile = self.messages["g-hostile-1"]
        for i, text in enumerate(HOSTILE):
            hostile.append(
                self._inbound(
                    "g-hostile-1",
                    f"w-h-{i:02d}",
                    now - 7_200 - (len(HOSTILE) - i) * 60,
                    ("[@click=app.quit]Mallory[/]", "447700900666"),
                    text,
                )
            )
        runners = self.messages["g-runners"]
        runners.append(
            self._inbound(
                "g-runners",
                "w-r-1",
                now - 86_400 + 30 * 60,
                ("Inês", "351912345678"),
                "Route for Sunday?",
            )
        )

    @staticmethod
    def _inbound(
        group_id: str,
        wamid: str,
        at: int,
        sender: tuple[str, str],
        text: str | None,
        *,
        media: Media | None = None,
    ) -> MessageView:
        name, number = sender
        return MessageView(
            Message(
                wamid,
                group_id,
                Direction.INBOUND,
                media.kind if media else MessageKind.TEXT,
                number,
                name,
                number,
                at,
                text=text,
                media=media,
            )
        )

    # ------------------------------------------------------------------ change feed

    def emit(self, kind: str, group_id: str | None, **payload: object) -> Change:
        """Append a change-feed row, as the store would after applying a webhook."""
        change = Change(
            next(self._change_ids), kind, group_id, None, int(self.clock()), None, dict(payload)
        )
        self._changes.append(change)
        if self._wake is not None:
            self._wake.set()
        return change

    def receive(self, group_id: str, sender: tuple[str, str], text: str) -> None:
        """Simulate an inbound member message arriving by webhook."""
        now = int(self.clock())
        view = self._inbound(group_id, f"w-in-{next(self._ids)}", now, sender, text)
        self.messages[group_id].append(view)
        group = self.groups[group_id]
        self.groups[group_id] = replace(
            group,
            last_inbound_at=now,
            last_inbound_by=sender[0],
            last_activity_at=now,
            last_message_preview=text,
            unread=group.unread + 1,
        )
        self.emit("message.received", group_id)

    def deliver(self, group_id: str, message_id: str, delivered: int, read: int) -> None:
        """Simulate status webhooks for an outbound message."""
        views = self.messages[group_id]
        for i, view in enumerate(views):
            if view.message.id == message_id:
                total = len(self.people[group_id])
                views[i] = replace(view, delivery=DeliverySummary(total, delivered, read, 0))
        self.emit("message.status", group_id)

    # ------------------------------------------------------------------ reading

    def _row(self, group_id: str) -> InboxRow:
        g = self.groups[group_id]
        members = self.people[group_id]
        hay = " ".join(
            [g.subject, *(m.profile_name or "" for m in members), *(m.wa_id or "" for m in members)]
        ).lower()
        return InboxRow(
            group_id=group_id,
            subject=g.subject,
            participant_count=g.participant_count,
            unread=g.unread,
            pending_requests=len(self.requests.get(group_id, ())),
            last_sender=g.last_inbound_by,
            last_text=g.last_message_preview,
            last_activity_at=g.last_activity_at,
            last_inbound_at=g.last_inbound_at,
            last_inbound_by=g.last_inbound_by,
            suspended=g.suspended,
            state=g.state.value,
            flagged=group_id in self.flagged,
            haystack=hay,
        )

    async def inbox_rows(self) -> list[InboxRow]:
        return [self._row(gid) for gid in self.groups]

    async def inbox_page(
        self, after: tuple[int, int] | None = None, limit: int | None = None
    ) -> tuple[list[InboxRow], tuple[int, int] | None]:
        return await self.inbox_rows(), None

    def label(self, phone_number_id: str) -> str:
        return label_of(self.numbers, phone_number_id)

    async def inbox_row(self, group_id: str) -> InboxRow | None:
        return self._row(group_id) if group_id in self.groups else None

    async def group_detail(self, group_id: str) -> GroupDetail:
        g = self.groups[group_id]
        window = window_state(g.last_inbound_at, int(self.clock()), g.last_inbound_by)
        return GroupDetail(g, tuple(self.people[group_id]), window)

    async def messages_page(
        self, group_id: str, older: tuple[int, str] | None = None, limit: int = 50
    ) -> MessagePage:
        views = sorted(self.messages[group_id], key=lambda v: (v.message.at, v.message.id))
        if older is not None:
            views = [v for v in views if (v.message.at, v.message.id) < older]
        page = views[-limit:]
        cursor = (page[0].message.at, page[0].message.id) if len(views) > limit else None
        return MessagePage(tuple(page), cursor)

    async def mark_read(self, group_id: str) -> None:
        self.read.append(group_id)
        if self.groups[group_id].unread:
            self.groups[group_id] = replace(self.groups[group_id], unread=0)
            self.emit("group.read", group_id)

    async def members(self, group_id: str) -> list[Participant]:
        return list(self.people[group_id])

    async def join_requests(self, group_id: str) -> list[JoinRequestView]:
        return [JoinRequestView(r, None, 0, False, False) for r in self.requests[group_id]]

    async def templates(self, refresh: bool = False) -> list[Template]:
        return [
            Template("order_update", "en_US", TemplateCategory.UTILITY, body_params=2),
            Template("spring_sale", "en_US", TemplateCategory.MARKETING, body_params=1),
            Template("login_code", "en_US", TemplateCategory.AUTHENTICATION, body_params=1),
            Template("draft_promo", "en_US", TemplateCategory.MARKETING, status="PENDING"),
        ]

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        needle = query.strip().lower()
        hits: list[SearchHit] = []
        for group_id, views in self.messages.items():
            for view in views:
                text = view.message.text or ""
                pos = text.lower().find(needle)
                if needle and pos >= 0:
                    hits.append(
                        SearchHit(
                            group_id,
                            view.message.id,
                            self.groups[group_id].subject,
                            text,
                            view.message.at,
                            view.message.sender_name,
                            spans=((pos, pos + len(needle)),),
                        )
                    )
        hits.sort(key=lambda h: (-h.at, h.message_id))
        return hits[:limit]

    async def spend_today(self) -> Decimal:
        return self.spend

    async def listener_status(self) -> ListenerStatus:
        return ListenerStatus(
            "in-process",
            last_event_at=self.clock() - 42,
            events_stored=10,
            signatures_refused=1,
            url="http://127.0.0.1:8080/webhook",
        )

    async def latest_id(self) -> int:
        return self._changes[-1].id if self._changes else 0

    async def since(self, after_id: int, limit: int = 500) -> list[Change]:
        return [c for c in self._changes if c.id > after_id][:limit]

    async def follow(
        self, after_id: int, poll_interval: float = 0.25
    ) -> AsyncIterator[list[Change]]:
        self._wake = asyncio.Event()
        last = after_id
        while True:
            batch = await self.since(last)
            if batch:
                last = batch[-1].id
                yield batch
                continue
            self._wake.clear()
            await self._wake.wait()

    def _member_refs(self, group_id: str) -> list[MemberRef]:
        return [MemberRef(m.key, m.wa_id, m.display_name) for m in self.people[group_id]]

    async def preview_cost(self, group_id: str, template: Template | None) -> CostPreview:
        g = self.groups[group_id]
        now = int(self.clock())
        return preview_cost(
            self._member_refs(group_id),
            None if template is None else template.category,
            self.today(),
            window_open=window_state(g.last_inbound_at, now).open,
            service_used_this_month=self.service_used_this_month,
            card=self.card,
            calibration=await self.pricing_calibration(),
        )

    async def pricing_calibration(self) -> Calibration:
        return calibrate(self.pricing_tallies, self.today())

    def today(self) -> date:
        """The frozen clock's UTC date."""
        return datetime.fromtimestamp(self.clock(), UTC).date()

    def refusal(
        self, kind: SendKind, detail: GroupDetail, template: Template | None = None
    ) -> Refusal | None:
        group = self.groups.get(detail.group.id or "", detail.group)
        return can_send(
            kind,
            group,
            int(self.clock()),
            template_category=None if template is None else template.category,
        )

    # ------------------------------------------------------------------ sending

    def _outbound(
        self, group_id: str, kind: MessageKind, text: str | None, **fields: object
    ) -> OutboxItem:
        now = int(self.clock())
        local = f"local-{next(self._ids)}"
        wamid = f"wamid.{local}"
        self.messages[group_id].append(
            MessageView(
                Message(
                    wamid,
                    group_id,
                    Direction.OUTBOUND,
                    kind,
                    None,
                    None,
                    None,
                    now,
                    text=text,
                    **fields,
                ),  # type: ignore[arg-type]
                delivery=DeliverySummary(len(self.people[group_id]), 0, 0, 0),
                outbox_state="accepted",
            )
        )
        self.emit("outbox.accepted", group_id)
        return OutboxItem(
            next(self._ids),
            group_id,
            kind.value,
            {},
            "accepted",
            wamid,
            None,
            None,
            now,
            now,
            wamid,
        )

    def _check(self, kind: SendKind, group_id: str, template: Template | None = None) -> None:
        detail = GroupDetail(
            self.groups[group_id], tuple(self.people[group_id]), window_state(None, 0)
        )
        refusal = self.refusal(kind, detail, template)
        if refusal is not None:
            raise ServiceError(refusal.reason)

    async def send_text(self, group_id: str, text: str) -> OutboxItem:
        self._check(MessageKind.TEXT, group_id)
        self.api_calls.append(("send_text", group_id))
        return self._outbound(group_id, MessageKind.TEXT, text)

    async def send_media(self, group_id: str, path: Path, caption: str | None = None) -> OutboxItem:
        size = await asyncio.to_thread(os.path.getsize, path)
        decided = media_for_file(path.name, size)
        if isinstance(decided, Refusal):
            raise ServiceError(decided.reason)
        kind, mime = decided.kind, decided.mime
        self._check(kind, group_id)
        self.api_calls.append(("send_media", group_id))
        return self._outbound(
            group_id,
            kind,
            caption,
            media=Media(kind, mime, size, caption, filename=path.name),
        )

    async def send_template(
        self, group_id: str, template: Template, params: Sequence[str] = ()
    ) -> OutboxItem:
        self._check(MessageKind.TEMPLATE, group_id, template)
        self.api_calls.append(("send_template", group_id))
        return self._outbound(
            group_id, MessageKind.TEMPLATE, " / ".join(params), template_name=template.name
        )

    # ------------------------------------------------------------------ administration
    # State-keeping stand-ins for the administration calls: each records its API call,
    # appends an audit entry and, for asynchronous operations, keeps a pending operation
    # until a test resolves it with :meth:`confirm` (as the webhook would).

    def _audit(
        self,
        action: str,
        group_id: str | None,
        targets: Sequence[object],
        result: object = None,
        cost: Decimal | None = None,
    ) -> None:
        self.audit.append(
            AuditEntry(
                len(self.audit) + 1,
                self.clock(),
                "operator",
                action,
                group_id,
                list(targets),
                result,
                cost,
            )
        )

    def _op(self, kind: str, group_id: str | None, **payload: object) -> PendingOperation:
        op = PendingOperation(
            f"req-{next(self._ids)}",
            kind,
            group_id,
            dict(payload),
            "pending",
            None,
            self.clock(),
            None,
        )
        self.ops[op.request_id] = op
        self.emit("operation.pending", group_id)
        return op

    def confirm(self, request_id: str, *, error: str | None = None) -> None:
        """Resolve a pending operation as its webhook would (``error``: it failed)."""
        op = self.ops[request_id]
        self.ops[request_id] = replace(op, state="failed" if error else "done", error=error)
        gid = op.group_id
        if error is None and op.kind == "remove" and gid is not None:
            gone = {str(u) for u in op.payload.get("users", ())}
            self.people[gid] = [m for m in self.people[gid] if m.key not in gone]
            self.groups[gid] = replace(self.groups[gid], participant_count=len(self.people[gid]))
            self.history.setdefault(gid, []).extend(
                HistoryEntry(
                    k, "remove", int(self.clock()), "business", None, request_id, None, None
                )
                for k in sorted(gone)
            )
        elif error is None and op.kind == "delete" and gid is not None:
            self.groups[gid] = replace(self.groups[gid], state=GroupState.DELETED)
        elif error is None and op.kind == "settings" and gid is not None:
            fields = {k: v for k, v in op.payload.items() if k in ("subject", "description")}
            self.groups[gid] = replace(self.groups[gid], **fields)  # type: ignore[arg-type]
        elif op.kind == "create":
            pending_id = f"pending:{request_id}"
            group = self.groups.pop(pending_id)
            if error is None:
                new_id = f"g-new-{request_id}"
                self.groups[new_id] = replace(
                    group,
                    id=new_id,
                    state=GroupState.ACTIVE,
                    invite_link=f"https://chat.whatsapp.com/{new_id}",
                )
                self.people[new_id] = self.people.pop(pending_id)
                self.messages[new_id] = self.messages.pop(pending_id)
                self.requests[new_id] = self.requests.pop(pending_id)
                self.created[pending_id] = new_id
                gid = new_id
            else:
                self.groups[pending_id] = replace(group, state=GroupState.FAILED)
                gid = pending_id
        self.emit("operation.resolved", gid)

    async def operation(self, request_id: str) -> PendingOperation | None:
        return self.ops.get(request_id)

    def _resolve_id(self, group_id: str) -> str:
        return self.created.get(group_id, group_id)

    async def create_group(
        self, subject: str, description: str | None = None, join_approval: bool = False
    ) -> PendingOperation:
        from groups_tui.domain.limits import check_subject
        from groups_tui.domain.models import JoinApproval

        refusal = check_subject(subject)
        if refusal is not None:
            raise ServiceError(refusal.reason, refusal=refusal)
        self.api_calls.append(("create_group", subject))
        self._audit("group.create", None, [subject], "req")
        op = self._op("create", None, subject=subject)
        pending_id = f"pending:{op.request_id}"
        self._add_group(
            pending_id,
            subject,
            [],
            last_inbound_ago=None,
            state=GroupState.PENDING,
            request_id=op.request_id,
            description=description or "",
            join_approval=JoinApproval.APPROVAL_REQUIRED
            if join_approval
            else JoinApproval.AUTO_APPROVE,
        )
        return op

    async def delete_group(self, group_id: str) -> PendingOperation:
        self.api_calls.append(("delete_group", group_id))
        self._audit("group.delete", group_id, [self.groups[group_id].subject], True)
        return self._op("delete", group_id)

    async def invite_link(self, group_id: str, reset: bool = False) -> str:
        if reset:
            self.api_calls.append(("reset_invite_link", group_id))
            self.link_resets += 1
            self._audit("invite_link.reset", group_id, [], "new link")
        suffix = f"-{self.link_resets}" if self.link_resets else ""
        return f"https://chat.whatsapp.com/{group_id}{suffix}"

    async def remove_participants(self, group_id: str, keys: Sequence[str]) -> PendingOperation:
        self.api_calls.append(("remove_participants", group_id))
        self.removed_batches.append((group_id, list(keys)))
        self._audit("participants.remove", group_id, list(keys), "req")
        return self._op("remove", group_id, users=list(keys))

    async def remove_everywhere(self, key: str) -> list[PendingOperation]:
        digits = key.lstrip("+")
        ops = []
        for gid, members in self.people.items():
            if any(digits in (m.wa_id, m.key) for m in members):
                keys = [m.key for m in members if digits in (m.wa_id, m.key)]
                ops.append(await self.remove_participants(gid, keys))
        return ops

    async def remove_sender(self, message_id: str) -> PendingOperation:
        for gid, views in self.messages.items():
            for view in views:
                if view.message.id == message_id and view.message.sender_key:
                    return await self.remove_participants(gid, [view.message.sender_key])
        raise ServiceError("choose a message sent by a member")

    async def _decide_requests(
        self, group_id: str, request_ids: Sequence[str], approve: bool
    ) -> DecisionResult:
        from groups_tui.domain.limits import check_capacity

        if approve:
            refusal = check_capacity(len(self.people[group_id]), len(request_ids))
            if refusal is not None:
                raise ServiceError(refusal.reason, refusal=refusal)
        self.api_calls.append(
            ("approve_join_requests" if approve else "reject_join_requests", group_id)
        )
        chosen = [r for r in self.requests[group_id] if r.join_request_id in request_ids]
        self.requests[group_id] = [r for r in self.requests[group_id] if r not in chosen]
        if approve:
            self.people[group_id] = [
                *self.people[group_id],
                *(
                    Participant(r.wa_id, profile_name=r.profile_name, joined_at=int(self.clock()))
                    for r in chosen
                ),
            ]
        self._audit(
            "join_requests." + ("approve" if approve else "reject"),
            group_id,
            list(request_ids),
            {"done": list(request_ids)},
        )
        self.emit("join_request.decided", group_id)
        return DecisionResult(tuple(request_ids))

    async def approve_join_requests(
        self, group_id: str, request_ids: Sequence[str]
    ) -> DecisionResult:
        return await self._decide_requests(group_id, request_ids, True)

    async def reject_join_requests(
        self, group_id: str, request_ids: Sequence[str]
    ) -> DecisionResult:
        return await self._decide_requests(group_id, request_ids, False)

    async def update_settings(
        self,
        group_id: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        picture: Path | None = None,
    ) -> PendingOperation:
        self.api_calls.append(("update_settings", group_id))
        payload = {
            k: v
            for k, v in (
                ("subject", subject),
                ("description", description),
                ("picture", str(picture) if picture else None),
            )
            if v
        }
        self._audit("group.settings", group_id, [], payload)
        return self._op("settings", group_id, **payload)

    # ------------------------------------------------------------------ admin views

    async def group_detail(self, group_id: str) -> GroupDetail:  # noqa: F811
        group_id = self._resolve_id(group_id)
        g = self.groups[group_id]
        window = window_state(g.last_inbound_at, int(self.clock()), g.last_inbound_by)
        ops = tuple(o for o in self.ops.values() if o.state == "pending" and o.group_id == group_id)
        return GroupDetail(g, tuple(self.people[group_id]), window, ops)

    async def join_requests(self, group_id: str) -> list[JoinRequestView]:  # noqa: F811
        return [
            JoinRequestView(r, "GB", 1 if i == 0 else 0, i == 1, (r.wa_id or "") in self.blocked)
            for i, r in enumerate(self.requests[group_id])
        ]

    async def member_rows(self, group_id: str) -> list[MemberRow]:
        rows = []
        removing = {
            str(u)
            for o in self.ops.values()
            if o.state == "pending" and o.group_id == group_id and o.kind == "remove"
            for u in o.payload.get("users", ())
        }
        for m in self.people.get(group_id, []):
            mine = [v for v in self.messages.get(group_id, []) if v.message.sender_key == m.key]
            last = mine[-1].message if mine else None
            contact = self.contacts.get(m.key)
            rows.append(
                MemberRow(
                    member=m,
                    country=None
                    if not m.wa_id
                    else self.card.match(m.wa_id).country_iso2
                    if self.card.match(m.wa_id)
                    else None,
                    last_message_at=last.at if last else None,
                    last_message=last.text if last else None,
                    message_count=len(mine),
                    flags=tuple(
                        f.rule
                        for f in self.flags
                        if f.state == "open"
                        and f.group_id == group_id
                        and f.participant_key == m.key
                    ),
                    contact_name=contact.display_name if contact else None,
                    note=contact.note if contact else None,
                    removing=m.key in removing,
                    blocklisted=m.key in self.blocked,
                )
            )
        return rows

    async def member_history(self, group_id: str, limit: int = 200) -> list[HistoryEntry]:
        return self.history.get(group_id, [])[-limit:]

    async def contact(self, key: str) -> Contact | None:
        return self.contacts.get(key)

    async def set_contact(self, key: str, *, display_name: str | None, note: str | None) -> None:
        self.contacts[key] = Contact(key, display_name or None, note or None)
        self._audit("contact.update", None, [key])

    async def known_people(self, groups: int = 100) -> list[KnownPerson]:
        people: dict[str, KnownPerson] = {}
        for members in list(self.people.values())[:groups]:
            for m in members:
                if m.wa_id and m.wa_id not in people:
                    people[m.wa_id] = KnownPerson(m.key, m.wa_id, m.display_name, 1)
        return sorted(people.values(), key=lambda p: (p.name.lower(), p.wa_id))[:12]

    async def invite_template(self) -> Template | None:
        return Template("group_invite_upon_request", "en", TemplateCategory.UTILITY)

    def invite_preview(self, numbers: Sequence[str], template: Template) -> CostPreview:
        return preview_cost(
            [MemberRef(n, n) for n in numbers],
            template.category,
            self.today(),
            window_open=False,
            service_used_this_month=0,
            card=self.card,
        )

    async def send_invites(
        self, group_id: str, numbers: Sequence[str], template: Template
    ) -> list[InviteOutcome]:
        out = []
        for number in numbers:
            self.api_calls.append(("send_invite", number))
            cost = self.invite_preview([number], template).total
            self._audit("invite.send", group_id, [number], {"wamid": f"wamid.i{number}"}, cost)
            out.append(InviteOutcome(number, "accepted", wamid=f"wamid.i{number}"))
        return out

    async def flags_page(
        self, states: Sequence[str] = ("open",), before_id: int | None = None, limit: int = 50
    ) -> list[StoredFlag]:
        chosen = [
            f
            for f in reversed(self.flags)
            if f.state in states and (before_id is None or f.id < before_id)
        ]
        return chosen[:limit]

    async def act_on_flag(self, flag_id: int) -> StoredFlag:
        flag = next(f for f in self.flags if f.id == flag_id)
        if flag.state != "open":
            raise ServiceError(f"flag {flag_id} is already {flag.state}")
        if flag.join_request_id and flag.group_id:
            await self.reject_join_requests(flag.group_id, [flag.join_request_id])
            outcome = "join request rejected"
        else:
            await self.remove_participants(flag.group_id or "", [flag.participant_key or ""])
            outcome = "member removed"
        return self._set_flag(flag_id, "acted", outcome)

    def _set_flag(self, flag_id: int, state: str, outcome: str) -> StoredFlag:
        for i, f in enumerate(self.flags):
            if f.id == flag_id:
                self.flags[i] = replace(f, state=state, outcome=outcome)
                self.emit("moderation.updated", f.group_id)
                return self.flags[i]
        raise ServiceError(f"no moderation flag {flag_id}")

    async def dismiss_flag(self, flag_id: int) -> None:
        self._set_flag(flag_id, "dismissed", "dismissed by operator")
        self._audit("moderation.dismiss", None, [flag_id])

    async def block(self, key: str, reason: str | None = None) -> None:
        self.blocked.add(key.lstrip("+"))
        self._audit("blocklist.add", None, [key], reason)

    async def audit_page(
        self, before_id: int | None = None, limit: int = 100, group_id: str | None = None
    ) -> list[AuditEntry]:
        chosen = [e for e in reversed(self.audit) if before_id is None or e.id < before_id]
        return chosen[:limit]

    async def subjects(self, group_ids: Sequence[str]) -> dict[str, str]:
        return {g: self.groups[g].subject for g in group_ids if g in self.groups}

    def flag(
        self,
        rule: str,
        group_id: str,
        member: Participant,
        reason: str,
        *,
        message_id: str | None = None,
        join_request_id: str | None = None,
    ) -> StoredFlag:
        """Raise a moderation flag, as the watcher would."""
        flag = StoredFlag(
            len(self.flags) + 1,
            rule,
            "notify",
            group_id,
            member.key,
            member.wa_id,
            message_id,
            join_request_id,
            int(self.clock()),
            reason,
            (),
            "open",
            None,
        )
        self.flags.append(flag)
        self.emit("moderation.flagged", group_id)
        return flag

    def _seed_admin(self) -> None:
        now = self.clock()
        bruno = self.people[BOOK_CLUB][1]
        self.history[BOOK_CLUB] = [
            HistoryEntry(
                m.key, "join", int(now) - 86_400 * 30, None, "invite_link", None, None, None
            )
            for m in self.people[BOOK_CLUB]
        ]
        self.flags.append(
            StoredFlag(
                1,
                "burst",
                "notify",
                BOOK_CLUB,
                bruno.key,
                bruno.wa_id,
                "w-old-0119",
                None,
                int(now) - 300,
                "5 messages within 60 s from +5511987654321",
                (),
                "open",
                None,
            )
        )
        self.flags.append(
            StoredFlag(
                2,
                "blocklist",
                "notify",
                "g-parents",
                "447700900100",
                "447700900100",
                None,
                "jr-g-parents-0",
                int(now) - 600,
                "blocklisted number +447700900100 asked to join",
                (),
                "open",
                None,
            )
        )
        for i, (action, gid, targets, result, cost) in enumerate(
            [
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
        ):
            self.audit.append(
                AuditEntry(
                    i + 1, now - 3_600 + i * 60, "operator", action, gid, targets, result, cost
                )
            )
