"""Webhook ingest benchmark: durable events/s and ack latency at 1, 8, 32 and 128 connections.

For every concurrency level it measures three servers back to back, in the same run, under
the same load, so that a noisy neighbour on a shared machine weighs on all of them:

* **durable** -- ``python -m groups_tui.listener`` on a fresh database: every 200 means the
  body was verified and logged with ``synchronous=FULL``; it is applied right after the
  answer, and the figures wait until every logged body is applied (``drain``) and count
  that CPU too;
* **empty** -- the same server command with its hidden ``--bench-empty-handler`` flag (an
  app that reads the body and answers 200): the ceiling the HTTP server itself imposes;
* **naive** -- a receiver written the obvious way (this file, ``--serve-naive``): verify
  the signature, decode, ``INSERT`` and ``COMMIT`` with ``synchronous=FULL`` on the event
  loop's thread, once per request, in SQLite's default (rollback journal) mode;
* **naive-wal** -- the same with ``journal_mode=WAL`` (one fsync per commit, as ours): a
  stronger baseline than the issue's, printed beside it;
* **floor** (with ``--floor``) -- the least any receiver that answers only after a durable
  commit can do (this file, ``--serve-floor``): read the body, hand it to a writer thread
  that INSERTs whatever is waiting and COMMITs once (``synchronous=FULL``, WAL), answer
  after that commit. No signature, no JSON, no access log, no applying: what a durable
  acknowledgement costs on this machine, whatever the rest of the server does.

The load comes from TWO generator processes (one at a single connection), each posting
signed status webhooks (one event per POST, as Meta sends non-aggregated statuses) over
half the connections, so the generator is not the ceiling. Each generator warms up, waits
for the word to start, then posts for ``--seconds``; the figures are the acks per second
of the pair and the latency percentiles of every acknowledged request, and the server
process's CPU time per acknowledged event (Linux), which the machine's other load
disturbs far less than the rates.

Usage::

    python bench/ingest.py [--levels 1,8,32,128] [--seconds 3] [--rounds 3] [--src DIR]
                           [--baseline DIR] [--floor]

``--src`` measures another checkout's ``src``; ``--baseline DIR`` adds, in every round, the
durable server of another checkout's ``src`` (``baseline``: the branch point, say).
Prints figures only; nothing is asserted. Traffic never leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SECRET = "bench-app-secret"
GROUP_ID = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("durable", "empty", "naive", "naive-wal")


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


async def generate(url: str, concurrency: int, seconds: float, offset: int) -> None:
    """Warm up, print ``ready``, wait for a line on stdin, post for ``seconds``; print JSON."""
    import aiohttp

    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = offset
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post() -> None:
            nonlocal counter
            body = status_body(counter)
            counter += 1
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
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

        async def warm() -> None:
            for _ in range(10):
                await post()

        await asyncio.gather(*(warm() for _ in range(concurrency)))
        latencies.clear()
        errors.clear()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await post()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed": elapsed, "errors": errors, "latencies": latencies}))


# --------------------------------------------------------------------------- receivers


async def serve_for_ever(deliver: Callable[[Any], Awaitable[Any]]) -> None:
    """Serve ``deliver`` at ``POST /webhook`` on a free loopback port (no access log),
    print its URL for the driver, and run until killed."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/webhook", deliver)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(f"url http://127.0.0.1:{port}/webhook", flush=True)
    await asyncio.Event().wait()


async def serve_naive(db: Path, *, wal: bool) -> None:
    """The obvious receiver: verify, decode, INSERT and COMMIT (FULL) per request, inline.

    SQLite's default rollback journal unless ``wal`` (the stronger baseline).
    """
    import sqlite3

    from aiohttp import web

    conn = sqlite3.connect(db, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS raw(id INTEGER PRIMARY KEY, dedupe_key TEXT UNIQUE,"
        " body BLOB, received_at REAL)"
    )

    async def deliver(request: web.Request) -> web.Response:
        body = await request.read()
        expected = sign(body)
        if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
            return web.Response(status=403)
        json.loads(body)
        key = hashlib.sha256(body).hexdigest()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT OR IGNORE INTO raw(dedupe_key, body, received_at) VALUES (?, ?, ?)",
            (key, body, time.time()),
        )
        conn.execute("COMMIT")
        return web.Response(text="ok")

    await serve_for_ever(deliver)


async def serve_floor(db: Path) -> None:
    """The floor of a durable receiver: each body waits for the group commit that holds it.

    One writer thread commits whatever arrived while it was committing (``synchronous=FULL``,
    WAL), then wakes every request of that commit at once.
    """
    import queue
    import sqlite3
    import threading

    from aiohttp import web

    loop = asyncio.get_running_loop()
    waiting: queue.SimpleQueue[tuple[bytes, asyncio.Future[None]]] = queue.SimpleQueue()

    def settle(futures: list[asyncio.Future[None]]) -> None:
        for future in futures:
            future.set_result(None)

    def write() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS raw(id INTEGER PRIMARY KEY, body BLOB)")
        while True:
            batch = [waiting.get()]
            while not waiting.empty():
                batch.append(waiting.get())
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO raw(body) VALUES (?)", [(b,) for b, _ in batch])
            conn.execute("COMMIT")
            loop.call_soon_threadsafe(settle, [future for _, future in batch])

    threading.Thread(target=write, daemon=True).start()

    async def deliver(request: web.Request) -> web.Response:
        future: asyncio.Future[None] = loop.create_future()
        waiting.put((await request.read(), future))
        await future
        return web.Response(text="ok")

    await serve_for_ever(deliver)


# --------------------------------------------------------------------------- driver


def start_server(kind: str, db: Path, src: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(
        os.environ, WHATSAPP_APP_SECRET=SECRET, GROUPS_TUI_CONFIG=str(db.parent / "none.toml")
    )
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    if kind.startswith("naive"):
        cmd = [sys.executable, __file__, "--serve-naive", str(db)]
        if kind == "naive-wal":
            cmd.append("--wal")
    elif kind == "floor":
        cmd = [sys.executable, __file__, "--serve-floor", str(db)]
    else:  # durable, empty, or the durable server of the baseline checkout
        cmd = [sys.executable, "-m", "groups_tui.listener", "--port", "0", "--db", str(db)]
        if kind == "empty":
            cmd.append("--bench-empty-handler")
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("url "):
        proc.kill()
        raise SystemExit(f"{kind} server did not start: {line!r}")
    return proc, line.split()[1]


def run_load(url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """Two generator processes (one at a single connection), started together."""
    shares = (
        [concurrency] if concurrency < 2 else [concurrency // 2, concurrency - concurrency // 2]
    )
    procs = []
    for i, share in enumerate(shares):
        cmd = [
            sys.executable,
            __file__,
            "--generate",
            url,
            "--concurrency",
            str(share),
            "--seconds",
            str(seconds),
            "--offset",
            str(i * 50_000_000),
        ]
        procs.append(
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit("a load generator did not start")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 60)
        results.append(json.loads(out))
    latencies = sorted(x for r in results for x in r["latencies"])
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    elapsed = max(r["elapsed"] for r in results)
    figures: dict[str, Any] = {
        "acked": len(latencies),
        "rate": len(latencies) / elapsed if elapsed else 0.0,
        "errors": errors,
    }
    if latencies:
        figures |= {
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "max_ms": latencies[-1] * 1000,
        }
    return figures


def unapplied(url: str) -> int | None:
    health = url.rsplit("/", 1)[0] + "/healthz"
    try:
        with urllib.request.urlopen(health, timeout=10) as resp:
            return int(json.load(resp)["unapplied"])
    except OSError:
        return None


def drain(url: str, limit: float = 60.0) -> tuple[int | None, float | None]:
    """Rows logged but not yet applied when the load stops, and seconds until none are."""
    started = time.perf_counter()
    left = first = unapplied(url)
    while left:
        if time.perf_counter() - started > limit:
            return first, None
        time.sleep(0.01)
        left = unapplied(url)
    return first, time.perf_counter() - started if first else 0.0


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, concurrency: int, seconds: float, src: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="groups-tui-bench-") as tmp:
        proc, url = start_server(kind, Path(tmp) / "bench.db", src)
        try:
            before = cpu_seconds(proc.pid)
            figures = run_load(url, concurrency, seconds)
            if kind in ("durable", "baseline"):
                # Applying may trail the acknowledgements: wait until state caught up, and
                # count that CPU too (it is the same work, done later).
                figures["unapplied"], figures["drain_s"] = drain(url)
            after = cpu_seconds(proc.pid)
            if before is not None and after is not None and figures["acked"]:
                figures["cpu_us"] = (after - before) * 1e6 / figures["acked"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return figures


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    """min/median/max."""
    return "/".join(fmt.format(v) for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,32,128", help="connection counts")
    parser.add_argument("--seconds", type=float, default=3.0, help="load per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the groups_tui to run")
    parser.add_argument("--baseline", type=Path, help="also run this src's durable server")
    parser.add_argument(
        "--floor", action="store_true", help="also run the floor of a durable receiver"
    )
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--generate", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--serve-naive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--wal", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-floor", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        asyncio.run(generate(args.generate, args.concurrency, args.seconds, args.offset))
        return
    if args.serve_naive:
        asyncio.run(serve_naive(args.serve_naive, wal=args.wal))
        return
    if args.serve_floor:
        asyncio.run(serve_floor(args.serve_floor))
        return

    levels = [int(x) for x in args.levels.split(",")]
    print(
        f"cpus: {os.cpu_count()}  levels: {levels}  {args.seconds:g} s per measurement, "
        f"{args.rounds} rounds, two load generators; src {args.src}"
        + (f"; baseline {args.baseline}" if args.baseline else "")
    )
    kinds = SERVERS + (("baseline",) if args.baseline else ()) + (("floor",) if args.floor else ())
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for round_no in range(1, args.rounds + 1):
        for level in levels:
            for kind in kinds:
                src = args.baseline if kind == "baseline" else args.src
                figures = measure(kind, level, args.seconds, src)
                runs.setdefault((level, kind), []).append(figures)
                extra = f"  cpu {figures.get('cpu_us', 0):4.0f} us/ev"
                if "unapplied" in figures:
                    extra += f"  unapplied {figures['unapplied']} drained in {figures['drain_s']}"
                print(
                    f"round {round_no} {level:>4} conn {kind:<8}{figures['rate']:>7.0f} ev/s  "
                    f"p50 {figures.get('p50_ms', 0):6.1f} ms  p99 {figures.get('p99_ms', 0):6.1f} ms"
                    f"  errors {figures['errors'] or 0}{extra}",
                    flush=True,
                )
    print(f"\nmin/median/max over {args.rounds} rounds (ratios paired within a round)")
    print(
        f"{'conn':>5} {'durable ev/s':>15} {'empty':>15} {'naive':>15} {'naive-wal':>15} "
        f"{'dur/empty':>15} {'dur/naive':>15} {'dur/naive-wal':>15} {'dur p50 ms':>15} "
        f"{'dur p99 ms':>17}"
    )
    for level in levels:
        d, e, n, w = (runs[(level, k)] for k in SERVERS)
        rates = [[r["rate"] for r in rs] for rs in (d, e, n, w)]

        def ratio(i: int, rates: list[list[float]] = rates) -> str:
            pairs = zip(rates[0], rates[i], strict=True)
            return spread([a / b if b else 0.0 for a, b in pairs], "{:.2f}")

        p50 = [r.get("p50_ms", 0.0) for r in d]
        p99 = [r.get("p99_ms", 0.0) for r in d]
        print(
            f"{level:>5} {spread(rates[0]):>15} {spread(rates[1]):>15} {spread(rates[2]):>15} "
            f"{spread(rates[3]):>15} {ratio(1):>15} {ratio(2):>15} {ratio(3):>15} "
            f"{spread(p50, '{:.1f}'):>15} {spread(p99, '{:.1f}'):>17}"
        )
    print("\nserver CPU per acknowledged event (us; the durable figure includes applying)")
    print(f"{'conn':>5} " + " ".join(f"{k:>15}" for k in kinds) + f" {'dur drain s':>15}")
    for level in levels:
        cells = [spread([r.get("cpu_us", 0.0) for r in runs[(level, k)]]) for k in kinds]
        drained = [r.get("drain_s") or 0.0 for r in runs[(level, "durable")]]
        print(
            f"{level:>5} "
            + " ".join(f"{c:>15}" for c in cells)
            + f" {spread(drained, '{:.2f}'):>15}"
        )
    if args.baseline:
        print(f"\nbaseline ({args.baseline}), durable server, same rounds")
        print(f"{'conn':>5} {'ev/s':>15} {'dur/baseline':>15} {'p50 ms':>15} {'p99 ms':>17}")
        for level in levels:
            d, b = runs[(level, "durable")], runs[(level, "baseline")]
            pairs = zip((r["rate"] for r in d), (r["rate"] for r in b), strict=True)
            print(
                f"{level:>5} {spread([r['rate'] for r in b]):>15} "
                f"{spread([x / y if y else 0.0 for x, y in pairs], '{:.2f}'):>15} "
                f"{spread([r.get('p50_ms', 0.0) for r in b], '{:.1f}'):>15} "
                f"{spread([r.get('p99_ms', 0.0) for r in b], '{:.1f}'):>17}"
            )
    if args.floor:
        print("\nfloor of a durable receiver (group commit, FULL, WAL; nothing else), same rounds")
        print(f"{'conn':>5} {'ev/s':>15} {'floor/empty':>15} {'dur/floor':>15} {'p50 ms':>15}")
        for level in levels:
            d, e, f = (runs[(level, k)] for k in ("durable", "empty", "floor"))
            fe = zip((r["rate"] for r in f), (r["rate"] for r in e), strict=True)
            df = zip((r["rate"] for r in d), (r["rate"] for r in f), strict=True)
            print(
                f"{level:>5} {spread([r['rate'] for r in f]):>15} "
                f"{spread([x / y if y else 0.0 for x, y in fe], '{:.2f}'):>15} "
                f"{spread([x / y if y else 0.0 for x, y in df], '{:.2f}'):>15} "
                f"{spread([r.get('p50_ms', 0.0) for r in f], '{:.1f}'):>15}"
            )
    print(
        "targets: durable/empty >= 0.5 at 8, 32 and 128 connections; durable >= naive at 1; "
        "durable p99 <= 100 ms at 128"
    )


if __name__ == "__main__":
    main()
