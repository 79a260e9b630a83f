"""Without credentials every command works on the sandbox the TUI uses: its kept world
and database, or the running TUI's sandbox itself."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from groups_tui.cli import main
from groups_tui.config import Settings
from groups_tui.runtime import open_sandbox_runtime, sandbox_endpoint_path
from tests.helpers.sandbox_process import free_port


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "WHATSAPP_ACCESS_TOKEN": "",
        "WHATSAPP_PHONE_NUMBER_ID": "",
        "GROUPS_TUI_DB": str(tmp_path / "groups.db"),
        "GROUPS_TUI_CONFIG": str(tmp_path / "none.toml"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_without_credentials_commands_work_on_the_kept_sandbox(tmp_path: Path) -> None:
    env = _env(tmp_path)
    # WHEN listing groups with no credentials and no TUI running
    code, out, err = run(env, "groups", "list", "--json")
    # THEN it answers from the sandbox the TUI would open (its demo world), not exit 2
    assert code == 0, err
    groups = json.loads(out)
    assert len(groups) == 50
    # AND every read verb takes --no-sync
    busy = next(g for g in groups if g["participant_count"] >= 2)
    gid = busy["group_id"]
    code, out, err = run(env, "members", "list", gid, "--no-sync", "--json")
    assert code == 0, err
    members = json.loads(out)
    assert len(members) == busy["participant_count"]
    for verb in (("requests", "list", gid), ("groups", "show", gid)):
        code, _, err = run(env, *verb, "--no-sync")
        assert code == 0, (verb, err)
    # WHEN a write verb runs (a group created)
    code, _, err = run(env, "groups", "create", "--subject", "Made from the CLI")
    assert code == 0, err
    # THEN the next command sees it: the world and the database were kept
    code, out, err = run(env, "groups", "list", "--no-sync")
    assert code == 0, err
    assert "Made from the CLI" in out
    code, out, _ = run(env, "audit", "--json")
    assert [e["action"] for e in json.loads(out)] == ["group.create"]


def test_an_unreachable_api_falls_back_to_local_state_with_a_warning(tmp_path: Path) -> None:
    env = _env(tmp_path)
    code, out, err = run(env, "groups", "list", "--json")
    assert code == 0, err
    gid = json.loads(out)[0]["group_id"]
    # GIVEN a TUI's published sandbox that no longer answers (this process "runs" it)
    settings = Settings(db_path=tmp_path / "groups.db")
    endpoint = {"url": f"http://127.0.0.1:{free_port()}", "token": "t", "pid": os.getpid()}
    sandbox_endpoint_path(settings).write_text(json.dumps(endpoint))
    for verb in (
        ("groups", "list"),
        ("groups", "show", gid),
        ("members", "list", gid),
        ("members", "export", gid),
        ("requests", "list", gid),
    ):
        # WHEN a read verb runs
        code, out, err = run(env, *verb)
        # THEN it answers from the local database and warns on stderr
        assert code == 0, (verb, err)
        assert "unreachable" in err and "local state" in err, verb
        assert out.strip(), verb
    # AND a write verb fails with the API exit code
    code, _, err = run(env, "groups", "create", "--subject", "x")
    assert code == 1, err


async def test_a_command_run_beside_the_tui_acts_on_the_tui_sandbox(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "groups.db")
    env = {**os.environ, **_env(tmp_path)}
    # GIVEN the TUI's sandbox running (endpoint published)
    async with open_sandbox_runtime(settings, simulate=False, publish=True) as running:
        await running.settle()
        assert sandbox_endpoint_path(settings).exists()
        group = next(g for g in running.world.groups.active() if len(g.members) >= 2)
        member = sorted(group.members)[0]
        # WHEN a member is removed from the command line (a separate process)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "groups_tui",
            "members",
            "remove",
            group.id,
            member,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        # THEN the TUI's world removes them and its database hears of it
        await running.settle(5)
        assert member not in running.world.groups.get(group.id).members
        keys = {m.wa_id for m in await running.store.groups.members(group.id)}
        assert member not in keys
    assert not sandbox_endpoint_path(settings).exists()
