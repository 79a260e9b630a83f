"""Parsing the ``group_participants_update`` field: joins, leaves, removals, join requests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    FailedParticipant,
    JoinRequestCreated,
    JoinRequestRevoked,
    ParticipantRef,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
)

from .reading import (
    InvalidItem,
    as_dict,
    as_list,
    event_errors,
    participant_ref,
    participant_refs,
    required_str,
    str_or_none,
    timestamp,
)

__all__ = ["parse_participants"]


def _item_participant(item: Mapping[str, Any]) -> ParticipantRef:
    return ParticipantRef(
        wa_id=str_or_none(item.get("wa_id")),
        user_id=str_or_none(item.get("user_id")),
        username=str_or_none(item.get("username")),
        profile_name=str_or_none(as_dict(item.get("profile")).get("name")),
        parent_user_id=str_or_none(item.get("parent_user_id")),
    )


def parse_participants(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = str_or_none(item.get("type"))
    at = timestamp(item.get("timestamp"))
    group_id = required_str(item, "group_id")
    if kind == "group_participants_add":
        joined = participant_refs(item.get("added_participants"))
        if not joined and _item_participant(item).key:
            joined = (_item_participant(item),)
        if not joined:
            raise InvalidItem("add without participants")
        yield ParticipantsJoined(
            group_id=group_id,
            participants=joined,
            via=str_or_none(item.get("reason")) or "unknown",
            at=at,
        )
    elif kind == "group_participants_remove":
        yield from _removal(item, value, group_id, at)
    elif kind in ("group_join_request_created", "group_join_request_revoked"):
        participant = _item_participant(item)
        join_request_id = required_str(item, "join_request_id")
        cls = JoinRequestCreated if kind == "group_join_request_created" else JoinRequestRevoked
        yield cls(
            group_id=group_id,
            join_request_id=join_request_id,
            participant=participant,
            reason=str_or_none(item.get("reason")),
            at=at,
        )
    else:
        raise InvalidItem(f"unknown participants type {kind!r}")


def _removal(
    item: Mapping[str, Any], value: Mapping[str, Any], group_id: str, at: int
) -> Iterator[DomainEvent]:
    # Meta's samples put initiated_by outside the item (invalid JSON); read the item first.
    initiated_by = str_or_none(item.get("initiated_by")) or str_or_none(value.get("initiated_by"))
    request_id = str_or_none(item.get("request_id"))
    removed = participant_refs(item.get("removed_participants"))
    if not removed and _item_participant(item).key:
        removed = (_item_participant(item),)
    failed = tuple(
        FailedParticipant(
            participant=participant_ref(raw), errors=event_errors(as_dict(raw).get("errors"))
        )
        for raw in as_list(item.get("failed_participants"))
        if participant_ref(raw).key
    )
    errors = event_errors(item.get("errors"))
    left = initiated_by == "participant" or (
        initiated_by is None
        and request_id is None
        and not failed
        and all(p.input is None for p in removed)
    )
    if removed:
        if left:
            yield ParticipantsLeft(group_id=group_id, participants=removed, at=at)
        else:
            yield ParticipantsRemoved(
                group_id=group_id,
                participants=removed,
                initiated_by=initiated_by,
                request_id=request_id,
                at=at,
            )
    if failed or (errors and not removed):
        yield ParticipantsRemoveFailed(
            group_id=group_id,
            failed=failed,
            errors=errors,
            initiated_by=initiated_by,
            request_id=request_id,
            at=at,
        )
    if not removed and not failed and not errors:
        raise InvalidItem("remove without participants")
