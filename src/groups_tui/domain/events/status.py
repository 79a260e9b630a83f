"""Events of the ``group_status_update`` field: a group suspended, or its suspension lifted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .base import join_key

__all__ = ["FIELD_STATUS", "GroupSuspendCleared", "GroupSuspended"]

FIELD_STATUS = "group_status_update"


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSuspended:
    """WhatsApp suspended the group.

    Attributes:
        group_id: The group.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.suspended"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(FIELD_STATUS, self.group_id, "group_suspend", None, self.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSuspendCleared:
    """WhatsApp lifted the group's suspension.

    Attributes:
        group_id: The group.
        at: Webhook epoch seconds.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "group.suspend_cleared"
    phone_number_id: str | None = field(default=None, compare=False)
    group_id: str
    at: int

    @property
    def dedupe_key(self) -> str:
        """Key built from the item (reference 3.2)."""
        return join_key(FIELD_STATUS, self.group_id, "group_suspend_cleared", None, self.at)
