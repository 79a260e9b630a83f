"""``groups-tui members ...`` and ``requests ...``: members and join requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from groups_tui.cli.common import (
    EXIT_API,
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
from groups_tui.cli_output import cell, fail
from groups_tui.completion import complete_group_id

__all__ = ["members", "requests"]


@click.group()
def members() -> None:
    """List and remove group members."""


@members.command("list")
@click.argument("group_id", shell_complete=complete_group_id)
@sync_option
@number_option
@json_option
@run_async
async def members_list(group_id: str, sync: bool, number: str | None, as_json: bool) -> None:
    """List a group's members."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await refresh(sync, lambda: service.reading.sync_group(group_id, number))
        rows = await service.reading.members(group_id)
        emit(
            rows,
            as_json,
            lambda ms: (
                "\n".join(f"{cell(m.key)}\t{cell(m.display_name)}" for m in ms) or "no members"
            ),
        )

    await with_service(body)()


@members.command("export")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--csv", "as_csv", is_flag=True, help="CSV (the default).")
@sync_option
@number_option
@json_option
@run_async
async def members_export(
    group_id: str, as_csv: bool, sync: bool, number: str | None, as_json: bool
) -> None:
    """Export a group's members as CSV (or JSON): the fields of `members list --json`."""
    if as_json and as_csv:
        fail("give --json or --csv, not both", EXIT_USAGE)

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await refresh(sync, lambda: service.reading.sync_group(group_id, number))
        rows = await service.reading.members(group_id)
        emit(rows, as_json, str, csv_rows=rows)

    await with_service(body)()


@members.command("remove")
@click.argument("group_id", shell_complete=complete_group_id)
@click.argument("users", nargs=-1, required=True)
@number_option
@json_option
@run_async
async def members_remove(
    group_id: str, users: tuple[str, ...], number: str | None, as_json: bool
) -> None:
    """Remove members (by number or user id); batches of 8 per call."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        op = await service.admin.remove_participants(group_id, list(users))
        emit(op, as_json, lambda o: f"removal of {len(users)} requested: {o.state}")
        refused = op.payload.get("refused") or []
        if refused:
            # The API answered at once that some of them cannot be removed (131201).
            reasons = "; ".join(f"{who}: {why}" for who, why in refused)
            fail(
                f"{len(refused)} of {len(users)} member(s) will not be removed: {reasons}",
                EXIT_API,
            )

    await with_service(body)()


@click.group()
def requests() -> None:
    """List, approve and reject join requests."""


@requests.command("list")
@click.argument("group_id", shell_complete=complete_group_id)
@sync_option
@number_option
@json_option
@run_async
async def requests_list(group_id: str, sync: bool, number: str | None, as_json: bool) -> None:
    """List pending join requests."""

    async def body(service: Any) -> None:
        await on_number(service, number, group_id)
        await refresh(sync, lambda: service.reading.sync_join_requests(group_id))
        rows = await service.reading.join_requests(group_id)
        emit(
            rows,
            as_json,
            lambda rs: (
                "\n".join(
                    f"{cell(r.request.join_request_id)}\t{cell(r.request.key)}\t"
                    + cell(r.request.profile_name or "")
                    for r in rs
                )
                or "no pending requests"
            ),
        )

    await with_service(body)()


def _decide(approve: bool) -> Callable[..., None]:
    @click.argument("group_id", shell_complete=complete_group_id)
    @click.argument("request_ids", nargs=-1, required=True)
    @number_option
    @json_option
    @run_async
    async def decide(
        group_id: str, request_ids: tuple[str, ...], number: str | None, as_json: bool
    ) -> None:
        async def body(service: Any) -> None:
            await on_number(service, number, group_id)
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
                fail(
                    f"{len(result.failed)} of {len(request_ids)} join request(s) not {verb}: "
                    f"{reasons}",
                    EXIT_API,
                )

        await with_service(body)()

    return decide


requests.command("approve", help="Approve join requests.")(_decide(True))
requests.command("reject", help="Reject join requests.")(_decide(False))
