"""Domain vocabulary: enums and immutable records shared by every layer.

Everything here is plain data. Timestamps are UTC epoch seconds (``int``); nothing reads
the clock. Members are keyed by :attr:`Participant.key` (``user_id`` when present, else
``wa_id``) because Meta is phasing ``wa_id`` out of group payloads in 2026.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypeVar

__all__ = [
    "DeliveryState",
    "DeliverySummary",
    "Direction",
    "Group",
    "GroupState",
    "JoinApproval",
    "JoinRequest",
    "JoinVia",
    "Media",
    "Message",
    "MessageKind",
    "Participant",
    "RecipientStatus",
    "Template",
    "TemplateCategory",
    "Unknown",
    "advance",
    "known_or_unknown",
]

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value of an enumerated field that this version does not know, kept as received.

    Webhooks carry values Meta may add at any time; they are stored as they came and shown
    as ``unknown: X`` (``str()`` of this object) instead of being refused or mistaken for
    a known value.

    Attributes:
        raw: The value as received.
    """

    raw: str

    @property
    def value(self) -> str:
        """The value as received (what a known member's ``value`` would be)."""
        return self.raw

    @property
    def label(self) -> str:
        """``unknown: X``, as an enum member's ``label`` names a known value."""
        return f"unknown: {self.raw}"

    def __str__(self) -> str:
        return self.label


def known_or_unknown(cls: type[_E], value: object) -> _E | Unknown:
    """``value`` as a member of ``cls``, or as :class:`Unknown` when it is not one.

    Args:
        cls: The enum.
        value: A stored or received value.

    Returns:
        The member, or ``Unknown(str(value))``.
    """
    text = "" if value is None else str(value)
    try:
        return cls(text)
    except ValueError:
        return Unknown(text)


class MessageKind(StrEnum):
    """What a stored message is, inbound or outbound."""

    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    TEMPLATE = "template"
    INTERACTIVE = "interactive"
    SYSTEM = "system"
    UNSUPPORTED = "unsupported"


class Direction(StrEnum):
    """Whether a message came from a member or was sent by the business."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DeliveryState(StrEnum):
    """Where an outbound message stands, overall or for one recipient.

    States only move forward (see :func:`advance`). ``failed`` outranks the in-flight
    states (queued, accepted, sent) but never undoes evidence that the message reached the
    member (delivered, read): webhooks arrive out of order, and a late ``failed`` for a
    message already read is not a reason to show it as failed.
    """

    QUEUED = "queued"
    ACCEPTED = "accepted"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    READ = "read"

    @property
    def rank(self) -> int:
        """Ordering used by :func:`advance`; a higher rank wins."""
        return _RANKS[self]

    @property
    def reached_member(self) -> bool:
        """True once the message is known to be on the member's device."""
        return self in (DeliveryState.DELIVERED, DeliveryState.READ)


_RANKS: dict[DeliveryState, int] = {
    DeliveryState.QUEUED: 0,
    DeliveryState.ACCEPTED: 1,
    DeliveryState.SENT: 2,
    DeliveryState.FAILED: 3,
    DeliveryState.DELIVERED: 4,
    DeliveryState.READ: 5,
}


def advance(current: DeliveryState | None, new: DeliveryState) -> DeliveryState:
    """Combine a known state with a newly reported one without moving backward.

    Args:
        current: The state recorded so far, or ``None`` when nothing is known yet.
        new: The state a webhook or API response just reported.

    Returns:
        Whichever of the two ranks higher; ``current`` wins a tie.
    """
    if current is None or new.rank > current.rank:
        return new
    return current


class TemplateCategory(StrEnum):
    """Meta's template categories (the category at send time is what is billed)."""

    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"


class GroupState(StrEnum):
    """Lifecycle of a group as seen by the business.

    ``pending`` means the create request was accepted but the ``group_lifecycle_update``
    webhook with the group id has not arrived yet.
    """

    PENDING = "pending"
    ACTIVE = "active"
    FAILED = "failed"
    DELETED = "deleted"


class JoinApproval(StrEnum):
    """The group's join-approval setting."""

    AUTO_APPROVE = "auto_approve"
    APPROVAL_REQUIRED = "approval_required"

    @property
    def label(self) -> str:
        """How screens and the CLI name the mode."""
        return "approval required" if self is JoinApproval.APPROVAL_REQUIRED else "invite link"


class JoinVia(StrEnum):
    """How a participant came to be in the group."""

    INVITE_LINK = "invite_link"
    APPROVAL = "approval"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Participant:
    """A group member other than the business.

    Attributes:
        wa_id: Phone-number based WhatsApp id; may be absent from 2026 payloads.
        user_id: Business-scoped user id, the preferred key when present.
        username: The member's WhatsApp username, if shared.
        profile_name: The display name from the member's profile.
        joined_at: Epoch seconds of the join event, if known.
        joined_via: How the member joined.
    """

    wa_id: str | None
    user_id: str | None = None
    username: str | None = None
    profile_name: str | None = None
    joined_at: int | None = None
    joined_via: JoinVia = JoinVia.UNKNOWN

    @property
    def key(self) -> str:
        """Stable member key: ``user_id`` if present, otherwise ``wa_id`` (or ``""``)."""
        return self.user_id or self.wa_id or ""

    @property
    def display_name(self) -> str:
        """Best human label: profile name, then username, then the key."""
        return self.profile_name or self.username or self.key


@dataclass(frozen=True, slots=True)
class Group:
    """A group the business administers, with the inbox's summary fields.

    Attributes:
        id: Meta's group id; ``None`` while creation is pending.
        request_id: The asynchronous request id of the pending create (or last change).
        subject: Group subject (name).
        description: Group description.
        join_approval: Whether joining needs approval (:class:`Unknown` for a mode this
            version does not know).
        state: Lifecycle state.
        suspended: True while Meta has suspended the group for policy reasons.
        suspended_reason: Meta's reason text, if any.
        created_at: Epoch seconds of creation, if known.
        invite_link: Current invite link, if known.
        participant_count: Members besides the business.
        last_inbound_at: Epoch seconds of the latest inbound member message (opens the
            24-hour window).
        last_inbound_by: Display name of that message's sender.
        last_message_preview: Short text of the latest message in either direction.
        last_activity_at: Epoch seconds of the latest activity of any kind.
        unread: Inbound messages not yet seen by an operator.
        pending_requests: Open join requests.
        phone_number_id: The business number the group belongs to (every call about it
            goes through that number).
    """

    id: str | None
    request_id: str | None = None
    subject: str = ""
    description: str = ""
    join_approval: JoinApproval | Unknown = JoinApproval.AUTO_APPROVE
    state: GroupState = GroupState.ACTIVE
    suspended: bool = False
    suspended_reason: str | None = None
    created_at: int | None = None
    invite_link: str | None = None
    participant_count: int = 0
    last_inbound_at: int | None = None
    last_inbound_by: str | None = None
    last_message_preview: str | None = None
    last_activity_at: int | None = None
    unread: int = 0
    pending_requests: int = 0
    phone_number_id: str = ""

    json_names: ClassVar[Mapping[str, str]] = {"id": "group_id"}
    """In JSON a group's id is ``group_id``, as in every record naming a group."""


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A pending request to join a group that requires approval.

    Attributes:
        join_request_id: Meta's id for the request (used to approve or reject).
        group_id: The group asked to join.
        wa_id: Requester's WhatsApp id, if given.
        user_id: Requester's business-scoped user id, if given.
        profile_name: Requester's profile name, if given.
        created_at: Epoch seconds when the request was made, if known.
    """

    join_request_id: str
    group_id: str
    wa_id: str | None
    user_id: str | None = None
    profile_name: str | None = None
    created_at: int | None = None

    @property
    def key(self) -> str:
        """Requester key, consistent with :attr:`Participant.key`."""
        return self.user_id or self.wa_id or ""


@dataclass(frozen=True, slots=True)
class Media:
    """Media attached to a message.

    Attributes:
        kind: One of the media kinds (image, video, audio, document, sticker).
        mime_type: MIME type, if known.
        size: Size in bytes, if known.
        caption: Caption text (not for audio or sticker).
        filename: Document file name.
        media_id: Meta media id (uploaded or received).
        link: Hosted URL, for link-based sends.
    """

    kind: MessageKind
    mime_type: str | None = None
    size: int | None = None
    caption: str | None = None
    filename: str | None = None
    media_id: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One message in a group's timeline.

    Attributes:
        id: The wamid once known, otherwise a local id.
        group_id: The group the message belongs to.
        direction: Inbound (from a member) or outbound (from the business).
        kind: Message kind.
        sender_key: Member key of an inbound sender; ``None`` for outbound.
        sender_name: Display name of the sender.
        sender_wa_id: Sender's ``wa_id`` if given.
        at: Epoch seconds from the webhook (or the send time for outbound).
        text: Body text, caption, or a rendered summary.
        media: Attached media, if any.
        template_name: Template name for template sends.
        system_event: Description of a system event (join, leave, subject change...).
    """

    id: str
    group_id: str
    direction: Direction
    kind: MessageKind
    sender_key: str | None
    sender_name: str | None
    sender_wa_id: str | None
    at: int
    text: str | None = None
    media: Media | None = None
    template_name: str | None = None
    system_event: str | None = None

    @property
    def renews_window(self) -> bool:
        """True if this message opens or refreshes the group's 24-hour window.

        Only inbound member messages count; business sends and system events never do.
        """
        return self.direction is Direction.INBOUND and self.kind is not MessageKind.SYSTEM


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """Delivery state of one outbound message for one participant.

    Attributes:
        message_id: The wamid.
        participant_key: The member's key.
        state: Latest state (combine reports with :func:`advance`).
        at: Epoch seconds of the status webhook.
        error_code: Meta error code on failure.
        error_title: Meta error title on failure.
        delivered_at: When the copy first reached the member (a delivered or read
            status), if known.
        read_at: When the member first read it, if known.
    """

    message_id: str
    participant_key: str
    state: DeliveryState
    at: int
    error_code: int | None = None
    error_title: str | None = None
    delivered_at: int | None = None
    read_at: int | None = None


@dataclass(frozen=True, slots=True)
class Template:
    """A message template available to the business.

    Attributes:
        name: Template name.
        language: Language code, such as ``en_US``.
        category: Category as Meta currently classifies it (what will be billed).
        status: Review status, such as ``APPROVED``.
        body_params: Number of ``{{n}}`` placeholders in the body.
        header_format: ``TEXT``, ``IMAGE``, ``VIDEO``, ``DOCUMENT`` or ``None``.
        components: Raw component objects as returned by the API.
    """

    name: str
    language: str
    category: TemplateCategory
    status: str = "APPROVED"
    body_params: int = 0
    header_format: str | None = None
    components: tuple[Mapping[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """Per-recipient delivery tally of one outbound group message.

    ``delivered`` counts members the message reached, read ones included, so
    ``read <= delivered <= total``.

    Attributes:
        total: Recipients (members at send time).
        delivered: Recipients with state delivered or read.
        read: Recipients with state read.
        failed: Recipients with state failed.
    """

    total: int
    delivered: int
    read: int
    failed: int

    @classmethod
    def from_states(
        cls, states: Iterable[DeliveryState], total: int | None = None
    ) -> DeliverySummary:
        """Tally per-recipient states.

        Args:
            states: One state per recipient.
            total: Recipient count, if larger than the number of states known.

        Returns:
            The summary.
        """
        counted = list(states)
        return cls(
            total=max(total or 0, len(counted)),
            delivered=sum(1 for s in counted if s.reached_member),
            read=sum(1 for s in counted if s is DeliveryState.READ),
            failed=sum(1 for s in counted if s is DeliveryState.FAILED),
        )

    def label(self) -> str:
        """Short status text, e.g. ``"delivered 4/5, read 2/5, failed 1"``."""
        text = f"delivered {self.delivered}/{self.total}, read {self.read}/{self.total}"
        if self.failed:
            text += f", failed {self.failed}"
        return text
