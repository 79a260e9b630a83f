"""Command line: the TUI by default, plus scriptable subcommands with ``--json``.

Exit codes: 0 on success, 1 on a Cloud API error or an outcome that is not a success (a
send whose outcome is unknown, a join request or a removal the API refused; the reason on
stderr), 2 on a usage or configuration error. Every line printed goes through
:mod:`groups_tui.cli_output` (untrusted text never reaches the terminal raw). Nothing here
imports Textual until the TUI is opened.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from groups_tui.cli_output import echo, echo_json, fail, install_log_handler
from groups_tui.completion import complete_group_id, completion_command
from groups_tui.config import ConfigError, config_path, load_settings
from groups_tui.jsonable import to_jsonable

T = TypeVar("T")

EXIT_API = 1
EXIT_USAGE = 2


def _fail(message: str, code: int) -> NoReturn:
    fail(message, code)


def emit(
    value: Any, as_json: bool, text: Callable[[Any], str], properties: tuple[str, ...] = ()
) -> None:
    """Print `value` as JSON or as the human text `text(value)` (both terminal-safe).

    Args:
        value: The result.
        as_json: Print JSON.
        text: The human text of the result.
        properties: Derived properties to add to the JSON of a dataclass.
    """
    if as_json:
        echo_json(value, properties)
    else:
        echo(text(value))


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async command body, mapping errors to one line and an exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from groups_tui.cloud.errors import ApiError, CloudError
        from groups_tui.service import ServiceError

        try:
            return asyncio.run(fn(*args, **kwargs))
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
        except ApiError as exc:
            _fail(f"API error: {exc}", EXIT_API)
        except CloudError as exc:
            _fail(f"Cloud API unreachable: {exc}", EXIT_API)
        except ServiceError as exc:
            _fail(exc.message, EXIT_USAGE if exc.refusal is not None else EXIT_API)
        except (OSError, ValueError) as exc:
            if os.environ.get("GROUPS_TUI_DEBUG"):
                raise
            _fail(f"{type(exc).__name__}: {exc} (GROUPS_TUI_DEBUG=1 shows a traceback)", EXIT_API)

    return wrapper


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="groups-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """groups-tui: a terminal inbox for WhatsApp Cloud API groups.

    Without a command, opens the TUI (on the embedded sandbox when no Meta credentials
    are configured).
    """
    if ctx.invoked_subcommand is None:
        from groups_tui.tui_runner import run_tui

        try:
            run_tui(load_settings())
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
        return
    install_log_handler()  # a command's log lines reach the terminal made visible


# --- config ------------------------------------------------------------------------------
@main.group()
def config() -> None:
    """Where settings live and whether they are complete."""


@config.command("path")
def config_path_cmd() -> None:
    """Print the config file's path."""
    echo(str(config_path()))


@config.command("check")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def config_check(as_json: bool) -> None:
    """Show each setting as set or missing (never its value)."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    rows = settings.status_lines()
    mode = "live" if settings.is_live else "sandbox"
    if as_json:
        emit(
            {
                "mode": mode,
                "config_file": str(config_path()),
                "settings": {name: ("set" if present else "missing") for name, _, present in rows},
            },
            True,
            str,
        )
        return
    echo(f"config file: {config_path()}")
    for name, _desc, present in rows:
        echo(f"  {name:<32} {'set' if present else 'missing'}")
    if settings.is_live:
        echo("mode: LIVE (talks to the Cloud API)")
    else:
        echo(
            "mode: SANDBOX (no WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID; "
            "the TUI runs on simulated users)"
        )


# --- groups ------------------------------------------------------------------------------
def _with_service(
    body: Callable[..., Awaitable[T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    """Open the live runtime (store + client + service) around a command body."""

    async def runner(*args: Any, **kwargs: Any) -> T:
        from groups_tui.runtime import open_cli_service

        async with open_cli_service(load_settings()) as service:
            return await body(service, *args, **kwargs)

    return runner


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@main.group()
def groups() -> None:
    """List, show, create and delete groups."""


@groups.command("list")
@click.option("--sync/--no-sync", default=True, help="Refresh from the Cloud API first.")
@json_option
@run_async
async def groups_list(sync: bool, as_json: bool) -> None:
    """List every group."""

    async def body(service: Any) -> None:
        if sync:
            await service.reading.sync_groups()
        rows = await service.reading.inbox_rows()
        emit(
            rows,
            as_json,
            lambda rs: (
                "\n".join(
                    f"{r.group_id}\t{r.participant_count}/8\t{r.unread} unread\t{r.subject}"
                    for r in rs
                )
                or "no groups"
            ),
        )

    await _with_service(body)()


@groups.command("show")
@click.argument("group_id", shell_complete=complete_group_id)
@json_option
@run_async
async def groups_show(group_id: str, as_json: bool) -> None:
    """Show one group with its members and window."""

    async def body(service: Any) -> None:
        await service.reading.sync_group(group_id)
        detail = await service.reading.group_detail(group_id)
        from groups_tui.domain.window import format_countdown

        def text(d: Any) -> str:
            g = d.group
            lines = [
                f"{g.subject}  ({g.id})",
                f"state: {g.state}{' SUSPENDED' if g.suspended else ''}",
                f"joining: {g.join_approval.label}",
                f"members: {len(d.members)}/8   window: {format_countdown(d.window.remaining)}",
            ]
            lines += [f"  {m.key}\t{m.display_name}" for m in d.members]
            return "\n".join(lines)

        emit(detail, as_json, text)

    await _with_service(body)()


@groups.command("create")
@click.option("--subject", default=None, help="Subject (name) of the new group.")
@click.option("--description", default=None)
@click.option("--join-approval", is_flag=True, help="Require approval of join requests.")
@click.option(
    "--from-csv",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Create many groups from a CSV (paced, resumable); see `groups create-csv --help`.",
)
@json_option
@click.pass_context
def groups_create(
    ctx: click.Context,
    subject: str | None,
    description: str | None,
    join_approval: bool,
    csv_file: Path | None,
    as_json: bool,
) -> None:
    """Create a group (asynchronous: its id arrives by webhook), or many from a CSV."""
    if csv_file is not None:
        if subject is not None:
            _fail("give either --subject or --from-csv, not both", EXIT_USAGE)
        from groups_tui.automations.commands import create_from_csv_command

        ctx.invoke(create_from_csv_command, csv_file=csv_file, as_json=as_json)
        return
    if subject is None:
        _fail("give --subject (or --from-csv FILE)", EXIT_USAGE)
    _create_one(subject, description, join_approval, as_json)


@run_async
async def _create_one(
    subject: str, description: str | None, join_approval: bool, as_json: bool
) -> None:
    async def body(service: Any) -> None:
        op = await service.admin.create_group(subject, description, join_approval)
        emit(op, as_json, lambda o: f"pending: request {o.request_id} (id arrives by webhook)")

    await _with_service(body)()


@groups.command("delete")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--yes", is_flag=True, help="Confirm the deletion.")
@json_option
@run_async
async def groups_delete(group_id: str, yes: bool, as_json: bool) -> None:
    """Delete a group (removes every participant)."""
    if not yes:
        _fail("refusing to delete without --yes", EXIT_USAGE)

    async def body(service: Any) -> None:
        op = await service.admin.delete_group(group_id)
        emit(op, as_json, lambda o: f"delete requested for {group_id}: {o.state}")

    await _with_service(body)()


@main.command("invite-link")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--reset", is_flag=True, help="Revoke the current link and make a new one.")
@json_option
@run_async
async def invite_link(group_id: str, reset: bool, as_json: bool) -> None:
    """Print (or reset) a group's invite link."""

    async def body(service: Any) -> None:
        link = await service.admin.invite_link(group_id, reset=reset)
        emit({"group_id": group_id, "invite_link": link}, as_json, lambda d: d["invite_link"])

    await _with_service(body)()


# --- members and join requests -----------------------------------------------------------
@main.group()
def members() -> None:
    """List and remove group members."""


@members.command("list")
@click.argument("group_id", shell_complete=complete_group_id)
@json_option
@run_async
async def members_list(group_id: str, as_json: bool) -> None:
    """List a group's members."""

    async def body(service: Any) -> None:
        await service.reading.sync_group(group_id)
        rows = await service.reading.members(group_id)
        emit(
            rows,
            as_json,
            lambda ms: "\n".join(f"{m.key}\t{m.display_name}" for m in ms) or "no members",
        )

    await _with_service(body)()


@members.command("remove")
@click.argument("group_id", shell_complete=complete_group_id)
@click.argument("users", nargs=-1, required=True)
@json_option
@run_async
async def members_remove(group_id: str, users: tuple[str, ...], as_json: bool) -> None:
    """Remove members (by number or user id); batches of 8 per call."""

    async def body(service: Any) -> None:
        op = await service.admin.remove_participants(group_id, list(users))
        emit(op, as_json, lambda o: f"removal of {len(users)} requested: {o.state}")
        refused = op.payload.get("refused") or []
        if refused:
            # The API answered at once that some of them cannot be removed (131201).
            reasons = "; ".join(f"{who}: {why}" for who, why in refused)
            _fail(
                f"{len(refused)} of {len(users)} member(s) will not be removed: {reasons}",
                EXIT_API,
            )

    await _with_service(body)()


@main.group()
def requests() -> None:
    """List, approve and reject join requests."""


@requests.command("list")
@click.argument("group_id", shell_complete=complete_group_id)
@json_option
@run_async
async def requests_list(group_id: str, as_json: bool) -> None:
    """List pending join requests."""

    async def body(service: Any) -> None:
        await service.reading.sync_join_requests(group_id)
        rows = await service.reading.join_requests(group_id)
        emit(
            rows,
            as_json,
            lambda rs: (
                "\n".join(
                    f"{r.request.join_request_id}\t{r.request.key}\t{r.request.profile_name or ''}"
                    for r in rs
                )
                or "no pending requests"
            ),
        )

    await _with_service(body)()


def _decide(approve: bool) -> Callable[..., None]:
    @click.argument("group_id", shell_complete=complete_group_id)
    @click.argument("request_ids", nargs=-1, required=True)
    @json_option
    @run_async
    async def decide(group_id: str, request_ids: tuple[str, ...], as_json: bool) -> None:
        async def body(service: Any) -> None:
            if approve:
                result = await service.admin.approve_join_requests(group_id, list(request_ids))
            else:
                result = await service.admin.reject_join_requests(group_id, list(request_ids))
            verb = "approved" if approve else "rejected"
            emit(
                result,
                as_json,
                lambda r: (
                    f"{verb}: {', '.join(r.done) or 'none'}"
                    + (
                        f"; failed: {', '.join(f'{i} ({why})' for i, why in r.failed)}"
                        if r.failed
                        else ""
                    )
                ),
            )
            if result.failed:
                # The API refused some of them (131213: no such request, 131204: group
                # full...): not a success, whatever the others did.
                reasons = "; ".join(f"{i}: {why}" for i, why in result.failed)
                _fail(
                    f"{len(result.failed)} of {len(request_ids)} join request(s) not {verb}: "
                    f"{reasons}",
                    EXIT_API,
                )

        await _with_service(body)()

    return decide


requests.command("approve", help="Approve join requests.")(_decide(True))
requests.command("reject", help="Reject join requests.")(_decide(False))


# --- sending and cost --------------------------------------------------------------------
@main.group()
def send() -> None:
    """Send messages to a group."""


@send.command("text")
@click.argument("group_id", shell_complete=complete_group_id)
@click.argument("text")
@json_option
@run_async
async def send_text(group_id: str, text: str, as_json: bool) -> None:
    """Send free-form text (only while the group's window is open)."""

    async def body(service: Any) -> None:
        await service.reading.sync_group(group_id)
        item = await service.sending.send_text(group_id, text)
        emit(item, as_json, lambda i: f"{i.state}: {i.wamid or i.id}", ("error",))
        if item.state == "failed":
            _fail(f"send failed: {item.error}", EXIT_API)
        if item.state != "accepted":
            # Unknown: the request may have reached Meta. Not a success, and not to be
            # repeated blindly either (the outbox keeps it as unknown).
            _fail(
                f"outcome unknown (outbox item {item.id}): "
                f"{item.error or 'no answer from the API'}; check the conversation "
                "before sending again",
                EXIT_API,
            )

    await _with_service(body)()


@main.command("cost")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--template", "template_name", default=None, help="Template name (default: text).")
@click.option("--language", default=None, help="Template language, e.g. en_US.")
@click.option(
    "--explain",
    is_flag=True,
    help="Per member: market, rate, rule applied, its source and whether it comes from "
    "configuration or from what Meta charged; the range; contradicting evidence.",
)
@json_option
@run_async
async def cost(
    group_id: str, template_name: str | None, language: str | None, explain: bool, as_json: bool
) -> None:
    """Preview what a send to the group would cost now."""

    async def body(service: Any) -> None:
        await service.reading.sync_group(group_id)
        template = None
        if template_name:
            from groups_tui.service import ServiceError

            try:
                template = await service.reading.find_template(template_name, language)
            except ServiceError as exc:
                _fail(exc.message, EXIT_USAGE)
        preview = await service.sending.preview_cost(group_id, template)
        if preview.refusal is not None:
            # The send would be refused: a usage error, with the preview (and its refusal)
            # still on stdout for --json.
            if as_json:
                emit(preview, True, str)
            _fail(preview.refusal.reason, EXIT_USAGE)
        if explain:
            from groups_tui.domain.pricing import explain_cost

            explained = explain_cost(preview, await service.sending.pricing_calibration())
            emit(explained, as_json, lambda e: e.text())
            return

        def text(p: Any) -> str:
            lines = [
                f"{ln.name or ln.member_key}\t{ln.country or '?'}\t{ln.market or '?'}\t"
                f"{'unknown' if ln.rate is None else ln.rate}\t{ln.rule}"
                + (f"\t({ln.note})" if ln.note else "")
                for ln in p.lines
            ]
            total = f"total: {p.total} USD" + (
                f" (lower bound: {len(p.unknown)} rate(s) unknown)" if p.unknown else ""
            )
            if p.is_range:
                total += f" (range {p.low_total} – {p.high_total} USD)"
            disputes = [f"{n.origin.value}: {n.reason}" for n in p.disputes]
            return "\n".join([*lines, total, *disputes])

        emit(preview, as_json, text)

    await _with_service(body)()


@main.command("audit")
@click.option(
    "--group",
    "group_id",
    default=None,
    shell_complete=complete_group_id,
    help="Only this group's actions.",
)
@click.option("--limit", type=int, default=100, show_default=True)
@json_option
@run_async
async def audit(group_id: str | None, limit: int, as_json: bool) -> None:
    """Operator actions, newest first: who, what, which group and people, the API's answer."""
    from groups_tui.runtime import open_readonly_service

    settings = load_settings()
    path = settings.db_path if settings.is_live else settings.sandbox_db_path
    if not path.exists():
        _fail(f"no database at {path}", EXIT_USAGE)
    async with open_readonly_service(path) as service:
        rows = await service.admin.audit_page(group_id=group_id, limit=limit)

    def text(entries: Any) -> str:
        import time as _time

        return (
            "\n".join(
                f"{_time.strftime('%Y-%m-%d %H:%M:%S', _time.localtime(e.at))}\t{e.os_user}\t"
                f"{e.action}\t{e.group_id or '-'}\t{json.dumps(to_jsonable(e.targets))}\t"
                f"{json.dumps(to_jsonable(e.api_result))}" + (f"\t{e.cost} USD" if e.cost else "")
                for e in entries
            )
            or "no audited actions"
        )

    emit(rows, as_json, text)


def _register_subsystem_commands() -> None:
    """Commands that live beside their subsystem (listener, sandbox, automations, workers)."""
    from groups_tui.automations.commands import (
        announce_command,
        automations_group,
        create_from_csv_command,
        events_tail_command,
        prune_command,
    )
    from groups_tui.listener.commands import events_group, listen_command
    from groups_tui.sandbox.commands import sandbox_command
    from groups_tui.web import web_command
    from groups_tui.workers.commands import automations_run_command

    main.add_command(listen_command, "listen")
    main.add_command(events_group, "events")
    main.add_command(sandbox_command, "sandbox")
    main.add_command(automations_group, "automations")
    automations_group.add_command(automations_run_command, "run")
    main.add_command(announce_command, "announce")
    main.add_command(completion_command, "completion")
    main.add_command(web_command, "web")
    events_group.add_command(events_tail_command, "tail")
    groups.add_command(create_from_csv_command, "create-csv")
    groups.add_command(prune_command, "prune")


_register_subsystem_commands()
