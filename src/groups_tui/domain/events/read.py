"""A read of a group from the API, applied like an event (it never comes by webhook)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .base import ParticipantRef, join_key

__all__ = ["GroupRead"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRead:
    """A group as read from the API (get group info, reference 2.2) at ``at``.

    The API lists who is in the group, never when anyone joined or left, so applying a
    read records only the differences from what the store knows, timed at the read and
    marked as observed; the webhook for such a change, arriving later with its own time,
    replaces the observation (see ``groups_tui.store.apply.members``).

    Attributes:
        group_id: The group.
        subject: Subject, if read.
        description: Description, if read.
        join_approval_mode: ``approval_required`` or ``auto_approve``, if read.
        created_at: ``creation_timestamp``.
        participants: Everyone listed, besides the business.
        at: When the read was made (the reader's clock).
        phone_number_id: The business number the group was read through.
    """

    event_kind: ClassVar[str] = "group.read"
    phone_number_id: str | None = field(default=None, compare=False)
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
        return join_key("read", self.group_id, self.at)
