"""Announcements: one template to many groups, previewed, confirmed, paced, resumable.

:func:`plan_announcement` selects the groups (or reloads an unfinished job with the same
inputs), prices the send per group and totals it per market and charging rule, and
creates the job rows. The caller shows the preview and asks for confirmation; then
:func:`run_announcement` sends, one group at a time, paced to the messages-per-second
rate.

Each row goes ``planned -> calling`` before the send, which itself goes through the
service's outbox (written before the API call). On a resume, a row left in ``calling``
is settled from that outbox: accepted -> sent, failed -> failed, queued or unknown ->
unknown (reported, never resent), no outbox item at all -> planned again (nothing left).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from groups_tui.automations.common import THROTTLE_CODES, GroupFilter, fingerprint, select_groups
from groups_tui.automations.config import Pacing
from groups_tui.automations.pacing import Pacer
from groups_tui.domain.models import MessageKind, Template
from groups_tui.service import InboxService, ServiceError

__all__ = [
    "AnnounceError",
    "AnnouncePlan",
    "AnnounceReport",
    "CostBucket",
    "GroupPreview",
    "plan_announcement",
    "run_announcement",
]

KIND = "announce"
THROTTLE_RETRIES = 3
THROTTLE_BACKOFF = 1.0
Sleep = Callable[[float], Awaitable[None]]
Progress = Callable[[int], None]


class AnnounceError(Exception):
    """The announcement is refused as a whole (one line, names the problem)."""


@dataclass(frozen=True, slots=True)
class CostBucket:
    """Expected cost of the recipients of one market under one charging rule."""

    market: str
    rule: str
    recipients: int
    amount: Decimal
    unknown: int


@dataclass(frozen=True, slots=True)
class GroupPreview:
    """The expected cost of one group's send, or why it cannot be sent."""

    group_id: str
    subject: str
    members: int
    total: Decimal
    unknown: int
    refusal: str | None = None


@dataclass
class AnnouncePlan:
    """What an announcement will do: groups, cost per market and rule, total."""

    job_id: str
    resumed: bool
    template: Template
    params: tuple[str, ...]
    criteria: dict[str, object]
    groups: list[GroupPreview] = field(default_factory=list)
    buckets: list[CostBucket] = field(default_factory=list)
    total: Decimal = Decimal(0)
    unknown_recipients: int = 0
    already_done: int = 0

    @property
    def sendable(self) -> list[GroupPreview]:
        """Groups that can receive the template."""
        return [g for g in self.groups if g.refusal is None]


@dataclass
class AnnounceReport:
    """Per-group outcome of an announcement."""

    job_id: str
    sent: list[dict[str, object]] = field(default_factory=list)
    failed: list[dict[str, object]] = field(default_factory=list)
    unknown: list[dict[str, object]] = field(default_factory=list)
    cost: Decimal = Decimal(0)

    @property
    def ok(self) -> bool:
        """True when every group was sent to."""
        return not (self.failed or self.unknown)


async def plan_announcement(
    service: InboxService,
    template_name: str,
    language: str | None,
    params: Sequence[str],
    flt: GroupFilter,
    *,
    job_id: str | None = None,
) -> AnnouncePlan:
    """Select and price the groups, and create (or reload) the job.

    Raises:
        AnnounceError: Unknown template, wrong parameter count, or no group selected.
    """
    try:
        # A template is its business account's: the groups' number's (the only number,
        # unless the filter names one).
        number = service.number(flt.number).phone_number_id if service.numbers else None
        template = await service.reading.find_template(
            template_name, language, refresh=True, number=number
        )
    except ServiceError as exc:
        raise AnnounceError(exc.message) from None
    if number is not None and flt.number is None and len(service.numbers) > 1:
        flt = replace(flt, number=number)
    if len(params) != template.body_params:
        raise AnnounceError(
            f"template {template.name} takes {template.body_params} parameter(s), got {len(params)}"
        )
    jobs = service.automations
    criteria = flt.describe()
    fp = fingerprint(KIND, template.name, template.language, list(params), criteria)
    resumed = False
    if job_id is not None:
        job = await jobs.job(job_id)
        if job is not None:
            if job.kind != KIND or job.fingerprint != fp:
                raise AnnounceError(f"job {job_id} announced something else")
            resumed = True
    else:
        running = [j for j in await jobs.jobs_by_fingerprint(KIND, fp) if j.state == "running"]
        if running:
            job_id, resumed = running[0].id, True
    if resumed and job_id is not None:
        rows = await jobs.announce_rows(job_id)
        # Only what is left is previewed and priced; finished rows keep their outcome.
        group_ids = [r.group_id for r in rows if r.state in ("planned", "calling")]
        done = len(rows) - len(group_ids)
    else:
        group_ids = [g.group_id for g in await select_groups(service, flt)]
        done = 0
        count = len(await jobs.jobs_by_fingerprint(KIND, fp))
        job_id = job_id or f"announce-{fp[:8]}-{count + 1}"
    if not group_ids and not resumed:
        raise AnnounceError("no group matches the selection")
    plan = AnnouncePlan(
        job_id=job_id,
        resumed=resumed,
        template=template,
        params=tuple(params),
        criteria=criteria,
        already_done=done,
    )
    buckets: dict[tuple[str, str], list[Decimal | int]] = {}
    for group_id in group_ids:
        detail = await service.reading.group_detail(group_id)
        preview = await service.sending.preview_cost(group_id, template)
        refusal = preview.refusal or service.sending.refusal(MessageKind.TEMPLATE, detail, template)
        reason = refusal.reason if refusal is not None else None
        plan.groups.append(
            GroupPreview(
                group_id,
                detail.group.subject,
                len(detail.members),
                preview.total,
                len(preview.unknown),
                reason,
            )
        )
        if reason is not None:
            continue
        plan.total += preview.total
        plan.unknown_recipients += len(preview.unknown)
        for line in preview.lines:
            key = (line.market or "unknown market", line.rule)
            bucket = buckets.setdefault(key, [0, Decimal(0), 0])
            bucket[0] = int(bucket[0]) + 1
            if line.amount is None:
                bucket[2] = int(bucket[2]) + 1
            else:
                bucket[1] = Decimal(bucket[1]) + line.amount
    plan.buckets = [
        CostBucket(market, rule, int(v[0]), Decimal(v[1]), int(v[2]))
        for (market, rule), v in sorted(buckets.items())
    ]
    if not resumed:
        await jobs.create_job(
            job_id,
            KIND,
            fp,
            {
                "template": template.name,
                "language": template.language,
                "params": list(params),
                "criteria": criteria,
            },
            number=number,
        )
        await jobs.announce_rows_insert(job_id, group_ids)
    return plan


async def run_announcement(
    service: InboxService,
    plan: AnnouncePlan,
    *,
    pacing: Pacing | None = None,
    pacer: Pacer | None = None,
    sleep: Sleep = asyncio.sleep,
    on_progress: Progress | None = None,
) -> AnnounceReport:
    """Send the planned announcement (resuming where an earlier run stopped)."""
    pacing = pacing or Pacing()
    pacer = pacer or Pacer(pacing.messages_per_second, pacing.burst)
    jobs = service.automations
    job_id = plan.job_id
    await jobs.audit(
        "automation.announce.start",
        targets=[job_id],
        result={
            "template": plan.template.name,
            "groups": len(plan.groups),
            "resumed": plan.resumed,
            "criteria": plan.criteria,
        },
        cost=plan.total,
    )
    await jobs.set_job_state(job_id, "running")
    await _settle_interrupted(service, job_id, plan.template.name)
    refusals = {g.group_id: g.refusal for g in plan.groups if g.refusal}
    for row in await jobs.announce_rows(job_id):
        if row.state != "planned":
            if on_progress:
                on_progress(1)
            continue
        if row.group_id in refusals:
            await jobs.announce_row_update(
                job_id, row.group_id, "failed", error=refusals[row.group_id]
            )
            if on_progress:
                on_progress(1)
            continue
        await pacer.acquire()
        await jobs.announce_row_update(job_id, row.group_id, "calling", called_at=service.clock())
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                preview = await service.sending.preview_cost(row.group_id, plan.template)
                item = await service.sending.send_template(row.group_id, plan.template, plan.params)
            except ServiceError as exc:
                await jobs.announce_row_update(job_id, row.group_id, "failed", error=exc.message)
                break
            if (
                item.state == "failed"
                and item.error_code in THROTTLE_CODES
                and attempt < THROTTLE_RETRIES
            ):
                # Meta refused for throughput, so nothing was sent: wait and send again.
                await sleep(THROTTLE_BACKOFF * 2**attempt)
                continue
            if item.state == "accepted":
                await jobs.announce_row_update(
                    job_id,
                    row.group_id,
                    "sent",
                    outbox_id=item.id,
                    wamid=item.wamid,
                    cost=preview.total,
                )
            else:
                state = "unknown" if item.state == "unknown" else "failed"
                await jobs.announce_row_update(
                    job_id,
                    row.group_id,
                    state,
                    outbox_id=item.id,
                    error=item.error or state,
                )
            break
        if on_progress:
            on_progress(1)
    report = await announcement_report(service, job_id)
    await jobs.set_job_state(job_id, "done")
    await jobs.audit(
        "automation.announce",
        targets=[job_id],
        result={
            "sent": len(report.sent),
            "failed": len(report.failed),
            "unknown": len(report.unknown),
        },
        cost=report.cost,
    )
    return report


async def _settle_interrupted(service: InboxService, job_id: str, template: str) -> None:
    jobs = service.automations
    for row in await jobs.announce_rows(job_id):
        if row.state != "calling":
            continue
        since = (row.called_at or 0) - 1
        items = [
            i
            for i in await service.sending.outbox(row.group_id, limit=20)
            if i.payload.get("name") == template and i.created_at >= since
        ]
        if not items:
            # The outbox is written before the call: no item means nothing was sent.
            await jobs.announce_row_update(job_id, row.group_id, "planned")
            continue
        item = items[0]
        if item.state == "accepted":
            await jobs.announce_row_update(
                job_id, row.group_id, "sent", outbox_id=item.id, wamid=item.wamid
            )
        elif item.state == "failed":
            await jobs.announce_row_update(
                job_id,
                row.group_id,
                "failed",
                outbox_id=item.id,
                error=item.error_message or "failed",
            )
        else:
            await jobs.announce_row_update(
                job_id,
                row.group_id,
                "unknown",
                outbox_id=item.id,
                error="interrupted during the send; it may have been delivered (not sent again)",
            )


async def announcement_report(service: InboxService, job_id: str) -> AnnounceReport:
    """The per-group outcome of a job, from its rows."""
    report = AnnounceReport(job_id=job_id)
    for row in await service.automations.announce_rows(job_id):
        item: dict[str, object] = {"group_id": row.group_id, "state": row.state}
        if row.state == "sent":
            report.sent.append({**item, "wamid": row.wamid, "cost": row.cost})
            report.cost += row.cost or Decimal(0)
        elif row.state == "unknown":
            report.unknown.append({**item, "reason": row.error})
        elif row.state in ("failed", "planned", "calling"):
            report.failed.append({**item, "reason": row.error or row.state})
    return report
