"""The ``listen`` and ``events`` commands."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from groups_tui.listener.commands import events_group, listen_command
from groups_tui.store.apply.groups import GroupApplier
from tests.helpers.webhooks import fixture, fixture_bytes, fixture_names

from .support import running_listener


async def _log_fixtures(db: Path) -> None:
    async with running_listener(db) as running:
        await running.deliver(fixture_bytes(n) for n in fixture_names())


@pytest.fixture
def logged_db(tmp_path: Path) -> Path:
    db = tmp_path / "groups.db"
    asyncio.run(_log_fixtures(db))
    return db


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(events_group, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_stats_list_show_and_replay(logged_db: Path) -> None:
    db = ["--db", str(logged_db)]
    stats = json.loads(_run(["stats", "--json", *db]))
    assert stats["events_stored"] == len(fixture_names())
    assert stats["unapplied"] == 0
    assert stats["signatures_refused"] == 0
    listed = json.loads(_run(["list", "--json", "--limit", "1000", *db]))
    assert [item["id"] for item in listed] == list(range(1, len(fixture_names()) + 1))
    shown = json.loads(_run(["show", str(listed[0]["id"]), "--json", *db]))
    assert shown["body"] == json.loads(fixture_bytes(fixture_names()[0]))
    assert shown["events"]
    replay = json.loads(_run(["replay", "--json", *db]))
    assert replay["identical"] is True
    assert replay["replayed"] == len(fixture_names())


def test_listen_refuses_to_start_without_app_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHATSAPP_APP_SECRET", raising=False)
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(tmp_path / "absent.toml"))
    result = CliRunner().invoke(listen_command, ["--port", "0", "--db", str(tmp_path / "g.db")])
    assert result.exit_code == 2
    assert "--insecure-no-signature" in result.output
    assert not (tmp_path / "g.db").exists()


def test_events_on_missing_database_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(events_group, ["stats", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 2
    assert "no database" in result.output


async def _log_with_a_broken_settings_handler(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = GroupApplier.settings_changed

    def broken(applier: GroupApplier, event: Any) -> None:
        original(applier, event)
        raise RuntimeError("settings handler bug")

    monkeypatch.setattr(GroupApplier, "settings_changed", broken)
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    *fixture("lifecycle_group_create")["entry"][0]["changes"],
                    *fixture("settings_update_success")["entry"][0]["changes"],
                    *fixture("messages_inbound_text")["entry"][0]["changes"],
                ],
            }
        ],
    }
    try:
        async with running_listener(db) as running:
            await running.deliver([json.dumps(body).encode()])
    finally:
        monkeypatch.undo()


def test_failed_events_are_listed_counted_and_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a body of three changes whose settings change failed to apply (a bug of the
    # version that received it), the other two applied
    db = tmp_path / "groups.db"
    asyncio.run(_log_with_a_broken_settings_handler(db, monkeypatch))
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(tmp_path / "absent.toml"))
    args = ["--db", str(db)]
    # THEN stats counts it, and list --failed names the event and why
    stats = json.loads(_run(["stats", "--json", *args]))
    assert (stats["errors"], stats["failed_events"], stats["unapplied"]) == (1, 1, 0)
    assert "failed events 1" in _run(["stats", *args])
    [failed] = json.loads(_run(["list", "--failed", "--json", *args]))
    assert (failed["raw_id"], failed["index"], failed["kind"]) == (1, 1, "group.updated")
    assert "settings handler bug" in failed["reason"]
    assert "group.updated" in _run(["list", "--failed", *args])
    # WHEN, after the upgrade, the failed events are replayed
    result = json.loads(_run(["replay", "--failed", "--json", *args]))
    # THEN it is applied and nothing is left failing
    assert result == {
        "rows": 1,
        "failed_events_before": 1,
        "failed_events": 0,
        "rows_still_failing": 0,
    }
    assert json.loads(_run(["list", "--failed", "--json", *args])) == []
    assert _run(["list", "--failed", *args]).strip() == "no failed events"
    stats = json.loads(_run(["stats", "--json", *args]))
    assert (stats["errors"], stats["failed_events"]) == (0, 0)
    # AND a full replay of the log rebuilds that same state
    assert json.loads(_run(["replay", "--json", *args]))["identical"] is True
