"""Shell completion: the scripts for bash, zsh and fish, and group ids from the local store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from groups_tui.cli import main
from tests.integration.cli.conftest import ISSUE_SUBJECT, CliWorld

GROUPS_TUI = str(Path(sys.executable).with_name("groups-tui"))


def _script(shell: str) -> str:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0, result.output
    return result.stdout


def _complete(env: dict[str, str], words: str, shell: str = "zsh") -> list[str]:
    """What click answers the shell for the command line ``words`` (cursor at its end)."""
    result = CliRunner().invoke(
        main,
        [],
        env={
            **env,
            "_GROUPS_TUI_COMPLETE": f"{shell}_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split(" ")) - 1),
        },
        prog_name="groups-tui",
    )
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("shell", "markers"),
    [
        ("bash", ["_GROUPS_TUI_COMPLETE=bash_complete", "complete -o nosort -F"]),
        ("zsh", ["#compdef groups-tui", "_GROUPS_TUI_COMPLETE=zsh_complete"]),
        (
            "fish",
            ["complete --no-files --command groups-tui", "_GROUPS_TUI_COMPLETE=fish_complete"],
        ),
    ],
)
def test_each_shell_gets_its_script(shell: str, markers: list[str]) -> None:
    script = _script(shell)
    for marker in markers:
        assert marker in script
    binary = shutil.which(shell)
    if binary is not None:  # the shell parses what it would be told to source
        check = subprocess.run([binary, "-n"], input=script, text=True, capture_output=True)
        assert check.returncode == 0, check.stderr


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["completion", "tcsh"])
    assert result.exit_code == 2


def test_commands_complete() -> None:
    lines = _complete({}, "groups-tui gro", shell="bash")
    assert "plain,groups" in lines


def test_group_ids_complete_from_the_local_store(cli_world: CliWorld) -> None:
    # zsh answers "type, value, help" triples; the help is the group's subject
    lines = _complete(cli_world.env, "groups-tui groups show ")
    values = lines[1::3]
    assert cli_world.open_group in values and cli_world.approval_group in values
    assert len(values) >= 50
    # the subject that would set the clipboard and the title is shown made visible
    help_of_open = lines[lines.index(cli_world.open_group) + 1]
    assert "\x1b" not in help_of_open and "\x07" not in help_of_open
    assert help_of_open.startswith(ISSUE_SUBJECT[:2]) and "␛" in help_of_open
    # only ids starting with what was typed
    prefix = cli_world.open_group[:-3]
    narrowed = _complete(cli_world.env, f"groups-tui members list {prefix}")[1::3]
    assert cli_world.open_group in narrowed
    assert all(v.startswith(prefix) for v in narrowed) and len(narrowed) < len(values)
    # options taking a group id complete too
    assert cli_world.open_group in _complete(cli_world.env, "groups-tui audit --group ")[1::3]


def test_bash_completes_group_ids_end_to_end(cli_world: CliWorld) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    program = (
        f'eval "$({GROUPS_TUI} completion bash)"\n'
        'COMP_WORDS=(groups-tui send text ""); COMP_CWORD=3\n'
        f"_groups_tui_completion {GROUPS_TUI}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program],
        env={**os.environ, **cli_world.env},
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert cli_world.open_group in done.stdout.split()


def test_no_database_completes_nothing(tmp_path: Path) -> None:
    env = {
        "GROUPS_TUI_DB": str(tmp_path / "missing.db"),
        "GROUPS_TUI_CONFIG": str(tmp_path / "absent.toml"),
        "WHATSAPP_ACCESS_TOKEN": "t",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
    }
    assert not any(_complete(env, "groups-tui groups show "))
    assert not (tmp_path / "missing.db").exists()  # completion never creates a database
