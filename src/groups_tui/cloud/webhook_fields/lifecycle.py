"""Parsing the ``group_lifecycle_update`` field: groups created and deleted, or not."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
)

from .reading import InvalidItem, event_errors, required_str, str_or_none, timestamp

__all__ = ["parse_lifecycle"]


def parse_lifecycle(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = str_or_none(item.get("type"))
    at = timestamp(item.get("timestamp"))
    request_id = str_or_none(item.get("request_id"))
    errors = event_errors(item.get("errors"))
    if kind == "group_create":
        if errors:
            yield GroupCreateFailed(
                request_id=request_id,
                group_id=str_or_none(item.get("group_id")),
                subject=str_or_none(item.get("subject")),
                description=str_or_none(item.get("description")),
                errors=errors,
                at=at,
            )
            return
        yield GroupCreated(
            request_id=request_id,
            group_id=required_str(item, "group_id"),
            subject=str_or_none(item.get("subject")),
            description=str_or_none(item.get("description")),
            invite_link=str_or_none(item.get("invite_link")),
            # Kept as received, known or not (the store shows "unknown: X").
            join_approval_mode=str_or_none(item.get("join_approval_mode")) or None,
            at=at,
        )
    elif kind == "group_delete":
        group_id = required_str(item, "group_id")
        if errors:
            yield GroupDeleteFailed(group_id=group_id, request_id=request_id, errors=errors, at=at)
        else:
            yield GroupDeleted(group_id=group_id, request_id=request_id, at=at)
    else:
        raise InvalidItem(f"unknown lifecycle type {kind!r}")
