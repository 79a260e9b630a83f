"""``groups-tui config``: where settings live and whether they are complete."""

from __future__ import annotations

import click

from groups_tui.cli.common import EXIT_USAGE, emit, json_option
from groups_tui.cli_output import echo, fail
from groups_tui.config import ConfigError, config_path, load_settings

__all__ = ["config"]


@click.group()
def config() -> None:
    """Where settings live and whether they are complete."""


@config.command("path")
@json_option
def config_path_cmd(as_json: bool) -> None:
    """Print the config file's path."""
    emit({"config_file": str(config_path())}, as_json, lambda d: d["config_file"])


@config.command("check")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def config_check(as_json: bool) -> None:
    """Show each setting as set or missing (never its value)."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    rows = settings.status_lines()
    mode = "live" if settings.is_live else "sandbox"
    if as_json:
        emit(
            {
                "mode": mode,
                "config_file": str(config_path()),
                "settings": {name: ("set" if present else "missing") for name, _, present in rows},
            },
            True,
            str,
        )
        return
    echo(f"config file: {config_path()}")
    for name, _desc, present in rows:
        echo(f"  {name:<32} {'set' if present else 'missing'}")
    if settings.is_live:
        echo("mode: LIVE (talks to the Cloud API)")
    else:
        echo(
            "mode: SANDBOX (no WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID; "
            "the TUI runs on simulated users)"
        )
