"""Retiring groups that served their purpose: select by rules, list why, delete on request.

A dry run (the default) only lists the groups and the reasons. A real run deletes them
one by one, paced to the group-operation rate; every deletion is audited with its
reasons, and a failure is reported for that group while the rest proceeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from groups_tui.automations.common import GroupFilter, select_groups
from groups_tui.automations.config import Pacing, PruneRule
from groups_tui.automations.pacing import Pacer
from groups_tui.service import InboxService, ServiceError

__all__ = ["PruneCandidate", "PruneReport", "filter_from_rule", "prune"]

Progress = Callable[[int], None]


class PruneError(Exception):
    """The prune request is refused as a whole (one line)."""


@dataclass(frozen=True, slots=True)
class PruneCandidate:
    """A group the rules select, with the reasons and (after a real run) the outcome."""

    group_id: str
    subject: str
    reasons: tuple[str, ...]
    outcome: str = "would delete"
    error: str | None = None


@dataclass
class PruneReport:
    """What a prune did or would do."""

    dry_run: bool
    criteria: dict[str, object]
    candidates: list[PruneCandidate] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        """Groups whose deletion was requested."""
        return sum(1 for c in self.candidates if c.outcome == "delete requested")

    @property
    def failed(self) -> list[PruneCandidate]:
        """Groups whose deletion failed."""
        return [c for c in self.candidates if c.outcome == "failed"]


def filter_from_rule(rule: PruneRule) -> GroupFilter:
    """The group filter of a configured prune rule."""
    return make_filter(
        idle_days=rule.idle_days,
        subject=rule.subject,
        tag=rule.tag,
        created_before=rule.created_before,
        empty=rule.empty,
    )


def make_filter(
    *,
    idle_days: float | None = None,
    subject: str | None = None,
    tag: str | None = None,
    created_before: date | None = None,
    empty: bool = False,
    number: str | None = None,
) -> GroupFilter:
    """A group filter from command-line style criteria (``number``: only that number's)."""
    before = (
        datetime.combine(created_before, time(0), UTC).timestamp()
        if created_before is not None
        else None
    )
    return GroupFilter(
        subject=subject,
        tag=tag,
        created_before=before,
        idle_days=idle_days,
        empty=empty,
        number=number,
    )


async def prune(
    service: InboxService,
    flt: GroupFilter,
    *,
    dry_run: bool = True,
    pacing: Pacing | None = None,
    pacer: Pacer | None = None,
    rule_name: str | None = None,
    on_progress: Progress | None = None,
) -> PruneReport:
    """Select groups by ``flt`` and, unless ``dry_run``, delete them.

    Args:
        service: The service.
        flt: The criteria (at least one is required).
        dry_run: Only list what would be deleted and why.
        pacing: Rates for the default pacer.
        pacer: Paces deletions.
        rule_name: The configured rule being run, for the audit log.
        on_progress: Called with 1 per group handled.

    Raises:
        PruneError: No criterion was given (pruning every group is refused).
    """
    if flt.is_empty:
        raise PruneError(
            "give at least one criterion (--idle-days, --subject, --tag, --created-before, "
            "--empty) or --rule NAME"
        )
    pacing = pacing or Pacing()
    pacer = pacer or Pacer(pacing.group_ops_per_second, pacing.burst)
    report = PruneReport(dry_run=dry_run, criteria=flt.describe())
    selected = await select_groups(service, flt)
    if dry_run:
        report.candidates = [PruneCandidate(s.group_id, s.subject, s.reasons) for s in selected]
        await service.automations.audit(
            "automation.prune.dry_run",
            targets=[s.group_id for s in selected],
            result={"criteria": report.criteria, "rule": rule_name},
        )
        return report
    for group in selected:
        await pacer.acquire()
        try:
            await service.admin.delete_group(group.group_id)
        except ServiceError as exc:
            candidate = PruneCandidate(
                group.group_id, group.subject, group.reasons, "failed", exc.message
            )
        else:
            candidate = PruneCandidate(
                group.group_id, group.subject, group.reasons, "delete requested"
            )
        report.candidates.append(candidate)
        await service.automations.audit(
            "automation.prune",
            group_id=group.group_id,
            targets=[group.subject],
            result={
                "reasons": list(group.reasons),
                "outcome": candidate.outcome,
                "error": candidate.error,
                "rule": rule_name,
            },
        )
        if on_progress:
            on_progress(1)
    if rule_name:
        await service.automations.add_run(
            rule_name,
            "prune_rule",
            not report.failed,
            f"deleted {report.deleted}, failed {len(report.failed)}",
        )
    return report
