"""Team mode end to end: a daemon on a socket, operators as Unix users, roles enforced.

Every client here is a real ``groups-tui`` process that drops to its operator's uid
before connecting; the daemon identifies it by the socket's peer credentials alone.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.signing import encode, signed_headers

from .conftest import AGENT_CAP, PNID, SECRET, TOKEN, WABA, TeamWorld, wait_for

pytestmark = [pytest.mark.xdist_group("team-daemon"), pytest.mark.slow]


def _people(team: TeamWorld, count: int, skip: int = 0) -> list[str]:
    people = httpx.get(
        f"{team.sandbox_url}/_sandbox/people?limit={count}&offset={200 + skip}", timeout=10
    ).json()["people"]
    return [p["wa_id"] for p in people]


def _new_group(team: TeamWorld, subject: str, members: list[str]) -> str:
    """An admin creates a group; people join it (its window stays closed: nobody wrote)."""
    made = team.cli("gt14admin", "groups", "create", "--subject", subject)
    assert made.returncode == 0, made.stderr
    team.control("clock/advance", {"seconds": 5})
    found: list[str] = []

    def created() -> bool:
        out = team.cli("gt14viewer", "groups", "list", "--no-sync", "--json").stdout
        found[:] = [
            g["group_id"]
            for g in json.loads(out or "[]")
            if g["subject"] == subject and g["state"] == "active"
        ]
        return bool(found)

    wait_for(f"group {subject!r}", created)
    for wa_id in members:
        team.control(f"groups/{found[0]}/join", {"wa_id": wa_id})
    return found[0]


def test_roles_allow_and_refuse_by_peer_user(team: TeamWorld) -> None:
    group = team.groups[0]
    # GIVEN a viewer WHEN they try to send THEN the daemon refuses, naming the role (exit 2)
    viewer = team.cli("gt14viewer", "send", "text", group, "hello from a viewer")
    assert viewer.returncode == 2, viewer.stderr
    assert "needs the agent role" in viewer.stderr and "gt14viewer is viewer" in viewer.stderr
    # GIVEN an agent (by Unix group) WHEN they send inside the window THEN it goes out
    agent = team.cli("gt14agent", "send", "text", group, "hello from an agent")
    assert agent.returncode == 0, agent.stderr
    assert agent.stdout.startswith("accepted")
    # WHEN the agent resets the invite link THEN refused: that needs an admin
    reset = team.cli("gt14agent", "invite-link", group, "--reset")
    assert reset.returncode == 2 and "needs the admin role" in reset.stderr
    # while reading the link is an agent's right, and resetting is an admin's
    assert team.cli("gt14agent", "invite-link", group).returncode == 0
    admin = team.cli("gt14admin", "invite-link", group, "--reset")
    assert admin.returncode == 0, admin.stderr
    # WHEN a user with no grant at all tries THEN refused as well
    nobody = team.cli("gt14nobody", "send", "text", group, "hi")
    assert nobody.returncode == 2 and "gt14nobody has no role" in nobody.stderr


def test_moderator_may_remove_but_not_delete(team: TeamWorld) -> None:
    member = _people(team, 1, skip=40)[0]
    group = _new_group(team, "Moderated room", [member])
    wait_for(
        "the member",
        lambda: member in team.cli("gt14mod", "members", "list", group).stdout,
    )
    delete = team.cli("gt14mod", "groups", "delete", "--yes", group)
    assert delete.returncode == 2 and "needs the admin role" in delete.stderr
    removed = team.cli("gt14mod", "members", "remove", group, member)
    assert removed.returncode == 0, removed.stderr


def test_spend_cap_refuses_the_template_that_would_exceed_it(team: TeamWorld) -> None:
    # GIVEN a group whose window is closed, with members abroad: a marketing template costs
    group = _new_group(team, "Closed window", _people(team, 4))
    wait_for(
        "the members",
        lambda: len(team.cli("gt14viewer", "members", "list", group).stdout.splitlines()) >= 4,
    )
    cost = team.cli("gt14agent", "cost", group, "--template", "weekly_offers", "--json")
    assert cost.returncode == 0, cost.stderr
    preview = Decimal(json.loads(cost.stdout)["total"])
    assert preview > Decimal(AGENT_CAP)
    # WHEN the agent sends it THEN the daemon refuses before the call, quoting the preview
    sent = team.cli("gt14agent", "send", "template", group, "weekly_offers", "10%")
    assert sent.returncode == 2, (sent.stdout, sent.stderr)
    assert f"${preview} (cost preview)" in sent.stderr
    assert f"daily cap of ${AGENT_CAP}" in sent.stderr
    # and the refusal is audited under the agent's name and role
    refusals = [
        e
        for e in team.audit()
        if e["action"] == "sending.send_template" and e["os_user"] == "gt14agent"
    ]
    assert refusals and refusals[0]["role"] == "agent"
    assert "cost preview" in refusals[0]["api_result"]["refused"]
    # WHEN an admin (no cap) sends it THEN it goes out
    admin = team.cli("gt14admin", "send", "template", group, "weekly_offers", "10%")
    assert admin.returncode == 0, admin.stderr


def test_audit_names_the_peer_user_and_role(team: TeamWorld) -> None:
    group = team.groups[1]
    assert team.cli("gt14agent", "send", "text", group, "audited send").returncode == 0
    assert team.cli("gt14viewer", "groups", "delete", "--yes", group).returncode == 2
    entries = team.audit()
    sends = [e for e in entries if e["action"] == "send.text" and e["group_id"] == group]
    assert sends and (sends[0]["os_user"], sends[0]["role"]) == ("gt14agent", "agent")
    refused = [e for e in entries if e["action"] == "admin.delete_group" and e["group_id"] == group]
    assert refused and (refused[0]["os_user"], refused[0]["role"]) == ("gt14viewer", "viewer")
    assert "needs the admin role" in refused[0]["api_result"]["refused"]
    # nobody is named by what a client claims: no entry names root for these
    assert all(e["os_user"] != "root" for e in sends + refused)


def test_whoami_prints_user_role_scope_and_remaining_spend(team: TeamWorld) -> None:
    out = team.cli("gt14agent", "whoami", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["user"] == "gt14agent" and info["role"] == "agent"
    assert info["scope"] == ["agent: all groups"]
    assert info["daily_cap"] == AGENT_CAP
    assert Decimal(info["remaining_today"]) <= Decimal(AGENT_CAP)
    text = team.cli("gt14viewer", "whoami").stdout
    assert "gt14viewer" in text and "viewer" in text


def test_the_token_never_reaches_a_client(team: TeamWorld) -> None:
    group = team.groups[2]
    runs = [
        team.cli("gt14admin", "whoami", "--json"),
        team.cli("gt14admin", "groups", "show", group, "--json"),
        team.cli("gt14admin", "invite-link", group),
        team.cli("gt14admin", "config", "check"),
        team.cli("gt14agent", "send", "text", group, "token check"),
    ]
    for run in runs:
        for secret in (TOKEN, SECRET):
            assert secret not in run.stdout and secret not in run.stderr
    # every response body of the daemon, raw, as a client sees it
    transport = httpx.HTTPTransport(uds=str(team.socket), verify=False)
    with httpx.Client(transport=transport, base_url="http://groups-tui") as raw:
        bodies = [
            raw.get("/healthz").text,
            raw.get("/v1/session").text,
            raw.post("/v1/call/reading.templates", json={"args": {"$": "dict", "v": []}}).text,
            raw.post(
                "/v1/call/admin.invite_link",
                json={"args": {"$": "dict", "v": [["group_id", group]]}},
            ).text,
            raw.post("/v1/call/no.such", json={"args": {"$": "dict", "v": []}}).text,
        ]
    for body in bodies:
        assert TOKEN not in body and SECRET not in body
    # and the client's environment holds none of the account's secrets
    env = subprocess.run(
        [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
        env={"PATH": "/usr/bin:/bin", **team.env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert TOKEN not in env and "WHATSAPP_ACCESS_TOKEN" not in env


def _one_to_one(team: TeamWorld, wa_id: str, text: str, n: int) -> None:
    """A person writes to the business number: a signed 1:1 webhook to the daemon."""
    body = encode(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": PNID,
                                },
                                "contacts": [{"profile": {"name": "Ana"}, "wa_id": wa_id}],
                                "messages": [
                                    {
                                        "from": wa_id,
                                        "id": f"wamid.team.{wa_id}.{n}",
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )
    r = httpx.post(team.webhook_url, content=body, headers=signed_headers(body, SECRET))
    assert r.status_code == 200, r.text


def test_clients_and_webhooks_at_once_deliver_each_event_once(team: TeamWorld) -> None:
    seed = 1414
    print(f"seed {seed}")
    group = team.groups[3]
    detail = httpx.get(f"{team.sandbox_url}/_sandbox/groups/{group}", timeout=10).json()
    writers = [m["wa_id"] for m in detail["members"]][:3]
    askers = _people(team, 4, skip=80)
    before = {b.get("id") for b in team.collector.bodies}

    def client(user: str, rounds: int) -> list[subprocess.CompletedProcess[str]]:
        return [team.cli(user, "send", "text", group, f"{user} {i}") for i in range(rounds)]

    def webhooks() -> None:
        for i in range(12):
            team.control(
                f"groups/{group}/message",
                {"wa_id": writers[i % len(writers)], "text": f"burst {seed} {i}"},
            )
        for n, wa_id in enumerate(askers):
            _one_to_one(team, wa_id, "hi, can I join please", n)
            _one_to_one(team, wa_id, "JOIN", n + 100)  # the keyword again: still one invite

    # WHEN two clients act while webhooks arrive and a third reads
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(client, "gt14agent", 2)
        second = pool.submit(client, "gt14mod", 2)
        reader = pool.submit(
            lambda: [team.cli("gt14viewer", "groups", "show", group) for _ in range(2)]
        )
        pool.submit(webhooks).result()
        runs = first.result() + second.result() + reader.result()
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "database is locked" not in run.stderr
    # THEN each inbound group message was forwarded exactly once
    bursts = {f"burst {seed} {i}" for i in range(12)}

    def forwarded() -> Counter[str]:
        with team.collector.lock:
            bodies = [b for b in team.collector.bodies if b.get("id") not in before]
        return Counter(b["data"].get("text") for b in bodies if b["data"].get("text") in bursts)

    wait_for("every burst message forwarded", lambda: set(forwarded()) == bursts)
    time.sleep(1.0)  # a duplicate would arrive within the runner's next passes
    assert all(n == 1 for n in forwarded().values()), forwarded()
    with team.collector.lock:
        ids = Counter(b.get("id") for b in team.collector.bodies)
    assert all(n == 1 for n in ids.values())
    # and each asker got exactly one invite, however often they wrote the keyword

    def invites() -> Counter[str]:
        return Counter(
            targets[0]
            for _, action, _, targets in team.audit_rows()
            if action == "automation.invite_flow" and targets
        )

    wait_for("one invite per asker", lambda: all(invites()[a] >= 1 for a in askers))
    assert all(invites()[a] == 1 for a in askers), invites()
    assert "database is locked" not in team.log()


def test_healthz_and_sighup_reload_the_roles(team: TeamWorld) -> None:
    transport = httpx.HTTPTransport(uds=str(team.socket), verify=False)
    with httpx.Client(transport=transport, base_url="http://groups-tui") as raw:
        health = raw.get("/healthz").json()
    assert health["ok"] is True and health["automations"] is True
    assert team.cli("gt14nobody", "whoami", "--json").stdout.count('"role": null') == 1
    original = team.roles.read_text(encoding="utf-8")
    try:
        team.roles.write_text(
            original + '\n[[grant]]\nrole = "viewer"\nusers = ["gt14nobody"]\n', encoding="utf-8"
        )
        team.daemon.send_signal(signal.SIGHUP)
        wait_for(
            "the new roles",
            lambda: (
                json.loads(team.cli("gt14nobody", "whoami", "--json").stdout)["role"] == "viewer"
            ),
        )
    finally:
        team.roles.write_text(original, encoding="utf-8")
        team.daemon.send_signal(signal.SIGHUP)
    wait_for("the roles restored", lambda: team.log().count("roles reloaded") >= 2)
    # the log says each line's level
    assert "INFO roles reloaded from" in team.log()
    assert "WARNING refused gt14viewer (viewer" in team.log()


def test_sigterm_stops_the_daemon_cleanly(team: TeamWorld, tmp_path: Path) -> None:
    # GIVEN a second daemon (its own database and socket) that took the runner lease
    socket_path = tmp_path / "other.sock"
    env = {**team.daemon_env, "GROUPS_TUI_DB": str(tmp_path / "other.db")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "groups_tui",
            "serve",
            "--socket",
            str(socket_path),
            "--roles",
            str(team.roles),
            "--port",
            "0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().startswith("url ")
    assert proc.stdout.readline() == f"socket {socket_path}\n"
    # WHEN it gets SIGTERM THEN it stops, exit 0, socket removed, lease given up
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not socket_path.exists()
    assert "INFO stopping" in err and "Traceback" not in err
    with sqlite3.connect(tmp_path / "other.db") as conn:
        assert conn.execute("SELECT count(*) FROM runner_lease").fetchone() == (0,)


def test_serve_check_validates_the_roles_file(team: TeamWorld, tmp_path: Any) -> None:
    env = {
        **os.environ,
        "WHATSAPP_API_BASE_URL": team.sandbox_url,
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PNID,
        "WHATSAPP_APP_SECRET": SECRET,
        "GROUPS_TUI_DB": str(tmp_path / "check.db"),
        "GROUPS_TUI_CONFIG": str(tmp_path / "absent.toml"),
    }

    def check(roles: str, mode: int) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "roles.toml"
        path.write_text(roles, encoding="utf-8")
        path.chmod(mode)
        return subprocess.run(
            [sys.executable, "-m", "groups_tui", "serve", "--check", "--roles", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    good = '[[grant]]\nrole = "admin"\nusers = ["root"]\n'
    assert check(good, 0o600).returncode == 0
    too_open = check(good, 0o644)
    assert too_open.returncode == 2 and "chmod 600" in too_open.stderr
    bad_role = check('[[grant]]\nrole = "boss"\nusers = ["root"]\n', 0o600)
    assert bad_role.returncode == 2 and "unknown role 'boss'" in bad_role.stderr
