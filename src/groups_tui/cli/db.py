"""``groups-tui db backup|check``: a consistent copy of the database, and its health.

Both open the database read-only beside whatever else runs on it (``listen``, the TUI,
``automations run``): a backup reads one snapshot with SQLite's online backup API while
they keep writing.
"""

from __future__ import annotations

from pathlib import Path

import click

from groups_tui.cli.common import EXIT_API, EXIT_USAGE, emit, json_option, local_db_path, run_async
from groups_tui.cli_output import fail

__all__ = ["db"]

_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The database file (default: the configured one).",
)


@click.group()
def db() -> None:
    """Back up and check the local database."""


def _check_text(check: object) -> str:
    from groups_tui.service.types import DatabaseCheck

    assert isinstance(check, DatabaseCheck)
    lines = [
        f"database: {check.path}",
        f"integrity: {'ok' if check.ok else 'NOT OK'}",
        *(f"  {p}" for p in check.problems),
        f"schema version: {check.schema_version}",
        *(f"  {name:<28} {count:>10}" for name, count in check.counts.items()),
    ]
    return "\n".join(lines)


@db.command("check")
@_db_option
@json_option
@run_async
async def db_check(db_path: Path | None, as_json: bool) -> None:
    """Integrity check and rows per table; exit 1 when the database is damaged."""
    from groups_tui.runtime import open_readonly_service

    path = local_db_path(db_path)
    async with open_readonly_service(path) as service:
        check = await service.maintenance.check()
    emit(check, as_json, _check_text)
    if not check.ok:
        fail(f"{path}: integrity check failed", EXIT_API)


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_db_option
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@json_option
def db_backup(file: Path, db_path: Path | None, force: bool, as_json: bool) -> None:
    """Copy the database to FILE as of one commit, safely while others write to it."""
    path = local_db_path(db_path)
    if file.exists() and file.resolve() == path.resolve():
        fail("FILE is the database itself", EXIT_USAGE)
    if file.exists() and not force:
        fail(f"{file} exists (give --force to replace it)", EXIT_USAGE)
    if not file.parent.is_dir():
        fail(f"no directory {file.parent}", EXIT_USAGE)
    _backup(path, file, as_json)


@run_async
async def _backup(path: Path, file: Path, as_json: bool) -> None:
    from groups_tui.runtime import open_readonly_service

    async with open_readonly_service(path) as service:
        result = await service.maintenance.backup(file)
    emit(
        result,
        as_json,
        lambda r: f"backup: {r.path} ({r.pages} pages, {r.bytes} bytes)\n" + _check_text(r.check),
    )
    if not result.check.ok:
        fail(f"the copy failed its check; {file} was not written", EXIT_API)
