"""The automation commands over real HTTP against a standalone sandbox process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from groups_tui.automations.commands import (
    announce_command,
    automations_group,
    create_from_csv_command,
    events_tail_command,
    prune_command,
)
from groups_tui.workers.commands import automations_run_command
from tests.helpers.sandbox_process import sandbox_process

TOKEN = "automations-cli-token"
SECRET = "automations-cli-secret"
PNID = "106540352242922"
WABA = "102290129340398"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with sandbox_process(
        "--groups",
        "12",
        "--speed",
        "100",
        "--no-simulate",
        "--token",
        TOKEN,
        "--app-secret",
        SECRET,
        "--phone-number-id",
        PNID,
        "--business-account-id",
        WABA,
    ) as url:
        yield url


@pytest.fixture
def env(sandbox_url: str, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(
        "[automations.pacing]\ngroup_ops_per_second = 50\nmessages_per_second = 100\n\n"
        '[[automations.invite_rules]]\nname = "join"\nkeywords = ["join"]\n'
        'group_id = "G"\n\n'
        '[[automations.forward]]\nname = "crm"\nurl = "http://127.0.0.1:9/none"\n\n'
        '[[automations.prune_rules]]\nname = "tmp"\nsubject = "^Tmp "\n'
    )
    config.chmod(0o600)
    return {
        "WHATSAPP_API_BASE_URL": sandbox_url,
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PNID,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA,
        "GROUPS_TUI_DB": str(tmp_path / "cli.db"),
        "GROUPS_TUI_CONFIG": str(config),
    }


def run(env: dict[str, str], command: object, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, list(args), env=env)  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def test_create_csv_names_the_bad_row_and_creates_the_rest(
    env: dict[str, str], tmp_path: Path
) -> None:
    # GIVEN a CSV with a malformed row between good ones
    csv = tmp_path / "groups.csv"
    csv.write_text(
        "subject,description,join_approval,tag,invite\n"
        "Tmp A,first,no,tmp,\n"
        "Tmp B,second,perhaps,tmp,\n"
        "Tmp C,third,yes,tmp,+4915112345678\n"
    )
    # WHEN it is created
    code, out, err = run(env, create_from_csv_command, str(csv), "--wait", "5", "--json")
    # THEN the bad row is named, the others exist, and the exit code says "not all"
    assert code == 1, err
    report = json.loads(out)
    assert [c["subject"] for c in report["created"]] == ["Tmp A", "Tmp C"]
    assert report["invalid"][0]["row"] == 3 and "row 3" in report["invalid"][0]["reason"]
    assert report["invites_sent"] == 1
    # WHEN the same file is run again THEN it is refused, naming the finished job
    code, out, err = run(env, create_from_csv_command, str(csv), "--wait", "1")
    assert code == 2 and "already created this file's groups" in err
    # WHEN the bad row is fixed and the edited file is run THEN only that row is created
    csv.write_text(csv.read_text().replace("perhaps", "no"))
    code, out, err = run(env, create_from_csv_command, str(csv), "--wait", "5")
    assert code == 0, out + err
    assert "1 created, 2 already existed, 0 failed, 0 invalid" in out
    assert "invites: 0 sent" in out

    # AND events tail prints the applied events as JSON lines
    code, out, err = run(
        env,
        events_tail_command,
        "--db",
        env["GROUPS_TUI_DB"],
        "--from",
        "0",
        "--no-follow",
        "--json",
        "--kind",
        "group.*",
    )
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert {"Tmp A", "Tmp B", "Tmp C"} <= {e["data"].get("subject") for e in events}
    assert all(set(e) == {"id", "kind", "group_id", "at", "data"} for e in events)

    # AND the configured prune rule lists them in a dry run, then deletes them
    code, out, err = run(env, prune_command, "--rule", "tmp")
    assert code == 0, err
    assert "3 group(s) would be deleted" in out
    code, out, err = run(env, prune_command, "--rule", "tmp", "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["deleted"] == 3


def test_bad_inputs_give_clear_messages(env: dict[str, str], tmp_path: Path) -> None:
    headerless = tmp_path / "bad.csv"
    headerless.write_text("name,when\nx,y\n")
    code, _, err = run(env, create_from_csv_command, str(headerless))
    assert code == 2 and "no 'subject' column" in err

    code, _, err = run(env, prune_command)
    assert code == 2 and "at least one criterion" in err

    code, _, err = run(env, prune_command, "--rule", "nope")
    assert code == 2 and "no prune rule named 'nope'" in err

    code, _, err = run(env, announce_command, "no_such_template", "--yes")
    assert code == 2 and "no_such_template" in err

    code, _, err = run(env, automations_group, "pause", "missing")
    assert code == 2 and "no rule or target named 'missing'" in err


def test_announce_previews_then_needs_confirmation(env: dict[str, str]) -> None:
    # WHEN announcing without --yes from a script THEN the preview is shown, nothing sent
    code, out, err = run(
        env, announce_command, "weekly_offers", "--language", "en_US", "--param", "10%"
    )
    assert code == 2 and "pass --yes" in err
    assert "total:" in out and "recipient(s)" in out
    # WHEN confirmed THEN every selected group gets it
    code, out, err = run(
        env,
        announce_command,
        "weekly_offers",
        "--language",
        "en_US",
        "--param",
        "10%",
        "--yes",
        "--json",
    )
    assert code in (0, 1), err
    report = json.loads(out)["report"]
    assert len(report["sent"]) >= 10


def test_automations_status_pause_and_runs(env: dict[str, str]) -> None:
    code, out, err = run(env, automations_group, "pause", "crm")
    assert code == 0 and "crm: paused" in out, err
    code, out, err = run(env, automations_group, "status", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert [t["name"] for t in status["targets"]] == ["crm"] and status["targets"][0]["paused"]
    assert [r["name"] for r in status["rules"]] == ["join"] and not status["rules"][0]["paused"]
    code, out, err = run(env, automations_group, "resume", "crm")
    assert code == 0 and "crm: resumed" in out
    code, out, err = run(env, automations_group, "runs")
    assert code == 0 and "no runs recorded" in out
    code, out, err = run(env, automations_run_command, "--once")
    assert code == 0 and "0 change(s)" in out, err


def test_the_cli_runs_the_automations_under_their_group() -> None:
    # The runner's host lives with the workers; the CLI names it `automations run`.
    from groups_tui.cli import main

    ctx = click.Context(main)
    group = main.get_command(ctx, "automations")
    assert isinstance(group, click.Group)
    assert group.get_command(ctx, "run") is automations_run_command
    assert {"status", "pause", "resume", "runs"} <= set(group.list_commands(ctx))
