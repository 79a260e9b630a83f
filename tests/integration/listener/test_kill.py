"""Kill test: SIGKILL the listener process at random moments while events arrive.

A listener subprocess (``python -m groups_tui.listener``) runs on a temporary database.
The test delivers numbered, signed inbound-message webhooks over several connections and
retries every one that did not get a 200, as Meta does. Meanwhile it kills the listener
with SIGKILL at random moments and restarts it on the same port and database. Afterwards
every event that got a 200 must be in the raw log exactly once, retried ones included,
and applied to state once the listener has come back.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from groups_tui.store import Store
from groups_tui.store.records import REFUSED_COUNTER
from tests.helpers.signing import TEST_APP_SECRET, signed_headers

pytestmark = pytest.mark.slow

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
ROOT = Path(__file__).resolve().parents[3]
RUN_SECONDS = 10.0
KILLS = 8


def event_body(n: int) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [{"profile": {"name": "Kim"}, "wa_id": "16505551234"}],
                            "messages": [
                                {
                                    "from": "16505551234",
                                    "group_id": GROUP,
                                    "id": f"wamid.KILL{n:08d}",
                                    "timestamp": str(1767231000 + n),
                                    "type": "text",
                                    "text": {"body": f"event {n}"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def event_number(body: bytes) -> int:
    message = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]
    return int(message["id"].removeprefix("wamid.KILL"))


class ListenerProcess:
    """The listener subprocess; restarts on the port it first bound."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        env = dict(
            os.environ,
            WHATSAPP_APP_SECRET=TEST_APP_SECRET,
            GROUPS_TUI_CONFIG=str(self.db.parent / "absent.toml"),
            PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
        )
        cmd = [sys.executable, "-m", "groups_tui.listener", "--db", str(self.db)]
        cmd += ["--port", str(self.port)]
        for _ in range(50):
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
            )
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if line.startswith("url "):
                self.port = int(line.split()[1].rsplit(":", 1)[1].split("/", 1)[0])
                return
            self.proc.wait()
        raise AssertionError("listener did not restart on its port")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


async def _deliver(
    client: httpx.AsyncClient, listener: ListenerProcess, n: int, acked: Counter[int]
) -> bool:
    body = event_body(n)
    try:
        response = await client.post(listener.url, content=body, headers=signed_headers(body))
    except httpx.TransportError:
        return False
    if response.status_code == 200:
        acked[n] += 1
        return True
    return False


async def _run(listener: ListenerProcess, rng: random.Random) -> tuple[Counter[int], int]:
    acked: Counter[int] = Counter()
    next_event = 0
    retry: list[int] = []
    stop = asyncio.Event()

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal next_event
        while not stop.is_set():
            if retry:
                n = retry.pop()
            else:
                n = next_event
                next_event += 1
            if not await _deliver(client, listener, n, acked):
                retry.append(n)
                await asyncio.sleep(0.01)
            elif rng.random() < 0.05:
                # An acknowledged delivery repeated, as Meta's duplicates are.
                await _deliver(client, listener, n, acked)

    async def killer() -> None:
        loop = asyncio.get_running_loop()
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.2, RUN_SECONDS / KILLS))
            await loop.run_in_executor(None, listener.kill)
            await loop.run_in_executor(None, listener.start)
        stop.set()

    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        await asyncio.gather(killer(), *(sender(client) for _ in range(8)))
        # Like Meta, keep retrying what was never acknowledged.
        while retry:
            n = retry.pop()
            if not await _deliver(client, listener, n, acked):
                retry.append(n)
                await asyncio.sleep(0.05)
        # Let the last run catch up on what earlier runs logged but never applied.
        health = listener.url.rsplit("/", 1)[0] + "/healthz"
        for _ in range(400):
            if (await client.get(health)).json()["unapplied"] == 0:
                break
            await asyncio.sleep(0.05)
    return acked, next_event


async def test_sigkill_at_random_moments_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    listener = ListenerProcess(tmp_path / "kill.db")
    listener.start()
    try:
        acked, sent = await _run(listener, rng)
    finally:
        listener.terminate()
    assert len(acked) == sent, "every event was eventually acknowledged"
    # A fresh store reads what is durable.
    store = await Store.open(tmp_path / "kill.db")
    try:
        raws = await store.raw.events(limit=1_000_000)
        logged = Counter(event_number(r.body) for r in raws)
        assert set(logged) == set(acked)
        assert max(logged.values()) == 1
        stats = await store.raw.stats()
        assert stats.applied == stats.total == sent
        assert stats.errors == 0
        for n in rng.sample(sorted(acked), k=min(50, len(acked))):
            assert await store.messages.get(f"wamid.KILL{n:08d}") is not None
    finally:
        await store.close()


async def test_sigkill_right_after_refusals_loses_none_of_them(tmp_path: Path) -> None:
    # GIVEN a listener process whose database another process holds locked for a moment
    db = tmp_path / "refused.db"
    listener = ListenerProcess(db)
    listener.start()
    bad = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            try:
                # WHEN deliveries with bad signatures arrive meanwhile
                posts = [
                    asyncio.ensure_future(
                        client.post(listener.url, content=event_body(i), headers=bad)
                    )
                    for i in range(30)
                ]
                done, _ = await asyncio.wait(posts, timeout=1.0)
                # THEN none is answered before its refusal could be counted on disk
                assert not done, "a refusal was answered before it was counted"
            finally:
                other.execute("COMMIT")
                other.close()
            responses = await asyncio.gather(*posts)
            assert {r.status_code for r in responses} == {403}
            # AND bursts answered right before a SIGKILL are all counted too
            for burst in range(1, 5):
                responses = await asyncio.gather(
                    *(
                        client.post(listener.url, content=event_body(burst * 100 + i), headers=bad)
                        for i in range(30)
                    )
                )
                assert {r.status_code for r in responses} == {403}
        listener.kill()
    finally:
        listener.terminate()
    store = await Store.open(db)
    try:
        assert (await store.raw.counters()).get(REFUSED_COUNTER, 0) == 150
        assert (await store.raw.stats()).total == 0
    finally:
        await store.close()


async def test_sigkill_right_after_the_acknowledgements_loses_no_applying(tmp_path: Path) -> None:
    # GIVEN a listener process acknowledging a burst of deliveries over 16 connections
    # (applying follows each 200 on the writer, so some are logged and not yet applied)
    db = tmp_path / "burst.db"
    listener = ListenerProcess(db)
    listener.start()
    count = 400
    try:
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            answers = await asyncio.gather(
                *(
                    client.post(listener.url, content=body, headers=signed_headers(body))
                    for body in map(event_body, range(count))
                )
            )
            assert {a.status_code for a in answers} == {200}
            # WHEN it is killed the moment the last one is acknowledged
            listener.kill()
        # THEN every acknowledged delivery is in the raw log, applied or marked unapplied
        store = await Store.open(db)
        try:
            raws = await store.raw.events(limit=10_000)
            assert sorted(event_number(r.body) for r in raws) == list(range(count))
            at_kill = await store.raw.stats()
        finally:
            await store.close()
        # AND a restarted listener applies what was left, first thing
        listener.start()
        health = listener.url.rsplit("/", 1)[0] + "/healthz"
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(400):
                if (await client.get(health)).json()["unapplied"] == 0:
                    break
                await asyncio.sleep(0.05)
    finally:
        listener.terminate()
    store = await Store.open(db)
    try:
        stats = await store.raw.stats()
        assert (stats.total, stats.applied, stats.errors) == (count, count, 0), at_kill
        for n in range(count):
            assert await store.messages.get(f"wamid.KILL{n:08d}") is not None
    finally:
        await store.close()
