"""UI responsiveness with the largest account Meta allows.

Builds a database with 10,000 groups (5 members each) and 1,000,000 messages — one
group holding 100,000 of them — through the store's own schema, then runs the real app
(``make_app`` over a real ``InboxService``) headless and prints, beside the same figure
for an empty Textual app measured in the same run:

* inbox ready after launch (wall time from ``run_test`` to 10,000 rows in the list;
  interpreter start and imports excluded),
* CPU per filter keystroke, per cursor move, per countdown tick (the mean over a minute
  of one-second ticks: each visible row's labels change once, on its own second) and
  for a tick that changes every visible row,
* opening the group with 100,000 messages: wall time from the Enter key to the frame
  that shows its newest page (the screen has nothing left to draw), the first time
  and the median of the next five; and, for comparison with earlier runs, the same
  open timed through Pilot (``press`` + ``pause``, which sleep in 20 ms steps until the
  process looks idle),
* idle CPU, and peak RSS.

Prints figures only; nothing here asserts on time.

Usage: ``python bench/ui.py [--groups N] [--messages N] [--db PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = 1_789_473_600  # 2026-09-15 12:00 UTC, frozen
BIG_GROUP_MESSAGES = 100_000
TARGETS = {
    "inbox ready": "<= 300 ms",
    "filter keystroke (CPU)": "<= 16 ms",
    "filter key p95 (CPU)": "<= 16 ms",
    "filter key worst (CPU)": "<= 16 ms",
    "  first key (CPU)": "<= 16 ms",
    "  backspace (CPU)": "<= 16 ms",
    "  paste 200 chars (CPU)": "<= 16 ms",
    "cursor move (CPU)": "<= 10 ms",
    "open group, 100k msgs": "<= 150 ms",
    "open group, next 5 (med)": "<= 150 ms",
    "open via Pilot (idle)": "(20 ms idle steps)",
    "countdown tick (CPU)": "<= 2 ms",
    "tick, all rows (CPU)": "(worst case)",
    "idle CPU": "",
    "peak RSS": "<= 120 MB",
}


# ------------------------------------------------------------------------ building


def build(path: Path, groups: int, messages: int) -> None:
    """Create the schema with the store, then bulk-insert rows with ``executemany``."""
    from groups_tui.store.store import Store

    async def create() -> None:
        store = await Store.open(path)
        await store.close()

    asyncio.run(create())
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    words = ["book", "runners", "parents", "garden", "chess", "choir", "climbing", "cinema"]
    with conn:
        conn.executemany(
            "INSERT INTO groups(id, subject, created_at, last_inbound_at, last_inbound_by,"
            " last_activity_at, unread) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    f"G{i:05d}",
                    f"Group {i:05d} {words[i % len(words)]}",
                    NOW - 90 * 86_400,
                    NOW - (i * 37) % 90_000,
                    f"Member {i}-0",
                    NOW - (i * 37) % 90_000 if i else NOW,
                    i % 7,
                )
                for i in range(groups)
            ),
        )
        conn.executemany(
            "INSERT INTO participants(group_id, participant_key, wa_id, profile_name, joined_at,"
            " state, state_at) VALUES (?, ?, ?, ?, ?, 'present', ?)",
            (
                (
                    f"G{i:05d}",
                    f"44{7700000000 + i * 5 + j}",
                    f"44{7700000000 + i * 5 + j}",
                    f"Member {i}-{j}",
                    NOW - 80 * 86_400,
                    NOW - 80 * 86_400,
                )
                for i in range(groups)
                for j in range(5)
            ),
        )

        def rows() -> Iterator[tuple[object, ...]]:
            big = min(BIG_GROUP_MESSAGES, messages)
            for n in range(big):
                yield (
                    f"wamid.big.{n:07d}",
                    "G00000",
                    "inbound",
                    "text",
                    f"447700000{n % 5}",
                    f"Member 0-{n % 5}",
                    f"447700000{n % 5}",
                    NOW - (big - n) * 30,
                    f"message {n} about chapter {n % 300}",
                )
            rest = messages - big
            per = max(rest // max(groups - 1, 1), 1)
            n = 0
            for i in range(1, groups):
                for k in range(per):
                    if n >= rest:
                        return
                    yield (
                        f"wamid.{i}.{k}",
                        f"G{i:05d}",
                        "inbound",
                        "text",
                        f"g{i}m{k % 5}",
                        f"Member {i}-{k % 5}",
                        None,
                        NOW - (per - k) * 600 - i,
                        f"note {k} in group {i}",
                    )
                    n += 1

        conn.executemany(
            "INSERT INTO messages(id, group_id, direction, kind, sender_key, sender_name,"
            " sender_wa_id, at, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


# ------------------------------------------------------------------------ measuring


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` every millisecond (the app offers no event for these states)."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.001)


async def cpu_each(
    action: Callable[[], Awaitable[None]],
    times: int,
    summary: Callable[[list[float]], float] = statistics.median,
) -> float:
    """CPU milliseconds of ``action``: the median of ``times`` runs, or ``summary``."""
    samples = []
    for _ in range(times):
        start = time.process_time()
        await action()
        samples.append((time.process_time() - start) * 1000)
    return summary(samples)


HEADLESS_KEYS = [("first key", "g"), *(("typing", c) for c in "roup0")] + [
    ("backspace", "backspace")
] * 3
"""The headless filter keystrokes: first key, typing on, three backspaces (then a paste)."""


async def key_samples(app: object, pilot: object, target: object) -> list[tuple[str, float]]:
    """CPU ms of each filter keystroke (:data:`HEADLESS_KEYS`), then of a 200-char paste.

    ``target`` is the focused input the paste is delivered to, as the terminal driver
    delivers a bracketed paste.
    """
    from textual import events

    samples = []
    for label, key in HEADLESS_KEYS:
        start = time.process_time()
        await pilot.press(key)  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        samples.append((label, (time.process_time() - start) * 1000))
    start = time.process_time()
    target.post_message(events.Paste(PASTE))  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    samples.append(("paste 200 chars", (time.process_time() - start) * 1000))
    return samples


def key_figures(out: dict[str, float], samples: list[tuple[str, float]]) -> None:
    """Median, p95 and worst over every key, and the worst of each kind."""
    values = [v for _, v in samples]
    out["filter keystroke (CPU)"] = statistics.median(values)
    out["filter key p95 (CPU)"] = p95(values)
    out["filter key worst (CPU)"] = max(values)
    for label in ("first key", "backspace", "paste 200 chars"):
        out[f"  {label} (CPU)"] = max(v for name, v in samples if name == label)


async def idle_cpu(pilot: object, seconds: float = 3.0) -> float:
    """CPU used while idle, as a percentage of one core."""
    start_cpu, start = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    return 100 * (time.process_time() - start_cpu) / (time.perf_counter() - start)


async def open_and_draw(app: object, key: str, opened: Callable[[], bool]) -> float:
    """Wall ms from a key reaching the app to the frame that settles the screen it opens.

    The key is posted as the terminal driver posts it. ``opened`` says when the new
    screen holds its content; the next refresh callback runs once nothing is left to
    draw, which is what the operator sees.
    """
    from textual import events
    from textual.app import App

    assert isinstance(app, App)
    start = time.perf_counter()
    app.post_message(events.Key(key, None))
    await until(opened)
    await app.screen.wait_for_refresh()
    return (time.perf_counter() - start) * 1000


async def back(pilot: object) -> None:
    """Escape to the previous screen and let the app settle."""
    await pilot.press("escape")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)


async def open_figures(
    app: object, pilot: object, key: str, opened: Callable[[], bool]
) -> dict[str, float]:
    """The open figures: the first open, the median of the next five, and via Pilot."""
    out = {"open group, 100k msgs": await open_and_draw(app, key, opened)}
    await back(pilot)
    later = []
    for _ in range(5):
        later.append(await open_and_draw(app, key, opened))
        await back(pilot)
    out["open group, next 5 (med)"] = statistics.median(later)
    start = time.perf_counter()
    await pilot.press(key)  # type: ignore[attr-defined]
    await until(opened)
    await pilot.pause()  # type: ignore[attr-defined]
    out["open via Pilot (idle)"] = (time.perf_counter() - start) * 1000
    await back(pilot)
    return out


async def bench_empty() -> dict[str, float]:
    """The same figures for an empty Textual app with one Input."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Input, Static

    class Opened(Screen[None]):
        BINDINGS = [("escape", "app.pop_screen")]

        def compose(self) -> ComposeResult:
            yield Static("opened")

    class Empty(App[None]):
        BINDINGS = [Binding("f5", "open", priority=True)]

        def compose(self) -> ComposeResult:
            yield Input()
            yield Static("empty")

        def action_open(self) -> None:
            self.push_screen(Opened())

    out: dict[str, float] = {}
    start = time.perf_counter()
    app = Empty()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        out["inbox ready"] = (time.perf_counter() - start) * 1000

        key_figures(out, await key_samples(app, pilot, app.query_one(Input)))

        async def down() -> None:
            await pilot.press("down")
            await pilot.pause()

        out["cursor move (CPU)"] = await cpu_each(down, 50)

        def opened() -> bool:
            return isinstance(app.screen, Opened)

        out.update(await open_figures(app, pilot, "f5", opened))

        async def tick() -> None:
            await pilot.pause()

        out["countdown tick (CPU)"] = await cpu_each(tick, 50)
        out["tick, all rows (CPU)"] = out["countdown tick (CPU)"]
        out["idle CPU"] = await idle_cpu(pilot)
    out["peak RSS"] = rss_mb()
    return out


async def bench_app(db: Path) -> dict[str, float]:
    """The real app over a real InboxService on the built database."""
    from groups_tui.service import InboxService
    from groups_tui.service.types import AccountInfo, Mode
    from groups_tui.store.store import Store
    from groups_tui.ui.app import make_app
    from groups_tui.ui.screens.conversation import ConversationScreen
    from groups_tui.ui.widgets.group_list import GroupList
    from groups_tui.ui.widgets.message_log import MessageLog

    clock_now = [float(NOW)]

    def clock() -> float:
        return clock_now[0]

    out: dict[str, float] = {}
    start = time.perf_counter()
    store = await Store.open(db, clock=clock)
    service = InboxService(
        store, None, account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX), clock=clock
    )
    app = make_app(service, clock=clock, bell=False, freeze_heap=True)  # as `run` does
    async with app.run_test(size=(120, 40)) as pilot:
        group_list = app.screen.query_one(GroupList)
        await until(lambda: group_list.total > 0)
        await pilot.pause()
        out["inbox ready"] = (time.perf_counter() - start) * 1000
        out["groups"] = group_list.total

        await pilot.press("slash")
        await pilot.pause()
        from textual.widgets import Input

        key_figures(out, await key_samples(app, pilot, app.screen.query_one("#filter", Input)))
        await pilot.press("escape", "escape")
        await pilot.pause()

        async def down() -> None:
            await pilot.press("j")
            await pilot.pause()

        out["cursor move (CPU)"] = await cpu_each(down, 50)
        await pilot.press("g")
        await pilot.pause()
        # G00000 (the group with 100,000 messages) has the newest activity: first row.

        def opened() -> bool:
            screen = app.screen
            if not isinstance(screen, ConversationScreen):
                return False
            logs = screen.query(MessageLog)  # empty until the screen is composed
            return bool(logs) and logs.first().loaded

        out.update(await open_figures(app, pilot, "enter", opened))

        async def tick() -> None:
            clock_now[0] += 1  # rows whose age or countdown changes this second repaint
            app.tick_clock()
            await pilot.pause()

        async def minute_tick() -> None:
            clock_now[0] += 60  # every visible row's labels change at once
            app.tick_clock()
            await pilot.pause()

        out["countdown tick (CPU)"] = await cpu_each(tick, 60, statistics.mean)
        out["tick, all rows (CPU)"] = await cpu_each(minute_tick, 30)
        out["idle CPU"] = await idle_cpu(pilot)
    await store.close()
    out["peak RSS"] = rss_mb()
    return out


# ------------------------------------------------------------------------ real terminal

PASTE = ("chess club " * 19)[:200]
"""A 200-character paste into the filter box."""

AUTOMATIONS_CONFIG = """
[automations.pacing]
group_ops_per_second = 3
messages_per_second = 15

[[automations.invite_rules]]
name = "join"
keywords = ["join", "invite"]
group_id = "G00001"

[[automations.forward]]
name = "crm"
url = "http://127.0.0.1:9/hook"
kinds = ["message.*"]
"""
"""The TUI runs its automation runner (invite flows, forwarding) beside the moderation
watcher and the Cloud client, as an operator with automations runs it."""


def terminal_keys() -> list[object]:
    """First key, typing on, three backspaces, then a 200-character paste."""
    from terminal import Key

    return [
        Key("first key", "g", literal=True),
        *(Key("typing", c, literal=True) for c in "roup0"),
        Key("backspace", "BSpace"),
        Key("backspace", "BSpace"),
        Key("backspace", "BSpace"),
        Key("paste 200 chars", PASTE, paste=True),
    ]


def terminal_figures(
    db: Path, src: Path, runs: int, groups: int
) -> dict[str, dict[str, list[float]]]:
    """Start the empty app and groups-tui in tmux ``runs`` times each, alternating."""
    from terminal import run_in_tmux, start_server, stop_server

    here = Path(__file__).resolve().parent
    home = Path(tempfile.mkdtemp(prefix="groups-tui-bench-home-"))
    config = home / "config.toml"
    config.write_text(AUTOMATIONS_CONFIG, encoding="utf-8")
    config.chmod(0o600)
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
    }
    ours_env = base_env | {
        "PYTHONPATH": str(src),
        "GROUPS_TUI_CONFIG": str(config),
        "GROUPS_TUI_DB": str(db),
        "WHATSAPP_ACCESS_TOKEN": "bench-token",
        "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
        "WHATSAPP_API_BASE_URL": "http://127.0.0.1:9",  # nothing leaves the machine
        "GROUPS_TUI_BELL": "false",
    }
    out: dict[str, dict[str, list[float]]] = {"empty": {}, "ours": {}}

    def note(which: str, name: str, value: float) -> None:
        out[which].setdefault(name, []).append(value)

    start_server()
    try:
        for _ in range(runs):
            for which in ("empty", "ours"):
                if which == "empty":
                    run = run_in_tmux(
                        [sys.executable, str(here / "empty_app.py")],
                        env=base_env,
                        first_frame="empty app ready",
                        ready="empty app ready",
                        keys=terminal_keys(),  # type: ignore[arg-type]
                    )
                else:
                    from terminal import Key

                    run = run_in_tmux(
                        [sys.executable, "-m", "groups_tui"],
                        env=ours_env,
                        first_frame="Quit",
                        ready=f"{groups:,}/{groups:,}",
                        keys=terminal_keys(),  # type: ignore[arg-type]
                        before_keys=[Key("focus", "/", literal=True)],
                    )
                note(which, "first frame", run.first_frame_ms)
                note(which, "ready", run.ready_ms)
                note(which, "CPU until ready", run.ready_cpu_ms)
                note(which, "peak RSS", run.peak_rss_mb)
                for label, wall, cpu in run.keys:
                    note(which, "key -> frame", wall)
                    note(which, "key CPU", cpu)
                    note(which, f"key -> frame: {label}", wall)
                    note(which, f"key CPU: {label}", cpu)
    finally:
        stop_server()
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def print_terminal(fig: dict[str, dict[str, list[float]]]) -> None:
    """min/median/max per figure (p95 and worst for keys), ours beside the empty app."""
    print("\nreal terminal (tmux 120x40, process start -> pane), min/median/max of every run")
    print(f"{'figure':<30}{'groups-tui':>24}{'empty app':>24}{'ratio (med)':>13}")

    def spread(values: list[float]) -> str:
        return f"{min(values):.0f}/{statistics.median(values):.0f}/{max(values):.0f}"

    for name in ("first frame", "ready", "CPU until ready", "peak RSS"):
        ours, empty = fig["ours"][name], fig["empty"][name]
        unit = " MB" if name == "peak RSS" else " ms"
        ratio = statistics.median(ours) / statistics.median(empty)
        print(f"{name:<30}{spread(ours) + unit:>24}{spread(empty) + unit:>24}{ratio:>12.2f}x")
    ratios = [o / e for o, e in zip(fig["ours"]["ready"], fig["empty"]["ready"], strict=True)]
    print(
        f"{'ready / empty start, paired':<30}{'':>24}{'':>24}{spread([r * 100 for r in ratios]) + ' %':>13}"
    )
    print(f"{'keys':<30}{'med/p95/worst ms':>24}{'med/p95/worst ms':>24}")
    names = [n for n in fig["ours"] if n.startswith(("key -> frame", "key CPU"))]
    for name in names:
        ours, empty = fig["ours"][name], fig["empty"][name]

        def tail(values: list[float]) -> str:
            return f"{statistics.median(values):.1f}/{p95(values):.1f}/{max(values):.1f}"

        ratio = statistics.median(ours) / max(statistics.median(empty), 1e-9)
        print(f"{name:<30}{tail(ours):>24}{tail(empty):>24}{ratio:>12.2f}x")
    print(
        "targets: ready <= 1.5x the empty app's start; key -> frame <= 1.3x the empty app; "
        "key CPU p95 and worst <= 16 ms"
    )


def headless_once(db: Path) -> dict[str, dict[str, float]]:
    """One headless run of both apps in this process (imports excluded)."""
    os.environ.setdefault("TZ", "UTC")
    import textual.app  # noqa: F401

    import groups_tui.ui.app  # noqa: F401  (imports are not part of "after launch")

    empty = asyncio.run(bench_empty())
    gc.collect()  # the empty app's garbage is not part of our start-up
    ours = asyncio.run(bench_app(db))
    return {"empty": empty, "ours": ours}


def print_headless(runs: list[dict[str, dict[str, float]]]) -> None:
    units = {"idle CPU": "%", "peak RSS": "MB"}
    print(f"headless (Textual's run_test, imports excluded), min/median/max of {len(runs)} runs")
    print(f"{'figure':<26}{'groups-tui':>24}{'empty app':>24}  target")
    for name, target in TARGETS.items():
        unit = units.get(name, "ms")

        def spread(which: str, name: str = name, unit: str = unit) -> str:
            v = [r[which][name] for r in runs]
            return f"{min(v):.1f}/{statistics.median(v):.1f}/{max(v):.1f}{unit}"

        print(f"{name:<26}{spread('ours'):>24}{spread('empty'):>24}  {target}")
    print(f"(rows in the inbox: {int(runs[0]['ours']['groups']):,})")


def main() -> None:
    """Build (in a child process, so its memory is not counted), then measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this file")
    parser.add_argument("--runs", type=int, default=3, help="runs of every measurement")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the groups_tui to run")
    parser.add_argument("--no-terminal", action="store_true", help="headless figures only")
    parser.add_argument("--no-headless", action="store_true", help="real-terminal figures only")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--headless-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.db, args.groups, args.messages)
        return
    if args.headless_once:
        print(json.dumps(headless_once(args.db)))
        return
    tmp = tempfile.TemporaryDirectory() if args.db is None else None
    db = args.db or Path(tmp.name) / "bench.db"  # type: ignore[union-attr]
    env = dict(os.environ, PYTHONPATH=str(args.src), TZ="UTC")
    if not db.exists():
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--build-only",
                "--db",
                str(db),
                "--groups",
                str(args.groups),
                "--messages",
                str(args.messages),
            ],
            check=True,
            env=env,
        )
        print(
            f"built {args.groups:,} groups / {args.messages:,} messages "
            f"in {time.perf_counter() - start:.1f} s ({db.stat().st_size / 1e6:.0f} MB)"
        )
    print(f"groups_tui from {args.src}")
    if not args.no_headless:
        runs = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--headless-once", "--db", str(db)],
                check=True,
                env=env,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        print_headless(runs)
    if not args.no_terminal:
        print_terminal(terminal_figures(db, args.src, args.runs, args.groups))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
