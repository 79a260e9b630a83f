"""Nothing below the UI imports Textual: headless entry points stay light and safe."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS_MODULES = [
    "groups_tui.cli",
    "groups_tui.service",
    "groups_tui.store",
    "groups_tui.cloud",
    "groups_tui.domain",
    "groups_tui.listener.commands",
    "groups_tui.sandbox.commands",
    "groups_tui.runtime",
    "groups_tui.cli_output",
    "groups_tui.automations.commands",
    "groups_tui.workers.moderation",
    "groups_tui.workers.runner",
    "groups_tui.workers.commands",
]


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_headless_module_does_not_import_textual(module: str) -> None:
    # GIVEN a fresh interpreter WHEN the module is imported
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'textual')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    # THEN Textual was not loaded (rich may be: httpx imports it for its own CLI)
    assert out == ""
