"""Command line: the TUI by default, plus scriptable subcommands with ``--json``.

Exit codes: 0 on success, 1 on a Cloud API error or an outcome that is not a success (a
send whose outcome is unknown, a join request or a removal the API refused; the reason on
stderr), 2 on a usage or configuration error (see :mod:`.common`). Every line printed goes
through :mod:`groups_tui.cli_output` (untrusted text never reaches the terminal raw).

Each subcommand lives in its own module (here, or beside its subsystem: listener, sandbox,
automations, workers, web, completion) and is imported only when it runs
(:mod:`.lazy`), so ``--help`` and opening the TUI import none of them.
"""

from __future__ import annotations

import gc

import click

from groups_tui.cli.common import EXIT_USAGE
from groups_tui.cli.lazy import LazyCommand, LazyGroup
from groups_tui.cli_output import fail, install_log_handler

__all__ = ["COMMANDS", "main"]

COMMANDS: dict[str, LazyCommand] = {
    "config": LazyCommand(
        "groups_tui.cli.config_cmds:config", "Where settings live and whether they are complete."
    ),
    "groups": LazyCommand("groups_tui.cli.groups:groups", "List, show, create and delete groups."),
    "invite-link": LazyCommand(
        "groups_tui.cli.groups:invite_link", "Print (or reset) a group's invite link."
    ),
    "members": LazyCommand("groups_tui.cli.members:members", "List and remove group members."),
    "requests": LazyCommand(
        "groups_tui.cli.members:requests", "List, approve and reject join requests."
    ),
    "messages": LazyCommand(
        "groups_tui.cli.messages:messages", "Read a group's conversation from the local database."
    ),
    "templates": LazyCommand(
        "groups_tui.cli.messages:templates", "The account's approved message templates."
    ),
    "report": LazyCommand(
        "groups_tui.cli.report:report", "Reports from the local database: spend."
    ),
    "send": LazyCommand("groups_tui.cli.sending:send", "Send messages to a group."),
    "cost": LazyCommand(
        "groups_tui.cli.sending:cost", "Preview what a send to the group would cost now."
    ),
    "audit": LazyCommand(
        "groups_tui.cli.audit:audit",
        "Operator actions, newest first: who, what, which group and people, the API's answer.",
    ),
    "serve": LazyCommand(
        "groups_tui.cli.team:serve",
        "Run the team daemon: the account's secrets, webhooks, automations and every write.",
    ),
    "whoami": LazyCommand(
        "groups_tui.cli.team:whoami",
        "Who the daemon says you are: user, role, scope and today's remaining spend.",
    ),
    "announce": LazyCommand(
        "groups_tui.automations.commands:announce_command",
        "Send one template to many groups, with the total cost first (resumable).",
    ),
    "automations": LazyCommand(
        "groups_tui.automations.commands:automations_group",
        "Invite flows and event forwarding: status, pause, resume, recent runs.",
        children={
            "run": LazyCommand(
                "groups_tui.workers.commands:automations_run_command",
                "Follow the database and run invite flows and forwarding (beside `listen`).",
            )
        },
    ),
    "db": LazyCommand("groups_tui.cli.db:db", "Back up and check the local database."),
    "events": LazyCommand(
        "groups_tui.listener.commands:events_group",
        "Inspect and replay the raw webhook log.",
        children={
            "tail": LazyCommand(
                "groups_tui.automations.commands:events_tail_command",
                "Stream applied group events (the forwarding feed), one JSON object per line.",
            )
        },
    ),
    "listen": LazyCommand(
        "groups_tui.listener.commands:listen_command",
        "Receive Cloud API webhooks headless, storing each before acknowledging it.",
    ),
    "sandbox": LazyCommand(
        "groups_tui.cli.sandbox:sandbox",
        "Run the WhatsApp Groups API sandbox until Ctrl-C.",
    ),
    "web": LazyCommand(
        "groups_tui.web:web_command", "Serve the TUI to a browser (one TUI process per tab)."
    ),
    "completion": LazyCommand(
        "groups_tui.completion:completion_command",
        "Print the completion script for SHELL (bash, zsh or fish).",
    ),
}
"""Every subcommand of ``groups-tui``, by name."""


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="groups-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """groups-tui: a terminal inbox for WhatsApp Cloud API groups.

    Without a command, opens the TUI (on the embedded sandbox when no Meta credentials
    are configured).
    """
    if ctx.invoked_subcommand is None:
        # No cyclic collection while the TUI starts: everything allocated until the inbox
        # is drawn stays alive (the app freezes it, then turns the collector back on).
        gc.disable()
        from groups_tui.config import ConfigError, load_settings
        from groups_tui.tui_runner import run_tui

        try:
            run_tui(load_settings())
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        return
    install_log_handler()  # a command's log lines reach the terminal made visible
