"""Typed domain events carried by Cloud API webhooks (reference section 3).

:func:`groups_tui.cloud.webhooks.parse_payload` turns a verified webhook body into a list of
these; the store applies them idempotently and order-safely. Everything is plain, frozen
data: no I/O, no clock.

Every event has ``at`` (the webhook's own epoch seconds, never the receipt time) and a
``dedupe_key``. Group metadata items carry no event id, so their key is built from the item
(``field | group_id | type | request_id | timestamp`` plus the sorted participant keys or the
join request id, reference 3.2); statuses are keyed ``wamid | status | participant`` and
inbound messages by their wamid. Two deliveries of the same item, whatever batch they came
in, therefore produce equal events with equal keys.

Each class names itself in the class attribute ``event_kind`` (``"group_created"``, ...),
which is what the change feed records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .models import DeliveryState, MessageKind

__all__ = [
    "DomainEvent",
    "EventError",
    "FailedParticipant",
    "GroupCreateFailed",
    "GroupCreated",
    "GroupDeleteFailed",
    "GroupDeleted",
    "GroupRead",
    "GroupSuspendCleared",
    "GroupSuspended",
    "InboundMessage",
    "JoinRequestCreated",
    "JoinRequestRevoked",
    "MediaRef",
    "MessageStatus",
    "ParticipantRef",
    "ParticipantsJoined",
    "ParticipantsLeft",
    "ParticipantsRemoveFailed",
    "ParticipantsRemoved",
    "PictureChange",
    "PricingInfo",
    "SettingFailure",
    "SettingsChangeFailed",
    "SettingsChanged",
    "UnknownEvent",
    "normalize_input",
]

FIELD_LIFECYCLE = "group_lifecycle_update"
FIELD_PARTICIPANTS = "group_participants_update"
FIELD_SETTINGS = "group_settings_update"
FIELD_STATUS = "group_status_update"
FIELD_MESSAGES = "messages"

_PHONE_PUNCTUATION = str.maketrans("", "", "+-() .")


def normalize_input(value: str) -> str:
    """Reduce an ``input`` echoed by a removal webhook to a member key.

    Removals identify people exactly as the business typed them (``+1 650-555-1234``, a
    WhatsApp id, or from 2026 a BSUID). Phone-shaped inputs become digits so they match
    ``wa_id``; anything else (a BSUID) is returned stripped but otherwise unchanged.

    Args:
        value: The ``input`` string from the webhook.

    Returns:
        The digits of a phone number, or the stripped input.
    """
    stripped = value.strip()
    digits = stripped.translate(_PHONE_PUNCTUATION)
    return digits if digits.isdigit() else stripped


def _join_key(*parts: object) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


@dataclass(frozen=True, slots=True)
class EventError:
    """An asynchronous error as carried inside a webhook (reference 7.2).

    Attributes:
        code: Graph error code; ``None`` when absent or not numeric (codes arrive both as
            strings and as integers).
        title: Short error title.
        message: Error message.
        details: ``error_data.details``, if any.
        href: Documentation link, if any.
    """

    code: int | None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantRef:
    """A person named by a webhook, as far as the webhook identifies them.

    Attributes:
        wa_id: Phone-number based WhatsApp id; may be missing from 2026.
        user_id: Business-scoped user id (BSUID), the preferred key when present.
        username: WhatsApp username, if shared.
        profile_name: Profile display name (from ``contacts[]``), if given.
        parent_user_id: Parent BSUID, if given.
        input: What the business sent when removing someone (removal webhooks only).
    """

    wa_id: str | None = None
    user_id: str | None = None
    username: str | None = None
    profile_name: str | None = None
    parent_user_id: str | None = None
    input: str | None = None

    @property
    def key(self) -> str:
        """Member key: ``user_id``, else ``wa_id``, else the normalised ``input`` (or ``""``)."""
        if self.user_id:
            return self.user_id
        if self.wa_id:
            return self.wa_id
        if self.input:
            return normalize_input(self.input)
        return ""


def _participants_key(participants: Iterable[ParticipantRef]) -> str:
    return ",".join(sorted(p.key for p in participants))


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


@dataclass(frozen=True, slots=True)
class PictureChange:
    """A successfully changed group picture.

    Attributes:
        mime_type: MIME type of the new picture.
        sha256: Hash of the new picture.
    """

    mime_type: str | None
    sha256: str | None


@dataclass(frozen=True, slots=True)
class SettingFailure:
    """One group setting whose update failed.

    Attributes:
        setting: ``subject``, ``description`` or ``picture``.
        value: The text that was asked for (subject, description), or the picture hash.
        errors: Why it failed.
    """

    setting: str
    value: str | None
    errors: tuple[EventError, ...] = ()


@dataclass(frozen=True, slots=True)
class FailedParticipant:
    """A participant a removal could not remove.

    Attributes:
        participant: Who (by ``input`` as sent, or ``wa_id``).
        errors: Per-participant errors; often empty, with the reason in the item's errors.
    """

    participant: ParticipantRef
    errors: tuple[EventError, ...] = ()


# --- group_lifecycle_update -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupCreated:
    """A group the business asked for now exists (``group_create`` without errors).

    Attributes:
        request_id: The create request's id, to resolve the pending operation.
        group_id: The new group's id.
        subject: Group subject.
        description: Group description, if given.
        invite_link: Invite link, if given.
        join_approval_mode: ``approval_required`` or ``auto_approve``, if given.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "group_created"
    request_id: str | None
    group_id: str
    subject: str | None = None
    description: str | None = None
    invite_link: str | None = None
    join_approval_mode: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(FIELD_LIFECYCLE, self.group_id, "group_create", self.request_id, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupCreateFailed:
    """A create request failed (``group_create`` with ``errors``).

    Attributes:
        request_id: The create request's id.
        group_id: Present even in Meta's failure sample; not to be relied on.
        subject: Subject that was asked for.
        description: Description that was asked for.
        errors: Why it failed.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "group_create_failed"
    request_id: str | None
    group_id: str | None = None
    subject: str | None = None
    description: str | None = None
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(
            FIELD_LIFECYCLE, self.group_id, "group_create_failed", self.request_id, self.at
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDeleted:
    """A group was deleted (``group_delete`` without errors).

    Attributes:
        group_id: The deleted group.
        request_id: Carried by the webhook although the delete call returns none.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "group_deleted"
    group_id: str
    request_id: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(FIELD_LIFECYCLE, self.group_id, "group_delete", self.request_id, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDeleteFailed:
    """A delete request failed (``group_delete`` with ``errors``).

    Attributes:
        group_id: The group that was not deleted.
        request_id: The request's id, if given.
        errors: Why it failed.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "group_delete_failed"
    group_id: str
    request_id: str | None = None
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(
            FIELD_LIFECYCLE, self.group_id, "group_delete_failed", self.request_id, self.at
        )


# --- group_participants_update ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantsJoined:
    """People joined (``group_participants_add``): by invite link or an approved request.

    Attributes:
        group_id: The group.
        participants: Who joined.
        via: Meta's ``reason`` (``invite_link`` in every sample, also for approvals), or
            ``unknown`` when absent.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "participants_joined"
    group_id: str
    participants: tuple[ParticipantRef, ...]
    via: str = "unknown"
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted participant keys (reference 3.2)."""
        return _join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_add",
            None,
            self.at,
            _participants_key(self.participants),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantsLeft:
    """People left on their own (``group_participants_remove``, initiated by the participant).

    Attributes:
        group_id: The group.
        participants: Who left (by ``wa_id`` / ``user_id``).
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "participants_left"
    group_id: str
    participants: tuple[ParticipantRef, ...]
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted participant keys (reference 3.2)."""
        return _join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_leave",
            None,
            self.at,
            _participants_key(self.participants),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantsRemoved:
    """The business removed people (``group_participants_remove``, the succeeded part).

    Attributes:
        group_id: The group.
        participants: Who was removed, identified by ``input`` as the business sent it.
        initiated_by: ``business`` in Meta's samples.
        request_id: The removal request's id.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "participants_removed"
    group_id: str
    participants: tuple[ParticipantRef, ...]
    initiated_by: str | None = None
    request_id: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted participant keys (reference 3.2)."""
        return _join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_remove",
            self.request_id,
            self.at,
            _participants_key(self.participants),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantsRemoveFailed:
    """A removal failed for some or all participants.

    Attributes:
        group_id: The group.
        failed: The participants not removed, each with its own errors if given.
        errors: The item-level errors (often the only reason given).
        initiated_by: ``business`` in Meta's samples.
        request_id: The removal request's id.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "participants_remove_failed"
    group_id: str
    failed: tuple[FailedParticipant, ...] = ()
    errors: tuple[EventError, ...] = ()
    initiated_by: str | None = None
    request_id: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted failed participant keys (reference 3.2)."""
        return _join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_remove_failed",
            self.request_id,
            self.at,
            _participants_key(f.participant for f in self.failed),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinRequestCreated:
    """Someone asked to join a group that requires approval.

    Attributes:
        group_id: The group.
        join_request_id: Id used to approve or reject.
        participant: The requester.
        reason: Meta's ``reason`` (values undocumented), if any.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "join_request_created"
    group_id: str
    join_request_id: str
    participant: ParticipantRef
    reason: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the join request id (reference 3.2)."""
        return _join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_join_request_created",
            None,
            self.at,
            self.join_request_id,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinRequestRevoked:
    """The requester withdrew a join request.

    Attributes:
        group_id: The group.
        join_request_id: The withdrawn request.
        participant: The requester.
        reason: Meta's ``reason`` (values undocumented), if any.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "join_request_revoked"
    group_id: str
    join_request_id: str
    participant: ParticipantRef
    reason: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the join request id (reference 3.2)."""
        return _join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_join_request_revoked",
            None,
            self.at,
            self.join_request_id,
        )


# --- group_settings_update --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChanged:
    """The parts of a settings update that succeeded (``None`` = not changed).

    Attributes:
        group_id: The group.
        request_id: The update request's id.
        subject: New subject.
        description: New description.
        picture: New picture.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "settings_changed"
    group_id: str
    request_id: str | None = None
    subject: str | None = None
    description: str | None = None
    picture: PictureChange | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(
            FIELD_SETTINGS, self.group_id, "group_settings_update", self.request_id, self.at
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChangeFailed:
    """The parts of a settings update that failed.

    Attributes:
        group_id: The group.
        request_id: The update request's id.
        failures: One entry per failed setting, with its errors.
        errors: The item-level errors.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "settings_change_failed"
    group_id: str
    request_id: str | None = None
    failures: tuple[SettingFailure, ...] = ()
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(
            FIELD_SETTINGS, self.group_id, "group_settings_update_failed", self.request_id, self.at
        )


# --- group_status_update ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSuspended:
    """WhatsApp suspended the group.

    Attributes:
        group_id: The group.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "group_suspended"
    group_id: str
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(FIELD_STATUS, self.group_id, "group_suspend", None, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSuspendCleared:
    """WhatsApp lifted the group's suspension.

    Attributes:
        group_id: The group.
        at: Webhook epoch seconds.
    """

    event_kind: ClassVar[str] = "group_suspend_cleared"
    group_id: str
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return _join_key(FIELD_STATUS, self.group_id, "group_suspend_cleared", None, self.at)


# --- messages ---------------------------------------------------------------------------


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
    """

    event_kind: ClassVar[str] = "inbound_message"
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
        return _join_key(FIELD_MESSAGES, "message", self.wamid)


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
    """

    event_kind: ClassVar[str] = "message_status"
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
        try:
            return DeliveryState(self.status)
        except ValueError:
            return None

    @property
    def participant_key(self) -> str | None:
        """The participant's member key, or ``None`` for a group-level status."""
        return self.participant.key if self.participant is not None else None

    @property
    def dedupe_key(self) -> str:
        """Keyed ``wamid | status | participant`` (reference 3.2)."""
        return _join_key(FIELD_MESSAGES, "status", self.wamid, self.status, self.participant_key)


# --- a read of the API, not a webhook -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRead:
    """A group as read from the API (get group info, reference 2.2) at ``at``.

    The API lists who is in the group, never when anyone joined or left, so applying a
    read records only the differences from what the store knows, timed at the read and
    marked as observed; the webhook for such a change, arriving later with its own time,
    replaces the observation (see ``groups_tui.store.apply``).

    Attributes:
        group_id: The group.
        subject: Subject, if read.
        description: Description, if read.
        join_approval_mode: ``approval_required`` or ``auto_approve``, if read.
        created_at: ``creation_timestamp``.
        participants: Everyone listed, besides the business.
        at: When the read was made (the reader's clock).
    """

    event_kind: ClassVar[str] = "group_read"
    group_id: str
    subject: str | None = None
    description: str | None = None
    join_approval_mode: str | None = None
    created_at: int
    participants: tuple[ParticipantRef, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """The group and the read's time (reads never come through the raw log)."""
        return _join_key("read", self.group_id, self.at)


# --- anything else ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """A change or item whose shape this version does not understand; kept for re-parsing.

    Attributes:
        field: The change's ``field`` (or ``""`` when absent).
        raw: The unrecognised object verbatim.
        reason: Why it was not recognised.
        at: The object's ``timestamp`` when readable, else ``0``.
    """

    event_kind: ClassVar[str] = "unknown"
    field: str
    raw: Mapping[str, Any]
    reason: str = ""
    at: int = 0

    @property
    def dedupe_key(self) -> str:
        """Field plus a hash of the canonical JSON of ``raw``."""
        canonical = json.dumps(self.raw, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return _join_key("unknown", self.field, digest)


DomainEvent = (
    GroupCreated
    | GroupCreateFailed
    | GroupDeleted
    | GroupDeleteFailed
    | ParticipantsJoined
    | ParticipantsLeft
    | ParticipantsRemoved
    | ParticipantsRemoveFailed
    | JoinRequestCreated
    | JoinRequestRevoked
    | SettingsChanged
    | SettingsChangeFailed
    | GroupSuspended
    | GroupSuspendCleared
    | InboundMessage
    | MessageStatus
    | GroupRead
    | UnknownEvent
)
"""Every event :func:`groups_tui.cloud.webhooks.parse_payload` can produce, plus
:class:`GroupRead`, which the service builds from a read of the API."""
