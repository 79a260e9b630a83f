"""``groups-tui sandbox``: the simulator as a standalone server, or ``--reset`` to make
the TUI's embedded sandbox start afresh from its seed."""

from __future__ import annotations

from typing import Any

import click

from groups_tui.cli.common import EXIT_USAGE
from groups_tui.cli_output import echo, fail
from groups_tui.sandbox.commands import sandbox_command

__all__ = ["sandbox"]


def _reset(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from groups_tui.config import ConfigError, load_settings
    from groups_tui.runtime import reset_sandbox

    try:
        removed = reset_sandbox(load_settings())
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if removed:
        echo("The embedded sandbox will start afresh from its seed. Removed:")
        for path in removed:
            echo(f"  {path}")
    else:
        echo("Nothing kept: the embedded sandbox already starts afresh.")
    ctx.exit(0)


@click.command(
    "sandbox",
    params=[
        click.Option(
            ["--reset"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_reset,
            help="Forget the TUI's kept sandbox world and database (the next run starts "
            "afresh from the seed), then exit.",
        ),
        *sandbox_command.params,
    ],
    help=sandbox_command.help,
)
def sandbox(**options: Any) -> None:
    """Run the WhatsApp Groups API sandbox until Ctrl-C."""
    assert sandbox_command.callback is not None
    sandbox_command.callback(**options)
