"""Open the TUI: live when credentials are configured, otherwise on the embedded sandbox."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from groups_tui.config import ConfigError, Settings
from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.runtime import open_live_service, open_sandbox_runtime
from groups_tui.service import InboxService

SANDBOX_NOTE = "SANDBOX — simulated users"


def moderation_config(settings: Settings) -> ModerationConfig:
    """The moderation rules from the ``[moderation]`` config table."""
    try:
        return ModerationConfig.from_mapping(settings.moderation)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def _run(settings: Settings) -> None:
    from groups_tui.automations.config import load_automations
    from groups_tui.ui.app import make_app
    from groups_tui.ui.cell_widths import count_spacing_marks_as_one_cell
    from groups_tui.ui.preferences import PreferencesFile
    from groups_tui.workers.moderation import ModerationWatcher
    from groups_tui.workers.runner import AutomationRunner

    rules = moderation_config(settings)
    automations = load_automations()
    async with AsyncExitStack() as stack:
        note: str | None = None
        service: InboxService
        if settings.is_live:
            service = await stack.enter_async_context(open_live_service(settings))
        else:
            runtime = await stack.enter_async_context(open_sandbox_runtime(settings))
            service = runtime.service
            note = SANDBOX_NOTE
        watcher = ModerationWatcher(service, rules)
        watcher.start()
        stack.push_async_callback(watcher.stop)
        service.automations.configure(automations.setup())
        if service.automations.configured:
            # Invite flows and forwarding run here too; `groups-tui automations run` runs
            # them headless beside `groups-tui listen`.
            runner = AutomationRunner(service, automations, clock=service.clock)
            await runner.start()
            stack.push_async_callback(runner.stop)
        if settings.spacing_marks == "one":
            count_spacing_marks_as_one_cell()
        app = make_app(
            service,
            clock=service.clock,
            bell=settings.bell,
            sandbox_note=note,
            automations=service.automations if service.automations.configured else None,
            freeze_heap=True,
            preferences=PreferencesFile(settings.preferences_path),
            keymap=settings.keys,
        )
        await app.run_async()


def run_tui(settings: Settings) -> None:
    """Run the TUI until the operator quits."""
    asyncio.run(_run(settings))
