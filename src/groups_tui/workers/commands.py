"""``groups-tui automations run``: the automation runner, headless, beside ``listen``.

The CLI registers :data:`automations_run_command` in the ``automations`` group of
:mod:`groups_tui.automations.commands` (status, pause, resume, runs): those read and
switch the automations through the service; this one hosts the runner that does them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from groups_tui.automations.commands import (
    async_command,
    automations_config,
    cli_service,
    config_option,
    json_option,
)
from groups_tui.cli_output import echo, echo_json, fail

EXIT_USAGE = 2

__all__ = ["automations_run_command"]


@click.command("run")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 60),
    default=0.5,
    show_default=True,
    help="Seconds between passes.",
)
@click.option("--once", is_flag=True, help="One pass, then exit.")
@config_option
@json_option
@async_command
async def automations_run_command(
    interval: float, once: bool, config_file: Path | None, as_json: bool
) -> int:
    """Follow the database and run invite flows and forwarding (beside `listen`)."""
    from groups_tui.workers.lease import RunnerLease
    from groups_tui.workers.runner import AutomationRunner

    config = automations_config(config_file)
    async with cli_service() as service:
        if not service.automations_run_here:
            fail(
                "a team daemon runs the automations (`groups-tui serve`); nothing to run here",
                EXIT_USAGE,
            )
        runner = AutomationRunner(service, config, poll_interval=interval)
        if once:
            holder = await service.automations.runner_pid()
            if holder is not None:
                fail(f"automations run in process {holder}", EXIT_USAGE)
            result = await runner.step()
            await runner.stop()
            if as_json:
                echo_json(result)
                return 0
            echo(
                f"{result.changes_seen} change(s), {result.messages_seen} 1:1 "
                f"message(s), {result.invites_started} invite(s), "
                f"{result.delivered} delivered, {result.delivery_failures} failed"
            )
            return 0
        # --json without --once: the runner reports nothing per pass; its failures are
        # in `automations runs --json`.
        lease = RunnerLease(service, runner.start, runner.stop, holder="automations run")
        other = await lease.start()
        if other is not None:
            echo(f"automations run in process {other}; waiting to take over", err=True)
        else:
            echo("following; Ctrl-C stops", err=True)
        try:
            await asyncio.Event().wait()
        finally:
            await lease.stop()
            await runner.stop()
    return 0
