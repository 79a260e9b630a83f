"""What happened in a group besides messages: joins, leaves, removals, join requests and
changes to the group itself, as lines of its conversation.

WhatsApp shows members such events inside the group ("you will see an alert within the
group itself"); the operator sees them at the same place in the conversation, between
the messages they came between.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["EventKind", "TimelineEvent", "describe"]


class EventKind(StrEnum):
    """Kinds of events in a group's timeline."""

    JOINED = "joined"
    LEFT = "left"
    REMOVED = "removed"
    REMOVE_FAILED = "remove_failed"
    ASKED_TO_JOIN = "asked_to_join"
    REQUEST_REJECTED = "request_rejected"
    CREATED = "created"
    SUBJECT = "subject"
    DESCRIPTION = "description"
    PICTURE = "picture"
    SUSPENDED = "suspended"
    SUSPEND_CLEARED = "suspend_cleared"


GROUP_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.SUBJECT,
        EventKind.DESCRIPTION,
        EventKind.PICTURE,
        EventKind.SUSPENDED,
        EventKind.SUSPEND_CLEARED,
    }
)
"""Events of the group itself (the rest are about one person)."""


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event in a group's timeline.

    Attributes:
        group_id: The group.
        kind: What happened.
        at: When (webhook epoch seconds).
        person_key: The member or requester it is about (``None`` for the group's own).
        who: Their name as WhatsApp gave it, else their number (untrusted).
        via: How a join came about: ``invite_link`` or ``approval``.
        by: Who started a removal: ``business`` (the operator) or someone else.
        value: The new subject or description, or the error of a failed removal
            (untrusted).
        observed: Seen by a read of the group, not told by a webhook: the time is when
            the read happened.
    """

    group_id: str
    kind: EventKind
    at: int
    person_key: str | None = None
    who: str | None = None
    via: str | None = None
    by: str | None = None
    value: str | None = None
    observed: bool = False

    @property
    def id(self) -> str:
        """A key unique in the group's timeline (never a message id)."""
        return f"event:{self.kind.value}:{self.at}:{self.person_key or self.value or ''}"


def _quoted(text: str | None, limit: int = 80) -> str:
    one_line = " ".join((text or "").split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return f"“{one_line}”"


def describe(event: TimelineEvent) -> str:
    """The event as one line, as the conversation shows it (``Ana left``).

    Names and texts are inserted as given: the caller shows the line as plain text.
    """
    who = event.who or "someone"
    kind = event.kind
    if kind is EventKind.JOINED:
        if event.observed:
            return f"{who} is in the group (seen by a read of the group; time approximate)"
        if event.via == "approval":
            return f"{who} joined: join request approved"
        if event.via == "invite_link":
            return f"{who} joined via the invite link"
        return f"{who} joined"
    if kind is EventKind.LEFT:
        return f"{who} left" + (" (seen by a read of the group)" if event.observed else "")
    if kind is EventKind.REMOVED:
        if event.by == "business":
            return f"{who} was removed by you"
        return f"{who} was removed"
    if kind is EventKind.REMOVE_FAILED:
        reason = f": {event.value}" if event.value else ""
        return f"Removing {who} failed{reason}"
    if kind is EventKind.ASKED_TO_JOIN:
        return f"{who} asked to join"
    if kind is EventKind.REQUEST_REJECTED:
        return f"Join request from {who} rejected"
    if kind is EventKind.CREATED:
        return f"Group created as {_quoted(event.value)}" if event.value else "Group created"
    if kind is EventKind.SUBJECT:
        return f"Subject changed to {_quoted(event.value)}"
    if kind is EventKind.DESCRIPTION:
        return f"Description changed to {_quoted(event.value)}"
    if kind is EventKind.PICTURE:
        return "Group picture changed"
    if kind is EventKind.SUSPENDED:
        return "Group suspended by WhatsApp"
    return "Group suspension lifted"
