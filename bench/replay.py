"""Replay benchmark: ``groups-tui events replay`` over a raw log of 100,000 webhooks.

Logs ``--events`` signed-webhook bodies into a fresh database (without applying them):
inbound text messages from members of 500 groups (one in four bodies) and per-participant
``delivered`` statuses with pricing (the rest), as a busy account receives them. Then it
runs the real command, ``python -m groups_tui events replay --json`` (reset derived
state, apply the whole log, compare the state digest), ``--rounds`` times, and prints the
events per second of the whole command (interpreter start and both digests included)
and its CPU seconds (user + system, every thread), which a busy machine disturbs less.

Usage::

    python bench/replay.py [--events 100000] [--rounds 3] [--src DIR] [--baseline DIR]

``--baseline DIR`` replays the same log with another checkout's ``src`` too, in turns
with ``--src`` (each round runs both), and prints its figures and the paired ratio. Each
checkout logs and replays its own copy of the log (``--db`` names the ``--src`` one; the
baseline's sits beside it), so the two may use different schema versions.

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_767_232_000
GROUPS = 500


def _envelope(value: dict[str, Any]) -> bytes:
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
                            **value,
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def body(n: int) -> bytes:
    """The ``n``-th webhook of the log."""
    group = f"Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAz{n % GROUPS:05d}"
    if n % 4 == 0:
        sender = f"1650555{n % 7:04d}"
        return _envelope(
            {
                "contacts": [{"profile": {"name": f"Member {n % 7}"}, "wa_id": sender}],
                "messages": [
                    {
                        "from": sender,
                        "group_id": group,
                        "id": f"wamid.IN{n:010d}",
                        "timestamp": str(T0 + n),
                        "type": "text",
                        "text": {"body": f"message {n} about the meeting at {n % 24}h"},
                    }
                ],
            }
        )
    return _envelope(
        {
            "statuses": [
                {
                    "id": f"wamid.OUT{n // 8:010d}",
                    "status": "delivered",
                    "timestamp": str(T0 + n),
                    "recipient_id": group,
                    "recipient_type": "group",
                    "recipient_participant_id": f"1650555{n % 8:04d}",
                    "pricing": {
                        "billable": True,
                        "pricing_model": "PMP",
                        "type": "regular",
                        "category": "group_utility",
                    },
                }
            ]
        }
    )


async def build(db: Path, events: int) -> None:
    from groups_tui.listener.ingest import dedupe_key_for
    from groups_tui.store import RawEventIn, Store

    store = await Store.open(db)
    try:
        for start in range(0, events, 2000):
            bodies = [body(n) for n in range(start, min(start + 2000, events))]
            await store.raw.insert(
                [RawEventIn(body=b, dedupe_key=dedupe_key_for(b), received_at=T0) for b in bodies]
            )
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the groups_tui to run")
    parser.add_argument("--baseline", type=Path, help="also replay with this src, in turns")
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this file")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        asyncio.run(build(args.db, args.events))
        return
    tmp = tempfile.TemporaryDirectory(prefix="groups-tui-replay-") if args.db is None else None
    base = args.db or Path(tmp.name) / "replay.db"  # type: ignore[union-attr]
    env = dict(os.environ, GROUPS_TUI_CONFIG=str(base) + ".none.toml")
    srcs = {"src": args.src} | ({"baseline": args.baseline} if args.baseline else {})
    # Each checkout replays its own copy of the log, logged by its own code: the two
    # may store the log in different schema versions (a newer file is refused).
    dbs = {name: base if name == "src" else base.with_suffix(f".{name}.db") for name in srcs}
    for name, src in srcs.items():
        if dbs[name].exists():
            continue
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build-only",
                "--db",
                str(dbs[name]),
                "--events",
                str(args.events),
            ],
            check=True,
            env=env | {"PYTHONPATH": str(src)},
        )
        print(f"logged {args.events:,} webhooks ({name}) in {time.perf_counter() - started:.1f} s")
    walls: dict[str, list[float]] = {name: [] for name in srcs}
    cpus: dict[str, list[float]] = {name: [] for name in srcs}
    for round_no in range(args.rounds + 1):
        for name, src in srcs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "groups_tui",
                    "events",
                    "replay",
                    "--db",
                    str(dbs[name]),
                    "--json",
                ],
                check=True,
                env=env | {"PYTHONPATH": str(src)},
                capture_output=True,
                text=True,
            ).stdout
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            result = json.loads(out)
            if round_no == 0:  # the log was never applied: this one builds the state
                continue
            if result["replayed"] != args.events or not result["identical"]:
                raise SystemExit(f"replay did not rebuild the same state: {result}")
            walls[name].append(wall)
            cpus[name].append(cpu)
    for name, src in srcs.items():
        rates = [args.events / w for w in walls[name]]
        print(
            f"events replay, {args.events:,} webhooks ({name} {src}): "
            f"{min(rates):,.0f}/{statistics.median(rates):,.0f}/{max(rates):,.0f} events/s "
            f"(min/median/max of {args.rounds}; whole command, "
            f"{min(walls[name]):.1f}/{statistics.median(walls[name]):.1f}/"
            f"{max(walls[name]):.1f} s); CPU (user+sys) "
            f"{min(cpus[name]):.2f}/{statistics.median(cpus[name]):.2f}/{max(cpus[name]):.2f} s"
        )
    if args.baseline:
        ratios = [b / a for a, b in zip(walls["src"], walls["baseline"], strict=True)]
        print(
            f"src/baseline events/s, paired by round: {min(ratios):.2f}/"
            f"{statistics.median(ratios):.2f}/{max(ratios):.2f}"
        )
        cpu_ratios = [b / a for a, b in zip(cpus["src"], cpus["baseline"], strict=True)]
        print(
            f"baseline/src CPU seconds, paired by round: {min(cpu_ratios):.2f}/"
            f"{statistics.median(cpu_ratios):.2f}/{max(cpu_ratios):.2f}"
        )
    print("target >= 20,000 events/s")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
