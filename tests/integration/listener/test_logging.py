"""``groups-tui listen`` logs: one access line per request, levels, JSON lines, NO_COLOR.

The real command in its own process, real HTTP requests; the access lines must carry
method, path, status, bytes and milliseconds, and never a body, a query string or the
verify token.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import httpx
from click.testing import CliRunner

from groups_tui.cli_output import echo
from tests.helpers.signing import signed_headers

SECRET = "test-app-secret"
VERIFY = "verify-token-never-logged"
BODY_MARKER = "body-text-never-logged"


@contextmanager
def _listen(tmp_path: Path, *flags: str) -> Iterator[tuple[str, Path]]:
    err = tmp_path / "stderr.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "GROUPS_TUI"))}
    env.update(
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_VERIFY_TOKEN=VERIFY,
        GROUPS_TUI_CONFIG=str(tmp_path / "absent.toml"),
    )
    with err.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "groups_tui", "listen", "--port", "0"]
            + ["--db", str(tmp_path / "l.db"), *flags],
            stdout=subprocess.PIPE,
            stderr=sink,
            env=env,
            text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("url "), err.read_text()
            yield line.split()[1], err
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _traffic(url: str) -> None:
    handshake = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "4242"}
    assert httpx.get(url, params=handshake).text == "4242"
    unsigned = json.dumps({"object": "whatsapp_business_account", "x": BODY_MARKER})
    assert httpx.post(url, content=unsigned).status_code == 401
    body = json.dumps({"object": "whatsapp_business_account", "entry": [], "x": BODY_MARKER})
    signed = httpx.post(url, content=body.encode(), headers=signed_headers(body.encode(), SECRET))
    assert signed.status_code == 200


def _assert_no_secrets(log: str) -> None:
    assert VERIFY not in log and BODY_MARKER not in log and "hub.challenge" not in log
    assert SECRET not in log


def test_one_access_line_per_request_without_body_or_query(tmp_path: Path) -> None:
    with _listen(tmp_path) as (url, err):
        _traffic(url)
    log = err.read_text()
    lines = re.findall(r"^(GET|POST) (\S+) (\d{3}) (\d+)B (\d+\.\d)ms$", log, re.M)
    assert [(m, p, s) for m, p, s, _b, _ms in lines] == [
        ("GET", "/webhook", "200"),
        ("POST", "/webhook", "401"),
        ("POST", "/webhook", "200"),
    ]
    assert all(int(b) > 0 for _m, _p, _s, b, _ms in lines)
    _assert_no_secrets(log)


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    with _listen(tmp_path, "--log-format", "json") as (url, err):
        _traffic(url)
    records = [json.loads(line) for line in err.read_text().splitlines()]
    assert records and all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    access = [r for r in records if r["logger"] == "groups_tui.listener.access"]
    assert [(r["method"], r["path"], r["status"]) for r in access] == [
        ("GET", "/webhook", 200),
        ("POST", "/webhook", 401),
        ("POST", "/webhook", 200),
    ]
    assert all(isinstance(r["bytes"], int) and isinstance(r["ms"], float) for r in access)
    assert any(r["level"] == "warning" for r in records)  # the refused delivery
    _assert_no_secrets(err.read_text())


def test_log_level_warning_drops_the_access_lines(tmp_path: Path) -> None:
    with _listen(tmp_path, "--log-level", "warning") as (url, err):
        _traffic(url)
    log = err.read_text()
    assert "POST /webhook" not in log and "GET /webhook" not in log
    assert "signature" in log  # the refused delivery is still reported


def test_no_color_turns_styles_off() -> None:
    @click.command()
    def shout() -> None:
        echo("careful", err=True, fg="red", bold=True)

    coloured = CliRunner().invoke(shout, color=True, env={"NO_COLOR": ""})
    assert "\x1b[" in coloured.stderr
    plain = CliRunner().invoke(shout, color=True, env={"NO_COLOR": "1"})
    assert plain.stderr == "careful\n"
