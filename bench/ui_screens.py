"""Keys on the screens other than the inbox list: the CPU each key costs until the
screen's refresh is done and the work it started (its workers, the store's threads) has
finished, at 10,000 groups / 1,000,000 messages.

Per screen: opening it (the first key), then the keys one presses there (cursor moves,
scrolling a long history, typing in the composer or the search box, backspace). The
figures are CPU milliseconds of this process (every thread: the store's reads count),
the same clock as the inbox's filter keys in ``bench/ui.py``; the empty Textual app's
key is measured in the same process for comparison. Run through ``bench/ui.py
--screens`` (each run in a fresh process, beside another checkout with
``--baseline-src``); nothing here asserts on time.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SCREENS = (
    "empty app",
    "conversation",
    "composer",
    "search",
    "members",
    "join requests",
    "message state",
    "spend",
    "spend by number",
    "audit log",
    "automations",
    "moderation queue",
    "template picker",
)
"""The figure rows, in order."""

DRAFT = "see you at the chess club on thursday, bring the boards " * 4
"""A long draft typed into the composer key by key."""


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


async def settle(app: Any, pilot: Any, limit: float = 20.0) -> None:
    """Until the key's work is done: the screen's workers finished, then a refresh."""
    await pilot.pause()
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        screen = app.screen
        busy = [
            w
            for w in app.workers
            if w.is_running and getattr(w, "node", None) is not None and _on(w.node, screen)
        ]
        if not busy:
            break
        await asyncio.sleep(0.001)
    await pilot.pause()
    done = asyncio.Event()
    app.screen.call_after_refresh(done.set)
    await done.wait()


def _on(node: Any, screen: Any) -> bool:
    while node is not None:
        if node is screen:
            return True
        node = getattr(node, "parent", None)
    return False


async def cpu(
    app: Any, pilot: Any, action: Callable[[], Awaitable[None] | None], *, opening: bool = False
) -> float:
    """CPU ms of ``action`` (a key press or an open) until the app has settled.

    Before an open the garbage of the screens before is collected (not timed): where a
    collection falls depends on what every earlier screen allocated, which would move
    ~10-25 ms from one screen's figure to another's between two checkouts.
    """
    if opening:
        gc.collect()
    start = time.process_time()
    done = action()
    if done is not None:
        await done
    await settle(app, pilot)
    return (time.process_time() - start) * 1000


async def keys(app: Any, pilot: Any, pressed: list[str]) -> list[float]:
    """CPU ms of each key in ``pressed``."""
    return [await cpu(app, pilot, lambda k=k: pilot.press(k)) for k in pressed]


async def back(app: Any, pilot: Any, depth: int) -> None:
    """Pop back to ``depth`` screens."""
    while len(app.screen_stack) > depth:
        app.pop_screen()
        await settle(app, pilot)


async def empty_keys() -> dict[str, list[float]]:
    """The empty Textual app: typing in an Input, opening a screen holding an OptionList
    of 100 rows, and cursor moves in it."""
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import Input, OptionList

    class Rows(Screen[None]):
        def compose(self) -> ComposeResult:
            yield OptionList(*[f"row {i}" for i in range(100)])

    class Empty(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    app = Empty()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        out = await keys(app, pilot, [_key(c) for c in "typing a line"])
        opened = await cpu(app, pilot, lambda: app.push_screen(Rows()), opening=True)
        app.screen.query_one(OptionList).focus()
        out += [opened, *await keys(app, pilot, ["down"] * 10 + ["up"] * 5)]
    return {"open": [opened], "keys": out}


async def screen_keys(db: Path) -> dict[str, dict[str, list[float]]]:
    """Per screen, ``{"open": [ms], "keys": [ms, ...]}`` over the app on ``db``."""
    from groups_tui.service import InboxService
    from groups_tui.service.types import AccountInfo, Mode
    from groups_tui.store.store import Store
    from groups_tui.ui.app import make_app
    from groups_tui.ui.screens.conversation import ConversationScreen
    from groups_tui.ui.screens.message_state import MessageStateScreen
    from groups_tui.ui.widgets.message_log import MessageLog

    now = 1_789_473_600.0
    out: dict[str, dict[str, list[float]]] = {"empty app": await empty_keys()}
    store = await Store.open(db, clock=lambda: now)
    service = InboxService(
        store, None, account=AccountInfo("+1 555 0100", "PNID", Mode.SANDBOX), clock=lambda: now
    )
    app = make_app(service, clock=lambda: now, bell=False, freeze_heap=True)
    async with app.run_test(size=(120, 40)) as pilot:
        from groups_tui.ui.widgets.group_list import GroupList

        group_list = app.screen.query_one(GroupList)
        while group_list.total == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        await settle(app, pilot)
        nav = app.navigation
        big = "G00000"  # the group with 100,000 messages

        async def record(name: str, opener: Callable[[], None], pressed: list[str]) -> None:
            depth = len(app.screen_stack)
            opened = await cpu(app, pilot, opener, opening=True)
            out[name] = {"open": [opened], "keys": [opened, *await keys(app, pilot, pressed)]}
            await back(app, pilot, depth)

        # The conversation: open, scroll a long history (PageUp at the top loads the
        # next older page), Home (asks for more), End, lines up and down.
        depth = len(app.screen_stack)
        opened = await cpu(app, pilot, lambda: nav.open_group(big), opening=True)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        screen.query_one(MessageLog).focus()
        await settle(app, pilot)
        scroll = ["up"] * 10 + ["pageup"] * 30 + ["down"] * 10 + ["pagedown"] * 5
        scroll += ["home", "home", "home", "end", "pageup", "home"]
        out["conversation"] = {"open": [opened], "keys": [opened, *await keys(app, pilot, scroll)]}
        log = screen.query_one(MessageLog)
        view = log.views[-1]
        # The composer: a long draft typed key by key, then backspaces.
        await pilot.press("i")
        await settle(app, pilot)
        typed = await keys(app, pilot, [_key(c) for c in DRAFT] + ["backspace"] * 20)
        out["composer"] = {"open": [], "keys": typed}
        await cpu(app, pilot, lambda: pilot.press("escape"))
        # The template picker over the conversation.
        screen.query_one(MessageLog).focus()
        await record("template picker", lambda: pilot.press("t"), ["down"] * 10)
        await record(
            "message state", lambda: app.push_screen(MessageStateScreen(view)), ["down"] * 10
        )
        await back(app, pilot, depth)

        # Search over 1M messages: the first key, typing on, backspaces.
        depth = len(app.screen_stack)
        opened = await cpu(app, pilot, nav.open_search, opening=True)
        typed = await keys(app, pilot, [_key(c) for c in "message 4"] + ["backspace"] * 9)
        typed += await keys(app, pilot, [_key(c) for c in "note 3"] + ["backspace"] * 6)
        out["search"] = {"open": [opened], "keys": [opened, *typed]}
        await back(app, pilot, depth)

        cursor = ["down"] * 10 + ["up"] * 5
        await record("members", lambda: nav.open_members(big), cursor)
        await record("join requests", lambda: nav.open_join_requests(big), cursor)
        await record("spend", nav.open_spend, cursor)
        await record("spend by number", nav.open_spend_by_number, [])
        await record("audit log", nav.open_audit_log, cursor)
        await record("automations", nav.open_automations, cursor)
        await record("moderation queue", nav.open_moderation_queue, cursor)
    await store.close()
    return out


def _key(char: str) -> str:
    return {" ": "space", ",": "comma", ".": "full_stop"}.get(char, char)


def run_once(db: Path) -> dict[str, dict[str, list[float]]]:
    """One run in this process (imports excluded)."""
    import groups_tui.ui.app  # noqa: F401  (imports are not part of a key)

    return asyncio.run(screen_keys(db))


def print_screens(runs: dict[str, list[dict[str, dict[str, list[float]]]]]) -> None:
    """Per screen and checkout: open, median, p95 and worst key (min/median/max of runs)."""

    def spread(values: list[float]) -> str:
        if not values:
            return "—"
        return f"{min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f}"

    names = list(runs)
    count = len(next(iter(runs.values())))
    print(f"\nkeys on other screens (CPU ms per key, min/median/max of {count} runs)")
    for figure, pick in (
        ("open", lambda r: r["open"][0] if r["open"] else None),
        ("median key", lambda r: statistics.median(r["keys"])),
        ("p95 key", lambda r: p95(r["keys"])),
        ("worst key", lambda r: max(r["keys"])),
    ):
        print(f"-- {figure}")
        print(f"{'screen':<20}" + "".join(f"{n:>26}" for n in names))
        for screen in SCREENS:
            cells = []
            for name in names:
                values = [pick(r[screen]) for r in runs[name] if screen in r]
                cells.append(spread([v for v in values if v is not None]))
            print(f"{screen:<20}" + "".join(f"{c:>26}" for c in cells))
    print("target: worst key <= 16 ms CPU (the inbox filter's budget)")
