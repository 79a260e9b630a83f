"""Events of the ``group_lifecycle_update`` field: groups created and deleted, or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .base import EventError, join_key

__all__ = [
    "FIELD_LIFECYCLE",
    "GroupCreateFailed",
    "GroupCreated",
    "GroupDeleteFailed",
    "GroupDeleted",
]

FIELD_LIFECYCLE = "group_lifecycle_update"


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
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.created"
    phone_number_id: str | None = field(default=None, compare=False)
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
        return join_key(FIELD_LIFECYCLE, self.group_id, "group_create", self.request_id, self.at)


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
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.create_failed"
    phone_number_id: str | None = field(default=None, compare=False)
    request_id: str | None
    group_id: str | None = None
    subject: str | None = None
    description: str | None = None
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(
            FIELD_LIFECYCLE, self.group_id, "group_create_failed", self.request_id, self.at
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDeleted:
    """A group was deleted (``group_delete`` without errors).

    Attributes:
        group_id: The deleted group.
        request_id: Carried by the webhook although the delete call returns none.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.deleted"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    request_id: str | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(FIELD_LIFECYCLE, self.group_id, "group_delete", self.request_id, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDeleteFailed:
    """A delete request failed (``group_delete`` with ``errors``).

    Attributes:
        group_id: The group that was not deleted.
        request_id: The request's id, if given.
        errors: Why it failed.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.delete_failed"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    request_id: str | None = None
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(
            FIELD_LIFECYCLE, self.group_id, "group_delete_failed", self.request_id, self.at
        )
