"""Run the TUI headless in a fresh interpreter and read what it printed last.

The start-up tests ask a fresh process what opening the TUI imported, or on which
thread: :func:`probe_script` wraps their own code around one headless run (drawn inbox,
then exit), :func:`run_probe` runs it and returns its last line as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_HEADLESS = """
import textual.app
import groups_tui.ui.app as ui_app

real_run, real_make = textual.app.App.run_async, ui_app.make_app

async def run_async(self, **kwargs):
    kwargs["headless"] = True
    return await real_run(self, **kwargs)

def make_app(service, **kwargs):
    started = kwargs["on_started"]
    async def then_quit():
{on_started}
        app.exit()
    kwargs["on_started"] = then_quit
    app = real_make(service, **kwargs)
    return app

textual.app.App.run_async = run_async
ui_app.make_app = make_app
"""

LAUNCH_THROUGH_CLI = """
from groups_tui.cli import main
try:
    main([])
except SystemExit:
    pass
"""
"""Open the TUI as ``groups-tui`` did before the bare launch skipped click."""

AWAIT_STARTED = "        await started()"
"""The app's own start-up work (inbox, header, background work) runs before the exit."""


def probe_script(
    *, before: str = "", on_started: str = AWAIT_STARTED, launch: str, after: str
) -> str:
    """A script: ``before``, a headless TUI that runs ``on_started`` (indented 8 spaces)
    once drawn and then exits, started by ``launch``, then ``after`` (which prints)."""
    return "\n".join(
        ("import json, sys", before, _HEADLESS.format(on_started=on_started), launch, after)
    )


def live_env(tmp_path: Path, *, config: str | None = None, **extra: str) -> dict[str, str]:
    """Live credentials towards a closed port, a database and config under ``tmp_path``.

    With ``config``, that TOML is the config file (mode 0600) and ``tmp_path`` is HOME.
    """
    if config is not None:
        path = tmp_path / "config.toml"
        path.write_text(config, encoding="utf-8")
        path.chmod(0o600)
        extra = {"HOME": str(tmp_path), "GROUPS_TUI_CONFIG": str(path)} | extra
    return (
        dict(
            os.environ,
            WHATSAPP_ACCESS_TOKEN="token",
            WHATSAPP_PHONE_NUMBER_ID="100000000000001",
            WHATSAPP_API_BASE_URL="http://127.0.0.1:9",
            GROUPS_TUI_DB=str(tmp_path / "groups.db"),
            GROUPS_TUI_CONFIG=str(tmp_path / "none.toml"),
        )
        | extra
    )


def run_probe(script: str, env: dict[str, str]) -> Any:
    """Run ``script`` in a fresh interpreter; its last line of output, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])
