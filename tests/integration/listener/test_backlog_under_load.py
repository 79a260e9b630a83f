"""Rows an earlier run left unapplied are applied even while deliveries never pause.

The writer used to read such rows back from the log only when no delivery was waiting,
so a listener flooded from its start put them off for as long as the flood lasted.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from groups_tui.listener.commands import listener_pricing
from groups_tui.listener.ingest import IngestWriter
from groups_tui.store import RawEventIn, RawInsertResult, Store, raw_log
from groups_tui.store.raw_log import Logged, RawLog

GROUP_ID = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"


def _status_body(n: int) -> bytes:
    """A ``delivered`` status webhook for one group member, unique per ``n``."""
    status = {
        "id": f"wamid.BACKLOG{n:012d}",
        "status": "delivered",
        "timestamp": str(1767232003 + n),
        "recipient_id": GROUP_ID,
        "recipient_type": "group",
        "recipient_participant_id": "16505550001",
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [status],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload).encode()


async def test_rows_left_unapplied_are_applied_during_a_flood(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "groups.db"
    store = await Store.open(db, pricing=listener_pricing(None))
    try:
        # GIVEN 200 rows an earlier run logged and never applied (it was killed)
        backlog = [
            RawEventIn(body=_status_body(n), dedupe_key=f"old-{n}", received_at=1.0 + n)
            for n in range(200)
        ]
        old = [r.raw_id for r in (await store.raw.insert_and_apply(backlog))[0]]
        monkeypatch.setattr("groups_tui.listener.ingest.RECOVERY_CHUNK", 50)
        # (the first chunk of them is held up on the writer's thread while the flood
        # queues up behind it)
        gate, held = threading.Event(), threading.Event()
        real_apply = raw_log.apply_isolated
        calls = 0

        def held_apply(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:
                held.set()
                gate.wait(30)
            return real_apply(*args, **kwargs)

        monkeypatch.setattr(raw_log, "apply_isolated", held_apply)
        # and a record of the writer's steps: commits of deliveries, apply transactions
        steps: list[tuple[str, list[int]]] = []
        real_insert, real_logged = RawLog.insert_and_apply, RawLog.apply_logged

        async def insert(self: RawLog, items: Sequence[RawEventIn], *a: Any, **k: Any) -> Any:
            result: tuple[list[RawInsertResult], Any] = await real_insert(self, items, *a, **k)
            steps.append(("commit", [r.raw_id for r in result[0]]))
            return result

        async def apply(self: RawLog, rows: Sequence[Logged]) -> list[tuple[int, str]]:
            steps.append(("apply", [raw_id for raw_id, _ in rows]))
            return await real_logged(self, rows)

        monkeypatch.setattr(RawLog, "insert_and_apply", insert)
        monkeypatch.setattr(RawLog, "apply_logged", apply)
        writer = IngestWriter(store)
        await writer.start()
        try:
            # WHEN 2,000 deliveries arrive at once, and keep the writer's queue full
            assert await asyncio.to_thread(held.wait, 10)
            bodies = [_status_body(1000 + n) for n in range(2000)]
            flood = [
                asyncio.ensure_future(writer.submit(body, json.loads(body))) for body in bodies
            ]
            await asyncio.sleep(0.05)
            gate.set()
            results = await asyncio.gather(*flood)
            await writer.wait_idle()
        finally:
            gate.set()
            await writer.stop()
        # THEN every delivery is logged and every row applied, each once
        assert not any(r.duplicate for r in results)
        assert await store.raw.unapplied() == []
        applied = [raw_id for kind, ids in steps if kind == "apply" for raw_id in ids]
        assert sorted(applied) == sorted(old + [r.raw_id for r in results])
        # AND the rows of the earlier run were all applied before the flood's last commit
        last_commit = max(i for i, (kind, _) in enumerate(steps) if kind == "commit")
        commits = sum(1 for kind, _ in steps if kind == "commit")
        assert commits > 2, "the flood was committed in one go: it proves nothing"
        backlog_done = max(
            i for i, (kind, ids) in enumerate(steps) if kind == "apply" and set(ids) & set(old)
        )
        assert backlog_done < last_commit, steps[: backlog_done + 1]
    finally:
        await store.close()
