"""Open the TUI: live when credentials are configured, otherwise on the embedded sandbox.

The inbox is on screen before anything it does not need is imported or started: the
Cloud API client is built on its first call (:class:`~groups_tui.service.LazyClient`),
and the moderation watcher and the automation runner start once every inbox row is in
(they follow the change feed from their stored positions, so they miss nothing), under
the runner lease: at most one process runs them, and a second TUI says which one does. In
team mode (a daemon's socket is configured or found) the daemon runs them. Their
configuration is still read and checked before the TUI starts, so a bad value is a
one-line error, not a broken session.

A closed terminal (SIGHUP: an SSH connection dropped, a tmux window killed) or a SIGTERM
ends the TUI as quitting does: the workers stop, the listener applies what it logged and
the sandbox keeps its world; the exit code is then 128 + the signal's number. The terminal
is also watched: when it has gone without a SIGHUP reaching the TUI (a parent that does
not pass it on, such as ``make`` under a non-interactive shell), the TUI ends the same way
(129) instead of hanging on writes nobody reads.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from groups_tui.config import ConfigError, Settings
from groups_tui.runtime import open_live_service, open_sandbox_runtime
from groups_tui.service import InboxService, import_in_thread

if TYPE_CHECKING:
    from pathlib import Path

    from textual.app import App

    from groups_tui.automations.config import AutomationsConfig
    from groups_tui.domain.moderation.config import ModerationConfig

SANDBOX_NOTE = "SANDBOX — simulated users"
KEPT_NOTE = f"{SANDBOX_NOTE}, kept"
"""The header when the sandbox's world and database were kept from the last run."""
FRESH_NOTE = f"{SANDBOX_NOTE}, fresh"
"""The header when the sandbox starts from its seed (first run, reset)."""
WORKER_MODULES = (
    "groups_tui.workers.lease",
    "groups_tui.workers.moderation",
    "groups_tui.workers.runner",
)
"""What :func:`_run_once`'s background work imports (the runner's only with automations)."""
RUNNER_ELSEWHERE = "automations run in process {pid}"
"""The header's note when another process holds the runner lease."""


ENDING_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
"""Signals that end the TUI as quitting does (the terminal closed; a polite kill)."""

TERMINAL_CHECK_SECONDS = 1.0
"""How often the TUI checks that its terminal is still there (see :meth:`_Ending.watch`):
well before the frames queued for a vanished terminal fill the app's output queue."""


class EndedBySignal(Exception):
    """The TUI ended, cleanly, because of a signal (see :data:`ENDING_SIGNALS`)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


class _Ending:
    """Turns an ending signal into the app's exit, so that the stack unwinds."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.app: App[Any] | None = None

    def received(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
        if self.app is not None:
            self.app.exit()

    @contextmanager
    def installed(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in ENDING_SIGNALS:
            loop.add_signal_handler(sig, self.received, sig)
        watch = loop.create_task(self.watch(), name="groups-tui-terminal-watch")
        try:
            yield
        finally:
            watch.cancel()
            for sig in ENDING_SIGNALS:
                loop.remove_signal_handler(sig)

    async def watch(self) -> None:
        """End as on SIGHUP once the terminal the TUI draws on has hung up.

        Textual draws on standard error. A hung-up terminal is no longer a terminal to
        ``isatty``; a TUI not drawn on one (the web server's driver) has nothing to watch.
        """
        try:
            fd = sys.__stderr__.fileno() if sys.__stderr__ is not None else -1
        except (OSError, ValueError):
            return
        if fd < 0 or not os.isatty(fd):
            return
        while True:  # polled: nothing signals a hang-up that did not send SIGHUP
            await asyncio.sleep(TERMINAL_CHECK_SECONDS)
            if not os.isatty(fd):
                self.received(signal.SIGHUP)
                return


def moderation_config(settings: Settings) -> ModerationConfig:
    """The moderation rules from the ``[moderation]`` config table."""
    from groups_tui.domain.moderation.config import ModerationConfig

    try:
        return ModerationConfig.from_mapping(settings.moderation)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def automations_config(settings: Settings) -> AutomationsConfig | None:
    """The ``[automations]`` table, checked; ``None`` when there is none (nothing to run)."""
    if not settings.automations:
        return None
    from groups_tui.automations.config import load_automations

    return load_automations()


async def _run(settings: Settings) -> None:
    from groups_tui.runtime import reset_sandbox

    while await _run_once(settings):
        # The stack has stopped (and kept its world): forget it, then open it again.
        reset_sandbox(settings)


async def _run_once(settings: Settings) -> bool:
    """Open the service and the app until the operator quits.

    Returns:
        True when the operator asked to start the sandbox afresh.

    Raises:
        EndedBySignal: A signal ended it (once everything has stopped as on quitting).
    """
    from groups_tui.daemon.wire import find_socket

    # Checked now (a bad table is a one-line error); the default rules need no import yet.
    rules = moderation_config(settings) if settings.moderation else None
    automations = automations_config(settings)
    socket_path = find_socket(settings.socket)
    ending = _Ending()
    with ending.installed():
        restart = await _open_and_run(settings, socket_path, rules, automations, ending)
    if ending.signum is not None:
        raise EndedBySignal(ending.signum)
    return restart


async def _open_and_run(
    settings: Settings,
    socket_path: Path | None,
    rules: ModerationConfig | None,
    automations: AutomationsConfig | None,
    ending: _Ending,
) -> bool:
    from groups_tui.ui.app import make_app
    from groups_tui.ui.cell_widths import count_spacing_marks_as_one_cell
    from groups_tui.ui.preferences import PreferencesFile

    async with AsyncExitStack() as stack:
        notes: list[str] = []
        resettable = False
        service: InboxService
        if socket_path is not None:
            # Team mode: the daemon runs the workers and makes every write.
            from groups_tui.daemon.client import open_remote_service

            remote = await stack.enter_async_context(open_remote_service(socket_path))
            service = remote
            role = remote.session.role.label if remote.session.role else "no role"
            notes.append(f"team: {remote.session.user} ({role})")
        elif settings.is_live:
            service = await stack.enter_async_context(open_live_service(settings))
        else:
            runtime = await stack.enter_async_context(open_sandbox_runtime(settings, publish=True))
            service = runtime.service
            notes.append(KEPT_NOTE if runtime.kept else FRESH_NOTE)
            resettable = True
        if automations is not None:
            service.automations.configure(automations.setup())
        if service.automations_run_here:
            holder = await service.automations.runner_pid()
            if holder is not None:
                notes.append(RUNNER_ELSEWHERE.format(pid=holder))

        async def start_workers() -> None:
            """The watcher and the runner, under the runner lease (one process runs them)."""
            if not service.automations_run_here:
                return
            # Their modules (~190 ms with the runner's) load on a thread: the inbox is on
            # screen and answers keys meanwhile.
            runs_automations = automations is not None and service.automations.configured
            await import_in_thread(*WORKER_MODULES[: None if runs_automations else 2])
            await service.load_parts()
            from groups_tui.workers.lease import RunnerLease
            from groups_tui.workers.moderation import ModerationWatcher

            watcher = ModerationWatcher(service, rules)
            runner = None
            if automations is not None and runs_automations:
                # Invite flows and forwarding run here too; `groups-tui automations run`
                # runs them headless beside `groups-tui listen`.
                from groups_tui.workers.runner import AutomationRunner

                # Its forwarding HTTP client (httpx, the CA bundle) is built on a thread
                # for the first HTTP delivery, not now.
                runner = AutomationRunner(service, automations, clock=service.clock)

            async def start() -> None:
                watcher.start()
                if runner is not None:
                    await runner.start()

            async def stop() -> None:
                await watcher.stop()
                if runner is not None:
                    await runner.stop()

            lease = RunnerLease(service, start, stop, holder="tui")
            stack.push_async_callback(lease.stop)
            await lease.start()

        if settings.spacing_marks == "one":
            count_spacing_marks_as_one_cell()
        app = make_app(
            service,
            clock=service.clock,
            bell=settings.bell,
            sandbox_note=" · ".join(notes) or None,
            sandbox_resettable=resettable,
            automations=service.automations if service.automations.configured else None,
            freeze_heap=True,
            preferences=PreferencesFile(settings.preferences_path),
            keymap=settings.keys,
            on_started=start_workers,
        )
        ending.app = app
        if ending.signum is not None:  # ended while the service was opening
            return False
        try:
            await app.run_async()
        except OSError:
            # Restoring a terminal that has gone away fails; what matters is that the
            # stack unwinds (the workers stop, the world is kept).
            if ending.signum is None:
                raise
        return app.restart_sandbox_afresh and ending.signum is None


def run_tui(settings: Settings) -> None:
    """Run the TUI until the operator quits.

    The cyclic garbage collector waits until the inbox is drawn (the app then freezes
    what start-up allocated, see :meth:`~groups_tui.ui.app.GroupsApp.freeze_heap`): a
    start-up allocates some 100,000 objects that all stay alive, and collecting them
    half-way only costs time.
    """
    gc.disable()  # (the command line has already, before importing the TUI)
    try:
        asyncio.run(_run(settings))
    except EndedBySignal as ended:
        raise SystemExit(ended.exit_code) from None
    finally:
        gc.enable()
