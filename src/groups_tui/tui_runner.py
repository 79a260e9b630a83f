"""Open the TUI: live when credentials are configured, otherwise on the embedded sandbox."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from groups_tui.config import ConfigError, Settings
from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.runtime import open_live_service, open_sandbox_runtime
from groups_tui.service import InboxService

if TYPE_CHECKING:
    from groups_tui.automations.config import AutomationsConfig

SANDBOX_NOTE = "SANDBOX — simulated users"
RUNNER_ELSEWHERE = "automations run in process {pid}"
"""The header's note when another process holds the runner lease."""


def moderation_config(settings: Settings) -> ModerationConfig:
    """The moderation rules from the ``[moderation]`` config table."""
    try:
        return ModerationConfig.from_mapping(settings.moderation)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def _run(settings: Settings) -> None:
    from groups_tui.automations.config import load_automations
    from groups_tui.daemon.client import find_socket, open_remote_service
    from groups_tui.ui.app import make_app
    from groups_tui.ui.cell_widths import count_spacing_marks_as_one_cell

    automations = load_automations()
    socket_path = find_socket(settings.socket)
    async with AsyncExitStack() as stack:
        notes: list[str] = []
        service: InboxService
        if socket_path is not None:
            # Team mode: the daemon runs the workers and does every write.
            remote = await stack.enter_async_context(open_remote_service(socket_path))
            service = remote
            role = remote.session.role.label if remote.session.role else "no role"
            notes.append(f"team: {remote.session.user} ({role})")
        else:
            if settings.is_live:
                service = await stack.enter_async_context(open_live_service(settings))
            else:
                runtime = await stack.enter_async_context(open_sandbox_runtime(settings))
                service = runtime.service
                notes.append(SANDBOX_NOTE)
            other = await _start_workers(stack, service, settings, automations)
            if other is not None:
                notes.append(RUNNER_ELSEWHERE.format(pid=other))
        service.automations.configure(automations.setup())
        if settings.spacing_marks == "one":
            count_spacing_marks_as_one_cell()
        app = make_app(
            service,
            clock=service.clock,
            bell=settings.bell,
            sandbox_note=" · ".join(notes) or None,
            automations=service.automations if service.automations.configured else None,
            freeze_heap=True,
        )
        await app.run_async()


async def _start_workers(
    stack: AsyncExitStack,
    service: InboxService,
    settings: Settings,
    automations: AutomationsConfig,
) -> int | None:
    """Run the moderation watcher and the automations here if no other process does.

    Returns:
        The pid of the process that runs them instead (single-user mode, another TUI or
        ``automations run`` on the same database), or ``None``.
    """
    from groups_tui.workers.lease import RunnerLease
    from groups_tui.workers.moderation import ModerationWatcher
    from groups_tui.workers.runner import AutomationRunner

    watcher = ModerationWatcher(service, moderation_config(settings))
    service.automations.configure(automations.setup())
    # Invite flows and forwarding run here too; `groups-tui automations run` runs them
    # headless beside `groups-tui listen`.
    runner = (
        AutomationRunner(service, automations, clock=service.clock)
        if service.automations.configured
        else None
    )

    async def start() -> None:
        watcher.start()
        if runner is not None:
            await runner.start()

    async def stop() -> None:
        await watcher.stop()
        if runner is not None:
            await runner.stop()

    lease = RunnerLease(service, start, stop, holder="tui")
    other = await lease.start()
    stack.push_async_callback(lease.stop)
    return other


def run_tui(settings: Settings) -> None:
    """Run the TUI until the operator quits."""
    asyncio.run(_run(settings))
