"""The ``groups-tui sandbox`` command line (argument handling only; serving is tested above)."""

from __future__ import annotations

from click.testing import CliRunner

from groups_tui.sandbox.commands import sandbox_command


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(sandbox_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--port", "--webhook-url", "--seed", "--speed", "--groups", "--token"):
        assert option in result.output


def test_refuses_non_loopback_hosts_and_too_many_groups() -> None:
    runner = CliRunner()
    assert runner.invoke(sandbox_command, ["--host", "0.0.0.0"]).exit_code != 0
    assert runner.invoke(sandbox_command, ["--groups", "10001"]).exit_code != 0
