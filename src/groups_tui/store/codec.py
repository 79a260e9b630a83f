"""Conversions between SQLite values and Python/domain values."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from groups_tui.domain.models import (
    Direction,
    Group,
    GroupState,
    JoinApproval,
    JoinRequest,
    JoinVia,
    Media,
    Message,
    MessageKind,
    Participant,
    known_or_unknown,
)

__all__ = [
    "ACTIVITY",
    "GROUP_COLUMNS",
    "GROUP_FROM",
    "MESSAGE_COLUMNS",
    "PARTICIPANT_COLUMNS",
    "dec_or_none",
    "dumps",
    "enum_or",
    "group_from_row",
    "loads",
    "media_from_json",
    "media_to_json",
    "message_from_row",
    "join_request_from_row",
    "participant_from_row",
]

E = TypeVar("E")


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, compact, Decimals as strings)."""
    return _ENCODE(value)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# One encoder for every call: json.dumps builds a new one whenever it is given options.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_default).encode


def loads(text: str | None, default: Any = None) -> Any:
    """Parse JSON text, returning ``default`` for NULL."""
    if text is None:
        return default
    return json.loads(text)


def dec_or_none(text: str | None) -> Decimal | None:
    """Decimal from TEXT; NULL (or garbage) is ``None`` = unknown."""
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def enum_or(cls: type[E], value: Any, fallback: E) -> E:
    """Coerce ``value`` into enum ``cls``, or return ``fallback``."""
    try:
        return cls(value)  # type: ignore[call-arg]
    except ValueError:
        return fallback


def media_to_json(media: Media | None) -> str | None:
    """Serialise a :class:`Media`."""
    if media is None:
        return None
    return dumps({k: v for k, v in asdict(media).items() if v is not None})


def media_from_json(text: str | None) -> Media | None:
    """Rebuild a :class:`Media` from its JSON form."""
    data = loads(text)
    if not isinstance(data, dict):
        return None
    return Media(
        kind=enum_or(MessageKind, data.get("kind"), MessageKind.DOCUMENT),
        mime_type=data.get("mime_type"),
        size=data.get("size"),
        caption=data.get("caption"),
        filename=data.get("filename"),
        media_id=data.get("media_id"),
        link=data.get("link"),
    )


GROUP_FROM = "groups g"
"""Where :data:`GROUP_COLUMNS` come from: the newest message, member and request counts
are kept on the group row by triggers (schema v4)."""

ACTIVITY = (
    "max(coalesce(g.last_activity_at, 0), coalesce(g.last_msg_at, 0), coalesce(g.created_at, 0))"
)
"""Sort key of the inbox: the latest event, message or creation time."""


GROUP_COLUMNS = f"""
    g.id, g.request_id, g.subject, g.description, g.join_approval, g.state, g.suspended,
    g.suspended_reason, g.created_at, g.invite_link, g.member_count,
    g.last_inbound_at, g.last_inbound_by, g.last_msg_preview, nullif({ACTIVITY}, 0), g.unread,
    g.pending_requests, g.phone_number_id
"""
"""Columns read by :func:`group_from_row`; select them ``FROM`` :data:`GROUP_FROM`."""


def group_from_row(row: Any) -> Group:
    """Build a :class:`Group` from a row selected with :data:`GROUP_COLUMNS`."""
    return Group(
        id=row[0],
        request_id=row[1],
        subject=row[2],
        description=row[3],
        join_approval=known_or_unknown(JoinApproval, row[4]),
        state=enum_or(GroupState, row[5], GroupState.ACTIVE),
        suspended=bool(row[6]),
        suspended_reason=row[7],
        created_at=row[8],
        invite_link=row[9],
        participant_count=row[10],
        last_inbound_at=row[11],
        last_inbound_by=row[12],
        last_message_preview=row[13],
        last_activity_at=row[14],
        unread=row[15],
        pending_requests=row[16],
        phone_number_id=row[17],
    )


PARTICIPANT_COLUMNS = "wa_id, user_id, username, profile_name, joined_at, joined_via"


def participant_from_row(row: Any) -> Participant:
    """Build a :class:`Participant` from :data:`PARTICIPANT_COLUMNS`."""
    return Participant(
        wa_id=row[0],
        user_id=row[1],
        username=row[2],
        profile_name=row[3],
        joined_at=row[4],
        joined_via=enum_or(JoinVia, row[5], JoinVia.UNKNOWN),
    )


def join_request_from_row(row: Any) -> JoinRequest:
    """Build a :class:`JoinRequest` from ``id, group_id, wa_id, user_id, name, created``."""
    return JoinRequest(
        join_request_id=row[0],
        group_id=row[1],
        wa_id=row[2],
        user_id=row[3],
        profile_name=row[4],
        created_at=row[5],
    )


MESSAGE_COLUMNS = """
    id, group_id, direction, kind, sender_key, sender_name, sender_wa_id, at, text, media,
    template_name, system_event
"""


def message_from_row(row: Any) -> Message:
    """Build a :class:`Message` from :data:`MESSAGE_COLUMNS`."""
    return Message(
        id=row[0],
        group_id=row[1],
        direction=enum_or(Direction, row[2], Direction.INBOUND),
        kind=enum_or(MessageKind, row[3], MessageKind.UNSUPPORTED),
        sender_key=row[4],
        sender_name=row[5],
        sender_wa_id=row[6],
        at=row[7],
        text=row[8],
        media=media_from_json(row[9]),
        template_name=row[10],
        system_event=row[11],
    )
