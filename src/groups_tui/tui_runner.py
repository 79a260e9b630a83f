"""Open the TUI: live when credentials are configured, otherwise on the embedded sandbox."""

from __future__ import annotations

import asyncio

from groups_tui.config import Settings
from groups_tui.runtime import open_live_service, open_sandbox_runtime

SANDBOX_NOTE = "SANDBOX — simulated users"


async def _run(settings: Settings) -> None:
    from groups_tui.ui.app import make_app

    if settings.is_live:
        async with open_live_service(settings) as service:
            await make_app(service, clock=service.clock, bell=settings.bell).run_async()
        return
    async with open_sandbox_runtime(settings) as runtime:
        app = make_app(
            runtime.service,
            clock=runtime.service.clock,
            bell=settings.bell,
            sandbox_note=SANDBOX_NOTE,
        )
        await app.run_async()


def run_tui(settings: Settings) -> None:
    """Run the TUI until the operator quits."""
    asyncio.run(_run(settings))
