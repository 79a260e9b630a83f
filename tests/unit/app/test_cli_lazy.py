"""The command line imports a subcommand only when it runs, and lists each truthfully."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from groups_tui.cli import COMMANDS, main
from groups_tui.cli.lazy import LazyCommand
from tests.helpers.tui_probe import LAUNCH_THROUGH_CLI, live_env, probe_script, run_probe


def _entries() -> list[tuple[str, LazyCommand]]:
    found: list[tuple[str, LazyCommand]] = []
    for name, entry in COMMANDS.items():
        found.append((name, entry))
        found += [(f"{name} {child}", sub) for child, sub in entry.children.items()]
    return found


@pytest.mark.parametrize(("name", "entry"), _entries(), ids=[n for n, _ in _entries()])
def test_each_listed_help_line_is_the_commands_own(name: str, entry: LazyCommand) -> None:
    command = entry.load()
    assert entry.short_help == command.get_short_help_str(limit=200), name


def test_groups_lists_its_lazy_commands_with_their_own_help() -> None:
    groups = COMMANDS["groups"].load()
    assert isinstance(groups, click.Group)
    lazy = getattr(groups, "lazy_commands", {})
    assert set(lazy) == {"create-csv", "prune"}
    for entry in lazy.values():
        assert entry.short_help == entry.load().get_short_help_str(limit=200)


def test_every_command_is_reachable_and_has_help() -> None:
    runner = CliRunner()
    for name, _entry in _entries():
        result = runner.invoke(main, [*name.split(), "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_help_imports_no_subcommand_module() -> None:
    # GIVEN a fresh interpreter, WHEN `groups-tui --help` runs
    probe = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from groups_tui.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, check=True
            ).stdout
        )
    )
    ours = {m for m in loaded if m.startswith("groups_tui.")}
    heavy = loaded & {"textual", "aiohttp", "httpx", "pydantic", "sqlite3", "asyncio"}
    # THEN none of the subcommands' modules, nor the heavy libraries behind them, was imported
    assert not {
        m
        for m in ours
        if m.split(".")[1]
        in {
            "listener",
            "sandbox",
            "automations",
            "workers",
            "ui",
            "service",
            "store",
            "runtime",
            "web",
            "tui_runner",
        }
    }
    assert {m for m in ours if m.startswith("groups_tui.cli.")} <= {
        "groups_tui.cli.common",
        "groups_tui.cli.lazy",
    }
    assert heavy == set()


_NOT_FOR_READING = {"listener", "sandbox", "automations", "workers", "ui", "web", "tui_runner"}


def test_a_read_verb_imports_no_http_client_listener_sandbox_or_automations(
    tmp_path: Path,
) -> None:
    # GIVEN live credentials and a database, in a fresh interpreter
    env = dict(
        os.environ,
        WHATSAPP_ACCESS_TOKEN="token",
        WHATSAPP_PHONE_NUMBER_ID="100000000000001",
        GROUPS_TUI_DB=str(tmp_path / "groups.db"),
        GROUPS_TUI_CONFIG=str(tmp_path / "none.toml"),
    )
    probe = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from groups_tui.cli import main\n"
        "result = CliRunner().invoke(main, ['groups', 'list', '--no-sync', '--json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert json.loads(result.output) == [], result.output\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    # WHEN `groups-tui groups list --no-sync --json` runs
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout
    loaded = set(json.loads(out))
    # THEN it read the database without the Cloud client's HTTP stack, the listener,
    # the sandbox, the automations or the UI
    assert loaded & {"httpx", "httpcore", "aiohttp", "textual"} == set()
    assert "groups_tui.cloud.models" not in loaded  # the response models: only for API calls
    assert "pydantic_settings" not in loaded  # settings are read without it
    assert not {
        m for m in loaded if m.startswith("groups_tui.") and m.split(".")[1] in _NOT_FOR_READING
    }


_TUI_PROBE = probe_script(launch=LAUNCH_THROUGH_CLI, after="print(json.dumps(sorted(sys.modules)))")


def test_opening_the_tui_live_imports_no_listener_sandbox_automations_or_http(
    tmp_path: Path,
) -> None:
    # GIVEN live credentials, no [automations] table, in a fresh interpreter
    env = live_env(tmp_path)
    # WHEN the TUI opens, draws its inbox and starts its background work
    loaded = set(run_probe(_TUI_PROBE, env))
    # THEN the moderation watcher runs, and nothing of the listener, the sandbox, the
    # automations or an HTTP stack was imported (the Cloud client is built on first use)
    assert "groups_tui.workers.moderation" in loaded
    assert loaded & {"aiohttp", "httpx", "httpcore"} == set()
    assert not {
        m
        for m in loaded
        if m.startswith("groups_tui.")
        and m.split(".")[1] in {"listener", "sandbox", "automations", "web"}
    }
    assert "groups_tui.workers.runner" not in loaded
