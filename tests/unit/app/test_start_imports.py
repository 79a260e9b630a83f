"""Opening the TUI imports only what its first frame needs: no click for a bare launch,
no repository of the store before its first use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.tui_probe import live_env, probe_script, run_probe

_BARE_LAUNCH = probe_script(
    on_started="        pass",  # quit once the inbox is drawn
    launch="""
sys.argv = ["groups-tui"]
from groups_tui.__main__ import run
try:
    run()
except SystemExit as exc:
    print(json.dumps({"exit": exc.code, "modules": sorted(sys.modules)}))
""",
    after="",
)


def test_a_bare_launch_opens_the_tui_without_the_command_line(tmp_path: Path) -> None:
    # GIVEN live credentials, in a fresh interpreter
    # WHEN `groups-tui` runs without a command and its inbox is drawn
    result = run_probe(_BARE_LAUNCH, live_env(tmp_path))
    loaded = set(result["modules"])
    # THEN it exits 0, the TUI ran, and neither click nor the command line was imported
    assert result["exit"] == 0
    assert "groups_tui.ui.screens.inbox" in loaded
    assert "click" not in loaded
    assert not {m for m in loaded if m == "groups_tui.cli" or m.startswith("groups_tui.cli.")}
    # nor the raw log's appliers' entry point, the ledger or the backups (built on use)
    assert loaded & {"groups_tui.store.raw_log", "groups_tui.store.maintenance"} == set()
    # nor Textual's multi-line text box (no screen of the start shows one)
    assert "textual.widgets._text_area" not in loaded


def test_a_bare_launch_with_a_bad_setting_is_a_usage_error(tmp_path: Path) -> None:
    # GIVEN a setting that is not a boolean
    env = live_env(tmp_path) | {"GROUPS_TUI_BELL": "maybe"}
    # WHEN `python -m groups_tui` runs without a command
    done = subprocess.run(
        [sys.executable, "-m", "groups_tui"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    # THEN it says which setting, as the command line always has, and exits 2
    assert done.returncode == 2
    assert done.stderr == (
        "groups-tui: invalid setting GROUPS_TUI_BELL: Input should be a valid boolean, "
        "unable to interpret input\n"
    )
    assert done.stdout == ""


def test_an_argument_still_goes_through_the_command_line(tmp_path: Path) -> None:
    # WHEN `python -m groups_tui --version` and `--help` run
    version = subprocess.run(
        [sys.executable, "-m", "groups_tui", "--version"],
        capture_output=True,
        text=True,
        env=live_env(tmp_path),
        timeout=60,
    )
    helped = subprocess.run(
        [sys.executable, "-m", "groups_tui", "--help"],
        capture_output=True,
        text=True,
        env=live_env(tmp_path),
        timeout=60,
    )
    # THEN click answers both, as before
    assert version.returncode == 0 and "version" in version.stdout
    assert helped.returncode == 0 and "Usage:" in helped.stdout and "listen" in helped.stdout


def test_the_store_builds_each_repository_on_first_use(tmp_path: Path) -> None:
    # GIVEN a fresh interpreter WHEN a store is opened and its inbox read
    probe = (
        "import asyncio, json, sys\n"
        "from groups_tui.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open({str(tmp_path / 'g.db')!r})\n"
        "    await store.groups.inbox_page(limit=10)\n"
        "    before = sorted(sys.modules)\n"
        "    same = store.raw is store.raw and store.raw._ledger is store.ledger\n"
        "    await store.close()\n"
        "    return before, same\n"
        "before, same = asyncio.run(main())\n"
        "print(json.dumps({'before': before, 'same': same, 'after': sorted(sys.modules)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    # THEN the raw log, the ledger, the messages and backups were not imported until used
    lazy = {
        "groups_tui.store.raw_log",
        "groups_tui.store.ledger",
        "groups_tui.store.messages",
        "groups_tui.store.maintenance",
    }
    assert set(result["before"]) & lazy == set()
    # and each repository is built once, over the store's one ledger
    assert result["same"] is True
    assert {"groups_tui.store.raw_log", "groups_tui.store.ledger"} <= set(result["after"])
