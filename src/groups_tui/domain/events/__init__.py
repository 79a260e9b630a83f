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

Each class names itself in the class attribute ``event_kind`` (``"group.created"``,
``"message.received"``...), spelled as the change feed spells the change it makes (the raw
log's ``events show`` and the forwarding feed's ``events tail`` use one vocabulary).

One module per webhook field family (:mod:`.lifecycle`, :mod:`.participants`,
:mod:`.settings`, :mod:`.status`, :mod:`.messages`), plus :mod:`.read` (a read of the API)
and :mod:`.unknown`; :mod:`.base` holds what they share. The names below are the public
API; import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .base import EventError, ParticipantRef, normalize_input
from .lifecycle import (
    FIELD_LIFECYCLE,
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
)
from .messages import FIELD_MESSAGES, InboundMessage, MediaRef, MessageStatus, PricingInfo
from .participants import (
    FIELD_PARTICIPANTS,
    FailedParticipant,
    JoinRequestCreated,
    JoinRequestRevoked,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
)
from .read import GroupRead
from .settings import (
    FIELD_SETTINGS,
    PictureChange,
    SettingFailure,
    SettingsChanged,
    SettingsChangeFailed,
)
from .status import FIELD_STATUS, GroupSuspendCleared, GroupSuspended
from .unknown import UnknownEvent

LEGACY_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "group_created": "group.created",
        "group_create_failed": "group.create_failed",
        "group_deleted": "group.deleted",
        "group_delete_failed": "group.delete_failed",
        "inbound_message": "message.received",
        "message_status": "message.status",
        "participants_joined": "participant.joined",
        "participants_left": "participant.left",
        "participants_removed": "participant.removed",
        "participants_remove_failed": "participant.remove_failed",
        "join_request_created": "join_request.created",
        "join_request_revoked": "join_request.revoked",
        "group_read": "group.read",
        "settings_changed": "group.updated",
        "settings_change_failed": "group.settings_failed",
        "group_suspended": "group.suspended",
        "group_suspend_cleared": "group.suspend_cleared",
    }
)
"""Earlier spellings of ``event_kind`` (kept in databases written before the change feed's
spelling was adopted) -> today's. Readers of stored kinds map them through this."""

__all__ = [
    "LEGACY_KINDS",
    "FIELD_LIFECYCLE",
    "FIELD_MESSAGES",
    "FIELD_PARTICIPANTS",
    "FIELD_SETTINGS",
    "FIELD_STATUS",
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
