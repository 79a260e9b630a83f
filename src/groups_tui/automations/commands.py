"""Command-line entry points of the automations, for the top-level CLI to register.

* :data:`create_from_csv_command` — ``groups create-csv FILE``
* :data:`prune_command` — ``groups prune``
* :data:`announce_command` — ``announce TEMPLATE``
* :data:`events_tail_command` — ``events tail``
* :data:`automations_group` — ``automations status|pause|resume|runs`` (the CLI adds
  ``run``, which hosts the runner: :mod:`groups_tui.workers.commands`)

Exit codes follow the CLI's: 0 success, 1 when the Cloud API failed or some rows, groups
or invites did not succeed (the rest still proceeded; the report says which), 2 for a
usage or configuration error. Progress bars go to stderr (when it is a terminal, or with
``--progress``); reports go to stdout, as JSON with ``--json``. Everything printed goes
through :mod:`groups_tui.cli_output` (untrusted text never reaches the terminal raw).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from groups_tui.cli_output import echo, echo_json, fail
from groups_tui.config import ConfigError, load_settings

if TYPE_CHECKING:
    from groups_tui.automations.config import AutomationsConfig
    from groups_tui.service import InboxService

__all__ = [
    "announce_command",
    "async_command",
    "automations_config",
    "automations_group",
    "cli_service",
    "config_option",
    "create_from_csv_command",
    "events_tail_command",
    "groups_create_from_csv",
    "json_option",
    "prune_command",
]

T = TypeVar("T")
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Exit(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    raise _Exit(message, code)


def _echo_json(value: Any) -> None:
    echo_json(value, ("ok", "deleted"))


_USAGE_REFUSALS = frozenset({"number_choice", "other_number"})
"""Refusals of what the command line said, not of the action (exit 2)."""


def async_command(fn: Callable[..., Coroutine[Any, Any, int]]) -> Callable[..., None]:
    """Run an async command body; map errors to one line on stderr and an exit code.

    The body returns the exit code.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        from groups_tui.cloud.errors import ApiError, CloudError
        from groups_tui.service import ServiceError

        try:
            code = asyncio.run(fn(*args, **kwargs))
        except _Exit as exc:
            fail(f"{exc}", exc.code)
        except ConfigError as exc:
            fail(f"{exc}", EXIT_USAGE)
        except ApiError as exc:
            fail(f"API error: {exc}", EXIT_FAILED)
        except CloudError as exc:
            fail(f"Cloud API unreachable: {exc}", EXIT_FAILED)
        except ServiceError as exc:
            # --number naming no number (or none with several) is a usage error
            usage = exc.refusal is not None and exc.refusal.code in _USAGE_REFUSALS
            fail(exc.message, EXIT_USAGE if usage else EXIT_FAILED)
        except OSError as exc:
            if os.environ.get("GROUPS_TUI_DEBUG"):
                raise
            fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
        sys.exit(code)

    return wrapper


@asynccontextmanager
async def cli_service() -> AsyncIterator[InboxService]:
    """The live service, around a command body."""
    from groups_tui.runtime import open_cli_service

    async with open_cli_service(load_settings()) as service:
        yield service


def automations_config(config_file: Path | None) -> AutomationsConfig:
    """The ``[automations]`` section of `config_file` (the config file by default)."""
    from groups_tui.automations.config import load_automations

    return load_automations(config_file)


@contextmanager
def _progress(length: int, label: str, enabled: bool | None) -> Iterator[Callable[[int], None]]:
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show or length <= 0:
        yield lambda n: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


sync_option = click.option(
    "--sync/--no-sync",
    default=True,
    show_default=True,
    help="Fetch groups the database does not know from the Cloud API first.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: when stderr is a terminal).",
)
number_option = click.option(
    "--number",
    "number",
    default=None,
    metavar="LABEL|ID",
    help="The business number (label or phone number id); default: the only one.",
)
config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="TOML file with the [automations] section (default: the config file).",
)


async def _sync(service: Any) -> None:
    """Fetch unknown groups; a failure is a warning (the local database still answers)."""
    from groups_tui.service import ServiceError

    try:
        await service.reading.sync_groups()
    except ServiceError as exc:
        echo(
            f"groups-tui: warning: could not refresh groups from the Cloud API "
            f"({exc.message}); using the local database",
            err=True,
        )


def _money(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value} USD"


# --- groups create-csv ---------------------------------------------------------------------
@click.command("create-csv")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--job", "job_id", default=None, help="Resume (or name) this job.")
@click.option("--again", is_flag=True, help="Create a file's groups again after a finished job.")
@click.option(
    "--retry-unknown",
    is_flag=True,
    help="Create rows again whose earlier create call had no answer.",
)
@click.option(
    "--template",
    default="group_invite_upon_request",
    show_default=True,
    help="Invite-link template sent to the invite numbers.",
)
@click.option("--language", default="en", show_default=True, help="Template language.")
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(0, 3600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the creation webhooks.",
)
@number_option
@config_option
@progress_option
@json_option
@async_command
async def create_from_csv_command(
    csv_file: Path,
    job_id: str | None,
    again: bool,
    retry_unknown: bool,
    template: str,
    language: str,
    wait_seconds: float,
    number: str | None,
    config_file: Path | None,
    progress: bool | None,
    as_json: bool,
) -> int:
    """Create groups from a CSV file, paced and resumable (nothing is created twice).

    Columns: subject, description, join_approval (yes/no), tag, invite (numbers separated
    by ';'). Running the same file again resumes an unfinished job.
    """
    from groups_tui.automations.bulk_create import BulkCreateError, bulk_create, parse_csv

    config = automations_config(config_file)
    try:
        text = await asyncio.to_thread(csv_file.read_text, encoding="utf-8-sig")
    except UnicodeDecodeError:
        _fail(f"{csv_file} is not UTF-8 text")
    try:
        rows = parse_csv(text)
    except BulkCreateError as exc:
        _fail(f"{csv_file}: {exc}")
    async with cli_service() as service:
        with _progress(len(rows), "creating groups", progress) as advance:
            try:
                report = await bulk_create(
                    service,
                    text,
                    job_id=job_id,
                    again=again,
                    retry_unknown=retry_unknown,
                    template=template,
                    language=language,
                    pacing=config.pacing,
                    wait_seconds=wait_seconds,
                    on_progress=advance,
                    number=number,
                )
            except BulkCreateError as exc:
                _fail(f"{csv_file}: {exc}")
    if as_json:
        _echo_json(report)
    else:
        verb = "resumed" if report.resumed else "job"
        echo(
            f"{verb} {report.job_id}: {len(report.created)} created, "
            f"{len(report.existing)} already existed, "
            f"{len(report.failed)} failed, {len(report.invalid)} invalid, "
            f"{len(report.unknown)} unknown, {len(report.pending)} pending"
        )
        for item in report.failed + report.invalid + report.unknown:
            echo(f"  {item['reason']}")
        for item in report.pending:
            echo(
                f"  row {item['row']}: still pending (request {item['request_id']}); "
                "run the same command again later"
            )
        cost = _money(report.invite_cost)
        if report.invite_cost_unknown:
            cost += f" (+{report.invite_cost_unknown} at an unknown rate)"
        echo(
            f"invites: {report.invites_sent} sent, {len(report.invites_failed)} failed; cost {cost}"
        )
        for item in report.invites_failed:
            echo(f"  row {item['row']} invite to {item['wa_id']}: {item['reason']}")
    return 0 if report.ok else EXIT_FAILED


groups_create_from_csv = create_from_csv_command


# --- groups prune ----------------------------------------------------------------------------
@click.command("prune")
@click.option(
    "--idle-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="No inbound message for this many days.",
)
@click.option("--subject", default=None, help="Regular expression matched in the subject.")
@click.option("--tag", default=None, help="Tag pattern (shell style, e.g. 'order-*').")
@click.option(
    "--created-before",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Created before this day (UTC), YYYY-MM-DD.",
)
@click.option("--empty", is_flag=True, help="Only groups with no members.")
@click.option("--rule", "rule_name", default=None, help="Use a [[automations.prune_rules]] rule.")
@click.option(
    "--dry-run/--yes",
    "dry_run",
    default=True,
    help="List what would be deleted (default), or delete it.",
)
@number_option
@sync_option
@config_option
@progress_option
@json_option
@async_command
async def prune_command(
    idle_days: float | None,
    subject: str | None,
    tag: str | None,
    created_before: datetime | None,
    empty: bool,
    rule_name: str | None,
    dry_run: bool,
    number: str | None,
    sync: bool,
    config_file: Path | None,
    progress: bool | None,
    as_json: bool,
) -> int:
    """Delete groups that served their purpose (a dry run unless --yes)."""
    import re

    from groups_tui.automations.common import select_groups
    from groups_tui.automations.prune import PruneError, filter_from_rule, make_filter, prune

    config = automations_config(config_file)
    if rule_name is not None:
        if any(v is not None for v in (idle_days, subject, tag, created_before)) or empty:
            _fail("--rule cannot be combined with other criteria")
        flt = filter_from_rule(config.prune_rule(rule_name))
    else:
        if subject is not None:
            try:
                re.compile(subject)
            except re.error as exc:
                _fail(f"--subject is not a valid regular expression: {exc}")
        flt = make_filter(
            idle_days=idle_days,
            subject=subject,
            tag=tag,
            empty=empty,
            created_before=created_before.date() if created_before else None,
        )
    if number is not None:
        flt = dataclasses.replace(flt, number=number)
    if flt.is_empty:
        _fail(
            "give at least one criterion (--idle-days, --subject, --tag, --created-before, "
            "--empty) or --rule NAME"
        )
    async with cli_service() as service:
        if sync:
            await _sync(service)
        try:
            if dry_run:
                report = await prune(service, flt, dry_run=True, rule_name=rule_name)
            else:
                count = len(await select_groups(service, flt))
                with _progress(count, "deleting groups", progress) as advance:
                    report = await prune(
                        service,
                        flt,
                        dry_run=False,
                        pacing=config.pacing,
                        rule_name=rule_name,
                        on_progress=advance,
                    )
        except PruneError as exc:
            _fail(str(exc))
    if as_json:
        _echo_json(report)
    else:
        if not report.candidates:
            echo("no group matches")
        for c in report.candidates:
            outcome = c.outcome + (f": {c.error}" if c.error else "")
            echo(f"{c.group_id}\t{c.subject}\t{outcome}\t({'; '.join(c.reasons)})")
        if report.dry_run and report.candidates:
            echo(
                f"{len(report.candidates)} group(s) would be deleted; "
                "run again with --yes to delete them"
            )
        elif not report.dry_run:
            echo(f"deleted {report.deleted}, failed {len(report.failed)}")
    return EXIT_FAILED if report.failed else 0


# --- announce --------------------------------------------------------------------------------
@click.command("announce")
@click.argument("template_name")
@click.option("--language", default=None, help="Template language (e.g. en_US).")
@click.option("--param", "params", multiple=True, help="Body parameter, in order (repeat).")
@click.option("--subject", default=None, help="Regular expression matched in the subject.")
@click.option("--tag", default=None, help="Tag pattern (shell style).")
@click.option(
    "--idle-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Only groups without an inbound message for this many days.",
)
@click.option("--created-before", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--job", "job_id", default=None, help="Resume (or name) this job.")
@click.option("--yes", is_flag=True, help="Send without asking for confirmation.")
@number_option
@sync_option
@config_option
@progress_option
@json_option
@async_command
async def announce_command(
    template_name: str,
    language: str | None,
    params: tuple[str, ...],
    subject: str | None,
    tag: str | None,
    idle_days: float | None,
    created_before: datetime | None,
    job_id: str | None,
    yes: bool,
    number: str | None,
    sync: bool,
    config_file: Path | None,
    progress: bool | None,
    as_json: bool,
) -> int:
    """Send one template to many groups, with the total cost first (resumable)."""
    from groups_tui.automations.announce import (
        AnnounceError,
        plan_announcement,
        run_announcement,
    )
    from groups_tui.automations.prune import make_filter

    config = automations_config(config_file)
    flt = make_filter(
        subject=subject,
        tag=tag,
        idle_days=idle_days,
        created_before=created_before.date() if created_before else None,
        number=number,
    )
    async with cli_service() as service:
        if sync:
            await _sync(service)
        try:
            plan = await plan_announcement(
                service, template_name, language, params, flt, job_id=job_id
            )
        except AnnounceError as exc:
            _fail(str(exc))
        resumed = f" (resuming {plan.job_id}, {plan.already_done} done)" if plan.resumed else ""
        echo(
            f"{plan.template.name} ({plan.template.language}, "
            f"{plan.template.category}) to {len(plan.sendable)} group(s){resumed}",
            err=as_json,
        )
        for bucket in plan.buckets:
            extra = f" (+{bucket.unknown} unknown)" if bucket.unknown else ""
            echo(
                f"  {bucket.market:<24} {bucket.rule:<44} {bucket.recipients:>6} "
                f"recipient(s)  {bucket.amount} USD{extra}",
                err=as_json,
            )
        for group in plan.groups:
            if group.refusal:
                echo(f"  skipped {group.group_id} {group.subject}: {group.refusal}", err=as_json)
        lower = (
            f" (lower bound: {plan.unknown_recipients} rate(s) unknown)"
            if plan.unknown_recipients
            else ""
        )
        echo(f"total: {plan.total} USD{lower}", err=as_json)
        planned = {
            "job_id": plan.job_id,
            "total": plan.total,
            "buckets": plan.buckets,
            "groups": plan.groups,
        }
        if not yes:
            if not sys.stdin.isatty():
                if as_json:  # the plan on stdout, as `cost` does with a refused preview
                    _echo_json({"plan": planned, "report": None})
                _fail("not sending without confirmation: pass --yes")
            if not click.confirm("send now?", default=False, err=True):
                if as_json:
                    _echo_json({"plan": planned, "report": None})
                echo("not sent", err=True)
                return EXIT_FAILED
        with _progress(len(plan.groups), "announcing", progress) as advance:
            report = await run_announcement(
                service, plan, pacing=config.pacing, on_progress=advance
            )
    if as_json:
        _echo_json({"plan": planned, "report": report})
    else:
        for item in report.sent:
            echo(f"{item['group_id']}\tsent\t{item['wamid']}")
        for item in report.failed + report.unknown:
            echo(f"{item['group_id']}\t{item['state']}\t{item['reason']}")
        echo(
            f"sent {len(report.sent)}, failed {len(report.failed)}, unknown "
            f"{len(report.unknown)}; expected cost {report.cost} USD"
        )
    return 0 if report.ok else EXIT_FAILED


# --- events tail -----------------------------------------------------------------------------
@click.command("tail")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file (default: GROUPS_TUI_DB, or the sandbox's without credentials).",
)
@click.option(
    "--from",
    "from_id",
    type=click.IntRange(min=0),
    default=None,
    help="Start after this change id (default: now; 0 = from the beginning).",
)
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="Keep printing new events as they are applied.",
)
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (patterns, repeat).")
@click.option(
    "--max",
    "max_events",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many events.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 60),
    default=0.5,
    show_default=True,
    help="Seconds between polls while following.",
)
@number_option
@json_option
@async_command
async def events_tail_command(
    db: Path | None,
    from_id: int | None,
    follow: bool,
    kinds: tuple[str, ...],
    max_events: int | None,
    interval: float,
    number: str | None,
    as_json: bool,
) -> int:
    """Stream applied group events (the forwarding feed), one JSON object per line."""
    import fnmatch

    from groups_tui.runtime import open_readonly_service

    if db is None:
        settings = load_settings()
        db = settings.db_path if settings.is_live else settings.sandbox_db_path
    if not db.exists():
        _fail(f"no database at {db} (pass --db or set GROUPS_TUI_DB)")
    printed = 0
    async with open_readonly_service(db) as service:
        # a usage error (exit 2) names the choices
        wanted = None if number is None else service.number(number).phone_number_id
        numbers: dict[str, str | None] = {}  # each group's number, read once

        async def of_number(group_id: str | None) -> bool:
            if wanted is None:
                return True
            if group_id is None:
                return False  # not a group's event: no number's
            if group_id not in numbers:
                numbers[group_id] = await service.reading.number_of(group_id)
            return numbers[group_id] == wanted

        changes = service.changes
        position = from_id if from_id is not None else await changes.latest_id()
        async for batch in changes.follow(position, interval, until_idle=not follow):
            for event in await changes.events(batch):
                if kinds and not any(fnmatch.fnmatchcase(event["kind"], k) for k in kinds):
                    continue
                if not await of_number(event["group_id"]):
                    continue
                if as_json:
                    echo_json(event, indent=None)
                else:
                    echo(_event_text(event))
                printed += 1
                if max_events is not None and printed >= max_events:
                    return 0
    return 0


def _event_text(event: dict[str, Any]) -> str:
    at = event["at"]
    when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else "-"
    data = " ".join(f"{k}={v}" for k, v in event["data"].items())
    return f"{event['id']}\t{when}\t{event['kind']}\t{event['group_id'] or '-'}\t{data}"


# --- automations status / pause / resume / runs / run ----------------------------------------
@click.group("automations")
def automations_group() -> None:
    """Invite flows and event forwarding: status, pause, resume, recent runs."""


@automations_group.command("status")
@config_option
@json_option
@async_command
async def automations_status(config_file: Path | None, as_json: bool) -> int:
    """Rules and forwarding targets, paused or not, with their last failure."""
    config = automations_config(config_file)
    async with cli_service() as service:
        service.automations.configure(config.setup())
        status = await service.automations.status()
    if as_json:
        _echo_json(status)
        return 0
    if not status.rules and not status.targets:
        echo("no invite rules or forwarding targets configured")
    for rule in status.rules:
        state = "paused" if rule.paused else "active"
        echo(
            f"rule   {rule.name:<20} {state:<7} {rule.sent} sent  on {rule.trigger} -> {rule.group}"
        )
        if rule.last_error:
            echo(f"       last failure: {rule.last_error}")
    for target in status.targets:
        state = "paused" if target.paused else "active"
        echo(
            f"target {target.name:<20} {state:<7} {target.pending} pending, "
            f"{target.delivered} delivered -> {target.destination}"
        )
        if target.last_error:
            echo(f"       last failure: {target.last_error}")
    return 0


def _pause_command(paused: bool) -> Callable[..., None]:
    @click.argument("name")
    @config_option
    @json_option
    @async_command
    async def command(name: str, config_file: Path | None, as_json: bool) -> int:
        config = automations_config(config_file)
        async with cli_service() as service:
            service.automations.configure(config.setup())
            try:
                await service.automations.set_paused(name, paused)
            except KeyError as exc:
                _fail(str(exc.args[0]))
        if as_json:
            _echo_json({"name": name, "paused": paused})
        else:
            echo(f"{name}: {'paused' if paused else 'resumed'}")
        return 0

    return command


automations_group.command("pause", help="Pause a rule or forwarding target.")(_pause_command(True))
automations_group.command("resume", help="Resume a paused rule or forwarding target.")(
    _pause_command(False)
)


@automations_group.command("runs")
@click.option("--name", default=None, help="Only this rule or target.")
@click.option("--failures", is_flag=True, help="Only failures.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
@async_command
async def automations_runs(name: str | None, failures: bool, limit: int, as_json: bool) -> int:
    """Recent runs and failures of rules and targets, newest first."""
    async with cli_service() as service:
        runs = await service.automations.runs(name=name, failures_only=failures, limit=limit)
    if as_json:
        _echo_json(runs)
        return 0
    for run in runs:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.at))
        echo(f"{when}\t{run.name}\t{'ok' if run.ok else 'FAILED'}\t{run.detail}")
    if not runs:
        echo("no runs recorded")
    return 0
