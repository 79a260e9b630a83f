"""``db backup`` copies the database consistently while a listener process writes to it.

A real ``groups-tui listen`` process ingests signed inbound-message webhooks, one after
another, while ``groups-tui db backup`` (a real process) copies the same file several
times. Each webhook is logged in one commit and applied in a later one, so a copy taken at
one commit holds exactly the first N of the deliveries, the first M <= N of them applied
(their messages) and the others marked unapplied (applied when a listener next opens the
copy). The copy passes ``PRAGMA integrity_check``; ``db check`` agrees, and says exit 1 of
a damaged file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.helpers.sandbox_process import listener_process
from tests.helpers.signing import TEST_APP_SECRET, signed_headers

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
PAD = "lorem ipsum dolor sit amet " * 40  # bodies of ~1 KB: the file grows to megabytes


def _body(n: int) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Kim"}, "wa_id": "16505551234"}],
        "messages": [
            {
                "from": "16505551234",
                "group_id": GROUP,
                "id": f"wamid.BKP{n:08d}",
                "timestamp": str(1767231000 + n),
                "type": "text",
                "text": {"body": f"event {n} {PAD}"},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload).encode()


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "groups_tui", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


class Poster:
    """Delivers numbered webhooks one at a time (each waits for its 200) until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked = 0
        self.refused: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self._stop.is_set():
                body = _body(n)
                r = client.post(self.url, content=body, headers=signed_headers(body))
                if r.status_code != 200:
                    self.refused.append(r.status_code)
                    continue
                n += 1
                self.acked = n

    def __enter__(self) -> Poster:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def wait_for(self, count: int) -> None:
        for _ in range(6000):
            if self.acked >= count:
                return
            threading.Event().wait(0.01)
        raise AssertionError(f"only {self.acked} deliveries acknowledged")


def _copy_counts(path: Path) -> tuple[str, int, int, list[int]]:
    with sqlite3.connect(path) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        raw = conn.execute("SELECT count(*) FROM raw_events").fetchone()[0]
        unapplied = conn.execute(
            "SELECT count(*) FROM raw_events WHERE applied_at IS NULL"
        ).fetchone()[0]
        ids = [
            int(r[0].removeprefix("wamid.BKP"))
            for r in conn.execute("SELECT id FROM messages WHERE id LIKE 'wamid.BKP%'")
        ]
    conn.close()
    return str(integrity), int(raw), int(unapplied), sorted(ids)


@pytest.mark.slow
def test_backup_while_the_listener_writes_is_one_consistent_commit(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    env = {"WHATSAPP_APP_SECRET": TEST_APP_SECRET, "GROUPS_TUI_CONFIG": str(tmp_path / "x.toml")}
    with listener_process(db, env) as url, Poster(url) as poster:
        poster.wait_for(300)
        copies: list[tuple[Path, int, int]] = []
        for i in range(3):
            copy = tmp_path / f"copy-{i}.db"
            before = poster.acked
            done = _cli("db", "backup", str(copy), "--db", str(db), "--json", env=env)
            after = poster.acked
            assert done.returncode == 0, done.stderr
            result = json.loads(done.stdout)
            assert result["path"] == str(copy)
            assert result["check"]["ok"] is True
            copies.append((copy, before, after))
        poster.wait_for(after + 20)  # the listener kept acknowledging after the backups
    assert poster.refused == []
    assert any(after > before for _, before, after in copies), copies  # writes overlapped
    for copy, before, after in copies:
        integrity, raw, unapplied, ids = _copy_counts(copy)
        assert integrity == "ok"
        # One commit: every logged event is either applied in the copy or marked
        # unapplied (applying follows the 200), the applied ones are the first, and the
        # deliveries it holds are the first N, N between what was acknowledged before
        # and after.
        assert raw == len(ids) + unapplied, (copy, raw, len(ids), unapplied)
        assert ids == list(range(len(ids)))
        assert before <= raw <= after + 1, (before, raw, after)
        assert not Path(f"{copy}-wal").exists()  # one self-contained file
        checked = _cli("db", "check", "--db", str(copy), "--json", env=env)
        assert checked.returncode == 0, checked.stderr
        report = json.loads(checked.stdout)
        assert report["ok"] is True and report["problems"] == []
        assert report["counts"]["raw_events"] == raw
        assert report["counts"]["messages"] == len(ids)


def test_db_check_exits_1_on_a_damaged_file_and_backup_refuses_to_clobber(
    tmp_path: Path,
) -> None:
    env = {"GROUPS_TUI_CONFIG": str(tmp_path / "x.toml")}
    db = tmp_path / "live.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
    conn.executemany("INSERT INTO t(v) VALUES (?)", [(f"value {i:06d}" * 20,) for i in range(3000)])
    conn.commit()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()

    ok = _cli("db", "check", "--db", str(db), env=env)
    assert ok.returncode == 0, ok.stderr
    assert "integrity: ok" in ok.stdout and "t " in ok.stdout

    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    refused = _cli("db", "backup", str(existing), "--db", str(db), env=env)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert existing.read_bytes() == b"keep me"

    with db.open("r+b") as f:  # zero a page in the middle of the index and the table
        f.seek(page_size * (pages // 2))
        f.write(b"\xff" * page_size)
    damaged = _cli("db", "check", "--db", str(db), "--json", env=env)
    assert damaged.returncode == 1, (damaged.stdout, damaged.stderr)
    assert json.loads(damaged.stdout)["ok"] is False

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    bad = _cli("db", "check", "--db", str(garbage), env=env)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "NOT OK" in bad.stdout
