"""Parsing the ``group_status_update`` field: a group suspended, or its suspension lifted."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from groups_tui.domain.events import DomainEvent, GroupSuspendCleared, GroupSuspended

from .reading import InvalidItem, required_str, str_or_none, timestamp

__all__ = ["parse_status"]


def parse_status(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = str_or_none(item.get("type"))
    at = timestamp(item.get("timestamp"))
    group_id = required_str(item, "group_id")
    if kind == "group_suspend":
        yield GroupSuspended(group_id=group_id, at=at)
    elif kind == "group_suspend_cleared":
        yield GroupSuspendCleared(group_id=group_id, at=at)
    else:
        raise InvalidItem(f"unknown group status type {kind!r}")
