"""Events of the ``messages`` field: inbound messages and the statuses of sent ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..models import DeliveryState, MessageKind
from .base import EventError, ParticipantRef, join_key

__all__ = ["FIELD_MESSAGES", "InboundMessage", "MediaRef", "MessageStatus", "PricingInfo"]

_STATES: dict[str, DeliveryState] = {state.value: state for state in DeliveryState}
"""Each modelled status value's state (a dict lookup: the enum's own costs ~1 µs)."""

FIELD_MESSAGES = "messages"


@dataclass(frozen=True, slots=True)
class PricingInfo:
    """The per-recipient ``pricing`` object of a status webhook.

    Attributes:
        billable: Whether this delivery is charged; ``None`` if absent.
        pricing_model: ``PMP`` (per-message pricing) or an older model.
        type: ``regular``, ``free_group_customer_service``, ...; absent in some samples.
        category: ``group_marketing``, ``group_utility``, ``group_service``, ...
    """

    billable: bool | None
    pricing_model: str | None = None
    type: str | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Media attached to an inbound message.

    Attributes:
        id: Meta media id (download within 7 days).
        mime_type: MIME type.
        sha256: Hash of the file as Meta reports it.
        caption: Caption text (image, video, document).
        filename: Document file name.
        size: Size in bytes, if reported.
        url: Download URL, if reported.
        voice: True for a voice note (audio).
        animated: True for an animated sticker.
    """

    id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    size: int | None = None
    url: str | None = None
    voice: bool | None = None
    animated: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A message from a member (or a 1:1 contact when ``group_id`` is ``None``).

    Attributes:
        wamid: Message id.
        group_id: The group, or ``None`` for a 1:1 message.
        sender: The sender, enriched from ``contacts[]``.
        kind: Message kind; types the app does not model map to ``unsupported``.
        type: Meta's ``type`` string as received.
        text: Text body, caption, or reaction emoji.
        media: Media object for image, video, audio, document and sticker.
        extras: The type-specific object for other kinds (reaction, location, contacts,
            interactive, button, ...), verbatim.
        context: ``context`` verbatim (reply target, forwarded flags), if any.
        forwarded: True when ``context.forwarded`` or ``frequently_forwarded`` is set.
        errors: Errors, e.g. ``130501`` for ``unsupported``.
        at: Webhook epoch seconds (opens or refreshes the group's 24-hour window).
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "message.received"
    phone_number_id: str | None = field(default=None, compare=False)
    wamid: str
    group_id: str | None
    sender: ParticipantRef
    kind: MessageKind
    type: str
    text: str | None = None
    media: MediaRef | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] | None = None
    forwarded: bool = False
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def reply_to(self) -> str | None:
        """The wamid this message replies to, if any."""
        if self.context is None:
            return None
        target = self.context.get("id")
        return target if isinstance(target, str) else None

    @property
    def dedupe_key(self) -> str:
        """Inbound messages are keyed by their wamid (reference 3.2)."""
        return join_key(FIELD_MESSAGES, "message", self.wamid)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageStatus:
    """A status of a message the business sent.

    A group ``sent`` status is group level (``participant`` is ``None``); ``delivered`` and
    ``read`` come per participant.

    Attributes:
        wamid: The message.
        group_id: The group when ``recipient_type`` is ``group``, else ``None``.
        recipient_id: ``recipient_id`` as received (the group id for group sends).
        status: Meta's status string as received.
        participant: The participant for per-participant statuses, else ``None``.
        pricing: The per-recipient pricing object, if given (at most once per participant).
        conversation_id: ``conversation.id`` of older payloads, if any.
        errors: Errors of a ``failed`` status.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "message.status"
    phone_number_id: str | None = field(default=None, compare=False)
    wamid: str
    group_id: str | None
    recipient_id: str | None = None
    status: str
    participant: ParticipantRef | None = None
    pricing: PricingInfo | None = None
    conversation_id: str | None = None
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def state(self) -> DeliveryState | None:
        """The status as a :class:`DeliveryState`, or ``None`` for unknown values."""
        return _STATES.get(self.status)

    @property
    def participant_key(self) -> str | None:
        """The participant's member key, or ``None`` for a group-level status."""
        return self.participant.key if self.participant is not None else None

    @property
    def dedupe_key(self) -> str:
        """Keyed ``wamid | status | participant`` (reference 3.2)."""
        return join_key(FIELD_MESSAGES, "status", self.wamid, self.status, self.participant_key)
