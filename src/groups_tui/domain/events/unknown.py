"""A change or item whose shape this version does not understand, kept for re-parsing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .base import join_key

__all__ = ["UnknownEvent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """A change or item whose shape this version does not understand; kept for re-parsing.

    Attributes:
        field: The change's ``field`` (or ``""`` when absent).
        raw: The unrecognised object verbatim.
        reason: Why it was not recognised.
        at: The object's ``timestamp`` when readable, else ``0``.
        phone_number_id: The business number the webhook was for
            (``metadata.phone_number_id``); ``None`` when it did not say.
    """

    event_kind: ClassVar[str] = "unknown"
    phone_number_id: str | None = field(default=None, compare=False)
    field: str
    raw: Mapping[str, Any]
    reason: str = ""
    at: int = 0

    @property
    def dedupe_key(self) -> str:
        """Field plus a hash of the canonical JSON of ``raw``."""
        canonical = json.dumps(self.raw, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        return join_key("unknown", self.field, digest)
