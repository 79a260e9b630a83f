"""The simulated Meta state: groups, members, invite links, join requests, messages, media.

:class:`World` is the single source of truth of the sandbox. Its ``api_*`` methods are what
the HTTP app calls (they take parsed request bodies, return response bodies and raise
:class:`~groups_tui.sandbox.errors.GraphError`); its ``person_*`` methods are what simulated
people do (used by the behaviour scheduler, by tests in-process and by the ``/_sandbox``
control routes). Every change Meta would announce is emitted as a webhook *change* object
(``{"field", "value"}``) to a sink, normally the :class:`~groups_tui.sandbox.webhooks.WebhookSender`.

Asynchronous operations (create, delete, settings, removal) answer at once and take effect,
with their webhook, ``op_delay`` simulated seconds later through the :class:`Scheduler`.
Outbound messages get a group-level ``sent`` and per-participant ``delivered``/``read`` (or
``failed``) statuses, with ``pricing`` objects that follow the charging rules of the
simulated date (:func:`groups_tui.domain.pricing.charging_rule`).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import random
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from groups_tui.domain.identity import is_bsuid
from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import charging_rule

from .clock import Clock
from .errors import GraphError, SandboxError, error_object
from .population import CAPTIONS, CHAT_LINES, Person, Population

__all__ = [
    "FIELD_LIFECYCLE",
    "FIELD_MESSAGES",
    "FIELD_PARTICIPANTS",
    "FIELD_SETTINGS",
    "FIELD_STATUS",
    "INVITE_PREFIX",
    "JoinRequestRec",
    "MediaItem",
    "OutboundMessage",
    "SandboxKnobs",
    "Scheduler",
    "SimGroup",
    "TemplateDef",
    "TokenBucket",
    "World",
    "jpeg_size",
]

FIELD_LIFECYCLE = "group_lifecycle_update"
FIELD_PARTICIPANTS = "group_participants_update"
FIELD_SETTINGS = "group_settings_update"
FIELD_STATUS = "group_status_update"
FIELD_MESSAGES = "messages"
INVITE_PREFIX = "https://chat.whatsapp.com/"

Json = dict[str, Any]
Sink = Callable[[Json, bool], None]
"""Receives ``(change, bulk)``; ``bulk`` marks pre-population announcements."""

_ALNUM = string.ascii_letters + string.digits
_MEDIA_LIMITS: dict[str, int] = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "application": 100 * 1024 * 1024,
    "text": 100 * 1024 * 1024,
}
_MEDIA_MIMES: frozenset[str] = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/3gpp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
_SEND_TYPES_MEDIA = ("image", "video", "audio", "document", "sticker")
_SEND_TYPES_OK = frozenset({"text", "template", "pin", "location", "contacts", *_SEND_TYPES_MEDIA})
_SEND_TYPES_REFUSED = frozenset({"interactive", "reaction", "order", "product", "product_list"})
_GROUP_FIELDS = frozenset(
    {
        "id",
        "messaging_product",
        "subject",
        "description",
        "join_approval_mode",
        "suspended",
        "creation_timestamp",
        "participants",
        "total_participant_count",
    }
)


@dataclass
class SandboxKnobs:
    """Tunable behaviour of the simulated Meta.

    Attributes:
        max_participants: Members per group besides the business (Meta: 8).
        max_groups: Active groups per business number (Meta: 10,000).
        messages_per_second: Throughput limit of ``/messages`` (130429); ``<= 0`` is off.
        message_burst: Token-bucket size for messages; defaults to the rate.
        group_ops_per_second: Limit on group operations (131208); ``<= 0`` is off.
        group_ops_burst: Token-bucket size for group operations; defaults to the rate.
        throttle_http_status: HTTP status of 130429 (Meta's old table says 400; 429 is
            also reported).
        op_delay: Simulated seconds before an asynchronous operation takes effect and its
            webhook is sent (0 = at once, still after the response is built).
        participant_field: Name of the participant key on group statuses:
            ``recipient_participant_id``, ``participant_recipient_id`` or ``mixed``.
        timestamp_style: Webhook timestamps as ``str`` (usual), ``int`` or ``mixed``.
        bsuid: 2026 payloads: add business-scoped user ids (``user_id`` and friends),
            and name people who hide their phone number (``Person.phone_hidden``) by
            ``user_id`` only, leaving out ``wa_id``, ``from`` and the status participant
            id (reference 3.9).
        failure_rate: Chance that one participant's delivery fails (131026).
        read_rate: Chance that a delivered participant reads the message.
        read_without_delivered_rate: Chance that ``read`` comes with no ``delivered``.
        aggregate_rate: Chance that per-participant statuses of one message come in one
            webhook change (aggregated statuses).
        us_marketing_paused: Marketing templates to US numbers fail with 131049.
        delivery_delay: Range of simulated seconds from send to ``delivered``.
        read_delay: Range of simulated seconds from ``delivered`` to ``read``.
        service_allowance: Free service deliveries per number per month (domain rule).
    """

    max_participants: int = 8
    max_groups: int = 10_000
    messages_per_second: float = 80.0
    message_burst: float | None = None
    group_ops_per_second: float = 20.0
    group_ops_burst: float | None = None
    throttle_http_status: int = 400
    op_delay: float = 1.0
    participant_field: str = "recipient_participant_id"
    timestamp_style: str = "str"
    bsuid: bool = False
    failure_rate: float = 0.03
    read_rate: float = 0.7
    read_without_delivered_rate: float = 0.1
    aggregate_rate: float = 0.5
    us_marketing_paused: bool = True
    delivery_delay: tuple[float, float] = (1.0, 20.0)
    read_delay: tuple[float, float] = (5.0, 3600.0)
    service_allowance: int = 1000


class TokenBucket:
    """A token bucket on a real (monotonic) time source.

    Args:
        rate: Tokens per second; ``<= 0`` disables the limit.
        burst: Bucket size; defaults to ``max(rate, 1)``.
        now: Time source (injectable so tests can freeze it).
    """

    def __init__(self, rate: float, burst: float | None, now: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._now = now
        self._tokens = self.burst
        self._last = now()

    def take(self) -> bool:
        """Take one token; ``False`` when the caller is going too fast."""
        if self.rate <= 0:
            return True
        t = self._now()
        self._tokens = min(self.burst, self._tokens + (t - self._last) * self.rate)
        self._last = t
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Scheduler:
    """Actions due at simulated times, run in (time, insertion) order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = 0

    def at(self, when: float, action: Callable[[float], None]) -> None:
        """Schedule ``action(when)`` to run once the clock reaches ``when``."""
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, action))

    def run_due(self, now: float, limit: int = 100_000) -> int:
        """Run every action due by ``now`` (actions may schedule more).

        Args:
            now: The simulated time.
            limit: Upper bound on actions run in one call.

        Returns:
            How many actions ran.
        """
        ran = 0
        while self._heap and self._heap[0][0] <= now and ran < limit:
            when, _, action = heapq.heappop(self._heap)
            action(when)
            ran += 1
        return ran

    def __len__(self) -> int:
        return len(self._heap)

    @property
    def next_due(self) -> float | None:
        """When the next action is due, if any."""
        return self._heap[0][0] if self._heap else None


@dataclass
class JoinRequestRec:
    """A pending join request."""

    id: str
    wa_id: str
    created_at: float


@dataclass
class SimGroup:
    """One simulated group.

    ``members`` maps ``wa_id`` to join time, in join order, and never includes the
    business. ``removed`` holds people the business removed: they cannot rejoin by link.
    """

    id: str
    seq: int
    subject: str
    description: str
    mode: str
    created_at: float
    invite_link: str | None
    members: dict[str, float] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    join_requests: dict[str, JoinRequestRec] = field(default_factory=dict)
    suspended: bool = False
    deleted: bool = False
    last_inbound_at: float | None = None
    picture_sha256: str | None = None
    liveliness: float = 1.0
    pins: list[str] = field(default_factory=list)

    def window_open(self, now: float) -> bool:
        """True while the group's 24-hour window is open at ``now``."""
        return self.last_inbound_at is not None and now < self.last_inbound_at + 86_400


@dataclass
class OutboundMessage:
    """A message the business sent."""

    id: str
    to: str
    group_id: str | None
    type: str
    category: TemplateCategory | None
    sent_at: float
    window_open: bool
    recipients: tuple[str, ...]
    template: str | None = None


@dataclass
class MediaItem:
    """Uploaded (or member-sent) media; bytes are generated on demand when absent."""

    id: str
    mime_type: str
    size: int
    sha256: str
    created_at: float
    data: bytes | None = None
    filename: str | None = None

    def content(self) -> bytes:
        """The media bytes (deterministic filler for simulated member media)."""
        if self.data is not None:
            return self.data
        seed = hashlib.sha256(self.id.encode()).digest()
        return (seed * (self.size // len(seed) + 1))[: self.size]


@dataclass(frozen=True)
class TemplateDef:
    """An approved (or not) message template of the WABA."""

    id: str
    name: str
    language: str
    category: TemplateCategory
    status: str
    components: tuple[Mapping[str, Any], ...]
    body_params: int
    header_format: str | None = None

    def as_json(self) -> Json:
        """Shape of ``GET /{waba}/message_templates`` items."""
        return {
            "name": self.name,
            "parameter_format": "POSITIONAL",
            "components": [dict(c) for c in self.components],
            "language": self.language,
            "status": self.status,
            "category": self.category.value.upper(),
            "id": self.id,
        }


def _default_templates() -> list[TemplateDef]:
    def body(text: str) -> Mapping[str, Any]:
        return {"type": "BODY", "text": text}

    return [
        TemplateDef(
            "771001",
            "weekly_offers",
            "en_US",
            TemplateCategory.MARKETING,
            "APPROVED",
            (body("This week only: {{1}} off everything in store!"),),
            1,
        ),
        TemplateDef(
            "771002",
            "delivery_update_group",
            "en_US",
            TemplateCategory.UTILITY,
            "APPROVED",
            (body("Order {{1}} arrives at {{2}}."),),
            2,
        ),
        TemplateDef(
            "771003",
            "invoice_ready",
            "en_US",
            TemplateCategory.UTILITY,
            "APPROVED",
            (
                {"type": "HEADER", "format": "DOCUMENT"},
                body("Your invoice {{1}} is attached."),
            ),
            1,
            "DOCUMENT",
        ),
        TemplateDef(
            "771004",
            "event_reminder",
            "es",
            TemplateCategory.UTILITY,
            "APPROVED",
            (
                {"type": "HEADER", "format": "IMAGE"},
                body("Recordatorio: {{1}} empieza a las {{2}}."),
            ),
            2,
            "IMAGE",
        ),
        TemplateDef(
            "771005",
            "group_invite_upon_request",
            "en",
            TemplateCategory.UTILITY,
            "APPROVED",
            (body("Here is the link to join the group you asked about."),),
            0,
        ),
        TemplateDef(
            "771006",
            "login_code",
            "en_US",
            TemplateCategory.AUTHENTICATION,
            "APPROVED",
            (body("{{1}} is your verification code."),),
            1,
        ),
        TemplateDef(
            "771007",
            "summer_sale_2025",
            "en_US",
            TemplateCategory.MARKETING,
            "PAUSED",
            (body("Summer sale: {{1}}"),),
            1,
        ),
    ]


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a JPEG from its SOF marker, or ``None`` if not a JPEG.

    Args:
        data: File bytes.

    Returns:
        ``(width, height)`` or ``None``.
    """
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    i = 2
    for _ in range(10_000):  # bounded walk over segments
        if i + 4 > len(data) or data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if i + 9 > len(data):
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if marker == 0xD9:
            return None
        i += 2 + length
    return None


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


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
    ) -> None:
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.display_phone_number = display_phone_number
        self.clock = clock
        self.seed = seed
        self.knobs = knobs or SandboxKnobs()
        self.population = population or Population(seed)
        self.rng = random.Random(f"world:{seed}")
        self._fmt_rng = random.Random(f"format:{seed}")
        self.scheduler = Scheduler()
        self.groups: dict[str, SimGroup] = {}
        self._by_link: dict[str, str] = {}
        self._group_seq = 0
        self.pending_creates = 0
        self.messages: dict[str, OutboundMessage] = {}
        self.inbound_ids: list[str] = []
        self.media: dict[str, MediaItem] = {}
        self.templates: list[TemplateDef] = _default_templates()
        self.service_used: dict[tuple[int, int], int] = {}
        self.emitted: list[Json] = []
        """Changes emitted while no sink is attached (in-process tests read these)."""
        self.emitted_count = 0
        self._sink: Sink | None = None
        k = self.knobs
        self.message_limiter = TokenBucket(k.messages_per_second, k.message_burst, limiter_time)
        self.group_ops_limiter = TokenBucket(
            k.group_ops_per_second, k.group_ops_burst, limiter_time
        )
        self.on_group_created: list[Callable[[SimGroup], None]] = []
        """Hooks run when a group comes to life (the behaviour model listens)."""
        self.on_message_sent: list[Callable[[OutboundMessage], None]] = []
        """Hooks run after the business sent a group message (members may answer)."""

    # ------------------------------------------------------------------ plumbing

    def attach_sink(self, sink: Sink | None) -> None:
        """Send emitted changes to ``sink`` (``None`` collects them in :attr:`emitted`)."""
        self._sink = sink

    def now(self) -> float:
        """The simulated time."""
        return self.clock.now()

    def tick(self) -> int:
        """Run every scheduled action that is due; returns how many ran."""
        return self.scheduler.run_due(self.now())

    def advance(self, seconds: float) -> int:
        """Move a manual or scaled clock forward and run what became due.

        Args:
            seconds: Simulated seconds.

        Returns:
            How many scheduled actions ran.

        Raises:
            SandboxError: If the clock cannot be moved.
        """
        mover = getattr(self.clock, "advance", None)
        if mover is None:
            raise SandboxError("this clock cannot be advanced")
        # Step through due actions so each runs with the clock at (or after) its time.
        target = self.now() + seconds
        ran = 0
        for _ in range(1_000_000):
            nxt = self.scheduler.next_due
            if nxt is None or nxt > target:
                break
            if nxt > self.now():
                mover(nxt - self.now())
            ran += self.scheduler.run_due(self.now(), limit=1000)
        if target > self.now():
            mover(target - self.now())
        return ran + self.tick()

    def emit(self, field_name: str, value: Json, *, bulk: bool = False) -> None:
        """Emit one webhook change (adds ``messaging_product`` and ``metadata``).

        Args:
            field_name: The webhook field.
            value: The change value without the common keys.
            bulk: Part of a pre-population announcement (batched harder).
        """
        full: Json = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
        }
        full.update(value)
        change = {"field": field_name, "value": full}
        self.emitted_count += 1
        if self._sink is None:
            self.emitted.append(change)
        else:
            self._sink(change, bulk)

    def ts(self, t: float) -> str | int:
        """A webhook timestamp in the configured style."""
        style = self.knobs.timestamp_style
        if style == "int" or (style == "mixed" and self._fmt_rng.random() < 0.5):
            return int(t)
        return str(int(t))

    def _pfield(self) -> str:
        name = self.knobs.participant_field
        if name == "mixed":
            return self._fmt_rng.choice(("recipient_participant_id", "participant_recipient_id"))
        return name

    def _later(self, action: Callable[[float], None]) -> None:
        delay = self.knobs.op_delay
        if delay <= 0:
            action(self.now())
        else:
            self.scheduler.at(self.now() + delay, action)

    def _phone_hidden(self, wa_id: str) -> bool:
        """Whether payloads leave this person's phone number out (2026, reference 3.9)."""
        person = self.population.get(wa_id)
        return self.knobs.bsuid and person is not None and person.phone_hidden

    def person_ids(self, wa_id: str) -> Json:
        """How payloads name a person: ``wa_id``, plus ``user_id`` and ``username`` with the
        BSUID knob on, and without ``wa_id`` for someone who hides their number."""
        ids: Json = {} if self._phone_hidden(wa_id) else {"wa_id": wa_id}
        if self.knobs.bsuid:
            person = self.population.get(wa_id)
            if person is not None:
                ids["user_id"] = person.user_id
                if person.username:
                    ids["username"] = person.username
        return ids

    # ------------------------------------------------------------------ ids

    def new_request_id(self) -> str:
        """A request id as Meta returns for asynchronous operations."""
        return str(self.rng.randrange(10**14, 10**15))

    def new_wamid(self, who: str) -> str:
        """A message id shaped like Meta's ``wamid.<base64>``."""
        wa = who.encode()[:40]
        raw = (
            b"\x1c\x18"
            + bytes([len(wa)])
            + wa
            + b"\x15\x02\x00\x11\x18\x12"
            + f"{self.rng.getrandbits(72):018X}".encode()
            + b"\x00"
        )
        return "wamid." + base64.b64encode(raw).decode()

    def new_fbtrace_id(self) -> str:
        """An opaque trace id like Graph's ``fbtrace_id``."""
        return "".join(self.rng.choice(_ALNUM + "-_") for _ in range(23))

    def _new_group_id(self) -> tuple[str, int]:
        for _ in range(100):
            number = 120363000000000000 + self.rng.getrandbits(44)
            raw = f"capi_group:{self.display_phone_number}:{number}".encode()
            gid = base64.urlsafe_b64encode(raw).decode().rstrip("=") + "ZD"
            if gid not in self.groups:
                return gid, number
        raise RuntimeError("could not find a free group id")

    def _new_invite_link(self) -> str:
        for _ in range(100):
            link = INVITE_PREFIX + "".join(self.rng.choice(_ALNUM) for _ in range(22))
            if link not in self._by_link:
                return link
        raise RuntimeError("could not find a free invite link")

    def new_join_request_id(self, wa_id: str) -> str:
        raw = f"{wa_id}:{self.rng.randrange(10**17, 10**18)}".encode()
        return base64.b64encode(raw).decode().rstrip("=")

    def _new_media_id(self) -> str:
        for _ in range(100):
            mid = str(self.rng.randrange(10**15, 10**16))
            if mid not in self.media:
                return mid
        raise RuntimeError("could not find a free media id")

    # ------------------------------------------------------------------ groups (internal)

    def active_groups(self) -> list[SimGroup]:
        """Groups not deleted, in creation order."""
        return [g for g in self.groups.values() if not g.deleted]

    @property
    def active_count(self) -> int:
        """Number of groups not deleted."""
        return sum(1 for g in self.groups.values() if not g.deleted)

    def add_group(
        self,
        subject: str,
        *,
        description: str = "",
        mode: str = "auto_approve",
        created_at: float | None = None,
        liveliness: float = 1.0,
    ) -> SimGroup:
        """Create a group in the state without any webhook (for pre-population and tests).

        Returns:
            The new group.
        """
        gid, _ = self._new_group_id()
        self._group_seq += 1
        link = self._new_invite_link()
        group = SimGroup(
            id=gid,
            seq=self._group_seq,
            subject=subject,
            description=description,
            mode=mode,
            created_at=self.now() if created_at is None else created_at,
            invite_link=link,
            liveliness=liveliness,
        )
        self.groups[gid] = group
        self._by_link[link] = gid
        for hook in self.on_group_created:
            hook(group)
        return group

    def group(self, group_id: str) -> SimGroup:
        """An active group, or 131041.

        Raises:
            GraphError: 131041 for an unknown or deleted group.
        """
        group = self.groups.get(group_id)
        if group is None or group.deleted:
            raise GraphError(131041, f"Group {group_id} does not exist or you are not a member.")
        return group

    def _writable(self, group_id: str) -> SimGroup:
        group = self.group(group_id)
        if group.suspended:
            raise GraphError(131207, "This group is suspended for violating WhatsApp policies.")
        return group

    def _group_op(self) -> None:
        if not self.group_ops_limiter.take():
            raise GraphError(
                131208, "Too many group operations from this phone number in a short period."
            )

    def _set_link(self, group: SimGroup, link: str | None) -> None:
        if group.invite_link:
            self._by_link.pop(group.invite_link, None)
        group.invite_link = link
        if link:
            self._by_link[link] = group.id

    def group_by_link(self, link: str) -> SimGroup | None:
        """The active group an invite link opens, if the link is still valid."""
        gid = self._by_link.get(link)
        group = self.groups.get(gid) if gid else None
        return group if group is not None and not group.deleted else None

    # ------------------------------------------------------------------ API: groups

    def api_create_group(self, body: Mapping[str, Any]) -> Json:
        """``POST /{phone}/groups``: validate, answer a ``request_id``, create later.

        The ``group_create`` webhook (success with id and invite link, or failure such as
        131211 when the limit is reached) follows after ``op_delay``.
        """
        _product(body)
        subject = body.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            raise GraphError(100, "The parameter subject is required.", title="Invalid parameter")
        subject = subject.strip()
        if len(subject) > 128:
            raise GraphError(100, "Param subject must be at most 128 characters long.")
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 2048:
            raise GraphError(100, "Param description must be a string of at most 2048 characters.")
        mode = body.get("join_approval_mode", "auto_approve")
        if mode not in ("auto_approve", "approval_required"):
            raise GraphError(
                100, "Param join_approval_mode must be one of {auto_approve, approval_required}."
            )
        self._group_op()
        request_id = self.new_request_id()
        self.pending_creates += 1

        def finish(t: float) -> None:
            self.pending_creates -= 1
            item: Json = {
                "timestamp": self.ts(t),
                "type": "group_create",
                "request_id": request_id,
                "subject": subject,
            }
            if self.active_count >= self.knobs.max_groups:
                item["description"] = description
                item["errors"] = [
                    error_object(
                        131211,
                        f"This phone number already has {self.knobs.max_groups} groups.",
                    )
                ]
                self.emit(FIELD_LIFECYCLE, {"groups": [item]})
                return
            group = self.add_group(subject, description=description, mode=mode, created_at=t)
            item.update(
                {
                    "group_id": group.id,
                    "invite_link": group.invite_link,
                    "join_approval_mode": mode,
                }
            )
            if description:
                item["description"] = description
            self.emit(FIELD_LIFECYCLE, {"groups": [item]})

        self._later(finish)
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def api_list_groups(
        self, *, limit: str | None, after: str | None, before: str | None, page_url: str
    ) -> Json:
        """``GET /{phone}/groups``: active groups, paged with Graph cursors.

        Args:
            limit: Page size, 1..1024 (default 25).
            after: Cursor of the last item seen.
            before: Cursor of the first item seen.
            page_url: URL of this edge without query, for ``paging.next``/``previous``.
        """
        try:
            size = 25 if limit is None else int(limit)
        except ValueError:
            raise GraphError(100, "Param limit must be an integer.") from None
        if not 1 <= size <= 1024:
            raise GraphError(100, "Param limit must be between 1 and 1024.")
        active = self.active_groups()
        if after is not None:
            seq = _decode_cursor(after)
            rest = [g for g in active if g.seq > seq]
            page = rest[:size]
            has_prev = any(g.seq <= seq for g in active)
            has_next = len(rest) > size
        elif before is not None:
            seq = _decode_cursor(before)
            earlier = [g for g in active if g.seq < seq]
            page = earlier[-size:]
            has_prev = len(earlier) > size
            has_next = any(g.seq >= seq for g in active)
        else:
            page = active[:size]
            has_prev = False
            has_next = len(active) > size
        body: Json = {
            "data": {
                "groups": [
                    {"id": g.id, "subject": g.subject, "created_at": str(int(g.created_at))}
                    for g in page
                ]
            }
        }
        if page:
            first, last = _encode_cursor(page[0].seq), _encode_cursor(page[-1].seq)
            paging: Json = {"cursors": {"after": last, "before": first}}
            if has_prev:
                paging["previous"] = f"{page_url}?limit={size}&before={first}"
            if has_next:
                paging["next"] = f"{page_url}?limit={size}&after={last}"
            body["paging"] = paging
        return body

    def api_group_info(self, group_id: str, fields: str | None) -> Json:
        """``GET /{group_id}?fields=...``."""
        group = self.group(group_id)
        body: Json = {"messaging_product": "whatsapp", "id": group.id}
        wanted = [f.strip() for f in (fields or "").split(",") if f.strip()]
        for name in wanted:
            if name not in _GROUP_FIELDS:
                raise GraphError(
                    100, f"Tried accessing nonexisting field ({name}) on node type (WhatsAppGroup)"
                )
        for name in wanted:
            if name == "subject":
                body["subject"] = group.subject
            elif name == "description":
                if group.description:
                    body["description"] = group.description
            elif name == "join_approval_mode":
                body["join_approval_mode"] = group.mode
            elif name == "suspended":
                body["suspended"] = group.suspended
            elif name == "creation_timestamp":
                body["creation_timestamp"] = int(group.created_at)
            elif name == "participants":
                body["participants"] = [self.person_ids(w) for w in group.members]
            elif name == "total_participant_count":
                body["total_participant_count"] = len(group.members)
        return body

    def api_delete_group(self, group_id: str) -> Json:
        """``DELETE /{group_id}``: ``{"success": true}`` now, ``group_delete`` webhook later."""
        group = self.group(group_id)
        self._group_op()
        request_id = self.new_request_id()

        def finish(t: float) -> None:
            item: Json = {
                "timestamp": self.ts(t),
                "group_id": group.id,
                "type": "group_delete",
                "request_id": request_id,
            }
            if group.deleted:
                item["errors"] = [error_object(131041, "The group was already deleted.")]
            else:
                group.deleted = True
                group.members.clear()
                group.join_requests.clear()
                self._set_link(group, None)
            self.emit(FIELD_LIFECYCLE, {"groups": [item]})

        self._later(finish)
        return {"success": True}

    def api_get_invite_link(self, group_id: str) -> Json:
        """``GET /{group_id}/invite_link`` (a deleted link is replaced by a new one)."""
        group = self._writable(group_id)
        if group.invite_link is None:
            self._set_link(group, self._new_invite_link())
        return {"messaging_product": "whatsapp", "invite_link": group.invite_link}

    def api_reset_invite_link(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``POST /{group_id}/invite_link``: a new link; every earlier one stops working."""
        _product(body)
        group = self._writable(group_id)
        self._group_op()
        self._set_link(group, self._new_invite_link())
        return {"messaging_product": "whatsapp", "invite_link": group.invite_link}

    def api_delete_invite_link(self, group_id: str) -> Json:
        """``DELETE /{group_id}/invite_link``: nobody can join by link until a new one."""
        group = self._writable(group_id)
        self._group_op()
        self._set_link(group, None)
        return {"messaging_product": "whatsapp", "success": True}

    def api_add_participants(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``POST /{group_id}/participants``: the guide says businesses cannot add people."""
        self.group(group_id)
        raise GraphError(
            100,
            "Businesses cannot add participants directly; share the invite link instead.",
        )

    def api_remove_participants(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``DELETE /{group_id}/participants``: at most 8 per call, outcome by webhook."""
        _product(body)
        group = self._writable(group_id)
        users = body.get("participants")
        if not isinstance(users, list) or not users:
            raise GraphError(100, "Param participants must be a non-empty array.")
        inputs = [_participant_input(entry) for entry in users]
        if len(inputs) > 8:
            raise GraphError(100, "Param participants must have at most 8 elements.")
        keys = [self._resolve_user(u, by_user_id) for u, by_user_id in inputs]
        if len(set(keys)) != len(keys):
            raise GraphError(131202, "The participants array contains the same user twice.")
        self._group_op()
        request_id = self.new_request_id()

        def finish(t: float) -> None:
            removed: list[Json] = []
            failed: list[Json] = []
            for (raw, _), key in zip(inputs, keys, strict=True):
                if key in group.members and not group.deleted:
                    del group.members[key]
                    group.removed.add(key)
                    removed.append({"input": raw})
                else:
                    failed.append(
                        {
                            "input": raw,
                            "errors": [error_object(131212, f"{raw} is not in the group.")],
                        }
                    )
            item: Json = {
                "timestamp": self.ts(t),
                "group_id": group.id,
                "type": "group_participants_remove",
                "request_id": request_id,
                "initiated_by": "business",
            }
            if removed:
                item["removed_participants"] = removed
            if failed:
                item["failed_participants"] = failed
                if removed:
                    item["errors"] = [
                        error_object(
                            131201,
                            "Failed to remove some participants from the group",
                            title="Not All Participants Remove Succeeded",
                        )
                    ]
                else:
                    item["failed_participants"] = [{"input": f["input"]} for f in failed]
                    item["errors"] = [error_object(131212, "None of the users are in the group.")]
            self.emit(FIELD_PARTICIPANTS, {"groups": [item]})

        self._later(finish)
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def _resolve_user(self, user: str, by_user_id: bool) -> str:
        """Member key (``wa_id``) from a remove-call ``user`` or ``user_id``.

        Someone unknown keeps what was sent as the key, which matches no member, so the
        removal fails for them with 131212 as Meta's does.
        """
        if by_user_id:
            person = self.population.by_bsuid(user.strip())
            return person.wa_id if person is not None else user
        return _digits(user) or user

    def api_list_join_requests(self, group_id: str, limit: str | None, after: str | None) -> Json:
        """``GET /{group_id}/join_requests``."""
        group = self._writable(group_id)
        try:
            size = 25 if limit is None else max(1, min(1024, int(limit)))
        except ValueError:
            raise GraphError(100, "Param limit must be an integer.") from None
        pending = list(group.join_requests.values())
        start = 0
        if after is not None:
            start = _decode_cursor(after)
        page = pending[start : start + size]
        body: Json = {
            "data": [
                {
                    "join_request_id": jr.id,
                    **self.person_ids(jr.wa_id),
                    "creation_timestamp": int(jr.created_at),
                }
                for jr in page
            ]
        }
        if page:
            body["paging"] = {
                "cursors": {
                    "before": _encode_cursor(start),
                    "after": _encode_cursor(start + len(page)),
                }
            }
        return body

    def _join_request_ids(self, body: Mapping[str, Any]) -> list[str]:
        _product(body)
        ids = body.get("join_requests")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise GraphError(100, "Param join_requests must be a non-empty array of ids.")
        return list(ids)

    def api_approve_join_requests(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``POST /{group_id}/join_requests``: per-item results; adds go out by webhook."""
        ids = self._join_request_ids(body)
        group = self._writable(group_id)
        self._group_op()
        approved: list[str] = []
        failed: list[Json] = []
        added: list[Json] = []
        t = self.now()
        for jr_id in ids:
            jr = group.join_requests.get(jr_id)
            if jr is None:
                failed.append(
                    {
                        "join_request_id": jr_id,
                        "errors": [error_object(131213, "No such join request.")],
                    }
                )
                continue
            if len(group.members) >= self.knobs.max_participants:
                failed.append(
                    {
                        "join_request_id": jr_id,
                        "errors": [
                            error_object(
                                131204,
                                f"The group already has {self.knobs.max_participants} participants.",
                            )
                        ],
                    }
                )
                continue
            del group.join_requests[jr_id]
            group.members[jr.wa_id] = t
            approved.append(jr_id)
            # What `input` holds for someone whose number is hidden is not documented;
            # their user id stands in, so the hidden number never shows.
            person = self.population.get(jr.wa_id)
            shown = person.user_id if person and self._phone_hidden(jr.wa_id) else "+" + jr.wa_id
            added.append({"input": shown, **self.person_ids(jr.wa_id)})
        result: Json = {"messaging_product": "whatsapp", "approved_join_requests": approved}
        if failed:
            result["failed_join_requests"] = failed
            result["errors"] = [error_object(131201, "Some join requests could not be approved.")]
        if added:
            self.emit(
                FIELD_PARTICIPANTS,
                {
                    "groups": [
                        {
                            "timestamp": self.ts(t),
                            "group_id": group.id,
                            "type": "group_participants_add",
                            "reason": "invite_link",
                            "added_participants": added,
                        }
                    ]
                },
            )
        return result

    def api_reject_join_requests(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``DELETE /{group_id}/join_requests``: no webhook (per the guide)."""
        ids = self._join_request_ids(body)
        group = self._writable(group_id)
        self._group_op()
        rejected: list[str] = []
        failed: list[Json] = []
        for jr_id in ids:
            if group.join_requests.pop(jr_id, None) is None:
                failed.append(
                    {
                        "join_request_id": jr_id,
                        "errors": [error_object(131213, "No such join request.")],
                    }
                )
            else:
                rejected.append(jr_id)
        result: Json = {"messaging_product": "whatsapp", "rejected_join_requests": rejected}
        if failed:
            result["failed_join_requests"] = failed
            result["errors"] = [error_object(131201, "Some join requests could not be rejected.")]
        return result

    def api_update_settings(
        self,
        group_id: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        picture: tuple[bytes, str] | None = None,
    ) -> Json:
        """``POST /{group_id}``: parameters checked now; each part's outcome by webhook.

        Picture problems (not JPEG, over 5 MB, not square, 192 px or less) arrive as a
        failed ``profile_picture`` part of the ``group_settings_update`` webhook.
        """
        group = self._writable(group_id)
        if subject is None and description is None and picture is None:
            raise GraphError(100, "Nothing to update: pass subject, description or file.")
        if subject is not None:
            subject = subject.strip()
            if not subject:
                raise GraphError(100, "Param subject must not be empty.")
            if len(subject) > 128:
                raise GraphError(100, "Param subject must be at most 128 characters long.")
        if description is not None and len(description) > 2048:
            raise GraphError(100, "Param description must be at most 2048 characters long.")
        self._group_op()
        request_id = self.new_request_id()

        def finish(t: float) -> None:
            item: Json = {
                "timestamp": self.ts(t),
                "group_id": group.id,
                "type": "group_settings_update",
                "request_id": request_id,
            }
            any_failed = False
            if picture is not None:
                data, mime = picture
                sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
                part: Json = {"mime_type": mime, "sha256": sha}
                problem = _picture_problem(data, mime)
                if problem is None and not group.deleted:
                    group.picture_sha256 = sha
                    part["update_successful"] = True
                else:
                    any_failed = True
                    part["update_successful"] = False
                    part["errors"] = [error_object(*(problem or (131041, "Group deleted")))]
                item["profile_picture"] = part
            if subject is not None:
                item["group_subject"] = {"text": subject, "update_successful": not group.deleted}
                if not group.deleted:
                    group.subject = subject
            if description is not None:
                item["group_description"] = {
                    "text": description,
                    "update_successful": not group.deleted,
                }
                if not group.deleted:
                    group.description = description
            if any_failed:
                item["errors"] = [error_object(131009, "Some group settings could not be updated.")]
            self.emit(FIELD_SETTINGS, {"groups": [item]})

        self._later(finish)
        return {"messaging_product": "whatsapp", "request_id": request_id}

    # ------------------------------------------------------------------ API: messages

    def template(self, name: str, language: str) -> TemplateDef:
        """Find a template by name and language.

        Raises:
            GraphError: 132001 if there is none.
        """
        for tpl in self.templates:
            if tpl.name == name and tpl.language == language:
                return tpl
        raise GraphError(132001, f"template name ({name}) does not exist in {language}", status=404)

    def api_send_message(self, body: Mapping[str, Any]) -> Json:
        """``POST /{phone}/messages`` for groups (and 1:1 template sends).

        Checks, in order: product, throughput (130429), recipient, type support (131051),
        group state (131041/131207/131020), window for free-form (131047), content.
        """
        _product(body)
        if not self.message_limiter.take():
            raise GraphError(
                130429,
                "Cloud API message throughput has been reached.",
                status=self.knobs.throttle_http_status,
            )
        to = body.get("to")
        if not isinstance(to, str) or not to:
            raise GraphError(100, "The parameter to is required.")
        kind = body.get("type", "text")
        if not isinstance(kind, str):
            raise GraphError(100, "Param type must be a string.")
        recipient_type = body.get("recipient_type", "individual")
        is_group_id = to in self.groups
        if recipient_type == "group" and not is_group_id:
            if _digits(to) == to.lstrip("+"):
                raise GraphError(131009, "recipient_type is group but to is not a group id.")
            raise GraphError(131041, f"Group {to} does not exist or you are not a member.")
        if recipient_type != "group" and is_group_id:
            raise GraphError(131009, "to is a group id; set recipient_type to group.")
        if kind in _SEND_TYPES_REFUSED or kind not in _SEND_TYPES_OK:
            raise GraphError(131051, f"Message type {kind} is not supported here.")
        if recipient_type != "group":
            return self._send_individual(to, kind, body)
        group = self._writable(to)
        if not group.members:
            raise GraphError(131020, "Cannot send messages to single member groups.")
        now = self.now()
        category: TemplateCategory | None = None
        template_name: str | None = None
        extra: Json = {}
        if kind == "template":
            tpl = self._check_template(body.get("template"))
            if tpl.category is TemplateCategory.AUTHENTICATION:
                raise GraphError(131051, "Authentication templates cannot be sent to groups.")
            category = tpl.category
            template_name = tpl.name
            extra["message_status"] = "accepted"
        elif kind == "pin":
            self._check_pin(group, body.get("pin"))
        else:
            if not group.window_open(now):
                raise GraphError(
                    131047,
                    "More than 24 hours have passed since a member last wrote; send a template.",
                )
            self._check_content(kind, body.get(kind))
        wamid = self.new_wamid(str(group.seq))
        msg = OutboundMessage(
            id=wamid,
            to=to,
            group_id=group.id,
            type=kind,
            category=category,
            sent_at=now,
            window_open=group.window_open(now),
            recipients=tuple(group.members),
            template=template_name,
        )
        self.messages[wamid] = msg
        self._schedule_statuses(msg)
        for hook in self.on_message_sent:
            hook(msg)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid, "group_id": group.id, **extra}],
        }

    def _send_individual(self, to: str, kind: str, body: Mapping[str, Any]) -> Json:
        wa_id = _digits(to)
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse("+" + wa_id))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            raise GraphError(131026, f"{to} is not a valid WhatsApp user.")
        if kind != "template":
            raise GraphError(
                131047, "More than 24 hours have passed since the recipient last replied."
            )
        tpl_body = body.get("template")
        tpl = self._check_template(tpl_body)
        group_param = _group_id_param(tpl_body)
        wamid = self.new_wamid(wa_id)
        msg = OutboundMessage(
            id=wamid,
            to=wa_id,
            group_id=None,
            type=kind,
            category=tpl.category,
            sent_at=self.now(),
            window_open=False,
            recipients=(wa_id,),
            template=tpl.name,
        )
        self.messages[wamid] = msg
        self._schedule_individual_statuses(msg)
        if group_param is not None and group_param in self.groups:
            self._schedule_invited_join(group_param, wa_id)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    def _schedule_invited_join(self, group_id: str, wa_id: str) -> None:
        """An invited person taps the link a little later (most of them)."""
        if wa_id not in self.population.by_wa_id:
            region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id)) or "ZZ"
            self.population.add(
                Person(wa_id=wa_id, name=f"+{wa_id}", country=region, user_id=f"{region}.{wa_id}")
            )
        if self.rng.random() > 0.8:
            return
        delay = self.rng.uniform(30, 900)

        def join(t: float) -> None:
            group = self.groups.get(group_id)
            if group is None or group.deleted or wa_id in group.members:
                return
            try:
                if group.mode == "approval_required":
                    self.person_request_join(group_id, wa_id, at=t)
                else:
                    self.person_join(group_id, wa_id, at=t)
            except SandboxError:
                return

        self.scheduler.at(self.now() + delay, join)

    def _check_template(self, raw: Any) -> TemplateDef:
        if not isinstance(raw, Mapping):
            raise GraphError(131008, "The parameter template is required.")
        name = raw.get("name")
        language = raw.get("language")
        code = language.get("code") if isinstance(language, Mapping) else None
        if not isinstance(name, str) or not isinstance(code, str):
            raise GraphError(131008, "template.name and template.language.code are required.")
        tpl = self.template(name, code)
        if tpl.status != "APPROVED":
            raise GraphError(132015, f"Template {name} is {tpl.status.lower()}.")
        params = 0
        header_given = False
        for comp in raw.get("components") or []:
            if not isinstance(comp, Mapping):
                continue
            if comp.get("type") == "body":
                params += len([p for p in comp.get("parameters") or [] if isinstance(p, Mapping)])
            if comp.get("type") == "header":
                header_given = True
        if tpl.name == "group_invite_upon_request":
            return tpl
        if params != tpl.body_params:
            raise GraphError(
                132000,
                f"Template {name} expects {tpl.body_params} body parameters, got {params}.",
            )
        if tpl.header_format is not None and not header_given:
            raise GraphError(132000, f"Template {name} needs a {tpl.header_format} header.")
        return tpl

    def _check_pin(self, group: SimGroup, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise GraphError(131008, "The parameter pin is required.")
        action = raw.get("type")
        mid = raw.get("message_id")
        if action not in ("pin", "unpin") or not isinstance(mid, str):
            raise GraphError(100, "pin.type must be pin or unpin, with a message_id.")
        known = mid in self.inbound_ids or (
            mid in self.messages and self.messages[mid].group_id == group.id
        )
        if not known:
            raise GraphError(100, f"Message {mid} is not in this group.")
        if action == "pin":
            days = raw.get("expiration_days")
            if isinstance(days, str) and days.isdigit():
                days = int(days)
            if not isinstance(days, int) or not 1 <= days <= 30:
                raise GraphError(100, "pin.expiration_days must be between 1 and 30.")
            if mid in group.pins:
                group.pins.remove(mid)
            group.pins.insert(0, mid)
            del group.pins[3:]
        elif mid in group.pins:
            group.pins.remove(mid)

    def _check_content(self, kind: str, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise GraphError(131008, f"The parameter {kind} is required.")
        if kind == "text":
            text = raw.get("body")
            if not isinstance(text, str) or not text:
                raise GraphError(131008, "The parameter text.body is required.")
            if len(text) > 4096:
                raise GraphError(100, "Param text.body must be at most 4096 characters long.")
        elif kind in _SEND_TYPES_MEDIA:
            mid, link = raw.get("id"), raw.get("link")
            if not mid and not link:
                raise GraphError(131008, f"{kind} needs an id or a link.")
            if mid and mid not in self.media:
                raise GraphError(131053, f"Media {mid} was not found.")
            caption = raw.get("caption")
            if caption is not None and (not isinstance(caption, str) or len(caption) > 1024):
                raise GraphError(100, "Param caption must be at most 1024 characters long.")
            if kind in ("audio", "sticker") and caption:
                raise GraphError(100, f"{kind} messages have no caption.")

    # ------------------------------------------------------------------ statuses

    def _status(self, msg: OutboundMessage, status: str, t: float, who: str | None) -> Json:
        item: Json = {"id": msg.id, "status": status, "timestamp": self.ts(t)}
        if msg.group_id is not None:
            item["recipient_id"] = msg.group_id
            item["recipient_type"] = "group"
            if who is not None:
                if not self._phone_hidden(who):
                    item[self._pfield()] = who
                if self.knobs.bsuid and (p := self.population.get(who)) is not None:
                    item["recipient_participant_user_id"] = p.user_id
        else:
            item["recipient_id"] = msg.to
        return item

    def _pricing(self, msg: OutboundMessage) -> Json | None:
        """The pricing object of one delivery, per the rules of the send date."""
        if msg.type == "pin":
            return None
        on = datetime.fromtimestamp(msg.sent_at, UTC).date()
        month = (on.year, on.month)
        used = self.service_used.get(month, 0)
        rule = charging_rule(
            msg.category,
            on,
            window_open=msg.window_open,
            service_free_left=max(0, self.knobs.service_allowance - used),
        )
        if rule.uses_allowance:
            self.service_used[month] = used + 1
        name = msg.category.value if msg.category is not None else "service"
        category = f"group_{name}" if msg.group_id is not None else name
        pricing_type = rule.pricing_type
        if msg.group_id is None and pricing_type != "regular":
            pricing_type = "free_customer_service"
        return {
            "billable": rule.charged,
            "pricing_model": "PMP",
            "type": pricing_type,
            "category": category,
        }

    def _schedule_statuses(self, msg: OutboundMessage) -> None:
        k = self.knobs
        rng = self.rng
        t0 = msg.sent_at
        sent_at = t0 + rng.uniform(0.2, 1.5)
        self.scheduler.at(
            sent_at,
            lambda t: self.emit(FIELD_MESSAGES, {"statuses": [self._status(msg, "sent", t, None)]}),
        )
        delivered: list[tuple[float, str]] = []
        read: list[tuple[float, str, bool]] = []  # (time, wa_id, carries pricing)
        failed: list[tuple[float, str, int]] = []
        for wa_id in msg.recipients:
            person = self.population.get(wa_id)
            if (
                k.us_marketing_paused
                and msg.category is TemplateCategory.MARKETING
                and person is not None
                and person.country == "US"
            ):
                failed.append((sent_at + rng.uniform(0.5, 5), wa_id, 131049))
                continue
            if rng.random() < k.failure_rate:
                failed.append((sent_at + rng.uniform(0.5, 30), wa_id, 131026))
                continue
            d_at = sent_at + rng.uniform(*k.delivery_delay)
            reads = rng.random() < k.read_rate
            skip_delivered = reads and rng.random() < k.read_without_delivered_rate
            r_at = d_at + rng.uniform(*k.read_delay)
            if not skip_delivered:
                delivered.append((d_at, wa_id))
            if reads:
                read.append((r_at, wa_id, skip_delivered))
        aggregate = rng.random() < k.aggregate_rate
        for when, wa_id, code in failed:
            self.scheduler.at(when, self._failed_action(msg, wa_id, code))
        if aggregate and delivered:
            when = max(t for t, _ in delivered)
            self.scheduler.at(
                when, self._delivery_action(msg, "delivered", [w for _, w in delivered], True)
            )
        else:
            for when, wa_id in delivered:
                self.scheduler.at(when, self._delivery_action(msg, "delivered", [wa_id], True))
        for when, wa_id, priced in read:
            self.scheduler.at(when, self._delivery_action(msg, "read", [wa_id], priced))

    def _delivery_action(
        self, msg: OutboundMessage, status: str, who: Sequence[str], priced: bool
    ) -> Callable[[float], None]:
        def run(t: float) -> None:
            items = []
            for wa_id in who:
                item = self._status(msg, status, t, wa_id)
                if priced and (pricing := self._pricing(msg)) is not None:
                    item["pricing"] = pricing
                items.append(item)
            self.emit(FIELD_MESSAGES, {"statuses": items})

        return run

    def _failed_action(
        self, msg: OutboundMessage, wa_id: str, code: int
    ) -> Callable[[float], None]:
        def run(t: float) -> None:
            item = self._status(msg, "failed", t, wa_id)
            err = error_object(code)
            err["href"] = "/documentation/business-messaging/whatsapp/support/error-codes"
            item["errors"] = [err]
            self.emit(FIELD_MESSAGES, {"statuses": [item]})

        return run

    def _schedule_individual_statuses(self, msg: OutboundMessage) -> None:
        rng = self.rng
        t1 = msg.sent_at + rng.uniform(0.2, 1.5)
        t2 = t1 + rng.uniform(*self.knobs.delivery_delay)
        t3 = t2 + rng.uniform(*self.knobs.read_delay)

        def status(name: str, priced: bool) -> Callable[[float], None]:
            def run(t: float) -> None:
                item = self._status(msg, name, t, None)
                if priced and (pricing := self._pricing(msg)) is not None:
                    item["pricing"] = pricing
                self.emit(FIELD_MESSAGES, {"statuses": [item]})

            return run

        self.scheduler.at(t1, status("sent", False))
        self.scheduler.at(t2, status("delivered", True))
        if rng.random() < self.knobs.read_rate:
            self.scheduler.at(t3, status("read", False))

    # ------------------------------------------------------------------ API: media, templates

    def api_upload_media(self, data: bytes, mime_type: str, filename: str | None) -> Json:
        """``POST /{phone}/media``: ``{"id": ...}``."""
        mime = mime_type.split(";")[0].strip().lower()
        if mime not in _MEDIA_MIMES:
            raise GraphError(131053, f"Unsupported MIME type {mime}.")
        family = mime.split("/")[0]
        limit = _MEDIA_LIMITS.get(family, 100 * 1024 * 1024)
        if mime == "image/webp":
            limit = 500 * 1024
        if len(data) > limit:
            raise GraphError(
                131053, f"File is larger than the {limit // (1024 * 1024) or 1} MB limit."
            )
        if not data:
            raise GraphError(131053, "The file is empty.")
        mid = self._new_media_id()
        self.media[mid] = MediaItem(
            id=mid,
            mime_type=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=self.now(),
            data=data,
            filename=filename,
        )
        return {"id": mid}

    def api_get_media(self, media_id: str, download_url: str) -> Json:
        """``GET /{media_id}``: URL (valid 5 minutes), MIME type, hash and size."""
        item = self.media.get(media_id)
        if item is None:
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist.",
                subcode=33,
            )
        return {
            "messaging_product": "whatsapp",
            "url": download_url,
            "mime_type": item.mime_type,
            "sha256": item.sha256,
            "file_size": str(item.size),
            "id": item.id,
        }

    def api_delete_media(self, media_id: str) -> Json:
        """``DELETE /{media_id}``."""
        if self.media.pop(media_id, None) is None:
            raise GraphError(
                100,
                f"Unsupported delete request. Object with ID '{media_id}' does not exist.",
                subcode=33,
            )
        return {"success": True}

    def api_templates(
        self, waba_id: str, name: str | None, limit: str | None, status: str | None = None
    ) -> Json:
        """``GET /{waba_id}/message_templates`` (filtered by ``name`` and ``status``)."""
        if waba_id != self.business_account_id:
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{waba_id}' does not exist.",
                subcode=33,
            )
        items = [
            t.as_json()
            for t in self.templates
            if (name is None or t.name == name)
            and (status is None or t.as_json().get("status") == status.upper())
        ]
        try:
            size = 25 if limit is None else max(1, int(limit))
        except ValueError:
            raise GraphError(100, "Param limit must be an integer.") from None
        return {
            "data": items[:size],
            "paging": {
                "cursors": {"before": _encode_cursor(0), "after": _encode_cursor(len(items[:size]))}
            },
        }

    # ------------------------------------------------------------------ simulated people

    def _pick_outsider(self, group: SimGroup, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        pending = {jr.wa_id for jr in group.join_requests.values()}
        people = self.population.people
        for _ in range(200):
            person = people[rng.randrange(len(people))]
            wa = person.wa_id
            if wa not in group.members and wa not in group.removed and wa not in pending:
                return wa
        raise SandboxError("no one left who could join this group")

    def _pick_member(self, group: SimGroup, rng: random.Random | None = None) -> str:
        if not group.members:
            raise SandboxError("the group has no members besides the business")
        rng = rng or self.rng
        return rng.choice(list(group.members))

    def person_join(
        self,
        group_id: str,
        wa_id: str | None = None,
        *,
        at: float | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """A simulated person taps the invite link and joins (auto-approve groups).

        Args:
            group_id: The group.
            wa_id: Who joins; a random outsider when omitted.
            at: Event time (defaults to now).
            rng: Random source for picking someone (the behaviour model passes its own).

        Returns:
            The ``wa_id`` of the new member.

        Raises:
            SandboxError: If the link cannot be used (deleted link, full, removed person,
                approval required, suspended group).
        """
        group = self._person_group(group_id)
        if group.mode == "approval_required":
            raise SandboxError("this group requires approval; file a join request")
        if group.invite_link is None:
            raise SandboxError("the invite link was deleted")
        wa = wa_id or self._pick_outsider(group, rng)
        self._known_person(wa)
        if wa in group.removed:
            raise SandboxError("people removed by the business cannot rejoin by link")
        if wa in group.members:
            raise SandboxError("already a member")
        if len(group.members) >= self.knobs.max_participants:
            raise SandboxError("the group is full")
        t = self.now() if at is None else at
        group.members[wa] = t
        self.emit(
            FIELD_PARTICIPANTS,
            {
                "groups": [
                    {
                        "timestamp": self.ts(t),
                        "group_id": group.id,
                        "type": "group_participants_add",
                        "reason": "invite_link",
                        "added_participants": [self.person_ids(wa)],
                    }
                ]
            },
        )
        return wa

    def person_request_join(
        self,
        group_id: str,
        wa_id: str | None = None,
        *,
        at: float | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """A simulated person asks to join an approval group.

        Returns:
            The new ``join_request_id``.

        Raises:
            SandboxError: If the group does not require approval, or the person is a
                member or already waiting.
        """
        group = self._person_group(group_id)
        if group.mode != "approval_required":
            raise SandboxError("this group does not require approval; join by link")
        wa = wa_id or self._pick_outsider(group, rng)
        self._known_person(wa)
        if wa in group.members:
            raise SandboxError("already a member")
        if any(jr.wa_id == wa for jr in group.join_requests.values()):
            raise SandboxError("already waiting for approval")
        t = self.now() if at is None else at
        jr = JoinRequestRec(self.new_join_request_id(wa), wa, t)
        group.join_requests[jr.id] = jr
        self.emit(
            FIELD_PARTICIPANTS,
            {"groups": [self.join_request_item(group, jr, "group_join_request_created", t)]},
        )
        return jr.id

    def join_request_item(self, group: SimGroup, jr: JoinRequestRec, kind: str, t: float) -> Json:
        return {
            "timestamp": self.ts(t),
            "group_id": group.id,
            "type": kind,
            "reason": "user_request",
            "join_request_id": jr.id,
            **self.person_ids(jr.wa_id),
        }

    def person_revoke_request(
        self,
        group_id: str,
        join_request_id: str | None = None,
        *,
        wa_id: str | None = None,
        at: float | None = None,
    ) -> str:
        """A person withdraws a pending join request.

        Returns:
            The revoked ``join_request_id``.

        Raises:
            SandboxError: If there is no such pending request.
        """
        group = self._person_group(group_id)
        jr = None
        if join_request_id is not None:
            jr = group.join_requests.get(join_request_id)
        elif wa_id is not None:
            jr = next((j for j in group.join_requests.values() if j.wa_id == wa_id), None)
        elif group.join_requests:
            jr = next(iter(group.join_requests.values()))
        if jr is None:
            raise SandboxError("no such pending join request")
        del group.join_requests[jr.id]
        t = self.now() if at is None else at
        self.emit(
            FIELD_PARTICIPANTS,
            {"groups": [self.join_request_item(group, jr, "group_join_request_revoked", t)]},
        )
        return jr.id

    def person_leave(
        self, group_id: str, wa_id: str | None = None, *, at: float | None = None
    ) -> str:
        """A member leaves on their own.

        Returns:
            The ``wa_id`` of the leaver.

        Raises:
            SandboxError: If the person is not a member.
        """
        group = self._person_group(group_id, allow_suspended=True)
        wa = wa_id or self._pick_member(group)
        if wa not in group.members:
            raise SandboxError("not a member")
        del group.members[wa]
        t = self.now() if at is None else at
        self.emit(
            FIELD_PARTICIPANTS,
            {
                "groups": [
                    {
                        "timestamp": self.ts(t),
                        "group_id": group.id,
                        "type": "group_participants_remove",
                        "initiated_by": "participant",
                        "removed_participants": [self.person_ids(wa)],
                    }
                ]
            },
        )
        return wa

    def person_message(
        self,
        group_id: str,
        wa_id: str | None = None,
        text: str | None = None,
        *,
        kind: str = "text",
        at: float | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """A member posts to the group (opens or refreshes the 24-hour window).

        Args:
            group_id: The group.
            wa_id: The sender; a random member when omitted.
            text: Body (or caption for media); a random line when omitted.
            kind: ``text``, ``image``, ``video``, ``audio``, ``document``, ``sticker`` or
                ``unsupported``.
            at: Event time (defaults to now).
            rng: Random source for choices (the behaviour model passes its own).

        Returns:
            The inbound message's wamid.

        Raises:
            SandboxError: If the sender is not a member.
        """
        group = self._person_group(group_id)
        rng = rng or self.rng
        wa = wa_id or self._pick_member(group, rng)
        if wa not in group.members:
            raise SandboxError("only members can post")
        t = self.now() if at is None else at
        message = self.inbound_message(group, wa, t, kind=kind, text=text, rng=rng)
        person = self._known_person(wa)
        self.emit(
            FIELD_MESSAGES,
            {
                "contacts": [{"profile": {"name": person.name}, **self.person_ids(wa)}],
                "messages": [message],
            },
        )
        return str(message["id"])

    def inbound_message(
        self,
        group: SimGroup,
        wa_id: str,
        t: float,
        *,
        kind: str = "text",
        text: str | None = None,
        rng: random.Random | None = None,
        max_media_size: int | None = None,
    ) -> Json:
        """Record an inbound message and build its webhook ``messages[]`` item.

        Updates the group window; emits nothing (callers batch or emit).

        Args:
            group: The group.
            wa_id: The sender.
            t: Event time.
            kind: Message type.
            text: Body or caption (random when omitted).
            rng: Random source for choices.
            max_media_size: Cap on simulated media size (pre-population keeps media small
                so that hashing stays fast).
        """
        rng = rng or self.rng
        person = self.population.get(wa_id)
        # A wamid encodes the sender's number; a hidden number is not given away by it.
        wamid = self.new_wamid(
            person.user_id if person is not None and self._phone_hidden(wa_id) else wa_id
        )
        item: Json = {
            "from": wa_id,
            "group_id": group.id,
            "id": wamid,
            "timestamp": self.ts(t),
            "type": kind,
        }
        if self._phone_hidden(wa_id):
            del item["from"]
        if self.knobs.bsuid and (p := self.population.get(wa_id)) is not None:
            item["from_user_id"] = p.user_id
        if kind == "text":
            item["text"] = {"body": text if text is not None else rng.choice(CHAT_LINES)}
        elif kind == "unsupported":
            item["errors"] = [
                {
                    "code": 130501,
                    "message": "Message type is not currently supported",
                    "title": "Unsupported message type",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ]
        else:
            mime, low, high = {
                "image": ("image/jpeg", 20_000, 3_000_000),
                "video": ("video/mp4", 300_000, 15_000_000),
                "audio": ("audio/ogg; codecs=opus", 5_000, 900_000),
                "document": ("application/pdf", 10_000, 8_000_000),
                "sticker": ("image/webp", 5_000, 90_000),
            }.get(kind, ("application/octet-stream", 1_000, 10_000))
            size = rng.randint(low, high)
            if max_media_size is not None:
                size = min(size, max_media_size)
            media = MediaItem(
                id=self._new_media_id(), mime_type=mime, size=size, sha256="", created_at=t
            )
            # The hash is of the deterministic filler bytes served on download: hex in
            # GET /{media_id}, base64 in the webhook, as Meta does.
            digest = hashlib.sha256(media.content()).digest()
            media.sha256 = digest.hex()
            self.media[media.id] = media
            obj: Json = {
                "id": media.id,
                "mime_type": mime,
                "sha256": base64.b64encode(digest).decode(),
            }
            if kind in ("image", "video", "document"):
                caption = text if text is not None else rng.choice(CAPTIONS)
                if caption:
                    obj["caption"] = caption
            if kind == "document":
                obj["filename"] = rng.choice(
                    ("invoice_1042.pdf", "menu.pdf", "отчёт.pdf", "تقرير.pdf")
                )
            if kind == "audio":
                obj["voice"] = True
            item[kind] = obj
        self.inbound_ids.append(wamid)
        if group.last_inbound_at is None or t > group.last_inbound_at:
            group.last_inbound_at = t
        return item

    def suspend_group(
        self, group_id: str, *, cleared: bool = False, at: float | None = None
    ) -> None:
        """WhatsApp suspends a group (or clears the suspension), with its webhook."""
        group = self.group(group_id)
        group.suspended = not cleared
        t = self.now() if at is None else at
        self.emit(
            FIELD_STATUS,
            {
                "groups": [
                    {
                        "timestamp": self.ts(t),
                        "type": "group_suspend_cleared" if cleared else "group_suspend",
                        "group_id": group.id,
                    }
                ]
            },
        )

    def _person_group(self, group_id: str, *, allow_suspended: bool = False) -> SimGroup:
        group = self.groups.get(group_id)
        if group is None or group.deleted:
            raise SandboxError(f"no active group {group_id}")
        if group.suspended and not allow_suspended:
            raise SandboxError("the group is suspended")
        return group

    def _known_person(self, wa_id: str) -> Person:
        person = self.population.get(wa_id)
        if person is None:
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id))
            except phonenumbers.NumberParseException:
                region = None
            person = Person(
                wa_id=wa_id,
                name=f"+{wa_id}",
                country=region or "ZZ",
                user_id=f"{region or 'ZZ'}.{wa_id}",
            )
            self.population.add(person)
        return person

    # ------------------------------------------------------------------ inspection

    def state(self) -> Json:
        """A summary for ``GET /_sandbox/state``."""
        active = self.active_groups()
        now = self.now()
        return {
            "now": now,
            "groups": len(active),
            "deleted_groups": len(self.groups) - len(active),
            "pending_creates": self.pending_creates,
            "suspended": sum(1 for g in active if g.suspended),
            "windows_open": sum(1 for g in active if g.window_open(now)),
            "members": sum(len(g.members) for g in active),
            "join_requests": sum(len(g.join_requests) for g in active),
            "people": len(self.population),
            "outbound_messages": len(self.messages),
            "inbound_messages": len(self.inbound_ids),
            "scheduled": len(self.scheduler),
            "emitted_changes": self.emitted_count,
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
                    "user_id": self._known_person(w).user_id,
                    "phone_hidden": self._phone_hidden(w),
                    "name": self._known_person(w).name,
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


def _participant_input(entry: Any) -> tuple[str, bool]:
    """What one ``participants[]`` entry of a removal names, and whether it is a user id.

    Meta's contract (reference 2.7, 3.9): ``user`` holds a phone number or WhatsApp id,
    ``user_id`` a business-scoped user id; "include user or user_id, but not both". The
    reference gives no dedicated code for breaking it, so the documented generic
    invalid-parameter code 100 answers, as for the array's other shape errors.
    """
    if not isinstance(entry, Mapping):
        raise GraphError(100, "Each participant must be an object with user or user_id.")
    user, user_id = entry.get("user"), entry.get("user_id")
    if user is not None and user_id is not None:
        raise GraphError(100, "Include user or user_id, but not both.")
    if user_id is not None:
        if not isinstance(user_id, str) or not is_bsuid(user_id):
            raise GraphError(100, "Param user_id must be a business-scoped user ID.")
        return user_id, True
    if not isinstance(user, str) or not user.strip():
        raise GraphError(100, "Each participant needs a user or a user_id.")
    if is_bsuid(user):
        raise GraphError(
            100,
            "Param user takes a phone number or WhatsApp ID; "
            "pass a business-scoped user ID in user_id.",
        )
    return user, False


def _product(body: Mapping[str, Any]) -> None:
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required.")


def _encode_cursor(n: int) -> str:
    return base64.b64encode(f"sandbox:{n}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = text.partition(":")
        if prefix != "sandbox":
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise GraphError(131059, "The pagination cursor is invalid or has expired.") from None


def _group_id_param(template: Any) -> str | None:
    if not isinstance(template, Mapping):
        return None
    for comp in template.get("components") or []:
        if not isinstance(comp, Mapping):
            continue
        for param in comp.get("parameters") or []:
            if isinstance(param, Mapping) and param.get("type") == "group_id":
                value = param.get("group_id")
                return value if isinstance(value, str) else None
    return None


def _picture_problem(data: bytes, mime: str) -> tuple[int, str] | None:
    if mime.split(";")[0].strip().lower() != "image/jpeg":
        return 131053, "The group picture must be a JPEG image."
    if len(data) > 5 * 1024 * 1024:
        return 131053, "The group picture must be at most 5 MB."
    size = jpeg_size(data)
    if size is None:
        return 131053, "The file is not a readable JPEG image."
    width, height = size
    if width != height:
        return 131209, f"The picture is {width}x{height}; it must be square."
    if width <= 192:
        return 131210, f"The picture is {width}x{height}; it must be larger than 192 px."
    return None
