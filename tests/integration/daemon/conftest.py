"""A team world: a sandbox process, ``groups-tui serve`` in front of it, operators as users.

The daemon is a real process serving a temporary Unix socket, holding the only copy of
the token; it receives the sandbox's signed webhooks on its own listener and runs the
automations (a forwarding target collecting posts here, an invite rule). Operators are
real Unix users created for the session (the tests need root; they skip otherwise), each
command a child process that drops to its user before it connects.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.as_user import run_as
from tests.helpers.sandbox_process import sandbox_process

TOKEN = "team-secret-token-6f1d"
SECRET = "team-app-secret-93ab"
PNID = "106540352242922"
WABA = "102290129340398"

OPS = "gt14ops"
"""Every operator's primary group: the daemon's socket and database belong to it."""
AGENTS = "gt14agents"
"""A Unix group granted the agent role in the roles file."""
USERS = {
    "gt14viewer": (),
    "gt14agent": (AGENTS,),
    "gt14mod": (),
    "gt14admin": (),
    "gt14nobody": (),
}
AGENT_CAP = "0.05"
"""The agent role's daily template spend cap (USD): less than one marketing template to
a full group costs."""


def _root_or_skip() -> None:
    if os.geteuid() != 0:
        pytest.skip("team-mode tests run clients as other Unix users: they need root")
    if shutil.which("useradd") is None or shutil.which("groupadd") is None:
        pytest.skip("team-mode tests need useradd and groupadd to create operators")


def _traversable_by_others(paths: list[Path]) -> dict[Path, int]:
    """Let other users traverse every directory above ``paths`` (``o+x``, never read).

    The checkout and the interpreter may sit under a 0700 directory (``/root``, a
    ``mktemp -d``): operators' processes must reach the code they run. Returns the
    directories changed, with their modes, to restore afterwards.
    """
    changed: dict[Path, int] = {}
    for path in paths:
        for directory in [path, *path.parents]:
            mode = directory.stat().st_mode
            if directory not in changed and not mode & stat.S_IXOTH:
                changed[directory] = stat.S_IMODE(mode)
                directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    return changed


@pytest.fixture(scope="session")
def operators() -> Iterator[dict[str, str]]:
    """Create the operators' Unix users and groups (removed afterwards), and let them
    reach the checkout and the interpreter for the session (modes restored afterwards)."""
    _root_or_skip()
    checkout = Path(__file__).resolve().parents[3]
    reach = [checkout, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    modes = _traversable_by_others(reach)
    created_groups: list[str] = []
    created_users: list[str] = []
    for group in (OPS, AGENTS):
        if subprocess.run(["getent", "group", group], capture_output=True).returncode != 0:
            subprocess.run(["groupadd", group], check=True)
            created_groups.append(group)
    for user, extra in USERS.items():
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            args = ["useradd", "-M", "-N", "-g", OPS, "-s", "/usr/sbin/nologin"]
            if extra:
                args += ["-G", ",".join(extra)]
            subprocess.run([*args, user], check=True)
            created_users.append(user)
    try:
        yield {user: user for user in USERS}
    finally:
        for user in created_users:
            subprocess.run(["userdel", user], check=False)
        for group in created_groups:
            subprocess.run(["groupdel", group], check=False)
        for directory, mode in modes.items():
            directory.chmod(mode)


class Collector(ThreadingHTTPServer):
    """A forwarding target: keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _CollectorHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _CollectorHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.bodies.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class TeamWorld:
    """The running world: where things are, and how to act in it."""

    root: Path
    sandbox_url: str
    webhook_url: str
    socket: Path
    roles: Path
    daemon: subprocess.Popen[str]
    daemon_log: Path
    collector: Collector
    groups: list[str]
    invite_group: str
    env: dict[str, str]
    """A client's whole environment: the socket and an empty config, no token."""
    daemon_env: dict[str, str] = field(default_factory=dict)
    """The daemon's environment (the account's secrets)."""
    _log_offset: int = field(default=0)

    def cli(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``groups-tui ARGS`` as `user`, a client of the daemon."""
        return run_as(user, args, self.env)

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """Act as the sandbox's simulated people."""
        r = httpx.post(f"{self.sandbox_url}/_sandbox/{path}", json=body or {}, timeout=10)
        r.raise_for_status()
        return r.json()

    def log(self) -> str:
        """Everything the daemon logged so far."""
        return self.daemon_log.read_text(encoding="utf-8", errors="replace")

    def audit_rows(self) -> list[tuple[str, str, str | None, list[Any]]]:
        """(user, action, role, targets) of every audit entry, read straight from the file."""
        with sqlite3.connect(f"file:{self.root / 'team.db'}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT os_user, action, role, targets FROM audit_log").fetchall()
        return [(u, a, r, json.loads(t)) for u, a, r, t in rows]

    def audit(self) -> list[dict[str, Any]]:
        """The audit log, newest first (read as root, a client of the daemon)."""
        out = subprocess.run(
            [sys.executable, "-m", "groups_tui", "audit", "--json", "--limit", "1000"],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows: list[dict[str, Any]] = json.loads(out)
        return rows


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait (bounded) until `check` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _roles_file(path: Path) -> None:
    path.write_text(
        f"""
[caps]
agent = "{AGENT_CAP}"

[[grant]]
role = "admin"
users = ["root", "gt14admin"]

[[grant]]
role = "moderator"
users = ["gt14mod"]

[[grant]]
role = "agent"
unix_groups = ["{AGENTS}"]

[[grant]]
role = "viewer"
users = ["gt14viewer"]
""",
        encoding="utf-8",
    )
    path.chmod(0o600)


@pytest.fixture(scope="package")
def team(operators: dict[str, str]) -> Iterator[TeamWorld]:
    """Start the sandbox, the daemon in front of it, and the forwarding collector."""
    root = Path(tempfile.mkdtemp(prefix="gt14-team-", dir="/tmp"))
    root.chmod(0o755)  # operators reach the socket and read the database through it
    collector = Collector()
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    try:
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
        ) as sandbox_url:
            listed = httpx.get(
                f"{sandbox_url}/v25.0/{PNID}/groups?limit=100",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=10,
            ).json()
            groups = [g["id"] for g in listed["data"]["groups"]]
            invite_group = groups[-1]
            config = root / "daemon.toml"
            config.write_text(
                "[automations.pacing]\ngroup_ops_per_second = 50\nmessages_per_second = 100\n\n"
                f'[[automations.invite_rules]]\nname = "join"\nkeywords = ["join"]\n'
                f'group_id = "{invite_group}"\n\n'
                f'[[automations.forward]]\nname = "crm"\nurl = "{collector.url}"\n'
                'kinds = ["message.received"]\n',
                encoding="utf-8",
            )
            config.chmod(0o600)
            roles = root / "roles.toml"
            _roles_file(roles)
            socket_path = root / "run" / "daemon.sock"
            daemon_env = {
                **os.environ,
                "WHATSAPP_API_BASE_URL": sandbox_url,
                "WHATSAPP_ACCESS_TOKEN": TOKEN,
                "WHATSAPP_PHONE_NUMBER_ID": PNID,
                "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA,
                "WHATSAPP_APP_SECRET": SECRET,
                "GROUPS_TUI_DB": str(root / "team.db"),
                "GROUPS_TUI_CONFIG": str(config),
            }
            daemon_log = root / "daemon.log"
            with daemon_log.open("w") as err:
                daemon = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "groups_tui",
                        "serve",
                        "--socket",
                        str(socket_path),
                        "--roles",
                        str(roles),
                        "--group",
                        OPS,
                        "--port",
                        "0",
                    ],
                    env=daemon_env,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                )
            try:
                assert daemon.stdout is not None
                line = daemon.stdout.readline()
                assert line.startswith("url "), (line, daemon_log.read_text())
                webhook_url = line.split()[1]
                httpx.post(
                    f"{sandbox_url}/_sandbox/webhook_url", json={"url": webhook_url}, timeout=10
                ).raise_for_status()
                world = TeamWorld(
                    root=root,
                    sandbox_url=sandbox_url,
                    webhook_url=webhook_url,
                    socket=socket_path,
                    roles=roles,
                    daemon=daemon,
                    daemon_log=daemon_log,
                    collector=collector,
                    groups=groups,
                    invite_group=invite_group,
                    env={
                        "GROUPS_TUI_SOCKET": str(socket_path),
                        "GROUPS_TUI_CONFIG": str(root / "absent.toml"),
                    },
                    daemon_env=daemon_env,
                )
                synced = world.cli("gt14viewer", "groups", "list", "--json")
                assert synced.returncode == 0, synced.stderr
                yield world
            finally:
                if daemon.poll() is None:
                    daemon.send_signal(signal.SIGTERM)
                    daemon.wait(timeout=20)
    finally:
        collector.shutdown()
        shutil.rmtree(root, ignore_errors=True)
