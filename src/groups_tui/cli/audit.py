"""``groups-tui audit``: operator actions, newest first."""

from __future__ import annotations

import json
from typing import Any

import click

from groups_tui.cli.common import (
    EXIT_USAGE,
    csv_option,
    emit,
    json_option,
    number_option,
    run_async,
)
from groups_tui.cli_output import cell, fail
from groups_tui.completion import complete_group_id
from groups_tui.config import load_settings
from groups_tui.jsonable import to_jsonable

__all__ = ["audit"]


@click.command("audit")
@click.option(
    "--group",
    "group_id",
    default=None,
    shell_complete=complete_group_id,
    help="Only this group's actions.",
)
@click.option("--limit", type=int, default=100, show_default=True)
@number_option
@json_option
@csv_option
@run_async
async def audit(
    group_id: str | None, limit: int, number: str | None, as_json: bool, as_csv: bool
) -> None:
    """Operator actions, newest first: who, what, which group and people, the API's answer."""
    from groups_tui.daemon.wire import find_socket
    from groups_tui.runtime import open_readonly_service

    if as_json and as_csv:
        fail("give --json or --csv, not both", EXIT_USAGE)
    settings = load_settings()
    socket_file = find_socket(settings.socket)
    if socket_file is not None:  # team mode: the daemon's database
        from groups_tui.daemon.client import open_remote_service

        async with open_remote_service(socket_file) as remote:
            labels = remote.label
            several = len(remote.numbers) > 1
            rows = await remote.admin.audit_page(group_id=group_id, limit=limit, number=number)
    else:
        path = settings.db_path if settings.is_live else settings.sandbox_db_path
        if not path.exists():
            fail(f"no database at {path}", EXIT_USAGE)
        async with open_readonly_service(path) as service:
            labels = service.label
            several = len(service.numbers) > 1
            rows = await service.admin.audit_page(group_id=group_id, limit=limit, number=number)

    def text(entries: Any) -> str:
        import time as _time

        return (
            "\n".join(
                f"{_time.strftime('%Y-%m-%d %H:%M:%S', _time.localtime(e.at))}\t{cell(e.os_user)}"
                + (f" ({cell(e.role)})" if e.role else "")
                + "\t"
                + (f"{labels(e.phone_number_id)}\t" if several else "")
                + f"{cell(e.action)}\t{cell(e.group_id or '-')}\t{json.dumps(to_jsonable(e.targets))}\t"
                f"{json.dumps(to_jsonable(e.api_result))}" + (f"\t{e.cost} USD" if e.cost else "")
                for e in entries
            )
            or "no audited actions"
        )

    emit(rows, as_json, text, csv_rows=rows if as_csv else None)
