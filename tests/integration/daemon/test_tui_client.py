"""The TUI as a client of the daemon: reads from the daemon's database, acts through it."""

from __future__ import annotations

import asyncio
import grp
import os
import stat
from collections.abc import Callable

import httpx
import pytest

from groups_tui.daemon.client import open_remote_service
from groups_tui.ui.app import make_app
from tests.ui.conftest import screen_text, settle

from .conftest import OPS, TeamWorld

pytestmark = [pytest.mark.xdist_group("team-daemon"), pytest.mark.slow]


async def _until(what: str, check: Callable[[], bool], within: float = 20.0) -> None:
    for _ in range(int(within / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _open_window_group(team: TeamWorld) -> tuple[str, str]:
    for group in team.groups[4:]:
        detail = httpx.get(f"{team.sandbox_url}/_sandbox/groups/{group}", timeout=10).json()
        if detail["window_open"] and detail["members"]:
            return group, detail["members"][0]["wa_id"]
    raise AssertionError("no demo group with an open window")


async def test_the_tui_reads_locally_and_acts_through_the_daemon(team: TeamWorld) -> None:
    group, member = _open_window_group(team)
    async with open_remote_service(team.socket) as service:
        assert not service.read_only and not service.automations_run_here
        # the automations run in the daemon, and the client says so
        assert service.automations.running and service.session.daemon_pid == team.daemon.pid
        app = make_app(service, clock=service.clock, bell=False, sandbox_note="team: root")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.open_group(group)
            await settle(pilot)
            # WHEN the operator writes and sends
            await pilot.press("i", *"sent from the TUI", "ctrl+s")
            await settle(pilot)
            await _until("the send accepted", lambda: "message: accepted" in screen_text(app))
            # AND a member answers (a webhook to the daemon)
            await asyncio.to_thread(
                team.control,
                f"groups/{group}/message",
                {"wa_id": member, "text": "answer seen in the TUI"},
            )
            # THEN the TUI shows it, following the daemon's database read-only
            await _until(
                "the answer", lambda: "answer seen in the TUI" in screen_text(app), within=30
            )
    entries = await asyncio.to_thread(team.audit)
    sends = [e for e in entries if e["action"] == "send.text" and e["group_id"] == group]
    assert sends and (sends[0]["os_user"], sends[0]["role"]) == ("root", "admin")


def test_only_the_daemon_writes_the_database(team: TeamWorld) -> None:
    # the socket: owner and operators; the database: written by its owner, read by operators
    sock = os.stat(team.socket)
    assert stat.S_ISSOCK(sock.st_mode) and stat.S_IMODE(sock.st_mode) == 0o660
    assert grp.getgrgid(sock.st_gid).gr_name == OPS
    for suffix in ("", "-wal", "-shm"):
        path = team.root / f"team.db{suffix}"
        info = os.stat(path)
        assert stat.S_IMODE(info.st_mode) == 0o640, path
        assert grp.getgrgid(info.st_gid).gr_name == OPS
    # an operator's command that writes goes through the daemon: no local write happened
    done = team.cli("gt14agent", "groups", "list", "--json")
    assert done.returncode == 0 and "readonly" not in done.stderr
