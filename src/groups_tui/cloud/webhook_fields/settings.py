"""Parsing the ``group_settings_update`` field: subject, description and picture changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    PictureChange,
    SettingFailure,
    SettingsChanged,
    SettingsChangeFailed,
)

from .reading import (
    InvalidItem,
    bool_or_none,
    event_errors,
    required_str,
    str_or_none,
    timestamp,
)

__all__ = ["parse_settings"]

_SETTING_PARTS = (
    ("group_subject", "subject"),
    ("group_description", "description"),
    ("profile_picture", "picture"),
)


def parse_settings(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = str_or_none(item.get("type"))
    if kind not in (None, "group_settings_update"):
        raise InvalidItem(f"unknown settings type {kind!r}")
    at = timestamp(item.get("timestamp"))
    group_id = required_str(item, "group_id")
    request_id = str_or_none(item.get("request_id"))
    changed: dict[str, Any] = {}
    failures: list[SettingFailure] = []
    for key, setting in _SETTING_PARTS:
        part = item.get(key)
        if not isinstance(part, dict):
            continue
        part_errors = event_errors(part.get("errors"))
        ok = bool_or_none(part.get("update_successful"))
        succeeded = ok if ok is not None else not part_errors
        if setting == "picture":
            content = str_or_none(part.get("sha256"))
        else:
            content = str_or_none(part.get("text"))
        if succeeded:
            if setting == "picture":
                changed["picture"] = PictureChange(
                    mime_type=str_or_none(part.get("mime_type")), sha256=content
                )
            elif content is not None:
                changed[setting] = content
        else:
            failures.append(SettingFailure(setting=setting, value=content, errors=part_errors))
    errors = event_errors(item.get("errors"))
    if changed or not (failures or errors):
        yield SettingsChanged(group_id=group_id, request_id=request_id, at=at, **changed)
    if failures or errors:
        yield SettingsChangeFailed(
            group_id=group_id,
            request_id=request_id,
            failures=tuple(failures),
            errors=errors,
            at=at,
        )
