"""Events of the ``group_settings_update`` field: subject, description and picture changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .base import EventError, join_key

__all__ = [
    "FIELD_SETTINGS",
    "PictureChange",
    "SettingFailure",
    "SettingsChangeFailed",
    "SettingsChanged",
]

FIELD_SETTINGS = "group_settings_update"


@dataclass(frozen=True, slots=True)
class PictureChange:
    """A successfully changed group picture.

    Attributes:
        mime_type: MIME type of the new picture.
        sha256: Hash of the new picture.
    """

    mime_type: str | None
    sha256: str | None


@dataclass(frozen=True, slots=True)
class SettingFailure:
    """One group setting whose update failed.

    Attributes:
        setting: ``subject``, ``description`` or ``picture``.
        value: The text that was asked for (subject, description), or the picture hash.
        errors: Why it failed.
    """

    setting: str
    value: str | None
    errors: tuple[EventError, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChanged:
    """The parts of a settings update that succeeded (``None`` = not changed).

    Attributes:
        group_id: The group.
        request_id: The update request's id.
        subject: New subject.
        description: New description.
        picture: New picture.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.updated"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    request_id: str | None = None
    subject: str | None = None
    description: str | None = None
    picture: PictureChange | None = None
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(
            FIELD_SETTINGS, self.group_id, "group_settings_update", self.request_id, self.at
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChangeFailed:
    """The parts of a settings update that failed.

    Attributes:
        group_id: The group.
        request_id: The update request's id.
        failures: One entry per failed setting, with its errors.
        errors: The item-level errors.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.settings_failed"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    request_id: str | None = None
    failures: tuple[SettingFailure, ...] = ()
    errors: tuple[EventError, ...] = ()
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(
            FIELD_SETTINGS, self.group_id, "group_settings_update_failed", self.request_id, self.at
        )
