"""The scriptable CLI over real HTTP against a standalone sandbox process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from groups_tui.cli import main
from tests.helpers.sandbox_process import sandbox_process

TOKEN = "cli-test-token"
SECRET = "cli-test-secret"
PNID = "106540352242922"
WABA = "102290129340398"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with sandbox_process(
        "--demo",
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
def cli_env(sandbox_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "WHATSAPP_API_BASE_URL": sandbox_url,
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PNID,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA,
        "GROUPS_TUI_DB": str(tmp_path / "cli.db"),
        "GROUPS_TUI_CONFIG": str(tmp_path / "none.toml"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_groups_list_json_follows_paging_and_syncs(cli_env: dict[str, str]) -> None:
    # GIVEN a sandbox with the demo's 50 groups WHEN listing with --json
    code, out, err = run(cli_env, "groups", "list", "--json")
    # THEN every group came back through the API, with members counted
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 50
    assert all(0 <= r["participant_count"] <= 8 for r in rows)
    assert any(r["participant_count"] > 0 for r in rows)


def test_show_members_and_invite_link(cli_env: dict[str, str]) -> None:
    run(cli_env, "groups", "list")
    code, out, _ = run(cli_env, "groups", "list", "--no-sync", "--json")
    group = next(r for r in json.loads(out) if r["participant_count"] >= 2)
    code, out, err = run(cli_env, "members", "list", group["group_id"], "--json")
    assert code == 0, err
    assert len(json.loads(out)) == group["participant_count"]
    code, out, err = run(cli_env, "invite-link", group["group_id"])
    assert code == 0, err
    assert out.strip().startswith("https://chat.whatsapp.com/")


def test_cost_preview_prices_members_from_the_rate_card(cli_env: dict[str, str]) -> None:
    run(cli_env, "groups", "list")
    _, out, _ = run(cli_env, "groups", "list", "--no-sync", "--json")
    group = next(r for r in json.loads(out) if r["participant_count"] >= 2)
    code, out, err = run(
        cli_env, "cost", group["group_id"], "--template", "weekly_offers", "--json"
    )
    assert code == 0, err
    preview = json.loads(out)
    assert len(preview["lines"]) == group["participant_count"]
    known = [ln for ln in preview["lines"] if ln["amount"] is not None]
    assert float(preview["total"]) == pytest.approx(sum(float(ln["amount"]) for ln in known))


def test_authentication_template_refused_with_usage_exit(cli_env: dict[str, str]) -> None:
    run(cli_env, "groups", "list")
    _, out, _ = run(cli_env, "groups", "list", "--no-sync", "--json")
    group = next(r for r in json.loads(out) if r["participant_count"] >= 1)
    code, _, err = run(cli_env, "cost", group["group_id"], "--template", "login_code")
    assert code == 2
    assert "Authentication templates cannot be sent" in err


def test_create_reports_pending_and_long_subject_is_a_usage_error(
    cli_env: dict[str, str],
) -> None:
    code, out, err = run(cli_env, "groups", "create", "--subject", "Made by CLI", "--json")
    assert code == 0, err
    op = json.loads(out)
    assert op["kind"] == "create" and op["state"] == "pending" and op["request_id"]
    code, _, err = run(cli_env, "groups", "create", "--subject", "x" * 129)
    assert code == 2
    assert "128" in err and "Traceback" not in err


def test_bad_token_is_an_api_error_on_one_line(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "WHATSAPP_ACCESS_TOKEN": "wrong-token"}
    code, _, err = run(env, "groups", "list")
    assert code == 1
    assert "(#190)" in err
    assert len(err.strip().splitlines()) == 1
    assert "wrong-token" not in err


def test_delete_requires_yes(cli_env: dict[str, str]) -> None:
    code, _, err = run(cli_env, "groups", "delete", "some-group")
    assert code == 2
    assert "--yes" in err


def test_config_check_never_prints_secrets(tmp_path: Path) -> None:
    env = {
        "WHATSAPP_ACCESS_TOKEN": "super-secret-token-value",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "GROUPS_TUI_CONFIG": str(tmp_path / "none.toml"),
    }
    code, out, _ = run(env, "config", "check")
    assert code == 0
    assert "super-secret-token-value" not in out
    assert "mode: LIVE" in out
    code, out, _ = run(env, "config", "check", "--json")
    assert json.loads(out)["settings"]["WHATSAPP_ACCESS_TOKEN"] == "set"


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "groups_tui", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=True,
    ).stdout
    assert "groups-tui" in out and "listen" in out and "sandbox" in out


def test_audit_lists_operator_actions(cli_env: dict[str, str]) -> None:
    # GIVEN an operator created a group and reset an invite link
    run(cli_env, "groups", "create", "--subject", "Audited group")
    run(cli_env, "groups", "list")
    _, out, _ = run(cli_env, "groups", "list", "--no-sync", "--json")
    group_id = json.loads(out)[0]["group_id"]
    run(cli_env, "invite-link", group_id, "--reset")
    # WHEN the audit log is read
    code, out, err = run(cli_env, "audit", "--json")
    # THEN both actions are there, newest first, with who did them and the API's answer
    assert code == 0, err
    entries = json.loads(out)
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["invite_link.reset", "group.create"]
    assert entries[0]["group_id"] == group_id
    assert str(entries[0]["api_result"]).startswith("https://chat.whatsapp.com/")
    assert all(e["os_user"] for e in entries)


def test_create_takes_either_a_subject_or_a_csv(cli_env: dict[str, str], tmp_path: Path) -> None:
    csv_file = tmp_path / "groups.csv"
    csv_file.write_text("subject,description,join_approval,tag,invite\nA,,no,,\n")
    code, _, err = run(cli_env, "groups", "create", "--subject", "X", "--from-csv", str(csv_file))
    assert code == 2 and "not both" in err
    code, _, err = run(cli_env, "groups", "create")
    assert code == 2 and "--subject" in err


def test_the_only_number_is_the_default_and_can_be_named(cli_env: dict[str, str]) -> None:
    # GIVEN the one number of WHATSAPP_PHONE_NUMBER_ID (labelled "default")
    code, out, err = run(cli_env, "groups", "list", "--json")
    assert code == 0, err
    every = json.loads(out)
    assert {r["number"] for r in every} == {"default"}
    assert {r["phone_number_id"] for r in every} == {PNID}
    # WHEN it is named by label or id THEN the same groups are listed
    for name in ("default", "DEFAULT", PNID):
        code, out, err = run(cli_env, "groups", "list", "--no-sync", "--json", "--number", name)
        assert code == 0, err
        assert len(json.loads(out)) == len(every)
    # AND another name is a usage error naming the one choice
    code, _, err = run(cli_env, "groups", "list", "--number", "US")
    assert code == 2
    assert f"default ({PNID})" in err
