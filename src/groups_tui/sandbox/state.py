"""The shared state of the simulated Meta: knobs, groups, messages sent and received.

The world's components (:mod:`.groups_api`, :mod:`.members_api`, :mod:`.messaging`,
:mod:`.person_actions`...) share these objects explicitly: the :class:`GroupRegistry` of
every group with the rules for reaching one through the API, and the :class:`MessageLog`
of messages the business sent and the ids of the ones members sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass, field
from typing import Any

from groups_tui.domain.models import TemplateCategory

from .errors import GraphError
from .scheduling import Ids, Timeline, TokenBucket

__all__ = [
    "MARKETING_IN_WINDOW_CHOICES",
    "GroupRegistry",
    "JoinRequestRec",
    "Json",
    "MessageLog",
    "OutboundMessage",
    "SandboxKnobs",
    "SimGroup",
    "digits",
]

Json = dict[str, Any]

MARKETING_IN_WINDOW_CHOICES = ("charged", "free")
"""How the sandbox may price marketing inside an open group window."""


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
        marketing_in_window: How Meta prices a marketing template sent to a group whose
            window is open: ``charged`` (``regular``, as the 1:1 rules and the Groups
            pricing tables say) or ``free`` (``free_group_customer_service``, as the
            Groups pricing page of 2025-10-22 says). Meta's pages disagree
            (``domain.pricing.disputes``); the sandbox plays either so that both are
            tested.
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
    marketing_in_window: str = "charged"

    def __post_init__(self) -> None:
        if self.marketing_in_window not in MARKETING_IN_WINDOW_CHOICES:
            raise ValueError(
                f"marketing_in_window must be one of {', '.join(MARKETING_IN_WINDOW_CHOICES)}, "
                f"got {self.marketing_in_window!r}"
            )


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
    body: Json | None = None
    """The request body as received (what Meta was asked to send)."""


@dataclass
class MessageLog:
    """Messages of the account: what the business sent, and the ids of what members sent.

    Attributes:
        sent: The business's messages by wamid.
        received: Wamids of inbound messages, oldest first.
    """

    sent: dict[str, OutboundMessage] = field(default_factory=dict)
    received: list[str] = field(default_factory=list)


class GroupRegistry(Mapping[str, SimGroup]):
    """Every group by id (deleted ones too), their invite links, and how the API reaches one.

    A read-only mapping of id to :class:`SimGroup`; groups come in through :meth:`add`.
    :meth:`require` and :meth:`writable` are the lookups of API calls (131041, 131207),
    :meth:`take_op` the throughput limit of group operations (131208).

    Args:
        ids: The world's id maker.
        timeline: Simulated time.
        ops_limiter: The group-operations token bucket.
    """

    def __init__(self, ids: Ids, timeline: Timeline, ops_limiter: TokenBucket) -> None:
        self._ids = ids
        self._timeline = timeline
        self.ops_limiter = ops_limiter
        self._groups: dict[str, SimGroup] = {}
        self._by_link: dict[str, str] = {}
        self._seq = 0
        self.on_created: list[Callable[[SimGroup], None]] = []
        """Hooks run when a group comes to life."""

    # ------------------------------------------------------------------ mapping

    def __getitem__(self, group_id: str) -> SimGroup:
        return self._groups[group_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)

    def __contains__(self, group_id: object) -> bool:
        return group_id in self._groups

    def keys(self) -> KeysView[str]:
        return self._groups.keys()

    def values(self) -> ValuesView[SimGroup]:
        return self._groups.values()

    # ------------------------------------------------------------------ state

    def active(self) -> list[SimGroup]:
        """Groups not deleted, in creation order."""
        return [g for g in self._groups.values() if not g.deleted]

    @property
    def active_count(self) -> int:
        """Number of groups not deleted."""
        return sum(1 for g in self._groups.values() if not g.deleted)

    def add(
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
        gid = self._ids.group_id(self._groups)
        self._seq += 1
        link = self.new_link()
        group = SimGroup(
            id=gid,
            seq=self._seq,
            subject=subject,
            description=description,
            mode=mode,
            created_at=self._timeline.now() if created_at is None else created_at,
            invite_link=link,
            liveliness=liveliness,
        )
        self._groups[gid] = group
        self._by_link[link] = gid
        for hook in self.on_created:
            hook(group)
        return group

    def new_link(self) -> str:
        """An invite link no group has."""
        return self._ids.invite_link(self._by_link)

    def set_link(self, group: SimGroup, link: str | None) -> None:
        """Give ``group`` a new invite link (``None``: none); the old one stops working."""
        if group.invite_link:
            self._by_link.pop(group.invite_link, None)
        group.invite_link = link
        if link:
            self._by_link[link] = group.id

    def by_link(self, link: str) -> SimGroup | None:
        """The active group an invite link opens, if the link is still valid."""
        gid = self._by_link.get(link)
        group = self._groups.get(gid) if gid else None
        return group if group is not None and not group.deleted else None

    # ------------------------------------------------------------------ API lookups

    def require(self, group_id: str) -> SimGroup:
        """An active group, or 131041.

        Raises:
            GraphError: 131041 for an unknown or deleted group.
        """
        group = self._groups.get(group_id)
        if group is None or group.deleted:
            raise GraphError(131041, f"Group {group_id} does not exist or you are not a member.")
        return group

    def writable(self, group_id: str) -> SimGroup:
        """An active group that is not suspended.

        Raises:
            GraphError: 131041 for an unknown or deleted group, 131207 if suspended.
        """
        group = self.require(group_id)
        if group.suspended:
            raise GraphError(131207, "This group is suspended for violating WhatsApp policies.")
        return group

    def take_op(self) -> None:
        """Count one group operation against the limit.

        Raises:
            GraphError: 131208 when group operations come too fast.
        """
        if not self.ops_limiter.take():
            raise GraphError(
                131208, "Too many group operations from this phone number in a short period."
            )


def digits(value: str) -> str:
    """The digits of ``value`` (a phone number as typed)."""
    return "".join(ch for ch in value if ch.isdigit())
