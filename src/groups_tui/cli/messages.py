"""``groups-tui messages list GROUP`` and ``templates list``: a conversation and the
account's approved templates, as text, JSON or CSV."""

from __future__ import annotations

from typing import Any

import click

from groups_tui.cli.common import (
    EXIT_USAGE,
    csv_option,
    emit,
    json_option,
    local_db_path,
    number_option,
    on_number,
    run_async,
    with_service,
)
from groups_tui.cli_output import cell, fail
from groups_tui.completion import complete_group_id
from groups_tui.jsonable import iso_time

__all__ = ["messages", "templates"]


@click.group()
def messages() -> None:
    """Read a group's conversation from the local database."""


def _message_line(view: Any) -> str:
    m = view.message
    who = "you" if str(m.direction) == "outbound" else (m.sender_name or m.sender_key or "?")
    body = m.text if m.text is not None else f"[{m.kind}]"
    state = f"\t({view.outbox_state})" if view.outbox_state not in (None, "accepted") else ""
    return f"{iso_time(m.at)}\t{cell(who)}\t{cell(body)}{state}"


@messages.command("list")
@click.argument("group_id", shell_complete=complete_group_id)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@number_option
@json_option
@csv_option
@run_async
async def messages_list(
    group_id: str, limit: int, number: str | None, as_json: bool, as_csv: bool
) -> None:
    """The group's newest messages, oldest first (read-only, beside a running listener)."""
    from groups_tui.runtime import open_readonly_service

    if as_json and as_csv:
        fail("give --json or --csv, not both", EXIT_USAGE)
    async with open_readonly_service(local_db_path()) as service:
        if await service.reading.group(group_id) is None:
            fail(f"no group {group_id} in the local database", EXIT_USAGE)
        await on_number(service, number, group_id)
        page = await service.reading.messages_page(group_id, limit=limit)
    views = list(page.messages)
    emit(
        views,
        as_json,
        lambda vs: "\n".join(_message_line(v) for v in vs) or "no messages",
        csv_rows=[v.message for v in views] if as_csv else None,
    )


@click.group()
def templates() -> None:
    """The account's approved message templates."""


@templates.command("list")
@click.option("--refresh", is_flag=True, help="Read them from the Cloud API again.")
@number_option
@json_option
@csv_option
@run_async
async def templates_list(refresh: bool, number: str | None, as_json: bool, as_csv: bool) -> None:
    """Approved templates (of the number's business account): name, language, category,
    parameters."""
    if as_json and as_csv:
        fail("give --json or --csv, not both", EXIT_USAGE)

    async def body(service: Any) -> None:
        rows = await service.reading.templates(refresh=refresh, number=number)
        emit(
            rows,
            as_json,
            lambda ts: (
                "\n".join(
                    "\t".join(map(cell, (t.name, t.language, t.category, t.status)))
                    + f"\t{t.body_params} param(s)"
                    for t in ts
                )
                or "no templates"
            ),
            csv_rows=rows if as_csv else None,
        )

    await with_service(body)()
