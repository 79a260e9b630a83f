"""A world for the CLI: a sandbox process delivering signed webhooks to a listener process.

Both write to (and the CLI reads) one real SQLite file, as in production. Besides the
demo's groups (some with hostile subjects, names and bodies), the world holds a group
whose subject sets the clipboard and the window title, hostile members who wrote to it,
and an approval group with join requests from people with hostile names.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from groups_tui.cli import main
from groups_tui.domain.text import UNSAFE_CODE_POINTS
from tests.helpers.sandbox_process import listener_process, sandbox_process

TOKEN = "cli-world-token"
SECRET = "cli-world-secret"
PNID = "106540352242922"
WABA = "102290129340398"

ISSUE_SUBJECT = "Hi\x1b]52;c;UFdORUQ=\x07\x1b]2;PWNED\x07"
"""The subject of the report: it sets the clipboard and the window title if printed raw."""

APPROVAL_SUBJECT = "Req \u202eevil\u202c \x9b31m \x7f"
HOSTILE_TEXT = (
    "\x1b]52;c;UFdORUQ=\x07\x1b]2;PWNED\x07\x1b[2J C1\x9b31m DEL\x7f "
    "\u202eevil\u202c \u2066iso\u2069 \u200e\u200f\u061c [bold]x[/] tail"
)


def unsafe_in(text: str) -> list[str]:
    """The unsafe code points present in `text`, as ``U+XXXX``."""
    return sorted({f"U+{ord(c):04X}" for c in text if ord(c) in UNSAFE_CODE_POINTS})


@dataclass
class CliWorld:
    """The running world and what the fixture put into it."""

    env: dict[str, str]
    sandbox_url: str
    open_group: str
    approval_group: str
    hostile_people: list[dict[str, Any]]

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Run the real CLI in-process; return exit code, stdout and stderr."""
        result = CliRunner().invoke(main, list(args), env={**self.env, **(env or {})})
        return result.exit_code, result.stdout, result.stderr

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """Act as the simulated people (``/_sandbox/...``)."""
        r = httpx.post(f"{self.sandbox_url}/_sandbox/{path}", json=body or {}, timeout=10)
        r.raise_for_status()
        return r.json()

    def request_to_join(self, wa_id: str) -> str:
        """File a join request to the approval group; return its id."""
        out = self.control(f"groups/{self.approval_group}/join_request", {"wa_id": wa_id})
        return str(out["join_request_id"])


def wait_for(what: str, check: Callable[[], bool]) -> None:
    """Wait (bounded) until the listener has applied what the sandbox sent."""
    for _ in range(400):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _groups(world: CliWorld) -> list[dict[str, Any]]:
    code, out, err = world.run("groups", "list", "--no-sync", "--json")
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def _create(world: CliWorld, subject: str, *flags: str) -> str:
    code, _, err = world.run("groups", "create", "--subject", subject, *flags)
    assert code == 0, err
    world.control("clock/advance", {"seconds": 5})
    found: list[str] = []

    def created() -> bool:
        found[:] = [
            r["group_id"]
            for r in _groups(world)
            if r["subject"] == subject and r["state"] == "active"
        ]
        return bool(found)

    wait_for(f"group {subject!r}", created)
    return found[0]


@pytest.fixture(scope="package")
def cli_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliWorld]:
    """Start the listener and the sandbox, and fill the world with hostile text."""
    tmp = tmp_path_factory.mktemp("cli-world")
    db = tmp / "live.db"
    config = str(tmp / "absent.toml")
    with listener_process(
        db, {"WHATSAPP_APP_SECRET": SECRET, "GROUPS_TUI_CONFIG": config}
    ) as webhook_url:
        with sandbox_process(
            "--demo",
            "--no-simulate",
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
            env = {
                "WHATSAPP_API_BASE_URL": sandbox_url,
                "WHATSAPP_ACCESS_TOKEN": TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": PNID,
                "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA,
                "WHATSAPP_APP_SECRET": SECRET,
                "GROUPS_TUI_DB": str(db),
                "GROUPS_TUI_CONFIG": config,
            }
            world = CliWorld(env, sandbox_url, "", "", [])
            wait_for("the demo groups", lambda: len(_groups(world)) >= 50)
            world.open_group = _create(world, ISSUE_SUBJECT)
            world.approval_group = _create(world, APPROVAL_SUBJECT, "--join-approval")
            people = httpx.get(f"{sandbox_url}/_sandbox/people?limit=1000", timeout=10).json()
            world.hostile_people = [p for p in people["people"] if unsafe_in(p["name"] or "")]
            assert len(world.hostile_people) >= 3, world.hostile_people
            writer, other = world.hostile_people[:2]
            for person in (writer, other):
                world.control(f"groups/{world.open_group}/join", {"wa_id": person["wa_id"]})
            world.control(
                f"groups/{world.open_group}/message",
                {"wa_id": writer["wa_id"], "text": HOSTILE_TEXT},
            )
            for person in world.hostile_people[2:]:
                world.request_to_join(person["wa_id"])

            def message_applied() -> bool:
                code, out, _ = world.run("events", "tail", "--from", "0", "--no-follow", "--json")
                return code == 0 and HOSTILE_TEXT in [
                    json.loads(line)["data"].get("text") for line in out.splitlines()
                ]

            wait_for("the hostile message", message_applied)
            yield world
