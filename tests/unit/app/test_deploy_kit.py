"""deploy/: the systemd units parse and are hardened; the proxies point at the listener.

The units and proxy examples name ports and paths the commands must actually use: these
tests read the defaults from the commands themselves.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from groups_tui.cli import main
from groups_tui.daemon.wire import DEFAULT_SOCKET
from groups_tui.listener.app import MAX_BODY_BYTES
from groups_tui.listener.commands import listen_command
from groups_tui.web import web_command

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
GROUPS_TUI = Path(sys.executable).with_name("groups-tui")


def _default(command: click.Command, name: str) -> object:
    return next(p.default for p in command.params if p.name == name)


LISTEN_PORT = _default(listen_command, "port")
LISTEN_PATH = _default(listen_command, "path")
WEB_PORT = _default(web_command, "port")


class _Section(dict[str, list[str]]):
    """A unit file section: a key may repeat (Environment=); ``[key]`` is its last value."""

    def __getitem__(self, key: str) -> str:  # type: ignore[override]
        return super().__getitem__(key)[-1]

    def all(self, key: str) -> list[str]:
        return super().__getitem__(key)


def _unit(path: Path) -> dict[str, _Section]:
    """Parse a systemd unit: ``[Section]`` headers, ``Key=value`` lines, ``#`` comments."""
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], _Section())
            continue
        key, equals, value = line.partition("=")
        assert equals and current is not None and key.strip(), f"{path.name}:{number}: {raw}"
        dict.setdefault(current, key.strip(), []).append(value.strip())
    return sections


def test_there_are_units_for_the_listener_automations_web_and_the_team_daemon() -> None:
    assert {u.name for u in UNITS} == {
        "groups-tui-listen.service",
        "groups-tui-automations.service",
        "groups-tui-web.service",
        "groups-tui-serve.service",
    }


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_are_hardened_and_write_only_the_data_directory(path: Path) -> None:
    service = _unit(path)["Service"]
    assert service["User"] and service["User"] != "root"
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["ProtectSystem"] == "strict" and service["ProtectHome"] == "yes"
    assert set(service["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    environment = dict(e.split("=", 1) for e in service.all("Environment"))
    db = Path(environment["GROUPS_TUI_DB"])
    assert service["ReadWritePaths"].split() == [str(db.parent)]
    assert f"/var/lib/{service['StateDirectory']}" == str(db.parent)
    # secrets come from a root-only environment file, never the command line
    assert service["EnvironmentFile"].startswith("/etc/groups-tui/")
    assert "SECRET" not in service["ExecStart"] and "TOKEN" not in service["ExecStart"]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_run_commands_that_exist_with_options_they_accept(path: Path) -> None:
    argv = shlex.split(_unit(path)["Service"]["ExecStart"])
    assert argv[0].endswith("/groups-tui")
    # click parses the arguments exactly as the service would pass them
    command = main.get_command(click.Context(main), argv[1])
    assert command is not None
    sub = command.make_context(argv[1], argv[2:])
    if argv[1] == "listen":
        assert sub.params["host"] == "127.0.0.1"
        assert (sub.params["port"], sub.params["path"]) == (LISTEN_PORT, LISTEN_PATH)
    if argv[1] == "web":
        assert sub.params["host"] == "127.0.0.1" and sub.params["port"] == WEB_PORT
    if argv[1] == "serve":
        # the daemon takes the listener's place behind the proxies, and serves the socket
        # where clients look for it by default
        assert sub.params["host"] == "127.0.0.1"
        assert (sub.params["port"], sub.params["hook_path"]) == (LISTEN_PORT, LISTEN_PATH)
        assert sub.params["socket_path"] == DEFAULT_SOCKET
        service = _unit(path)["Service"]
        assert f"/run/{service['RuntimeDirectory']}" == str(DEFAULT_SOCKET.parent)


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_accepts_the_units(path: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze here; the ini parse above still checks the units")
    # verify also checks that ExecStart exists: point it at this installation
    unit = tmp_path / path.name
    unit.write_text(path.read_text().replace("/opt/groups-tui/bin/groups-tui", str(GROUPS_TUI)))
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    problems = [line for line in done.stderr.splitlines() if path.name in line or "Unknown" in line]
    assert problems == []


def test_caddy_forwards_only_the_webhook_path_to_the_listener() -> None:
    caddyfile = (DEPLOY / "caddy" / "Caddyfile").read_text()
    assert f"handle {LISTEN_PATH} {{" in caddyfile
    assert f"reverse_proxy 127.0.0.1:{LISTEN_PORT}" in caddyfile
    assert f"max_size {MAX_BODY_BYTES // 2**20}MB" in caddyfile
    assert f"reverse_proxy 127.0.0.1:{WEB_PORT}" in caddyfile
    caddy = shutil.which("caddy")
    if caddy is not None:
        done = subprocess.run(
            [caddy, "adapt", "--config", str(DEPLOY / "caddy" / "Caddyfile")],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr


def test_nginx_forwards_only_the_webhook_path_to_the_listener() -> None:
    conf = (DEPLOY / "nginx" / "groups-tui.conf").read_text()
    assert f"location = {LISTEN_PATH} {{" in conf
    assert f"proxy_pass http://127.0.0.1:{LISTEN_PORT};" in conf
    assert f"client_max_body_size {MAX_BODY_BYTES // 2**20}m;" in conf
    assert f"proxy_pass http://127.0.0.1:{WEB_PORT};" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert conf.count("{") == conf.count("}")


def test_the_environment_file_example_names_settings_that_exist() -> None:
    from groups_tui.config import Settings

    aliases = {setting.variable for setting in Settings.fields().values()}
    example = (DEPLOY / "systemd" / "groups-tui.env.example").read_text()
    names = re.findall(r"^([A-Z_]+)=", example, re.M)
    assert names and set(names) <= aliases
    assert "-m 600" in example
