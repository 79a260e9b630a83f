"""Helpers shared by the automation jobs: throttling, fingerprints, group selection."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from groups_tui.cloud.errors import ApiError
from groups_tui.service import InboxService

__all__ = [
    "GroupFilter",
    "SelectedGroup",
    "digits",
    "fingerprint",
    "is_throttled",
    "select_groups",
]


THROTTLE_CODES = frozenset({4, 80007, 130429, 131056, 131208})
"""Graph codes meaning "too fast": the call did nothing and may be repeated later."""


def is_throttled(error: object) -> bool:
    """True for an API error that refused a call for throughput."""
    return isinstance(error, ApiError) and error.code in THROTTLE_CODES


def digits(value: str) -> str:
    """A phone number reduced to its digits."""
    return "".join(ch for ch in value if ch.isdigit())


def fingerprint(*parts: Any) -> str:
    """A stable short hash of JSON-able inputs (identifies a job's inputs)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class GroupFilter:
    """Selects groups by subject pattern, tag pattern, creation date, idleness, emptiness.

    Every given criterion must hold. ``reasons`` says, in words, why a group matched.
    """

    subject: str | None = None
    """Regular expression searched in the subject (case-insensitive)."""
    tag: str | None = None
    """``fnmatch`` pattern of the group's tag."""
    created_before: float | None = None
    """Epoch seconds."""
    idle_days: float | None = None
    """No inbound message for this many days (by the service clock)."""
    empty: bool = False
    """No member besides the business."""
    number: str | None = None
    """Only the groups of this business number (label or id)."""

    @property
    def is_empty(self) -> bool:
        """True when no criterion is set (selects every group)."""
        return (
            self.subject is None
            and self.tag is None
            and self.created_before is None
            and self.idle_days is None
            and not self.empty
        )

    def describe(self) -> dict[str, Any]:
        """The criteria as a JSON-able mapping (for job fingerprints and audits)."""
        return {
            k: v
            for k, v in (
                ("subject", self.subject),
                ("tag", self.tag),
                ("created_before", self.created_before),
                ("idle_days", self.idle_days),
                ("empty", self.empty or None),
                ("number", self.number),
            )
            if v is not None
        }

    def reasons(
        self,
        *,
        subject: str,
        tag: str | None,
        created_at: int | None,
        last_inbound_at: int | None,
        members: int,
        now: float,
    ) -> list[str] | None:
        """Why the group matches, or ``None`` when it does not."""
        why: list[str] = []
        if self.subject is not None:
            if not re.search(self.subject, subject, re.IGNORECASE):
                return None
            why.append(f"subject matches /{self.subject}/")
        if self.tag is not None:
            if tag is None or not fnmatch.fnmatchcase(tag, self.tag):
                return None
            why.append(f"tag {tag!r} matches {self.tag!r}")
        if self.created_before is not None:
            if created_at is None or created_at >= self.created_before:
                return None
            day = datetime.fromtimestamp(self.created_before, UTC).date().isoformat()
            why.append(f"created before {day}")
        if self.idle_days is not None:
            cutoff = now - self.idle_days * 86_400
            last = last_inbound_at if last_inbound_at is not None else created_at
            if last is None or last >= cutoff:
                return None
            if last_inbound_at is None:
                why.append(f"no inbound message since creation ({self.idle_days:g}+ days)")
            else:
                days = (now - last_inbound_at) / 86_400
                why.append(f"no inbound message for {days:.0f} days")
        if self.empty:
            if members > 0:
                return None
            why.append("no members")
        return why


@dataclass(frozen=True, slots=True)
class SelectedGroup:
    """A group a filter selected, with the reasons."""

    group_id: str
    subject: str
    members: int
    suspended: bool
    reasons: tuple[str, ...]


async def select_groups(service: InboxService, flt: GroupFilter) -> list[SelectedGroup]:
    """Active groups (with a Meta id) matching ``flt``, oldest first."""
    now = service.clock()
    out: list[tuple[int, SelectedGroup]] = []
    reading = service.reading
    for row in await reading.inbox_rows(flt.number):
        if row.state != "active" or row.is_pending:
            continue
        group = await reading.group(row.group_id)
        if group is None:
            continue
        tag = await reading.tag(row.group_id)
        why = flt.reasons(
            subject=row.subject,
            tag=tag,
            created_at=group.created_at,
            last_inbound_at=row.last_inbound_at,
            members=row.participant_count,
            now=now,
        )
        if why is None:
            continue
        out.append(
            (
                group.created_at or 0,
                SelectedGroup(
                    row.group_id,
                    row.subject,
                    row.participant_count,
                    row.suspended,
                    tuple(why),
                ),
            )
        )
    out.sort(key=lambda pair: (pair[0], pair[1].group_id))
    return [s for _, s in out]
