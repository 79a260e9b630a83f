"""What the TUI starts once the inbox is in loads off the event loop, so a key typed right
after the inbox is ready waits for none of it (the figure is in ``bench/ui.py``: "key at
ready -> frame")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_PROBE = """
import importlib.abc, json, sys, threading
import httpx
import textual.app
import groups_tui.ui.app as ui_app

WATCHED = {
    "groups_tui.workers.lease",
    "groups_tui.workers.moderation",
    "groups_tui.workers.runner",
    "groups_tui.service.sending",
    "groups_tui.service.admin",
    "groups_tui.service.moderation",
}
where = {}

class Recorder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in WATCHED:
            where[name] = threading.current_thread() is threading.main_thread()
        return None

sys.meta_path.insert(0, Recorder())
real_client_init = httpx.AsyncClient.__init__

def client_init(self, *args, **kwargs):
    where["httpx.AsyncClient()"] = threading.current_thread() is threading.main_thread()
    real_client_init(self, *args, **kwargs)

httpx.AsyncClient.__init__ = client_init
real_run, real_make = textual.app.App.run_async, ui_app.make_app

async def run_async(self, **kwargs):
    kwargs["headless"] = True
    return await real_run(self, **kwargs)

def make_app(service, **kwargs):
    started = kwargs["on_started"]
    async def then_quit():
        await started()
        for worker in list(app.workers):
            if worker.group in ("header", "pricing-evidence"):
                await worker.wait()
        app.exit()
    kwargs["on_started"] = then_quit
    app = real_make(service, **kwargs)
    return app

textual.app.App.run_async = run_async
ui_app.make_app = make_app
from groups_tui.cli import main
try:
    main([])
except SystemExit:
    pass
print(json.dumps(where))
"""

_CONFIG = """
[[automations.forward]]
name = "crm"
url = "http://127.0.0.1:9/hook"
kinds = ["message.*"]
"""


def test_workers_and_service_parts_load_off_the_event_loop(tmp_path: Path) -> None:
    # GIVEN live credentials and an [automations] table (the runner starts in the TUI)
    config = tmp_path / "config.toml"
    config.write_text(_CONFIG, encoding="utf-8")
    config.chmod(0o600)
    env = dict(
        os.environ,
        HOME=str(tmp_path),
        WHATSAPP_ACCESS_TOKEN="token",
        WHATSAPP_PHONE_NUMBER_ID="100000000000001",
        WHATSAPP_API_BASE_URL="http://127.0.0.1:9",
        GROUPS_TUI_DB=str(tmp_path / "groups.db"),
        GROUPS_TUI_CONFIG=str(config),
    )
    # WHEN the TUI opens, draws its inbox and starts its background work
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    ).stdout
    on_main_thread = json.loads(out.strip().splitlines()[-1])
    # THEN the workers' and the sub-APIs' modules, and the forwarding HTTP client (its CA
    # bundle), were loaded on another thread than the event loop's
    assert set(on_main_thread) == {
        "groups_tui.workers.lease",
        "groups_tui.workers.moderation",
        "groups_tui.workers.runner",
        "groups_tui.service.sending",
        "groups_tui.service.admin",
        "groups_tui.service.moderation",
        "httpx.AsyncClient()",
    }, on_main_thread
    assert not any(on_main_thread.values()), on_main_thread
