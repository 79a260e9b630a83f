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

With ``--numbers N`` (several business numbers, the groups spread over them), it
measures instead, in the same run, the default account (10,000 groups, 1,000,000
messages) on one number and on N, and the one asked for (say five full numbers:
``--numbers 5 --groups 50000 --messages 5000000``), each three times in a fresh process
(the runs of the accounts interleaved): inbox ready (the first screen drawn, and every
row in memory), CPU per filter key (the median typed key, the first key, the worst
backspace, a 200-character paste, and the worst of them all), peak RSS, and the inbox's
bytes per row (tracemalloc), as min/median/max. ``--baseline main`` adds the 10k and
the large account (on one number: it knows no other) as that git ref's code measures
them, over databases its own code built.

Prints figures only; nothing here asserts on time.

With ``--screens``, it measures instead the keys on the other screens (conversation,
composer, search, members, join requests, message state, spend, audit log, automations,
moderation queue, template picker; see ``bench/ui_screens.py``): per screen, the CPU of
opening it and the median, p95 and worst key, beside the empty app, each run in a fresh
process over a copy of the database, alternating with ``--baseline-src`` when given.

Usage: ``python bench/ui.py [--groups N] [--messages N] [--numbers N [--baseline REF]]
[--db PATH] [--cache DIR] [--src DIR] [--baseline-src DIR] [--screens]``;
``--baseline-src`` starts another checkout's ``src`` in every real-terminal round too
(the empty app, ``--src`` and it in turn, so the three share each round's load). Every
real-terminal round also starts the floor (``bench/floor_app.py``: Textual and one read
of every row, nothing else), timed to ready only, to show how close to the empty app
any inbox on Textual and this database could start here.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import math
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from groups_tui.domain.numbers import BusinessNumber

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


def bench_numbers(count: int) -> list[BusinessNumber]:
    """The business numbers of a bench account (none registered for one number)."""
    if count <= 1:
        return []  # nor imported: a baseline checkout may predate numbers
    from groups_tui.domain.numbers import BusinessNumber

    return [
        BusinessNumber(str(100000000000001 + i), f"N{i + 1}", "200000000000002")
        for i in range(count)
    ]


def build(path: Path, groups: int, messages: int, numbers: int = 1) -> None:
    """Create the schema with the store, then bulk-insert rows with ``executemany``.

    With several numbers the groups are spread over them in turn (group ``i`` is number
    ``i % numbers``'s), so each number holds ``groups / numbers`` of them.
    """
    from groups_tui.store.store import Store

    registered = bench_numbers(numbers)

    async def create() -> None:
        # A store of before numbers (a baseline checkout) takes no ``numbers``.
        store = await (Store.open(path, numbers=registered) if registered else Store.open(path))
        await store.close()

    asyncio.run(create())
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = WAL")
    words = ["book", "runners", "parents", "garden", "chess", "choir", "climbing", "cinema"]
    ids = [n.phone_number_id for n in registered] or [""]
    numbered = "phone_number_id" in {r[1] for r in conn.execute("PRAGMA table_info(groups)")}
    with conn:
        conn.executemany(
            "INSERT INTO groups(id, subject, created_at, last_inbound_at, last_inbound_by,"
            " last_activity_at, unread"
            + (
                ", phone_number_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                if numbered
                else ") VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
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
                + ((ids[i % len(ids)],) if numbered else ())
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


async def refreshed_at(node: object) -> float:
    """``perf_counter()`` once ``node``'s next refresh is done, taken by a callback run
    right after it rather than when the awaiting coroutine resumes (work the app starts
    after that frame, say a worker's imports, is not counted in the frame)."""
    stamp: list[float] = []
    done = asyncio.Event()

    def after() -> None:
        stamp.append(time.perf_counter())
        done.set()

    node.call_after_refresh(after)  # type: ignore[attr-defined]
    await done.wait()
    return stamp[0]


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


def own_copy(db: Path, name: str) -> Path:
    """A copy of ``db`` beside it for another checkout, made before either opens it: the
    two may differ in schema, and a newer one migrates the file it opens."""
    copy = db.with_name(f"{db.stem}-{name}{db.suffix}")
    if not copy.exists():
        shutil.copyfile(db, copy)
    return copy


def terminal_figures(
    db: Path, src: Path, runs: int, groups: int, baseline: Path | None = None
) -> dict[str, dict[str, list[float]]]:
    """Start the empty app, the floor and groups-tui in tmux ``runs`` times each, in turn; with
    ``baseline`` (another checkout's ``src``), that one too in every round (its figures
    under ``"baseline"``, paired with the same round's empty app)."""
    from terminal import Key, run_in_tmux, start_server, stop_server

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
    out: dict[str, dict[str, list[float]]] = {"empty": {}, "floor": {}, "ours": {}}
    sources = {"ours": src}
    dbs = {"ours": db}
    if baseline is not None:
        out["baseline"] = {}
        sources["baseline"] = baseline
        dbs["baseline"] = own_copy(db, "baseline")

    def note(which: str, name: str, value: float) -> None:
        out[which].setdefault(name, []).append(value)

    start_server()
    try:
        for _ in range(runs):
            for which in ("empty", "floor", *sources):
                if which == "empty":
                    run = run_in_tmux(
                        [sys.executable, str(here / "empty_app.py")],
                        env=base_env,
                        first_frame="empty app ready",
                        ready="empty app ready",
                        keys=terminal_keys(),  # type: ignore[arg-type]
                        # a key the moment it is ready, then the box emptied again
                        at_ready=Key("at ready", "x", literal=True),
                        before_keys=[Key("empty the box", "BSpace")],
                    )
                elif which == "floor":  # started and timed only (bench/floor_app.py)
                    run = run_in_tmux(
                        [sys.executable, str(here / "floor_app.py"), str(db)],
                        env=base_env,
                        first_frame="filter",
                        ready=f"{groups:,}/{groups:,}",
                    )
                else:
                    run = run_in_tmux(
                        [sys.executable, "-m", "groups_tui"],
                        env=ours_env
                        | {"PYTHONPATH": str(sources[which]), "GROUPS_TUI_DB": str(dbs[which])},
                        first_frame="Quit",
                        ready=f"{groups:,}/{groups:,}",
                        keys=terminal_keys(),  # type: ignore[arg-type]
                        # the filter box focused the moment every row is in (the work
                        # started then -- workers, header figures -- still running)
                        at_ready=Key("focus", "/", literal=True),
                    )
                note(which, "first frame", run.first_frame_ms)
                note(which, "ready", run.ready_ms)
                note(which, "CPU until ready", run.ready_cpu_ms)
                note(which, "CPU until settled", run.settled_cpu_ms)
                note(which, "peak RSS", run.peak_rss_mb)
                if run.at_ready is not None:
                    note(which, "key at ready -> frame", run.at_ready[0])
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


def print_terminal(fig: dict[str, dict[str, list[float]]], title: str = "") -> None:
    """min/median/max per figure (p95 and worst for keys), ours beside the empty app."""
    print(
        f"\nreal terminal{title} (tmux 120x40, process start -> pane), min/median/max of every run"
    )
    print(f"{'figure':<30}{'groups-tui':>24}{'empty app':>24}{'ratio (med)':>13}")

    def spread(values: list[float]) -> str:
        return f"{min(values):.0f}/{statistics.median(values):.0f}/{max(values):.0f}"

    for name in (
        "first frame",
        "ready",
        "CPU until ready",
        "CPU until settled",
        "key at ready -> frame",
        "peak RSS",
    ):
        ours, empty = fig["ours"][name], fig["empty"][name]
        unit = " MB" if name == "peak RSS" else " ms"
        ratio = statistics.median(ours) / statistics.median(empty)
        print(f"{name:<30}{spread(ours) + unit:>24}{spread(empty) + unit:>24}{ratio:>12.2f}x")
    ours, empty = fig["ours"]["ready"], fig["empty"]["ready"]
    pairs = [("ready / empty start, paired", ours, empty)]
    if fig.get("floor"):
        floor = fig["floor"]["ready"]
        print(
            f"{'floor (bench/floor_app.py)':<30}{spread(floor) + ' ms':>24}{'':>24}"
            f"{statistics.median(floor) / statistics.median(empty):>12.2f}x"
        )
        pairs += [
            ("floor / empty start, paired", floor, empty),
            ("ready / floor, paired", ours, floor),
        ]
    for label, num, den in pairs:
        paired = [a / b * 100 for a, b in zip(num, den, strict=True)]
        print(f"{label:<30}{'':>24}{'':>24}{spread(paired) + ' %':>13}")
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


# ------------------------------------------------------------------------ several numbers

SCALE_FIGURES = {
    "inbox ready (1st screen)": ("ms", "<= 2x the 10k figure"),
    "all rows in memory": ("ms", ""),
    "all rows, CPU": ("ms", "every thread's CPU until every row is in"),
    "filter keystroke (CPU)": ("ms", "<= 16 ms (median of typed keys)"),
    "first key (CPU)": ("ms", "<= 16 ms"),
    "backspace, worst (CPU)": ("ms", "<= 16 ms"),
    "paste 200 chars (CPU)": ("ms", "<= 16 ms"),
    "worst keystroke (CPU)": ("ms", "<= 16 ms"),
    "peak RSS": ("MB", "<= 150 MB"),
    "bytes per inbox row": ("B", "half of before (what the inbox list holds)"),
    "InboxRow list (service)": ("B", "the service's rows as the list held them before"),
}
RUNS = 3


def db_numbers(db: Path) -> list[BusinessNumber]:
    """The numbers a bench database registered (none before schema v9 or for one number)."""
    with sqlite3.connect(db) as conn:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'numbers'").fetchone()
        count = conn.execute("SELECT count(*) FROM numbers").fetchone()[0] if has else 0
    return bench_numbers(count)


async def filter_keys(app: object, pilot: object) -> dict[str, float]:
    """CPU of each filter key: the first, the typed ones, backspaces and a paste."""
    from textual import events
    from textual.app import App

    assert isinstance(app, App)
    await pilot.press("slash")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]

    async def cpu(action: Callable[[], Awaitable[None]]) -> float:
        start = time.process_time()
        await action()
        await pilot.pause()  # type: ignore[attr-defined]
        return (time.process_time() - start) * 1000

    typed = [await cpu(lambda k=k: pilot.press(k)) for k in "group 01 chess"]  # type: ignore[attr-defined,misc]
    backspaces = [await cpu(lambda: pilot.press("backspace")) for _ in range(14)]  # type: ignore[attr-defined]

    async def paste() -> None:
        focused = app.focused
        assert focused is not None
        focused.post_message(events.Paste(PASTE))

    pasted = await cpu(paste)
    return {
        "filter keystroke (CPU)": statistics.median(typed[1:]),
        "first key (CPU)": typed[0],
        "backspace, worst (CPU)": max(backspaces),
        "paste 200 chars (CPU)": pasted,
        "worst keystroke (CPU)": max([*typed, *backspaces, pasted]),
    }


async def measure_scale(db: Path) -> dict[str, float]:
    """One run: the app over ``db``; the first screen, every row, keystrokes, RSS."""
    from groups_tui.service import InboxService
    from groups_tui.service.types import AccountInfo, Mode
    from groups_tui.store.store import Store
    from groups_tui.ui.app import make_app
    from groups_tui.ui.screens.inbox import InboxScreen
    from groups_tui.ui.widgets.group_list import GroupList

    def clock() -> float:
        return float(NOW)

    numbers = db_numbers(db)
    out: dict[str, float] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    store = await Store.open(db, clock=clock)
    service = InboxService(
        store,
        None,
        account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX),
        clock=clock,
        **({"numbers": numbers} if numbers else {}),  # a baseline checkout has no numbers
    )
    app = make_app(service, clock=clock, bell=False, freeze_heap=True)
    async with app.run_test(size=(120, 40)) as pilot:
        group_list = app.screen.query_one(GroupList)
        await until(lambda: group_list.total > 0)
        # The first screen's rows are in the list: the frame that draws them.
        out["inbox ready (1st screen)"] = (await refreshed_at(app.screen) - start) * 1000
        inbox = app.screen
        assert isinstance(inbox, InboxScreen)
        # A checkout that loads every row at once has no ``all_loaded``.
        await until(lambda: getattr(inbox, "all_loaded", True))
        out["all rows in memory"] = (await refreshed_at(app.screen) - start) * 1000
        # Every thread's CPU until then (the reader's too): less noisy on a shared machine.
        out["all rows, CPU"] = (time.process_time() - cpu_start) * 1000
        await pilot.pause()
        out["groups"] = group_list.total
        out |= await filter_keys(app, pilot)
    await store.close()
    out["peak RSS"] = rss_mb()
    return out


def held_bytes(roots: list[object]) -> int:
    """Bytes of ``roots`` and of what they reach through lists, tuples (records too),
    dicts, sets and the project's own plain objects: their strings, bytes, numbers and
    arrays, each object counted once (``sys.getsizeof``: with its header, without the
    allocator's rounding). Widgets, styles and drawn strips are not followed."""
    from array import array

    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            total += sys.getsizeof(obj)
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            total += sys.getsizeof(obj)
            stack += list(obj)
        elif isinstance(obj, (str, bytes, int, float, array)):
            total += sys.getsizeof(obj)
        elif type(obj).__module__.startswith("groups_tui.") and hasattr(obj, "__dict__"):
            total += sys.getsizeof(obj) + sys.getsizeof(vars(obj))
            stack += list(vars(obj).values())
    return total


async def measure_row_bytes(db: Path) -> dict[str, float]:
    """Bytes per group: what the inbox list holds once every row is in (its own
    attributes, :func:`held_bytes`), and the service's ``inbox_rows()`` list as
    tracemalloc sees it built (what the list held at 329e097, its index and orders
    aside)."""
    import tracemalloc

    from textual.scroll_view import ScrollView

    from groups_tui.service import InboxService
    from groups_tui.service.types import AccountInfo, Mode
    from groups_tui.store.store import Store
    from groups_tui.ui.app import make_app
    from groups_tui.ui.widgets.group_list import GroupList

    def clock() -> float:
        return float(NOW)

    numbers = db_numbers(db)
    store = await Store.open(db, clock=clock)
    account = AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX)
    service = InboxService(
        store, None, account=account, clock=clock, **({"numbers": numbers} if numbers else {})
    )
    out: dict[str, float] = {}
    app = make_app(service, clock=clock, bell=False, freeze_heap=True)
    async with app.run_test(size=(120, 40)) as pilot:
        group_list = app.screen.query_one(GroupList)
        await until(lambda: getattr(app.screen, "all_loaded", True) and group_list.total > 0)
        await pilot.pause()
        textual_own = set(vars(ScrollView()))
        mine = [v for k, v in vars(group_list).items() if k not in textual_own]
        out["bytes"] = held_bytes(mine) / group_list.total
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rows = await service.reading.inbox_rows()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    out["service bytes"] = held / max(len(rows), 1)
    await store.close()
    return out


Config = tuple[int, int, int, "Path | None"]
"""An account to measure: groups, messages, numbers, and the ``src`` of the checkout that
measures it (``None``: this one)."""


def _env(src: Path | None) -> dict[str, str]:
    env = {**os.environ, "TZ": "UTC"}
    if src is not None:
        env["PYTHONPATH"] = str(src)  # before the installed package: the baseline's code
    return env


def _child(db: Path, what: str, src: Path | None = None) -> dict[str, float]:
    return dict(_child_json(db, what, src))


def _child_json(db: Path, what: str, src: Path | None = None) -> Any:
    """Run this script with ``--what`` over ``db`` (``src``'s code); its last line, as JSON."""
    done = subprocess.run(
        [sys.executable, __file__, f"--{what}", "--db", str(db)],
        capture_output=True,
        text=True,
        env=_env(src),
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"--{what} over {db.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_checkout(ref: str, into: Path) -> tuple[Path, str]:
    """Export ``ref`` of this repository into ``into``; its ``src`` and short commit."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--short", ref],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", commit, "src", "styles"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src", commit


def compare_scales(configs: list[tuple[str, Config]], cache: Path) -> None:
    """Measure each account RUNS times, each in a fresh process (the runs of all the
    accounts interleaved), and print min/median/max side by side."""
    results: list[dict[str, list[float]]] = [{} for _ in configs]
    for tag, (groups, messages, numbers, src) in configs:
        ensure_built(
            cache / f"{tag}-{groups}-{messages}-{numbers}.db", groups, messages, numbers, src
        )
    for _ in range(RUNS):
        for runs, (tag, (groups, messages, numbers, src)) in zip(results, configs, strict=True):
            db = cache / f"{tag}-{groups}-{messages}-{numbers}.db"
            for name, value in _child(db, "measure", src).items():
                runs.setdefault(name, []).append(value)
    for runs, (tag, (groups, messages, numbers, src)) in zip(results, configs, strict=True):
        db = cache / f"{tag}-{groups}-{messages}-{numbers}.db"
        held = _child(db, "measure-bytes", src)
        runs["bytes per inbox row"] = [held["bytes"]]
        runs["InboxRow list (service)"] = [held["service bytes"]]
    heads = [f"{tag.split('-')[0]} {g // 1000}k/{n}n" for tag, (g, _, n, _) in configs]
    width = 22
    print(f"{'figure (min / median / max)':<28}" + "".join(f"{h:>{width}}" for h in heads))
    for name, (unit, target) in SCALE_FIGURES.items():
        cells = []
        for runs in results:
            values = sorted(runs.get(name, [float("nan")]))
            if len(values) == 1:
                cells.append(f"{values[0]:.0f} {unit}")
            else:
                cells.append(f"{values[0]:.1f}/{statistics.median(values):.1f}/{values[-1]:.1f}")
        print(f"{name:<28}" + "".join(f"{c:>{width}}" for c in cells) + f"  {unit}; {target}")
    print("(rows in the inbox: " + ", ".join(f"{int(r['groups'][0]):,}" for r in results) + ")")


def compare_screens(db: Path | None, src: Path, baseline: Path | None, runs: int) -> None:
    """``--screens``: each checkout ``runs`` times, alternating, each run in a fresh
    process over its own copy of ``db`` (a newer schema may migrate it)."""
    import shutil

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import ui_screens

    if db is None or not db.exists():
        sys.exit("--screens needs --db (a database bench/ui.py built)")
    checkouts = {"this": src} | ({"baseline": baseline} if baseline is not None else {})
    results: dict[str, list[dict[str, dict[str, list[float]]]]] = {n: [] for n in checkouts}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        copies = {}
        for name in checkouts:
            copies[name] = Path(tmp) / f"{name}.db"
            shutil.copyfile(db, copies[name])
        for _ in range(runs):
            for name, tree in checkouts.items():
                results[name].append(_child_json(copies[name], "screens-once", tree))
    print(
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after; "
        + ", ".join(f"{n}: {t}" for n, t in checkouts.items())
    )
    ui_screens.print_screens(results)


def ensure_built(
    db: Path, groups: int, messages: int, numbers: int = 1, src: Path | None = None
) -> None:
    """Build ``db`` in a child process unless it exists (its memory is not counted)."""
    if db.exists():
        return
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--build-only",
            "--db",
            str(db),
            "--groups",
            str(groups),
            "--messages",
            str(messages),
            "--numbers",
            str(numbers),
        ],
        check=True,
        env=_env(src),
    )
    print(
        f"built {db.name}: {groups:,} groups / {messages:,} messages / {numbers} number(s) "
        f"in {time.perf_counter() - start:.1f} s ({db.stat().st_size / 1e6:.0f} MB)"
    )


def main() -> None:
    """Build (in a child process, so its memory is not counted), then measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument(
        "--numbers",
        type=int,
        default=1,
        help="business numbers the groups are spread over; above one, compare with the "
        "10k-group single-number account in the same run",
    )
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this file")
    parser.add_argument("--runs", type=int, default=3, help="runs of every measurement")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the groups_tui to run")
    parser.add_argument("--no-terminal", action="store_true", help="headless figures only")
    parser.add_argument("--no-headless", action="store_true", help="real-terminal figures only")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        metavar="DIR",
        help="also start this checkout's src in every real-terminal round (beside --src and "
        "the empty app, alternating)",
    )
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--headless-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--cache", type=Path, default=None, help="keep the built databases in this directory"
    )
    parser.add_argument(
        "--baseline",
        default=None,
        metavar="REF",
        help="with --numbers: also measure this git ref (say main) in the same run, over "
        "databases its own code built",
    )
    parser.add_argument(
        "--screens",
        action="store_true",
        help="keys on the other screens (headless), beside --baseline-src when given",
    )
    parser.add_argument("--screens-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-bytes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.db, args.groups, args.messages, args.numbers)
        return
    if args.measure:
        importlib.import_module("groups_tui.ui.app")  # imports are not part of "after launch"
        print(json.dumps(asyncio.run(measure_scale(args.db))))
        return
    if args.measure_bytes:
        print(json.dumps(asyncio.run(measure_row_bytes(args.db))))
        return
    if args.screens_once:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import ui_screens

        print(json.dumps(ui_screens.run_once(args.db)))
        return
    if args.screens:
        compare_screens(args.db, args.src, args.baseline_src, args.runs)
        return
    if args.numbers > 1:
        keep = tempfile.TemporaryDirectory() if args.cache is None else None
        cache = args.cache or Path(keep.name)  # type: ignore[union-attr]
        cache.mkdir(parents=True, exist_ok=True)
        configs: list[tuple[str, Config]] = []
        with tempfile.TemporaryDirectory() as checkout:
            if args.baseline:
                src, commit = baseline_checkout(args.baseline, Path(checkout))
                print(f"baseline: {args.baseline} ({commit}), one number (it knows no other)")
                configs += [
                    (f"{args.baseline}@{commit}", (10_000, 1_000_000, 1, src)),
                    (f"{args.baseline}@{commit}", (args.groups, args.messages, 1, src)),
                ]
            configs += [
                ("this", (10_000, 1_000_000, 1, None)),
                ("this", (10_000, 1_000_000, args.numbers, None)),
                ("this", (args.groups, args.messages, args.numbers, None)),
            ]
            compare_scales(configs, cache)
        if keep is not None:
            keep.cleanup()
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
        fig = terminal_figures(db, args.src, args.runs, args.groups, args.baseline_src)
        print_terminal(fig)
        if args.baseline_src is not None:
            print(f"\nbaseline: groups_tui from {args.baseline_src}, same rounds")
            print_terminal({"ours": fig["baseline"], "empty": fig["empty"]}, " (baseline)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
