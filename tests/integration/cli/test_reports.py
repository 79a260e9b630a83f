"""Reports and exports: ``report spend``, ``members export``, ``audit --csv``, ``messages
list`` and ``templates list``, run against the CLI world (a sandbox process delivering
signed webhooks to a listener process, one SQLite file).

The spend report is checked against the cost ledger read straight from the file; CSV
output is parsed back and checked for formula injection (a member's message that starts
with ``=``, ``+``, ``-`` or ``@``) and for raw control characters.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from .conftest import CliWorld, unsafe_in, wait_for

pytestmark = pytest.mark.xdist_group("cli-world")

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def _csv(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def _ledger(world: CliWorld) -> list[tuple[str | None, str | None, str | None, int]]:
    with sqlite3.connect(f"file:{world.env['GROUPS_TUI_DB']}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT group_id, market, amount, at FROM cost_ledger").fetchall()
    conn.close()
    return [(r[0], r[1], r[2], int(r[3])) for r in rows]


def test_report_spend_sums_the_ledger_by_day_and_by_market(cli_world: CliWorld) -> None:
    # GIVEN sends whose status webhooks priced ledger lines
    for n in range(3):
        code, _, err = cli_world.run("send", "text", cli_world.open_group, f"report {n}")
        assert code == 0, err
    wait_for("priced ledger lines", lambda: len(_ledger(cli_world)) > 0)
    lines = _ledger(cli_world)
    today = datetime.now(UTC).date()
    first = min(datetime.fromtimestamp(at, UTC).date() for *_, at in lines)
    since = min(first, today - timedelta(days=3))
    # WHEN reporting by day over a period that covers them
    code, out, err = cli_world.run(
        "report", "spend", "--since", since.isoformat(), "--until", today.isoformat(), "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    # THEN every day of the period has a row, zero or not, and each equals the ledger
    days = [r["key"] for r in report["rows"]]
    assert days == [
        (since + timedelta(days=n)).isoformat() for n in range((today - since).days + 1)
    ]
    by_day: dict[str, Decimal] = defaultdict(Decimal)
    for _, _, amount, at in lines:
        by_day[datetime.fromtimestamp(at, UTC).date().isoformat()] += Decimal(amount or 0)
    assert {r["key"]: Decimal(r["amount"]) for r in report["rows"] if r["charges"]} == {
        d: v for d, v in by_day.items()
    }
    assert sum(r["charges"] for r in report["rows"]) == report["charges"] == len(lines)
    assert Decimal(report["total"]) == sum(by_day.values())
    # AND by market, as CSV with the JSON's columns
    code, out, err = cli_world.run(
        "report", "spend", "--since", since.isoformat(), "--by", "market", "--csv"
    )
    assert code == 0, err
    rows = _csv(out)
    assert list(rows[0]) == ["key", "amount", "charges", "unknown", "label"]
    by_market: dict[str, int] = defaultdict(int)
    for _, market, _, _ in lines:
        by_market[market or ""] += 1
    assert {r["key"]: int(r["charges"]) for r in rows} == dict(by_market)
    # AND the table names the bucket and the total
    code, out, err = cli_world.run("report", "spend", "--since", since.isoformat(), "--by", "group")
    assert code == 0, err
    assert "total" in out and cli_world.open_group in out and unsafe_in(out) == []


def test_report_spend_refuses_a_period_that_ends_before_it_starts(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run(
        "report", "spend", "--since", "2026-12-05", "--until", "2026-12-01"
    )
    assert code == 2 and "before it starts" in err


def test_csv_keeps_untrusted_text_as_data(cli_world: CliWorld) -> None:
    # GIVEN members who wrote formulas and escape sequences
    writer = cli_world.hostile_people[0]
    for text in FORMULAS:
        cli_world.control(
            f"groups/{cli_world.open_group}/message", {"wa_id": writer["wa_id"], "text": text}
        )

    def arrived() -> bool:
        code, out, _ = cli_world.run("messages", "list", cli_world.open_group, "--json")
        return code == 0 and FORMULAS[-1] in [v["message"]["text"] for v in json.loads(out)]

    wait_for("the formulas", arrived)
    # WHEN the conversation is exported as CSV
    code, out, err = cli_world.run(
        "messages", "list", cli_world.open_group, "--limit", "500", "--csv"
    )
    assert code == 0, err
    # THEN nothing raw reaches the terminal, and no cell starts a formula
    assert unsafe_in(out) == []
    rows = _csv(out)
    texts = [r["text"] for r in rows]
    for formula in FORMULAS:
        assert "'" + formula in texts
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), row
    # AND the hostile body is one cell, its controls shown visibly
    assert any("␛]52;c;UFdORUQ=␇" in t for t in texts)
    # AND the columns are the JSON's, times ISO-8601 UTC
    code, out, err = cli_world.run(
        "messages", "list", cli_world.open_group, "--limit", "500", "--json"
    )
    first = json.loads(out)[0]["message"]
    assert list(rows[0]) == list(first)
    assert rows[0]["at"] == first["at"] and rows[0]["at"].endswith("Z")


def test_members_export_and_audit_csv_have_the_json_fields(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run("members", "export", cli_world.open_group, "--csv")
    assert code == 0, err
    assert unsafe_in(out) == []
    exported = _csv(out)
    code, out, err = cli_world.run("members", "list", cli_world.open_group, "--json")
    listed = json.loads(out)
    assert [r["wa_id"] for r in exported] == [m["wa_id"] for m in listed]
    assert list(exported[0]) == list(listed[0])
    code, out, err = cli_world.run("audit", "--csv")
    assert code == 0, err
    assert unsafe_in(out) == []
    entries = _csv(out)
    code, out, err = cli_world.run("audit", "--json")
    audited = json.loads(out)
    assert [int(e["id"]) for e in entries] == [a["id"] for a in audited]
    assert list(entries[0]) == list(audited[0])
    assert json.loads(entries[0]["targets"].removeprefix("'")) == audited[0]["targets"]


def test_templates_list_names_the_approved_templates(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run("templates", "list", "--json")
    assert code == 0, err
    names = {t["name"] for t in json.loads(out)}
    assert "weekly_offers" in names
    code, out, err = cli_world.run("templates", "list")
    assert code == 0 and "weekly_offers" in out


def test_messages_list_of_an_unknown_group_is_a_usage_error(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run("messages", "list", "nope")
    assert code == 2 and "no group" in err


def test_csv_cells(tmp_path: Path) -> None:
    from groups_tui.cli_output import csv_cell

    assert [csv_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "a=b", None, True, -3, [1])] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "a=b",
        "",
        "true",
        "-3",
        "[1]",
    ]
