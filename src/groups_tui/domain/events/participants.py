"""Events of the ``group_participants_update`` field: joins, leaves, removals, join requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .base import EventError, ParticipantRef, join_key, participants_key

__all__ = [
    "FIELD_PARTICIPANTS",
    "FailedParticipant",
    "JoinRequestCreated",
    "JoinRequestRevoked",
    "ParticipantsJoined",
    "ParticipantsLeft",
    "ParticipantsRemoveFailed",
    "ParticipantsRemoved",
]

FIELD_PARTICIPANTS = "group_participants_update"


@dataclass(frozen=True, slots=True)
class FailedParticipant:
    """A participant a removal could not remove.

    Attributes:
        participant: Who (by ``input`` as sent, or ``wa_id``).
        errors: Per-participant errors; often empty, with the reason in the item's errors.
    """

    participant: ParticipantRef
    errors: tuple[EventError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantsJoined:
    """People joined (``group_participants_add``): by invite link or an approved request.

    Attributes:
        group_id: The group.
        participants: Who joined.
        via: Meta's ``reason`` (``invite_link`` in every sample, also for approvals), or
            ``unknown`` when absent.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "participant.joined"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    participants: tuple[ParticipantRef, ...]
    via: str = "unknown"
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted participant keys (reference 3.2)."""
        return join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_add",
            None,
            self.at,
            participants_key(self.participants),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ParticipantsLeft:
    """People left on their own (``group_participants_remove``, initiated by the participant).

    Attributes:
        group_id: The group.
        participants: Who left (by ``wa_id`` / ``user_id``).
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "participant.left"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    participants: tuple[ParticipantRef, ...]
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted participant keys (reference 3.2)."""
        return join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_leave",
            None,
            self.at,
            participants_key(self.participants),
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
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "participant.removed"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    participants: tuple[ParticipantRef, ...]
    initiated_by: str | None = None
    request_id: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted participant keys (reference 3.2)."""
        return join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_remove",
            self.request_id,
            self.at,
            participants_key(self.participants),
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
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "participant.remove_failed"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    failed: tuple[FailedParticipant, ...] = ()
    errors: tuple[EventError, ...] = ()
    initiated_by: str | None = None
    request_id: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the sorted failed participant keys (reference 3.2)."""
        return join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_participants_remove_failed",
            self.request_id,
            self.at,
            participants_key(f.participant for f in self.failed),
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
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "join_request.created"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    join_request_id: str
    participant: ParticipantRef
    reason: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the join request id (reference 3.2)."""
        return join_key(
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
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "join_request.revoked"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    join_request_id: str
    participant: ParticipantRef
    reason: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item and the join request id (reference 3.2)."""
        return join_key(
            FIELD_PARTICIPANTS,
            self.group_id,
            "group_join_request_revoked",
            None,
            self.at,
            self.join_request_id,
        )
