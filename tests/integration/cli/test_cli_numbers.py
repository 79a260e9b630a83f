"""``--number``: the CLI on an account with three business numbers, over real HTTP.

A sandbox process simulating three numbers (US, BR, DE) posts signed webhooks to a
listener process; both and the CLI read a config file listing the numbers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from groups_tui.cli import main
from groups_tui.sandbox.numbers import sim_numbers
from tests.helpers.sandbox_process import listener_process, sandbox_process

from .conftest import wait_for

TOKEN = "cli-numbers-token"
SECRET = "cli-numbers-secret"
PNID = "106540352242922"
WABA = "102290129340398"
NUMBERS = sim_numbers(3, phone_number_id=PNID, business_account_id=WABA)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("cli-numbers")
    config = tmp / "config.toml"
    config.write_text(
        "".join(
            f'[[numbers]]\nphone_number_id = "{n.phone_number_id}"\nlabel = "{n.label}"\n'
            f'business_account_id = "{n.business_account_id}"\n'
            for n in NUMBERS
        )
    )
    os.chmod(config, 0o600)
    base = {"WHATSAPP_APP_SECRET": SECRET, "GROUPS_TUI_CONFIG": str(config)}
    db = tmp / "live.db"
    with listener_process(db, base) as webhook_url:
        with sandbox_process(
            "--no-simulate",
            "--numbers",
            "3",
            "--token",
            TOKEN,
            "--app-secret",
            SECRET,
            "--webhook-url",
            webhook_url,
            "--phone-number-id",
            PNID,
            "--business-account-id",
            WABA,
        ) as sandbox_url:
            yield {
                **base,
                "WHATSAPP_API_BASE_URL": sandbox_url,
                "WHATSAPP_ACCESS_TOKEN": TOKEN,
                "GROUPS_TUI_DB": str(db),
            }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def groups(env: dict[str, str], *flags: str) -> list[dict[str, Any]]:
    code, out, err = run(env, "groups", "list", "--no-sync", "--json", *flags)
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def test_a_verb_that_needs_a_number_names_the_choices(env: dict[str, str]) -> None:
    # WHEN a group is created without --number on an account of three numbers
    code, out, err = run(env, "groups", "create", "--subject", "Nowhere")
    # THEN it is a usage error naming every choice, and nothing was created
    assert code == 2
    for number in NUMBERS:
        assert f"{number.label} ({number.phone_number_id})" in err
    assert out == ""
    # AND an unknown number is one too
    code, _, err = run(env, "groups", "create", "--subject", "Nowhere", "--number", "FR")
    assert code == 2 and "no number 'FR'" in err and "US (" in err


def test_groups_are_created_on_the_named_number_and_listed_with_it(env: dict[str, str]) -> None:
    br, de = NUMBERS[1], NUMBERS[2]
    # WHEN groups are created by label (any case) and by id
    code, out, err = run(env, "groups", "create", "--subject", "Clube BR", "--number", "br")
    assert code == 0, err
    assert "pending on BR" in out
    code, _, err = run(
        env, "groups", "create", "--subject", "Verein DE", "--number", de.phone_number_id
    )
    assert code == 0, err
    run(env, "groups", "list")  # syncs every number once the webhooks are in
    wait_for(
        "both groups",
        lambda: (
            {r["subject"] for r in groups(env) if r["state"] == "active"}
            >= {"Clube BR", "Verein DE"}
        ),
    )
    # THEN `groups list --json` carries each group's number, id and label
    rows = {r["subject"]: r for r in groups(env)}
    assert (rows["Clube BR"]["phone_number_id"], rows["Clube BR"]["number"]) == (
        br.phone_number_id,
        "BR",
    )
    assert rows["Verein DE"]["number"] == "DE"
    # AND --number lists one number's groups only
    assert [r["subject"] for r in groups(env, "--number", "DE")] == ["Verein DE"]
    # AND a group of another number is refused with the number it belongs to
    group_id = rows["Clube BR"]["group_id"]
    code, _, err = run(env, "invite-link", group_id, "--number", "DE")
    assert code == 2 and "belongs to number BR" in err
    code, out, err = run(env, "invite-link", group_id, "--number", "BR")
    assert code == 0, err
    assert out.startswith("https://chat.whatsapp.com/")
    # AND the sandbox holds each group at its own number
    state = json.loads(run(env, "groups", "show", group_id, "--json")[1])
    assert state["group"]["phone_number_id"] == br.phone_number_id


def test_config_check_lists_every_number_and_whether_it_answers(env: dict[str, str]) -> None:
    # WHEN the configuration is checked
    code, out, err = run(env, "config", "check")
    # THEN every number is listed, LIVE, answering, and no token is printed
    assert code == 0, err
    for number in NUMBERS:
        line = next(ln for ln in out.splitlines() if number.phone_number_id in ln)
        assert number.label in line and "LIVE" in line and "answers" in line
    assert TOKEN not in out
    # AND a number whose token the API refuses says so
    code, out, err = run(env, "config", "check", "--json")
    listed = json.loads(out)["numbers"]
    assert [n["answers"] for n in listed] == [True, True, True]
    code, out, _ = run({**env, "WHATSAPP_ACCESS_TOKEN": "wrong"}, "config", "check", "--json")
    refused = json.loads(out)["numbers"]
    assert [n["answers"] for n in refused] == [False, False, False]
    assert "190" in refused[0]["error"] and "wrong" not in out


def _created(env: dict[str, str], subject: str, label: str) -> str:
    code, _, err = run(env, "groups", "create", "--subject", subject, "--number", label)
    assert code == 0, err
    run(env, "groups", "list")  # syncs every number once the webhook is in
    wait_for(
        subject,
        lambda: any(r["subject"] == subject and r["state"] == "active" for r in groups(env)),
    )
    return next(str(r["group_id"]) for r in groups(env) if r["subject"] == subject)


def test_the_reading_verbs_take_the_number(env: dict[str, str]) -> None:
    us, br, de = NUMBERS
    # GIVEN a group on BR and one on DE (each created, and announced by webhook, through
    # its own number)
    br_group = _created(env, "Leitura BR", "BR")
    de_group = _created(env, "Lesen DE", "DE")

    # WHEN the raw log is listed per number THEN each lists only the deliveries its
    # number's webhooks named, and together they are the whole log
    def raw(*flags: str) -> list[dict[str, Any]]:
        code, out, err = run(env, "events", "list", "--limit", "1000", "--json", *flags)
        assert code == 0, err
        rows: list[dict[str, Any]] = json.loads(out)
        return rows

    everything = raw()
    per_number = {n.label: raw("--number", n.label) for n in NUMBERS}
    assert {r["phone_number_id"] for r in per_number["BR"]} == {br.phone_number_id}
    assert {r["phone_number_id"] for r in per_number["DE"]} == {de.phone_number_id}
    assert sorted(r["id"] for rows in per_number.values() for r in rows) == sorted(
        r["id"] for r in everything
    )
    assert raw("--number", de.phone_number_id) == per_number["DE"]
    code, _, err = run(env, "events", "list", "--number", "FR")
    assert code == 2 and "no number 'FR'" in err and "BR (" in err

    # AND the change feed per number holds only that number's groups
    code, out, err = run(env, "events", "tail", "--from", "0", "--no-follow", "--number", "BR")
    assert code == 0, err
    tailed = {line.split("\t")[3] for line in out.splitlines()}
    assert br_group in tailed and de_group not in tailed
    code, _, err = run(env, "events", "tail", "--from", "0", "--no-follow", "--number", "FR")
    assert code == 2 and "no number 'FR'" in err

    # AND the audit log per number (read-only, from the numbers the database serves)
    code, out, err = run(env, "audit", "--number", "DE", "--json")
    assert code == 0, err
    audited = json.loads(out)
    assert audited and {a["phone_number_id"] for a in audited} == {de.phone_number_id}
    code, out, _ = run(env, "audit")
    assert "\tDE\t" in out and "\tBR\t" in out  # each line names its number

    # AND the messages, templates, export and spend report take it (the group's own number
    # checked, one WABA's templates, one number's spend)
    code, _, err = run(env, "messages", "list", br_group, "--number", "DE")
    assert code == 2 and "belongs to number BR" in err
    code, out, err = run(env, "messages", "list", br_group, "--number", "BR", "--json")
    assert code == 0, err
    code, _, err = run(env, "members", "export", de_group, "--no-sync", "--number", "US")
    assert code == 2 and "belongs to number DE" in err
    code, out, err = run(env, "templates", "list", "--number", "DE", "--json")
    assert code == 0, err
    code, out, err = run(env, "report", "spend", "--by", "number", "--number", "BR", "--json")
    assert code == 0, err
    assert {r["key"] for r in json.loads(out)["rows"]} <= {br.phone_number_id}
    code, _, err = run(env, "report", "spend", "--number", "FR")
    assert code == 2 and "no number 'FR'" in err

    # AND config check of one number lists that one only; an unknown one is a usage error
    code, out, err = run(env, "config", "check", "--number", "de", "--json")
    assert code == 0, err
    assert [n["label"] for n in json.loads(out)["numbers"]] == ["DE"]
    code, _, err = run(env, "config", "check", "--number", "FR")
    assert code == 2 and "no number 'FR'" in err
    assert us.label in err


def test_an_unknown_number_is_a_usage_error_for_the_automations_too(
    env: dict[str, str],
) -> None:
    # WHEN a bulk verb names a number the account does not have
    code, out, err = run(env, "groups", "prune", "--empty", "--no-sync", "--number", "FR")
    # THEN exit 2, naming the choices, and nothing was done
    assert code == 2, (out, err)
    assert "no number 'FR'" in err and "US (" in err
