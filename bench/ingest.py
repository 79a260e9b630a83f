"""Webhook ingest benchmark: durable events/s and ack latency over loopback.

Starts ``python -m groups_tui.listener`` on a temporary database in a subprocess, then a
load generator in ANOTHER subprocess posts signed status webhooks (one event per POST,
as Meta sends non-aggregated statuses) over N concurrent connections. Every 200 means the
body was committed with ``synchronous=FULL`` before the answer went out.

The same server command is then run with its hidden ``--bench-empty-handler`` flag (an
app that answers 200 and does nothing) under the same load, in the same run, so the
ratio shows how much of the ceiling the durable path keeps.

Usage::

    python bench/ingest.py [--events 20000] [--concurrency 32] [--seconds 20] [--rounds 3]

Prints figures only; nothing is asserted. Traffic never leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SECRET = "bench-app-secret"
GROUP_ID = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
ROOT = Path(__file__).resolve().parent.parent


def status_body(n: int) -> bytes:
    """A realistic per-participant ``delivered`` status webhook, unique per ``n``."""
    payload: dict[str, Any] = {
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
                            "statuses": [
                                {
                                    "id": f"wamid.BENCH{n // 8:012d}",
                                    "status": "delivered",
                                    "timestamp": str(1767232003 + n),
                                    "recipient_id": GROUP_ID,
                                    "recipient_type": "group",
                                    "recipient_participant_id": f"1650555{n % 8:04d}",
                                    "pricing": {
                                        "billable": True,
                                        "pricing_model": "PMP",
                                        "type": "regular",
                                        "category": "group_utility",
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- generator


async def generate(url: str, count: int, concurrency: int, seconds: float, offset: int) -> None:
    """Post ``count`` signed bodies with ``concurrency`` workers; print JSON results."""
    import aiohttp

    bodies = [status_body(offset + i) for i in range(count)]
    signed = [
        (b, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(b)}) for b in bodies
    ]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    next_index = 0
    deadline = 0.0

    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(index: int) -> None:
            body, headers = signed[index]
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except aiohttp.ClientError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1

        async def worker() -> None:
            nonlocal next_index
            while next_index < count and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                await post(index)

        warmup = min(500, count // 10)
        deadline = time.perf_counter() + seconds
        for i in range(warmup):
            await post(i)
        next_index = warmup
        latencies.clear()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        backlog_at_end: int | None = None
        drained = elapsed
        health = url.rsplit("/", 1)[0] + "/healthz"
        while True:
            async with session.get(health) as resp:
                if resp.status == 404:
                    break
                unapplied = int((await resp.json())["unapplied"])
            if backlog_at_end is None:
                backlog_at_end = unapplied
            if unapplied == 0:
                drained = time.perf_counter() - started
                break
            await asyncio.sleep(0.05)
    print(
        json.dumps(
            {
                "ok": len(latencies),
                "elapsed": elapsed,
                "drained": drained,
                "backlog_at_end": backlog_at_end,
                "errors": errors,
                "latencies": latencies,
            }
        )
    )


# --------------------------------------------------------------------------- driver


def start_server(db: Path, *, empty: bool) -> tuple[subprocess.Popen[str], str]:
    env = dict(
        os.environ, WHATSAPP_APP_SECRET=SECRET, GROUPS_TUI_CONFIG=str(db.parent / "none.toml")
    )
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "groups_tui.listener", "--port", "0", "--db", str(db)]
    if empty:
        cmd.append("--bench-empty-handler")
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("url "):
        proc.kill()
        raise SystemExit(f"listener did not start: {line!r}")
    return proc, line.split()[1]


def run_load(url: str, count: int, concurrency: int, seconds: float, offset: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--generate",
        url,
        "--events",
        str(count),
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        "--offset",
        str(offset),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def measure(
    db: Path, *, empty: bool, count: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    proc, url = start_server(db, empty=empty)
    try:
        result = run_load(url, count, concurrency, seconds, offset=0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lat = sorted(result["latencies"])
    ok = result["ok"]
    figures: dict[str, Any] = {
        "acked": ok,
        "rate": ok / result["elapsed"] if result["elapsed"] else 0.0,
        "applied_rate": ok / result["drained"] if result["drained"] else 0.0,
        "backlog_at_end": result["backlog_at_end"],
        "errors": result["errors"],
    }
    if lat:
        figures |= {
            "p50_ms": statistics.median(lat) * 1000,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
            "max_ms": lat[-1] * 1000,
        }
    return figures


def stored_rows(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        total, applied = conn.execute(
            "SELECT count(*), count(applied_at) FROM raw_events"
        ).fetchone()
    finally:
        conn.close()
    return int(total), int(applied)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="cap per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="durable/empty pairs to run")
    parser.add_argument("--generate", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        asyncio.run(
            generate(args.generate, args.events, args.concurrency, args.seconds, args.offset)
        )
        return

    print(
        f"cpus: {os.cpu_count()}  events: {args.events}  concurrency: {args.concurrency}  "
        f"rounds: {args.rounds}"
    )

    def line(name: str, f: dict[str, Any]) -> str:
        return (
            f"{name:<16} {f['rate']:>9.0f} events/s   p50 {f.get('p50_ms', 0):6.1f} ms   "
            f"p99 {f.get('p99_ms', 0):6.1f} ms   max {f.get('max_ms', 0):7.1f} ms   "
            f"acked {f['acked']}  errors {f['errors'] or 0}"
        )

    ratios: list[float] = []
    durables: list[dict[str, Any]] = []
    empties: list[dict[str, Any]] = []
    for round_no in range(1, args.rounds + 1):
        # Each round measures both servers back to back, so that a noisy neighbour on a
        # shared machine weighs on the pair rather than on one side of the ratio.
        with tempfile.TemporaryDirectory(prefix="groups-tui-bench-") as tmp:
            db = Path(tmp) / "bench.db"
            durable = measure(
                db,
                empty=False,
                count=args.events,
                concurrency=args.concurrency,
                seconds=args.seconds,
            )
            total, applied = stored_rows(db)
            empty = measure(
                Path(tmp) / "empty.db",
                empty=True,
                count=args.events,
                concurrency=args.concurrency,
                seconds=args.seconds,
            )
        ratio = durable["rate"] / empty["rate"] if empty["rate"] else 0.0
        ratios.append(ratio)
        durables.append(durable)
        empties.append(empty)
        print(f"round {round_no}")
        print("  " + line("durable listener", durable))
        print("  " + line("empty handler", empty))
        print(
            f"  ratio durable/empty: {ratio:.2f}; unapplied when the load stopped "
            f"{durable['backlog_at_end']}; acked and applied {durable['applied_rate']:.0f} "
            f"events/s; raw log rows {total} (applied {applied})"
        )
    print(
        f"median over {args.rounds} rounds: durable "
        f"{statistics.median(d['rate'] for d in durables):.0f} events/s "
        f"(p99 {statistics.median(d.get('p99_ms', 0) for d in durables):.1f} ms, "
        f"max {max(d.get('max_ms', 0) for d in durables):.1f} ms), empty handler "
        f"{statistics.median(e['rate'] for e in empties):.0f} events/s, "
        f"ratio {statistics.median(ratios):.2f} (per round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + ")"
    )


if __name__ == "__main__":
    main()
