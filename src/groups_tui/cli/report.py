"""``groups-tui report spend``: what the cost ledger says was spent, by day, group, market
or category, as a table, JSON or CSV. Reads the local database only (read-only, beside a
running listener)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from groups_tui.cli.common import (
    EXIT_USAGE,
    csv_option,
    emit,
    json_option,
    local_db_path,
    number_option,
    run_async,
)
from groups_tui.cli_output import fail

__all__ = ["report"]

_DAY = click.DateTime(["%Y-%m-%d"])


@click.group()
def report() -> None:
    """Reports from the local database: spend."""


def _table(r: Any) -> str:
    unknown = f" ({r.unknown} charge(s) of unknown amount not included)" if r.unknown else ""
    head = f"spend by {r.by}, {r.since} to {r.until} (UTC days)"
    width = max([len(r.by), *(len(row.key or "-") for row in r.rows)])
    lines = [head, f"{r.by:<{width}}  {'USD':>12}  {'charges':>8}  {'unknown':>8}"]
    for row in r.rows:
        label = f"  {row.label}" if row.label else ""
        lines.append(
            f"{row.key or '-':<{width}}  {row.amount:>12}  {row.charges:>8}  "
            f"{row.unknown:>8}{label}"
        )
    lines.append(f"{'total':<{width}}  {r.total:>12}  {r.charges:>8}  {r.unknown:>8}{unknown}")
    return "\n".join(lines)


@report.command("spend")
@click.option("--since", type=_DAY, default=None, help="First UTC day (default: 29 days ago).")
@click.option("--until", type=_DAY, default=None, help="Last UTC day, included (default: today).")
@click.option(
    "--by",
    type=click.Choice(["day", "group", "market", "category", "number"]),
    default="day",
    show_default=True,
    help="One row per day, group, market, category or business number.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The database file (default: the configured one).",
)
@number_option
@json_option
@csv_option
@run_async
async def spend(
    since: datetime | None,
    until: datetime | None,
    by: str,
    db_path: Path | None,
    number: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Spend from the cost ledger by day, group, market, category or number (of one
    number with --number)."""
    from groups_tui.runtime import open_readonly_service

    if as_json and as_csv:
        fail("give --json or --csv, not both", EXIT_USAGE)
    last: date = until.date() if until else datetime.now(UTC).date()
    first: date = since.date() if since else last - timedelta(days=29)
    if last < first:
        fail(f"the period ends ({last}) before it starts ({first})", EXIT_USAGE)
    async with open_readonly_service(local_db_path(db_path)) as service:
        result = await service.reading.spend_report(first, last, by, number)
    emit(result, as_json, _table, csv_rows=result.rows if as_csv else None)
