"""What the TUI starts once the inbox is in loads off the event loop, so a key typed right
after the inbox is ready waits for none of it (the figure is in ``bench/ui.py``: "key at
ready -> frame")."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.tui_probe import LAUNCH_THROUGH_CLI, live_env, probe_script, run_probe

_RECORDER = """
import importlib.abc, threading
import httpx

WATCHED = {
    "groups_tui.workers.lease",
    "groups_tui.workers.moderation",
    "groups_tui.workers.runner",
    "groups_tui.service.sending",
    "groups_tui.service.admin",
    "groups_tui.service.moderation",
    "groups_tui.store.raw_log",
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
"""

_PROBE = probe_script(
    before=_RECORDER,
    on_started="""\
        await started()
        for worker in list(app.workers):
            if worker.group in ("header", "pricing-evidence"):
                await worker.wait()""",
    launch=LAUNCH_THROUGH_CLI,
    after="print(json.dumps(where))",
)

_CONFIG = """
[[automations.forward]]
name = "crm"
url = "http://127.0.0.1:9/hook"
kinds = ["message.*"]
"""


def test_workers_and_service_parts_load_off_the_event_loop(tmp_path: Path) -> None:
    # GIVEN live credentials and an [automations] table (the runner starts in the TUI)
    env = live_env(tmp_path, config=_CONFIG)
    # WHEN the TUI opens, draws its inbox and starts its background work
    on_main_thread = run_probe(_PROBE, env)
    # THEN the workers', the sub-APIs' and the raw log's modules (the header's listener
    # figures: the applier, every webhook event) were loaded on another thread than the
    # event loop's, and no forwarding HTTP client (its CA bundle) was built: nothing was
    # forwarded yet (the first delivery builds it, off the loop too)
    assert set(on_main_thread) == {
        "groups_tui.workers.lease",
        "groups_tui.workers.moderation",
        "groups_tui.workers.runner",
        "groups_tui.service.sending",
        "groups_tui.service.admin",
        "groups_tui.service.moderation",
        "groups_tui.store.raw_log",
    }, on_main_thread
    assert not any(on_main_thread.values()), on_main_thread
