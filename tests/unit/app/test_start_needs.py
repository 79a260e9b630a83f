"""Until every inbox row is in, the TUI's start imports only what the inbox needs: not the
phone-number library, the webhook events, the applier, the cost previews or an HTTP
client. The configuration is still checked before the TUI opens (a bad value is a
one-line error, see ``test_start_imports``), without reading any module's source; the
time saved is in ``bench/ui.py`` ("CPU until ready")."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.tui_probe import live_env, probe_script, run_probe

_SNAPSHOT = """
import inspect

sources_read = []
real_findsource = inspect.findsource

def findsource(obj):
    sources_read.append(repr(obj))
    return real_findsource(obj)

inspect.findsource = findsource

import groups_tui.ui.app as snap_app

at_ready = []
real_complete = snap_app.GroupsApp.inbox_complete

def inbox_complete(self):
    if not at_ready:
        at_ready.append(sorted(sys.modules))
        at_ready.append(list(sources_read))
    real_complete(self)

snap_app.GroupsApp.inbox_complete = inbox_complete
"""

_PROBE = probe_script(
    before=_SNAPSHOT,
    on_started="        pass",  # quit once every row is in
    launch="""
sys.argv = ["groups-tui"]
from groups_tui.__main__ import run
try:
    run()
except SystemExit as exc:
    print(json.dumps({"exit": exc.code, "ready": at_ready[0], "sources": at_ready[1]}))
""",
    after="",
)

_CONFIG = """
[pricing]
evidence_min = 50

[moderation.link_flood]
count = 3

[moderation.blocklist]
entries = ["+234", "447700900123"]

[automations.pacing]
group_ops_per_second = 3

[[automations.invite_rules]]
name = "join"
keywords = ["join", "invite"]
group_id = "G00001"

[[automations.forward]]
name = "crm"
url = "http://127.0.0.1:9/hook"
kinds = ["message.*"]
"""

NOT_FOR_THE_INBOX = {
    "phonenumbers",  # a member's market: previews and the pricing evidence
    "groups_tui.domain.events",  # the webhook events: the applier and the syncs
    "groups_tui.store.apply",  # the applier: the listener, replays, syncs
    "groups_tui.store.automations",  # the automations' rows: the runner, their screen
    "groups_tui.domain.pricing.preview",  # cost previews: the composer
    "groups_tui.domain.pricing.explain",
    "pydantic",  # the API's response models: the settings and [automations] do without
}


def test_the_inbox_is_ready_before_what_it_does_not_need_is_imported(tmp_path: Path) -> None:
    # GIVEN live credentials, [pricing], [moderation] and [automations] tables (all checked
    # before the TUI opens), a fresh interpreter
    env = live_env(tmp_path, config=_CONFIG)
    # WHEN `groups-tui` opens the TUI and every inbox row is in
    result = run_probe(_PROBE, env)
    # THEN it ran, and none of the modules only later screens and workers use was imported
    assert result["exit"] == 0
    assert "groups_tui.ui.screens.inbox" in result["ready"]
    assert NOT_FOR_THE_INBOX & set(result["ready"]) == set()
    # and no module's source was read to build its classes (the automations' models)
    assert result["sources"] == []


_STARTED_PROBE = probe_script(
    on_started="""\
        await started()
        for worker in list(app.workers):
            if worker.group in ("header", "pricing-evidence"):
                await worker.wait()
        loaded.extend(sorted(sys.modules))""",
    before="loaded = []",
    launch="""
sys.argv = ["groups-tui"]
from groups_tui.__main__ import run
try:
    run()
except SystemExit as exc:
    print(json.dumps({"exit": exc.code, "started": loaded}))
""",
    after="",
)


def test_the_started_workers_import_no_http_client_before_a_request(tmp_path: Path) -> None:
    # GIVEN the same configuration (a forwarding target over HTTP, live credentials)
    env = live_env(tmp_path, config=_CONFIG)
    # WHEN the TUI has started its watcher and automation runner, header and evidence read
    result = run_probe(_STARTED_PROBE, env)
    # THEN the runner ran; httpx waits for the first Cloud API call or forward, the API's
    # response models for the first template sent, phonenumbers for the first cost
    # preview or flag reason worded
    assert result["exit"] == 0
    assert "groups_tui.workers.runner" in result["started"]
    assert {"httpx", "groups_tui.cloud.models", "phonenumbers"} & set(result["started"]) == set()
