"""Bulk group creation from a CSV file, paced, resumable and never creating twice.

Every row is written to ``bulk_create_rows`` before anything is called. A row moves
``planned -> calling`` (durably) before the create call and ``calling -> requested`` with
Meta's ``request_id`` after it, so after an interruption:

* rows with a request id are never created again (their group id comes by webhook, or
  from listing the account's groups);
* rows left in ``calling`` (the call may or may not have reached Meta) are reconciled by
  listing the groups and matching the subject (and the time of the call); a row that
  still cannot be matched becomes ``unknown`` and is reported, never re-created unless
  the operator asks with ``retry_unknown``.

Invites are 1:1 sends of the invite-link template, reserved per (row, number) before the
call in the same way.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from groups_tui.automations.common import digits, fingerprint, is_throttled
from groups_tui.automations.config import Pacing
from groups_tui.automations.pacing import Pacer
from groups_tui.cloud.errors import CreateGroupOutcomeUnknown
from groups_tui.domain import limits
from groups_tui.domain.models import GroupState, Template
from groups_tui.service import PENDING_PREFIX, InboxService, ServiceError
from groups_tui.service.types import BulkRow

__all__ = ["BulkCreateError", "BulkCreateReport", "bulk_create", "parse_csv"]

Sleep = Callable[[float], Awaitable[None]]
Progress = Callable[[int], None]

KIND = "bulk_create"
_TRUE = {"1", "true", "yes", "y", "approval_required", "required", "on"}
_FALSE = {"", "0", "false", "no", "n", "auto_approve", "auto", "off"}
_COLUMNS = {
    "subject": "subject",
    "description": "description",
    "join_approval": "join_approval",
    "approval": "join_approval",
    "tag": "tag",
    "invite": "invite",
    "invites": "invite",
    "numbers": "invite",
}
THROTTLE_RETRIES = 3
"""Extra attempts of a call Meta refused for throughput (after the client's own)."""
THROTTLE_BACKOFF = 2.0
"""Seconds before the first extra attempt; doubles each time."""
_PHONE = re.compile(r"^\+?[\d\s().-]+$")
RECONCILE_SLACK = 300.0
"""Seconds a matched group's creation time may precede the recorded call (clock skew)."""


class BulkCreateError(Exception):
    """The whole file is refused (one line, names the problem)."""


def parse_csv(text: str) -> list[BulkRow]:
    """Parse and validate the CSV; bad rows come back with state ``invalid``.

    Columns (header required, any order, case-insensitive): ``subject`` (required),
    ``description``, ``join_approval`` (yes/no), ``tag``, ``invite`` (phone numbers
    separated by ``;``). Row numbers are the file's line numbers.

    Raises:
        BulkCreateError: No header or no ``subject`` column.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise BulkCreateError("the CSV file is empty") from None
    names: list[str | None] = [_COLUMNS.get(h.strip().lower()) for h in header]
    if "subject" not in names:
        raise BulkCreateError(
            "the CSV header has no 'subject' column (expected: subject, description, "
            "join_approval, tag, invite)"
        )
    unknown = [h for h, n in zip(header, names, strict=True) if n is None and h.strip()]
    if unknown:
        raise BulkCreateError(f"unknown CSV column(s): {', '.join(unknown)}")
    rows: list[BulkRow] = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        rows.append(_parse_row(line, names, record))
    return rows


def _parse_row(line: int, names: Sequence[str | None], record: Sequence[str]) -> BulkRow:
    def invalid(why: str, subject: str = "") -> BulkRow:
        return BulkRow(row_no=line, subject=subject, state="invalid", error=f"row {line}: {why}")

    if len(record) > len(names):
        return invalid(f"{len(record)} cells but the header has {len(names)} columns")
    cells = {n: record[i].strip() for i, n in enumerate(names) if n and i < len(record)}
    subject = cells.get("subject", "")
    refusal = limits.check_subject(subject)
    if refusal is not None:
        return invalid(refusal.reason, subject)
    description = cells.get("description", "")
    refusal = limits.check_description(description)
    if refusal is not None:
        return invalid(refusal.reason, subject)
    approval = cells.get("join_approval", "").lower()
    if approval not in _TRUE | _FALSE:
        return invalid(f"join_approval must be yes or no, not {approval!r}", subject)
    numbers: list[str] = []
    for token in re.split(r"[;|\n]", cells.get("invite", "")):
        token = token.strip()
        if not token:
            continue
        number = digits(token)
        if not _PHONE.match(token) or not 8 <= len(number) <= 15:
            return invalid(f"{token!r} is not a phone number", subject)
        if number not in numbers:
            numbers.append(number)
    return BulkRow(
        row_no=line,
        subject=subject,
        description=description,
        join_approval=approval in _TRUE,
        tag=cells.get("tag") or None,
        invitees=tuple(numbers),
    )


@dataclass
class BulkCreateReport:
    """What a bulk creation did (for the final report and ``--json``)."""

    job_id: str
    resumed: bool
    created: list[dict[str, object]] = field(default_factory=list)
    existing: list[dict[str, object]] = field(default_factory=list)
    failed: list[dict[str, object]] = field(default_factory=list)
    invalid: list[dict[str, object]] = field(default_factory=list)
    unknown: list[dict[str, object]] = field(default_factory=list)
    pending: list[dict[str, object]] = field(default_factory=list)
    invites_sent: int = 0
    invites_failed: list[dict[str, object]] = field(default_factory=list)
    invite_cost: Decimal = Decimal(0)
    invite_cost_unknown: int = 0

    @property
    def ok(self) -> bool:
        """True when every row ended created and every invite went out."""
        return not (
            self.failed or self.invalid or self.unknown or self.pending or self.invites_failed
        )


async def bulk_create(
    service: InboxService,
    csv_text: str,
    *,
    job_id: str | None = None,
    again: bool = False,
    retry_unknown: bool = False,
    template: str = "group_invite_upon_request",
    language: str = "en",
    pacing: Pacing | None = None,
    group_pacer: Pacer | None = None,
    message_pacer: Pacer | None = None,
    wait_seconds: float = 60.0,
    sleep: Sleep = asyncio.sleep,
    on_progress: Progress | None = None,
    number: str | None = None,
) -> BulkCreateReport:
    """Create the CSV's groups on one number (resuming an unfinished job on the same file).

    Args:
        service: The service (its client calls the API).
        csv_text: The CSV file's text.
        job_id: Resume this job (or name a new one).
        again: Start a new job even though a finished one processed this file.
        retry_unknown: Create rows whose earlier outcome is unknown again.
        template: The invite-link template for the ``invite`` numbers.
        language: Its language.
        pacing: Rates used for the default pacers.
        group_pacer: Paces create calls (defaults from ``pacing``).
        message_pacer: Paces invites (defaults from ``pacing``).
        wait_seconds: How long to wait for the creation webhooks before listing groups.
        sleep: Awaitable sleep used while waiting for webhooks.
        on_progress: Called with 1 per row finished.
        number: The business number to create them on (label or id): the only one by
            default; refused with several and none named.

    Returns:
        The report, built from the durable rows.

    Raises:
        BulkCreateError: The file as a whole is refused, or was already processed.
    """
    pacing = pacing or Pacing()
    group_pacer = group_pacer or Pacer(pacing.group_ops_per_second, pacing.burst)
    message_pacer = message_pacer or Pacer(pacing.messages_per_second, pacing.burst)
    if service.read_only:
        raise BulkCreateError("read-only: no Cloud API client is configured")
    rows = parse_csv(csv_text)
    if not rows:
        raise BulkCreateError("the CSV file has a header but no rows")
    try:
        pnid = service.number(number).phone_number_id if service.numbers else None
    except ServiceError as exc:
        raise BulkCreateError(exc.message) from None
    jobs = service.automations
    fp = fingerprint(KIND, csv_text)
    resumed = False
    if job_id is not None and (job := await jobs.job(job_id)) is not None:
        if job.kind != KIND or job.fingerprint != fp:
            raise BulkCreateError(f"job {job_id} was started on a different file")
        resumed = True
    else:
        previous = await jobs.jobs_by_fingerprint(KIND, fp)
        running = [j for j in previous if j.state == "running"]
        if job_id is None and running:
            job_id, resumed = running[0].id, True
        elif previous and not again and job_id is None:
            raise BulkCreateError(
                f"job {previous[0].id} already created this file's groups; pass --again "
                "to create them once more"
            )
        job_id = job_id or f"bulk-{fp[:8]}-{len(previous) + 1}"
        await jobs.create_job(job_id, KIND, fp, {"rows": len(rows)}, number=pnid)
        await jobs.bulk_rows_insert(job_id, rows)
        if not again:
            await _adopt_existing(service, job_id)
        await jobs.audit(
            "automation.bulk_create.start", targets=[job_id], result={"rows": len(rows)}
        )
    await jobs.set_job_state(job_id, "running")

    stored = await jobs.bulk_rows(job_id)
    if retry_unknown:
        for row in stored:
            if row.state == "unknown":
                await jobs.bulk_row_update(job_id, row.row_no, "planned")
    # A "calling" row was interrupted mid-call: find what it created, never re-create it.
    await _reconcile(service, job_id, {"calling"})

    for row in await jobs.bulk_rows(job_id):
        if row.state != "planned":
            if on_progress:
                on_progress(1)
            continue
        await group_pacer.acquire()
        await jobs.bulk_row_update(job_id, row.row_no, "calling", called_at=service.clock())
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                op = await service.admin.create_group(
                    row.subject, row.description or None, row.join_approval, number=pnid
                )
            except ServiceError as exc:
                if is_throttled(exc.cause) and attempt < THROTTLE_RETRIES:
                    # A throttling answer proves nothing was created: wait and call again.
                    await sleep(THROTTLE_BACKOFF * 2**attempt)
                    continue
                state = "unknown" if isinstance(exc.cause, CreateGroupOutcomeUnknown) else "failed"
                await jobs.bulk_row_update(
                    job_id, row.row_no, state, error=f"row {row.row_no}: {exc.message}"
                )
            else:
                await jobs.bulk_row_update(
                    job_id, row.row_no, "requested", request_id=op.request_id
                )
            break
        if on_progress:
            on_progress(1)

    await _await_groups(service, job_id, wait_seconds, sleep)
    await _send_invites(service, job_id, template, language, message_pacer, pnid)
    report = await _report(service, job_id, resumed)
    unfinished = report.unknown or report.pending
    await jobs.set_job_state(job_id, "running" if unfinished else "done")
    await jobs.audit(
        "automation.bulk_create",
        targets=[job_id],
        result={
            "created": len(report.created),
            "failed": len(report.failed),
            "invalid": len(report.invalid),
            "unknown": len(report.unknown),
            "pending": len(report.pending),
            "invites_sent": report.invites_sent,
            "invites_failed": len(report.invites_failed),
        },
        cost=report.invite_cost,
    )
    return report


async def _adopt_existing(service: InboxService, job_id: str) -> None:
    """Mark rows an earlier job already created (same subject and tag, group still active).

    Fixing a bad row and running the edited file again must not create the good rows a
    second time; ``again`` skips this.
    """
    jobs = service.automations
    for row in await jobs.bulk_rows(job_id):
        if row.state != "planned":
            continue
        for other_job, group_id in await jobs.bulk_find_created(
            row.subject, row.tag, exclude_job=job_id
        ):
            group = await service.reading.group(group_id)
            if group is not None and group.state is GroupState.ACTIVE:
                await jobs.bulk_row_update(
                    job_id,
                    row.row_no,
                    "existing",
                    group_id=group_id,
                    error=f"row {row.row_no}: already created by job {other_job}",
                )
                break


async def _reconcile(service: InboxService, job_id: str, states: set[str]) -> None:
    """Match rows in ``states`` to existing groups by subject; unmatched become unknown.

    Only ``calling`` rows become ``unknown`` when unmatched; ``requested`` rows (Meta
    accepted them) stay pending until their webhook or a later listing.
    """
    jobs = service.automations
    rows = await jobs.bulk_rows(job_id)
    todo = [r for r in rows if r.state in states]
    if not todo:
        return
    try:
        await service.reading.sync_groups()
    except ServiceError:
        pass  # the store's own view is still worth matching against
    claimed = {r.group_id for r in rows if r.group_id}
    by_subject: dict[str, list[tuple[int, str]]] = {}
    for inbox in await service.reading.inbox_rows():
        if inbox.state != "active" or inbox.is_pending:
            continue
        group = await service.reading.group(inbox.group_id)
        if group is None:
            continue
        by_subject.setdefault(group.subject, []).append((group.created_at or 0, group.id or ""))
    for row in todo:
        if row.request_id:
            group = await service.reading.group(PENDING_PREFIX + row.request_id)
            if group is not None and group.id and group.id not in claimed:
                claimed.add(group.id)
                await jobs.bulk_row_update(job_id, row.row_no, "created", group_id=group.id)
                continue
        since = (row.called_at or 0) - RECONCILE_SLACK
        match = next(
            (
                gid
                for created, gid in sorted(by_subject.get(row.subject, []))
                if gid and gid not in claimed and created >= since
            ),
            None,
        )
        if match is not None:
            claimed.add(match)
            await jobs.bulk_row_update(job_id, row.row_no, "created", group_id=match)
            await jobs.audit(
                "automation.bulk_create.reconciled",
                group_id=match,
                targets=[job_id, row.row_no],
                result={"subject": row.subject},
            )
        elif row.state == "calling":
            await jobs.bulk_row_update(
                job_id,
                row.row_no,
                "unknown",
                error=(
                    f"row {row.row_no}: interrupted during the create call and no group "
                    f"named {row.subject!r} was found; check the group list, then rerun "
                    "with --retry-unknown to create it"
                ),
            )


async def _await_groups(
    service: InboxService, job_id: str, wait_seconds: float, sleep: Sleep
) -> None:
    """Resolve ``requested`` rows from the creation webhooks, then by listing groups."""
    jobs = service.automations
    step = 0.5
    for _ in range(max(1, int(wait_seconds / step)) + 1):
        waiting = 0
        for row in await jobs.bulk_rows(job_id):
            if row.state != "requested" or not row.request_id:
                continue
            group = await service.reading.group(PENDING_PREFIX + row.request_id)
            if group is not None and group.id and group.state is GroupState.ACTIVE:
                await jobs.bulk_row_update(job_id, row.row_no, "created", group_id=group.id)
            elif group is not None and group.state is GroupState.FAILED:
                op = await service.reading.operation(row.request_id)
                reason = (op.error if op else None) or "Meta refused to create the group"
                await jobs.bulk_row_update(
                    job_id, row.row_no, "failed", error=f"row {row.row_no}: {reason}"
                )
            else:
                waiting += 1
        if not waiting:
            return
        await sleep(step)
    await _reconcile(service, job_id, {"requested"})


async def _send_invites(
    service: InboxService,
    job_id: str,
    template_name: str,
    language: str,
    pacer: Pacer,
    number: str | None = None,
) -> None:
    jobs = service.automations
    rows = [r for r in await jobs.bulk_rows(job_id) if r.state == "created" and r.group_id]
    if not any(r.invitees for r in rows):
        for row in rows:
            if row.tag:
                await service.admin.set_tag(row.group_id or "", row.tag)
        return
    template: Template | None
    try:
        template = await service.reading.find_template(
            template_name, language, refresh=True, number=number
        )
    except ServiceError:
        template = None
    done = {(i.row_no, i.wa_id): i for i in await jobs.bulk_invites(job_id)}
    for row in rows:
        group_id = row.group_id or ""
        if row.tag and await service.reading.tag(group_id) != row.tag:
            await service.admin.set_tag(group_id, row.tag)
        for wa_id in row.invitees:
            previous = done.get((row.row_no, wa_id))
            if previous is not None:
                if previous.state == "calling":  # interrupted mid-call: never resend blindly
                    await jobs.bulk_invite_update(
                        job_id,
                        row.row_no,
                        wa_id,
                        "unknown",
                        error="interrupted during the send; it may have been delivered",
                    )
                continue
            if template is None:
                await jobs.bulk_invite_begin(job_id, row.row_no, wa_id)
                await jobs.bulk_invite_update(
                    job_id,
                    row.row_no,
                    wa_id,
                    "failed",
                    error=f"unknown template {template_name!r} ({language})",
                )
                continue
            if not await jobs.bulk_invite_begin(job_id, row.row_no, wa_id):
                continue
            await pacer.acquire()
            cost = service.sending.invite_cost(wa_id, template)
            outcome = await service.sending.send_invite(wa_id, template, group_id)
            if outcome.state == "accepted":
                await jobs.bulk_invite_update(
                    job_id, row.row_no, wa_id, "sent", wamid=outcome.wamid, cost=cost
                )
                result: dict[str, object] = {"wamid": outcome.wamid}
            else:
                await jobs.bulk_invite_update(
                    job_id, row.row_no, wa_id, outcome.state, error=outcome.error
                )
                result = (
                    {"outcome": "unknown"}
                    if outcome.state == "unknown"
                    else {"error": outcome.error}
                )
                cost = None
            await jobs.audit(
                "automation.invite",
                group_id=group_id,
                targets=[wa_id],
                result={**result, "job": job_id},
                cost=cost,
            )


async def _report(service: InboxService, job_id: str, resumed: bool) -> BulkCreateReport:
    jobs = service.automations
    report = BulkCreateReport(job_id=job_id, resumed=resumed)
    for row in await jobs.bulk_rows(job_id):
        item: dict[str, object] = {"row": row.row_no, "subject": row.subject}
        if row.state == "created":
            report.created.append({**item, "group_id": row.group_id, "tag": row.tag})
        elif row.state == "existing":
            report.existing.append({**item, "group_id": row.group_id, "reason": row.error})
        elif row.state == "failed":
            report.failed.append({**item, "reason": row.error})
        elif row.state == "invalid":
            report.invalid.append({**item, "reason": row.error})
        elif row.state == "unknown":
            report.unknown.append({**item, "reason": row.error})
        else:
            report.pending.append({**item, "state": row.state, "request_id": row.request_id})
    for invite in await jobs.bulk_invites(job_id):
        if invite.state == "sent":
            report.invites_sent += 1
            if invite.cost is None:
                report.invite_cost_unknown += 1
            else:
                report.invite_cost += invite.cost
        else:
            report.invites_failed.append(
                {
                    "row": invite.row_no,
                    "wa_id": invite.wa_id,
                    "state": invite.state,
                    "reason": invite.error,
                }
            )
    return report
