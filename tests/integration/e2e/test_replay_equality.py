"""``groups-tui events replay`` rebuilds exactly the state the listener built.

The whole stack runs a day of an account (a group created, people joining, writing,
leaving and being removed, a rename, templates with their priced statuses), then the
``events replay`` command rebuilds the derived state from the raw log in place. Every
table the applier writes must come back row for row, the cost ledger's markets and
amounts included.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from groups_tui.domain.models import TemplateCategory
from groups_tui.listener.commands import events_group
from groups_tui.store.digest import DIGEST_QUERIES

from .support import BR, DE, IN, MX, OP_DELAY, STATUS_HORIZON, US, Stack
from .support import params_for as params


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table the applier writes, as the state digest reads it, row by row."""
    conn = sqlite3.connect(db)
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in DIGEST_QUERIES}
    finally:
        conn.close()


async def _a_day_of_the_account(stack: Stack) -> None:
    service = stack.service
    group_id = await stack.create_group("Order 1042 - delivery")
    await stack.join(group_id, DE, BR, IN, US, MX)
    await stack.say(group_id, BR, "Is the driver on the way?")
    await stack.say(group_id, DE, "Gate 4 please")
    for category in (TemplateCategory.MARKETING, TemplateCategory.UTILITY):
        template = await stack.template(category)
        await service.sending.send_template(group_id, template, params(template))
    await service.sending.send_text(group_id, "On the way")
    await stack.settle(STATUS_HORIZON)
    await service.admin.remove_participants(group_id, [MX])
    await service.admin.update_settings(group_id, subject="Order 1042 - done")
    await stack.settle(OP_DELAY)
    stack.world.persons.leave(group_id, IN)
    await stack.settle()


def _replay(db: Path) -> dict[str, Any]:
    result = CliRunner().invoke(events_group, ["replay", "--json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


async def test_replay_rebuilds_every_table_the_listener_wrote(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a day of the account, applied by the listener with the packaged rate card
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("GROUPS_TUI_RATES_CSV", raising=False)
    await _a_day_of_the_account(stack)
    db = Path(stack.store.path)
    before = snapshot(db)
    ledger = before["cost_ledger"]
    assert ledger, "no status carried pricing"
    priced = [row for row in ledger if row[9] not in (None, "0")]
    assert priced and all(row[8] for row in priced), "the ledger has no market or amount"
    assert before["participant_history"] and before["recipient_status"]

    # WHEN the raw log is replayed by the command, as an operator would
    result = await asyncio.to_thread(_replay, db)

    # THEN it says the state is identical, and every table is, row for row
    assert result["identical"] is True, result
    assert (result["errors"], result["failed_events"]) == (0, 0)
    after = snapshot(db)
    for name, rows in before.items():
        assert after[name] == rows, f"{name} differs after the replay"
