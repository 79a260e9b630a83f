"""No verb writes a stranger's control bytes to the operator's terminal.

The real CLI runs against a sandbox process whose webhooks a listener process stores in a
real SQLite file. Subjects, member names, message bodies and (through a gateway) the Cloud
API's error texts hold ESC sequences, BEL, C1 controls, DEL and bidi overrides. Plain
output shows them visibly, as the TUI does; ``--json`` writes them as ``\\uXXXX`` and
reads back to the exact value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from groups_tui.domain.text import visible
from tests.helpers.gateway import Answer, gateway

from .conftest import APPROVAL_SUBJECT, HOSTILE_TEXT, ISSUE_SUBJECT, CliWorld, unsafe_in

pytestmark = pytest.mark.xdist_group("cli-world")

OPEN = "{open}"
APPROVAL = "{approval}"

# (id, argv, exit codes the verb may end with against this world)
VERBS: list[tuple[str, list[str], set[int]]] = [
    ("config-check", ["config", "check"], {0}),
    ("groups-create", ["groups", "create", "--subject", ISSUE_SUBJECT], {0}),
    ("groups-list", ["groups", "list", "--no-sync"], {0}),
    ("groups-list-sync", ["groups", "list"], {0}),
    ("groups-show", ["groups", "show", OPEN], {0}),
    ("groups-show-approval", ["groups", "show", APPROVAL], {0}),
    ("members-list", ["members", "list", OPEN], {0}),
    ("requests-list", ["requests", "list", APPROVAL], {0}),
    ("requests-reject-unknown", ["requests", "reject", APPROVAL, "bm9wZQ"], {1}),
    ("invite-link", ["invite-link", OPEN], {0}),
    ("cost", ["cost", OPEN], {0}),
    ("send-text", ["send", "text", OPEN, HOSTILE_TEXT], {0}),
    ("audit", ["audit"], {0}),
    ("events-list", ["events", "list", "--limit", "1000"], {0}),
    ("events-show-first", ["events", "show", "1"], {0}),
    ("events-stats", ["events", "stats"], {0}),
    ("events-list-failed", ["events", "list", "--failed"], {0}),
    ("events-replay-failed", ["events", "replay", "--failed"], {0}),
    ("events-tail", ["events", "tail", "--from", "0", "--no-follow"], {0}),
    ("prune-dry-run", ["groups", "prune", "--subject", "Hi|Req", "--no-sync"], {0}),
    ("announce-unconfirmed", ["announce", "weekly_offers", "--subject", "Hi", "--no-sync"], {2}),
    ("automations-status", ["automations", "status"], {0}),
    ("automations-runs", ["automations", "runs"], {0}),
]


def _argv(world: CliWorld, argv: list[str]) -> list[str]:
    names = {OPEN: world.open_group, APPROVAL: world.approval_group}
    return [names.get(a, a) for a in argv]


def _assert_terminal_safe(code: int, out: str, err: str, codes: set[int]) -> None:
    assert code in codes, (code, out, err)
    assert "Traceback" not in err
    assert unsafe_in(out) == [], out
    assert unsafe_in(err) == [], err


def _json_values(out: str, lines: bool) -> list[Any]:
    if lines:
        return [json.loads(line) for line in out.splitlines() if line]
    return [json.loads(out)]


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value (keys too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize(("argv", "codes"), [v[1:] for v in VERBS], ids=[v[0] for v in VERBS])
def test_plain_output_shows_untrusted_text_visibly(
    cli_world: CliWorld, argv: list[str], codes: set[int]
) -> None:
    # WHEN a verb prints text that strangers wrote
    code, out, err = cli_world.run(*_argv(cli_world, argv))
    # THEN none of their control, C1 or bidi characters reaches the terminal raw
    _assert_terminal_safe(code, out, err, codes)


@pytest.mark.parametrize(
    ("argv", "codes"),
    [v[1:] for v in VERBS if v[0] != "announce-unconfirmed"],
    ids=[v[0] for v in VERBS if v[0] != "announce-unconfirmed"],
)
def test_json_output_escapes_them_and_reads_back(
    cli_world: CliWorld, argv: list[str], codes: set[int]
) -> None:
    code, out, err = cli_world.run(*_argv(cli_world, [*argv, "--json"]))
    _assert_terminal_safe(code, out, err, codes)
    values = _json_values(out, lines=argv[:2] == ["events", "tail"])
    assert values


def test_the_reported_subject_is_shown_visibly_and_round_trips(cli_world: CliWorld) -> None:
    # GIVEN the group whose subject sets the clipboard and the window title
    code, out, err = cli_world.run("groups", "list", "--no-sync")
    assert code == 0, err
    # THEN plain output shows it as the TUI does: every control a visible picture
    assert visible(ISSUE_SUBJECT) in out
    assert "Hi␛]52;c;UFdORUQ=␇␛]2;PWNED␇" in out
    # AND the JSON holds the exact subject once parsed, with no raw escape in the text
    code, out, err = cli_world.run("groups", "list", "--no-sync", "--json")
    assert "\\u001b]52;c;UFdORUQ=\\u0007" in out
    subjects = {r["subject"] for r in json.loads(out)}
    assert {ISSUE_SUBJECT, APPROVAL_SUBJECT} <= subjects
    code, out, err = cli_world.run("groups", "show", cli_world.open_group)
    assert code == 0, err
    assert out.startswith(visible(ISSUE_SUBJECT))


def test_messages_names_and_bidi_round_trip_through_json(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run("events", "tail", "--from", "0", "--no-follow", "--json")
    assert code == 0, err
    assert unsafe_in(out) == []
    strings = {s for line in out.splitlines() for s in _strings(json.loads(line))}
    assert HOSTILE_TEXT in strings
    assert cli_world.hostile_people[0]["name"] in strings  # the writer's profile name
    # bidi and C1 characters are escaped, not written raw
    assert "\\u202e" in out and "\\u009b" in out and "\\u007f" in out


def test_events_show_of_every_delivery_is_safe(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run("events", "list", "--limit", "1000", "--json")
    assert code == 0, err
    for item in json.loads(out):
        for extra in ([], ["--json"]):
            code, out, err = cli_world.run("events", "show", str(item["id"]), *extra)
            _assert_terminal_safe(code, out, err, {0})


def test_create_csv_reasons_are_safe(cli_world: CliWorld, tmp_path: Path) -> None:
    csv_file = tmp_path / "groups.csv"
    subject = "x" * 130 + ISSUE_SUBJECT
    csv_file.write_text(
        f"subject,description,join_approval,tag,invite\n{subject},,no,,\n", encoding="utf-8"
    )
    for extra in ([], ["--json"]):
        code, out, err = cli_world.run(
            "groups", "create-csv", str(csv_file), "--wait", "0", "--job", f"j{len(extra)}", *extra
        )
        _assert_terminal_safe(code, out, err, {1, 2})


HOSTILE_ERROR = {
    "error": {
        "message": f"(#100) {ISSUE_SUBJECT} \u202eevil\u202c \x9b31m",
        "type": "OAuthException",
        "code": 100,
        "error_data": {"details": "\x1b[2J\x1b]2;PWNED\x07 details"},
        "fbtrace_id": "A\x1b]52;c;eA==\x07",
    }
}


@pytest.mark.parametrize(
    ("argv", "override", "codes"),
    [
        (["groups", "show", OPEN], ("GET", "{open}"), {1}),
        (["members", "list", OPEN], ("GET", "{open}"), {1}),
        (["groups", "list"], ("GET", "/groups"), {1}),
        (["invite-link", OPEN, "--reset"], ("POST", "/invite_link"), {1}),
        (["send", "text", OPEN, "hello"], ("POST", "/messages"), {1}),
        (["requests", "approve", APPROVAL, "bm9wZQ"], ("POST", "/join_requests"), {1}),
        (["groups", "delete", OPEN, "--yes"], ("DELETE", "{open}"), {1}),
    ],
    ids=["show", "members", "list", "invite-reset", "send", "approve", "delete"],
)
def test_api_error_texts_are_shown_visibly_on_stderr(
    cli_world: CliWorld, argv: list[str], override: tuple[str, str], codes: set[int]
) -> None:
    # GIVEN a server whose error message and details hold escape sequences
    with gateway(cli_world.sandbox_url) as gw:
        method, suffix = override
        gw.overrides[(method, _argv(cli_world, [suffix])[0])] = Answer(400, HOSTILE_ERROR)
        for extra in ([], ["--json"]):
            # WHEN a verb fails with it
            code, out, err = cli_world.run(
                *_argv(cli_world, argv), *extra, env={"WHATSAPP_API_BASE_URL": gw.url}
            )
            # THEN the reason is on stderr, visible, and nothing raw reached the terminal
            _assert_terminal_safe(code, out, err, codes)
            assert "(#100)" in err
        assert gw.hits


def test_retry_warnings_logged_by_a_real_process_are_shown_visibly(cli_world: CliWorld) -> None:
    # GIVEN a server that fails a read with a retryable error holding escape sequences
    hostile = {"error": {**HOSTILE_ERROR["error"], "code": 2}}
    with gateway(cli_world.sandbox_url) as gw:
        gw.overrides[("GET", cli_world.open_group)] = Answer(
            503, hostile, headers={"Retry-After": "0"}
        )
        # WHEN the command runs as an operator runs it (its own process, its own stderr)
        done = subprocess.run(
            [sys.executable, "-m", "groups_tui", "groups", "show", cli_world.open_group],
            capture_output=True,
            text=True,
            env={**os.environ, **cli_world.env, "WHATSAPP_API_BASE_URL": gw.url},
            timeout=60,
        )
    # THEN the retry warnings and the final error are on stderr, visible
    assert done.returncode == 1, done.stderr
    assert "retrying" in done.stderr and "PWNED" in done.stderr
    assert unsafe_in(done.stderr) == [], done.stderr
    assert unsafe_in(done.stdout) == []
