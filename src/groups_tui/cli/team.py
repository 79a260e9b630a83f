"""Team mode commands: ``groups-tui serve`` (the daemon) and ``groups-tui whoami``."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import click

from groups_tui.cli.common import EXIT_USAGE, emit, json_option, run_async
from groups_tui.cli_output import LOG_LEVELS, echo, fail, install_log_handler
from groups_tui.config import ConfigError, Settings, load_settings

__all__ = ["serve", "whoami"]

log = logging.getLogger("groups_tui.daemon")


def _socket_default(settings: Settings) -> Path:
    from groups_tui.daemon.wire import DEFAULT_SOCKET

    return settings.socket or DEFAULT_SOCKET


@click.command("serve")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Unix socket to serve on (default: GROUPS_TUI_SOCKET or /run/groups-tui/groups-tui.sock).",
)
@click.option(
    "--roles",
    "roles_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Roles file (default: GROUPS_TUI_ROLES or /etc/groups-tui/roles.toml).",
)
@click.option(
    "--group",
    "socket_group",
    default=None,
    help="Unix group of the operators: they may connect to the socket and read the database.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Webhook listener interface.")
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option("--path", "hook_path", default="/webhook", show_default=True, help="Callback path.")
@click.option(
    "--log-level",
    type=click.Choice(list(LOG_LEVELS)),
    default="info",
    show_default=True,
    help="info logs every call (user, role, operation, outcome); warning only problems.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: LEVEL message lines; json: one JSON object per line (for log collectors).",
)
@click.option("--check", is_flag=True, help="Validate the settings and the roles file, then exit.")
def serve(
    socket_path: Path | None,
    roles_path: Path | None,
    socket_group: str | None,
    host: str,
    port: int,
    hook_path: str,
    log_level: str,
    log_format: str,
    check: bool,
) -> None:
    """Run the team daemon: the account's secrets, webhooks, automations and every write.

    Operators' TUIs and commands connect to its socket and act with the role the roles
    file gives their Unix user. SIGTERM stops it cleanly; SIGHUP reloads the roles file.
    """
    from groups_tui.daemon.server import RolesFileError, load_roles

    install_log_handler(LOG_LEVELS[log_level], json_lines=log_format == "json", levels=True)
    # The daemon logs each call itself; the HTTP client's per-request lines only at debug.
    logging.getLogger("httpx").setLevel(min(logging.WARNING, LOG_LEVELS[log_level] + 10))
    try:
        settings = load_settings()
        roles_file = roles_path or settings.roles_file
        roles = load_roles(roles_file)
        _check_settings(settings, socket_group)
    except (ConfigError, RolesFileError) as exc:
        fail(str(exc), EXIT_USAGE)
    socket_file = socket_path or _socket_default(settings)
    if check:
        echo(
            f"ok: account {settings.phone_number_id}, database {settings.db_path}, "
            f"socket {socket_file}, roles {roles_file} ({len(roles.grants)} grant(s))"
        )
        return
    from groups_tui.runtime import ListenOptions

    try:
        asyncio.run(
            _serve(
                settings,
                roles_file=roles_file,
                socket_file=socket_file,
                socket_group=socket_group,
                listen=ListenOptions(host=host, port=port, path=hook_path),
            )
        )
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        fail(f"cannot serve: {exc.strerror or exc}", EXIT_USAGE)


def _check_settings(settings: Settings, socket_group: str | None) -> None:
    """Everything the daemon needs before it starts (``serve --check`` runs only this)."""
    import grp

    from groups_tui.automations.config import load_automations
    from groups_tui.runtime import pricing_config
    from groups_tui.tui_runner import moderation_config

    if not settings.is_live:
        raise ConfigError(
            "the daemon needs the account: set WHATSAPP_ACCESS_TOKEN and "
            "WHATSAPP_PHONE_NUMBER_ID (in its environment or its config file)"
        )
    if not (settings.app_secret and settings.app_secret.get_secret_value()):
        raise ConfigError("no app secret: set WHATSAPP_APP_SECRET so webhooks can be checked")
    if socket_group is not None:
        try:
            grp.getgrnam(socket_group)
        except KeyError:
            raise ConfigError(f"no Unix group named {socket_group!r}") from None
    moderation_config(settings)
    pricing_config(settings)
    load_automations()


async def _serve(
    settings: Settings,
    *,
    roles_file: Path,
    socket_file: Path,
    socket_group: str | None,
    listen: Any,
) -> None:
    from groups_tui.automations.config import load_automations
    from groups_tui.daemon.server import Daemon, load_roles
    from groups_tui.runtime import open_serving_runtime
    from groups_tui.tui_runner import moderation_config
    from groups_tui.workers.lease import RunnerLease
    from groups_tui.workers.moderation import ModerationWatcher
    from groups_tui.workers.runner import AutomationRunner

    rules = moderation_config(settings)
    automations = load_automations()
    async with AsyncExitStack() as stack:
        service, listener = await stack.enter_async_context(open_serving_runtime(settings, listen))
        service.automations.configure(automations.setup())
        watcher = ModerationWatcher(service, rules)
        runner = (
            AutomationRunner(service, automations, clock=service.clock)
            if service.automations.configured
            else None
        )

        async def start_workers() -> None:
            watcher.start()
            if runner is not None:
                await runner.start()

        async def stop_workers() -> None:
            await watcher.stop()
            if runner is not None:
                await runner.stop()

        lease = RunnerLease(service, start_workers, stop_workers, holder="daemon")
        other = await lease.start()
        stack.push_async_callback(lease.stop)
        if other is not None:
            log.warning(
                "automations run in process %d (single-user mode); they move here once it stops",
                other,
            )
        daemon = Daemon(
            service,
            load_roles(roles_file),
            roles_path=roles_file,
            socket_path=socket_file,
            db_path=settings.db_path,
            socket_group=socket_group,
            listener_url=listener.url,
            automations_running=lambda: lease.running,
        )
        stop = _signals(daemon)  # before saying it is ready
        stack.callback(_no_signals)
        await daemon.start()
        stack.push_async_callback(daemon.stop)
        log.info("webhooks on %s", listener.url)
        echo(f"url {listener.url}")
        echo(f"socket {socket_file}")
        sys.stdout.flush()
        await stop.wait()
        log.info("stopping")


def _signals(daemon: Any) -> asyncio.Event:
    """SIGTERM and SIGINT set the returned event; SIGHUP reloads the roles file."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload_roles)
    return stop


def _no_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.remove_signal_handler(sig)


@click.command("whoami")
@json_option
@run_async
async def whoami(as_json: bool) -> None:
    """Who the daemon says you are: user, role, scope and today's remaining spend."""
    from groups_tui.daemon.client import DaemonClient
    from groups_tui.daemon.wire import find_socket

    settings = load_settings()
    socket_file = find_socket(settings.socket)
    if socket_file is None:
        import getpass

        user = getpass.getuser()
        info: dict[str, Any] = {
            "user": user,
            "role": "admin",
            "mode": "single-user",
            "scope": ["all groups"],
            "daily_cap": None,
            "remaining_today": None,
        }
    else:
        daemon = DaemonClient(socket_file)
        try:
            session = await daemon.session()
        finally:
            await daemon.aclose()
        info = {
            "user": session.user,
            "uid": session.uid,
            "role": session.role.label if session.role else None,
            "mode": "team",
            "socket": str(socket_file),
            "scope": [f"{g.role.label}: {g.scope_text()}" for g in session.grants],
            "daily_cap": None if session.daily_cap is None else str(session.daily_cap),
            "spent_today": str(session.spent_today),
            "remaining_today": None if session.remaining is None else str(session.remaining),
        }

    def text(value: dict[str, Any]) -> str:
        lines = [f"user    {value['user']}"]
        if value["mode"] == "single-user":
            lines.append("role    admin (single-user mode: no daemon)")
            return "\n".join(lines)
        lines.append(f"role    {value['role'] or 'none (no grant in the roles file)'}")
        lines.extend(f"scope   {s}" for s in value["scope"] or ["none"])
        if value["daily_cap"] is None:
            lines.append("spend   no daily cap")
        else:
            lines.append(
                f"spend   ${value['remaining_today']} left today "
                f"(cap ${value['daily_cap']}, spent ${value['spent_today']})"
            )
        return "\n".join(lines)

    emit(info, as_json, text)
