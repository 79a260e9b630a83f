"""``groups-tui groups ...`` and ``invite-link``: list, show, create and delete groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from groups_tui.cli.common import (
    EXIT_USAGE,
    emit,
    json_option,
    number_option,
    on_number,
    refresh,
    run_async,
    sync_option,
    with_service,
)
from groups_tui.cli.lazy import LazyCommand, LazyGroup
from groups_tui.cli_output import cell, echo_json_records, fail
from groups_tui.completion import complete_group_id

__all__ = ["groups", "invite_link"]


@click.group(
    cls=LazyGroup,
    lazy_commands={
        "create-csv": LazyCommand(
            "groups_tui.automations.commands:create_from_csv_command",
            "Create groups from a CSV file, paced and resumable (nothing is created twice).",
        ),
        "prune": LazyCommand(
            "groups_tui.automations.commands:prune_command",
            "Delete groups that served their purpose (a dry run unless --yes).",
        ),
    },
)
def groups() -> None:
    """List, show, create and delete groups."""


@groups.command("list")
@sync_option
@number_option
@json_option
@run_async
async def groups_list(sync: bool, number: str | None, as_json: bool) -> None:
    """List every group (of every number, or of --number), each with its number."""

    async def body(service: Any) -> None:
        chosen = await on_number(service, number)
        await refresh(sync, lambda: service.reading.sync_groups(chosen))
        rows = await service.reading.inbox_rows(chosen)
        if as_json:
            # the row's contract shape (docs/json.md), plus the number's label
            labels = {n: service.label(n) for n in {r.phone_number_id for r in rows}}
            echo_json_records(rows, {"number": lambda r: labels[r.phone_number_id]})
            return
        several = len(service.numbers) > 1
        emit(
            rows,
            False,
            lambda rs: (
                "\n".join(
                    (f"{cell(service.label(r.phone_number_id))}\t" if several else "")
                    + f"{cell(r.group_id)}\t{r.participant_count}/8\t{r.unread} unread\t"
                    + cell(r.subject)
                    for r in rs
                )
                or "no groups"
            ),
        )

    await with_service(body)()


@groups.command("show")
@click.argument("group_id", shell_complete=complete_group_id)
@sync_option
@number_option
@json_option
@run_async
async def groups_show(group_id: str, sync: bool, number: str | None, as_json: bool) -> None:
    """Show one group with its members and window."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await refresh(sync, lambda: service.reading.sync_group(group_id, number))
        detail = await service.reading.group_detail(group_id)
        from groups_tui.domain.window import format_countdown

        def text(d: Any) -> str:
            g = d.group
            lines = [
                f"{cell(g.subject)}  ({g.id})",
                f"number: {service.label(g.phone_number_id)}",
                f"state: {g.state}{' SUSPENDED' if g.suspended else ''}",
                f"joining: {g.join_approval.label}",
                f"members: {len(d.members)}/8   window: {format_countdown(d.window.remaining)}",
            ]
            lines += [f"  {cell(m.key)}\t{cell(m.display_name)}" for m in d.members]
            return "\n".join(lines)

        emit(detail, as_json, text)

    await with_service(body)()


@groups.command("create")
@click.option("--subject", default=None, help="Subject (name) of the new group.")
@click.option("--description", default=None)
@click.option("--join-approval", is_flag=True, help="Require approval of join requests.")
@number_option
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
    number: str | None,
    csv_file: Path | None,
    as_json: bool,
) -> None:
    """Create a group on a number (asynchronous: its id arrives by webhook), or many from
    a CSV."""
    if csv_file is not None:
        if subject is not None:
            fail("give either --subject or --from-csv, not both", EXIT_USAGE)
        from groups_tui.automations.commands import create_from_csv_command

        ctx.invoke(create_from_csv_command, csv_file=csv_file, as_json=as_json, number=number)
        return
    if subject is None:
        fail("give --subject (or --from-csv FILE)", EXIT_USAGE)
    _create_one(subject, description, join_approval, number, as_json)


@run_async
async def _create_one(
    subject: str, description: str | None, join_approval: bool, number: str | None, as_json: bool
) -> None:
    async def body(service: Any) -> None:
        op = await service.admin.create_group(subject, description, join_approval, number=number)
        emit(
            op,
            as_json,
            lambda o: (
                f"pending on {service.label(o.phone_number_id)}: request {o.request_id} "
                "(id arrives by webhook)"
            ),
        )

    await with_service(body)()


@groups.command("delete")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--yes", is_flag=True, help="Confirm the deletion.")
@number_option
@json_option
@run_async
async def groups_delete(group_id: str, yes: bool, number: str | None, as_json: bool) -> None:
    """Delete a group (removes every participant)."""
    if not yes:
        fail("refusing to delete without --yes", EXIT_USAGE)

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        op = await service.admin.delete_group(group_id)
        emit(op, as_json, lambda o: f"delete requested for {group_id}: {o.state}")

    await with_service(body)()


@click.command("invite-link")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--reset", is_flag=True, help="Revoke the current link and make a new one.")
@number_option
@json_option
@run_async
async def invite_link(group_id: str, reset: bool, number: str | None, as_json: bool) -> None:
    """Print (or reset) a group's invite link."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        link = await service.admin.invite_link(group_id, reset=reset)
        emit({"group_id": group_id, "invite_link": link}, as_json, lambda d: d["invite_link"])

    await with_service(body)()
