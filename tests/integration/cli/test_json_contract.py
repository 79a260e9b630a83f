"""The JSON contract (docs/json.md), checked on every command that prints a result.

Every verb runs with ``--json`` against the CLI world (a sandbox process delivering signed
webhooks to a listener process, one SQLite file). Each output must follow the contract:
times are ISO-8601 UTC strings under ``at``/``*_at`` names and no epoch number appears
anywhere else; no internal field (the inbox's ``haystack``, which holds every member's
number); a group has one shape in ``groups list`` and ``groups show``; event kinds are
spelled one way in the raw log and in the forwarding feed. A walk over the command tree
checks that every verb takes ``--json`` and is run here (or says why not).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest

from groups_tui.cli import COMMANDS, main

from .conftest import CliWorld
from .conftest import _create as create_group

pytestmark = pytest.mark.xdist_group("cli-world")

OPEN = "{open}"
APPROVAL = "{approval}"
CONFIG = "{config}"
TMP = "{tmp}"

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
EPOCH_RANGE = (946_684_800, 4_102_444_800)  # 2000..2100: a number here is a time
KIND = re.compile(r"^(unknown|[a-z_]+\.[a-z_]+)$")

AUTOMATIONS_CONFIG = (
    '[[automations.invite_rules]]\nname = "join"\nkeywords = ["join"]\ngroup_id = "G"\n\n'
    '[[automations.forward]]\nname = "crm"\nurl = "http://127.0.0.1:9/none"\n'
)

# (verb path, argv after it, exit codes it may end with, JSON lines instead of one value)
VERBS: list[tuple[str, list[str], set[int], bool]] = [
    ("config path", [], {0}, False),
    ("config check", [], {0}, False),
    ("groups list", ["--no-sync"], {0}, False),
    ("groups show", [OPEN], {0}, False),
    ("groups create", ["--subject", "Contract create"], {0}, False),
    ("groups delete", ["{doomed}", "--yes"], {0}, False),
    ("groups create-csv", [f"{TMP}/groups.csv", "--wait", "0", "--job", "contract"], {0, 1}, False),
    ("groups prune", ["--subject", "^Hi", "--no-sync"], {0}, False),
    ("invite-link", [OPEN], {0}, False),
    ("members list", [OPEN], {0}, False),
    ("members remove", [OPEN, "15550009999"], {0, 1}, False),
    ("requests list", [APPROVAL], {0}, False),
    ("requests approve", [APPROVAL, "bm9wZQ"], {1}, False),
    ("requests reject", [APPROVAL, "bm9wZQ"], {1}, False),
    ("send text", [OPEN, "contract hello"], {0}, False),
    ("send template", [OPEN, "weekly_offers", "10%"], {0}, False),
    ("whoami", [], {0}, False),
    ("cost", [OPEN], {0}, False),
    ("cost", [OPEN, "--explain", "--template", "weekly_offers"], {0}, False),
    ("audit", [], {0}, False),
    ("announce", ["weekly_offers", "--param", "10%", "--subject", "^Hi", "--no-sync"], {2}, False),
    ("automations status", ["--config", CONFIG], {0}, False),
    ("automations pause", ["crm", "--config", CONFIG], {0}, False),
    ("automations resume", ["crm", "--config", CONFIG], {0}, False),
    ("automations runs", [], {0}, False),
    ("automations run", ["--once", "--config", CONFIG], {0}, False),
    ("events list", ["--limit", "1000"], {0}, False),
    ("events list", ["--failed"], {0}, False),
    ("events show", ["1"], {0}, False),
    ("events stats", [], {0}, False),
    ("events replay", ["--db", f"{TMP}/copy.db"], {0}, False),
    ("events tail", ["--from", "0", "--no-follow"], {0}, True),
    ("report spend", ["--by", "group"], {0}, False),
    ("report spend", ["--by", "day"], {0}, False),
    ("members export", [OPEN], {0}, False),
    ("messages list", [OPEN], {0}, False),
    ("templates list", [], {0}, False),
    ("db check", [], {0}, False),
    ("db backup", [f"{TMP}/copy.db", "--force"], {0}, False),
]

EXEMPT = {
    "listen": "a server; its log lines are JSON with --log-format json",
    "sandbox": "a server",
    "web": "a server",
    "completion": "prints a shell script",
    "serve": "a server; its log lines are JSON with --log-format json",
}
"""Verbs without --json, and why."""


def _leaves(command: click.Command, path: str, ctx: click.Context) -> list[tuple[str, Any]]:
    if isinstance(command, click.Group):
        found: list[tuple[str, Any]] = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            found += _leaves(sub, f"{path} {name}".strip(), ctx)
        return found
    return [(path, command)]


def test_every_verb_takes_json_and_is_checked_here() -> None:
    ctx = click.Context(main)
    leaves = dict(_leaves(main, "", ctx))
    assert set(COMMANDS) <= {p.split()[0] for p in leaves}
    checked = {v[0] for v in VERBS}
    for path, command in leaves.items():
        if path in EXEMPT:
            continue
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert "--json" in options, f"`{path}` has no --json"
        assert path in checked, f"`{path}` is not run by the contract test"


def test_docs_show_one_example_per_verb() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "json.md").read_text(encoding="utf-8")
    missing = [path for path, *_ in VERBS if f"### `{path}`" not in doc]
    assert missing == []


def _strings_and_numbers(value: Any, key: str = "", inside_body: bool = False) -> list[str]:
    """Every breach of the contract in a JSON value, as readable lines."""
    problems: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "haystack":
                problems.append("internal field haystack")
            body = inside_body or k in ("body", "api_result", "payload")
            problems += _strings_and_numbers(v, k, body)
        return problems
    if isinstance(value, list):
        for v in value:
            problems += _strings_and_numbers(v, key, inside_body)
        return problems
    if inside_body:  # what Meta sent or answered, kept as data
        return problems
    is_time = key == "at" or key.endswith("_at")
    if is_time and value is not None and not (isinstance(value, str) and ISO_UTC.match(value)):
        problems.append(f"{key}={value!r} is not ISO-8601 UTC")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if EPOCH_RANGE[0] <= value <= EPOCH_RANGE[1]:
            problems.append(f"{key}={value!r} looks like an epoch time")
    return problems


def _argv(world: CliWorld, tmp: Path, path: str, args: list[str]) -> list[str]:
    names = {OPEN: world.open_group, APPROVAL: world.approval_group, CONFIG: str(tmp / "c.toml")}
    return [*path.split(), *(names.get(a, a).replace(TMP, str(tmp)) for a in args), "--json"]


@pytest.fixture(scope="module")
def contract_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("contract")
    (tmp / "c.toml").write_text(AUTOMATIONS_CONFIG)
    (tmp / "c.toml").chmod(0o600)
    (tmp / "groups.csv").write_text("subject,description,join_approval,tag,invite\nCsv one,,no,,\n")
    return tmp


def _run_json(world: CliWorld, tmp: Path, path: str, args: list[str]) -> tuple[int, Any, str]:
    verb = next(v for v in VERBS if v[0] == path)
    argv = _argv(world, tmp, path, args)
    if "{doomed}" in argv:  # delete a group made for it
        argv[argv.index("{doomed}")] = create_group(world, "Contract delete")
    if path == "db backup" or path == "events replay":
        (tmp / "copy.db").unlink(missing_ok=True)
        if path == "events replay":
            assert world.run("db", "backup", str(tmp / "copy.db"))[0] == 0
    code, out, err = world.run(*argv)
    assert code in verb[2], (argv, code, out, err)
    assert out.strip(), (argv, "nothing on stdout", err)
    value = [json.loads(line) for line in out.splitlines() if line] if verb[3] else json.loads(out)
    return code, value, err


@pytest.mark.parametrize(("path", "args"), [v[:2] for v in VERBS], ids=[v[0] for v in VERBS])
def test_each_verb_prints_json_that_follows_the_contract(
    cli_world: CliWorld, contract_tmp: Path, path: str, args: list[str]
) -> None:
    _, value, _ = _run_json(cli_world, contract_tmp, path, args)
    assert _strings_and_numbers(value) == []


def test_a_group_has_one_shape_in_list_and_show(cli_world: CliWorld, contract_tmp: Path) -> None:
    _, rows, _ = _run_json(cli_world, contract_tmp, "groups list", ["--no-sync"])
    _, detail, _ = _run_json(cli_world, contract_tmp, "groups show", [OPEN])
    row = next(r for r in rows if r["group_id"] == cli_world.open_group)
    group = detail["group"]
    assert group["group_id"] == cli_world.open_group
    shared = set(row) & set(group)
    assert {"group_id", "subject", "state", "participant_count", "last_message_preview"} <= shared
    for key in ("group_id", "subject", "state", "suspended", "participant_count"):
        assert row[key] == group[key], key
    assert "id" not in group and "haystack" not in row


def test_event_kinds_are_spelled_one_way_in_both_feeds(
    cli_world: CliWorld, contract_tmp: Path
) -> None:
    _, tail, _ = _run_json(cli_world, contract_tmp, "events tail", ["--from", "0", "--no-follow"])
    _, listed, _ = _run_json(cli_world, contract_tmp, "events list", ["--limit", "1000"])
    feed = {e["kind"] for e in tail}
    raw = {k for item in listed for k in (item["kinds"] or [])}
    shown: set[str] = set()
    for item in listed[:40]:
        code, out, err = cli_world.run("events", "show", str(item["id"]), "--json")
        assert code == 0, err
        record = json.loads(out)
        shown |= {e["event"] for e in record["events"]}
        # one shape for a delivery: show is list's item plus the body and parsed events
        # (applying follows the 200, so a row listed while pending may be applied by now)
        if item["parse_state"] == "pending" and record["parse_state"] != "pending":
            assert item["applied_at"] is None and record["applied_at"] is not None
            item = item | {k: record[k] for k in ("parse_state", "applied_at", "error")}
        assert {k: v for k, v in record.items() if k not in ("body", "events")} == item
    assert all(KIND.match(k) for k in feed | raw | shown), feed | raw | shown
    assert {"message.received", "participant.joined", "group.created"} <= feed & raw
    assert shown <= raw
