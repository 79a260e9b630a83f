"""Inbox behaviour: navigation, sorting, filtering, opening, live updates."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest
from textual import events
from textual.message import Message
from textual.widgets import Input

from groups_tui.service import InboxService
from groups_tui.service.types import InboxCursor, InboxRow, RowTable
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.messages import FeedChanged
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.help import HelpScreen
from groups_tui.ui.screens.inbox import LOADING, NOT_ALL_LOADED, InboxScreen
from groups_tui.ui.screens.search import SearchScreen
from groups_tui.ui.widgets.group_list import GroupList, QuickFilter, SortMode
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, filler
from tests.ui.world import FrozenClock, World

GROUPS = 30
"""Groups in the seeded world (ten, and twenty "Neighbourhood" ones)."""


def _list(app: GroupsApp) -> GroupList:
    return app.screen.query_one(GroupList)


def _subject(app: GroupsApp) -> str:
    row = _list(app).highlighted
    assert row is not None
    return row.subject


async def test_inbox_lists_every_group_by_activity(app: GroupsApp, service: InboxService) -> None:
    # GIVEN the seeded account WHEN the app starts
    assert len(await service.reading.inbox_rows()) == GROUPS
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # THEN the inbox holds every group, most recent activity first
        assert isinstance(app.screen, InboxScreen)
        group_list = _list(app)
        assert group_list.total == GROUPS
        assert len(group_list.shown) == GROUPS
        assert _subject(app) == "Suspended group"
        assert group_list.row_at(1).subject == "Book club"
        assert "Book club" in screen_text(app)


async def test_navigation_keys_move_the_cursor(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        total = len(group_list.shown)
        # WHEN j / down / k / up
        await pilot.press("j", "down")
        assert group_list.cursor == 2
        await pilot.press("k")
        assert group_list.cursor == 1
        await pilot.press("up", "up")
        assert group_list.cursor == 0
        # WHEN G / g
        await pilot.press("G")
        assert group_list.cursor == total - 1
        assert group_list.scroll_y > 0, "the cursor row is scrolled into view"
        await pilot.press("g")
        assert group_list.cursor == 0
        assert group_list.scroll_y == 0
        # WHEN PgDn / PgUp move one screen
        await pilot.press("pagedown")
        page = group_list.cursor
        assert page == group_list.scrollable_content_region.height - 1
        await pilot.press("pageup")
        assert group_list.cursor == 0


async def test_sort_modes(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        # WHEN sorting by window closing soonest
        await app.screen.run_action("sort_by('closing')")
        # THEN the open window with the least time left comes first
        assert group_list.sort_mode is SortMode.CLOSING
        assert group_list.row_at(0).subject == "Runners Lisbon"  # 30 min left
        assert _subject(app) == "Suspended group", "the highlighted group stays highlighted"
        # WHEN sorting by unread (s cycles closing -> unread)
        await pilot.press("s")
        assert group_list.sort_mode is SortMode.UNREAD
        assert group_list.row_at(0).subject == "Book club"  # 3 unread
        unread = [group_list.row_at(i).unread for i in range(len(group_list.shown))]
        assert unread == sorted(unread, reverse=True)
        # WHEN cycling again THEN back to activity
        await pilot.press("s")
        assert group_list.sort_mode is SortMode.ACTIVITY


async def test_keys_arriving_with_the_slash_reach_the_filter(app: GroupsApp) -> None:
    # GIVEN the inbox, and "/cro" arriving in one read from the terminal (a fast typist,
    # a batch over SSH): every key is queued before the first is handled
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        for key, character in [("slash", "/"), *[(c, c) for c in "cro"]]:
            app.post_message(events.Key(key, character))
        await settle(pilot)
        # THEN the letters are the filter's text, not list keys (c, r, o are quick filters)
        assert app.screen.query_one("#filter", Input).value == "cro"
        assert group_list.quick_filters == frozenset()
        assert group_list.filter_text == "cro"


async def test_filter_as_you_type_on_subject_member_and_number(app: GroupsApp) -> None:
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        group_list = _list(app)
        # WHEN / then typing part of a subject
        await pilot.press("slash", *"book")
        # THEN only matching groups are shown, and Filtered was posted
        assert [group_list.row_at(i).subject for i in range(len(group_list.shown))] == ["Book club"]
        filtered = [m for m in messages if isinstance(m, GroupList.Filtered)]
        assert filtered[-1].shown == 1
        # WHEN filtering on a member name (case-insensitive)
        await pilot.press(*["backspace"] * 4, *"DIETER")
        assert group_list.row_at(0).group_id == BOOK_CLUB
        # WHEN filtering on a member number
        await pilot.press(*["backspace"] * 6, *"35191234")
        assert group_list.row_at(0).subject == "Runners Lisbon"
        # WHEN Enter returns to the list, Escape clears the filter
        await pilot.press("enter")
        assert app.focused is group_list
        await pilot.press("escape")
        assert len(group_list.shown) == group_list.total


async def test_quick_filters_combine_and_clear(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        # WHEN "has join requests"
        await pilot.press("r")
        assert [group_list.row_at(i).subject for i in range(len(group_list.shown))] == [
            "Parents 3B"
        ]
        await pilot.press("r")
        # WHEN "closing within 1 h"
        await pilot.press("c")
        assert [group_list.row_at(i).subject for i in range(len(group_list.shown))] == [
            "Runners Lisbon"
        ]
        # WHEN also "unread" THEN both must hold
        await pilot.press("u")
        assert group_list.quick_filters == {QuickFilter.CLOSING, QuickFilter.UNREAD}
        assert len(group_list.shown) == 1
        # WHEN "flagged" alone THEN the operator's flag and open moderation flags count
        await pilot.press("x", "f")
        shown = {group_list.row_at(i).group_id for i in range(len(group_list.shown))}
        flagged = {f.group_id for f in await world.all_flags() if f.state == "open"}
        assert shown == {"g-flagged"} | flagged
        # WHEN "window open" alone THEN closed, pending and never-written groups are hidden
        await pilot.press("x", "o")
        shown = {group_list.row_at(i).group_id for i in range(len(group_list.shown))}
        assert "g-parents" not in shown and "g-empty" not in shown and BOOK_CLUB in shown
        await pilot.press("x")
        assert len(group_list.shown) == group_list.total


async def test_enter_opens_the_group_and_escape_returns(app: GroupsApp, world: World) -> None:
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        # GIVEN Book club highlighted WHEN Enter
        await pilot.press("j", "enter")
        await settle(pilot)
        # THEN GroupOpened was posted and the conversation is shown and marked read
        opened = [m for m in messages if isinstance(m, GroupList.GroupOpened)]
        assert opened and opened[-1].row.group_id == BOOK_CLUB
        assert opened[-1].control is _list_of(opened[-1])
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.group_id == BOOK_CLUB
        assert await world.reads() == [BOOK_CLUB]
        assert "See you Thursday!" in screen_text(app)
        # WHEN Escape THEN back to the inbox, and the unread count was patched from the feed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        row = next(r for r in _list(app).rows if r.group_id == BOOK_CLUB)
        assert row.unread == 0


def _list_of(message: GroupList.GroupOpened) -> GroupList:
    return message.group_list


async def test_a_burst_of_changes_repaints_once(app: GroupsApp, world: World) -> None:
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        before = app.changes_applied
        # WHEN 50 webhooks arrive for groups that are not open, in one burst
        await world.burst([(f"g-filler-{i % 20:03d}", filler(0), f"burst {i}") for i in range(50)])
        await settle(pilot)
        # THEN the feed was applied once (or very few times), not 50 times
        assert 1 <= app.changes_applied - before <= 2
        assert sum(isinstance(m, FeedChanged) for m in messages) >= 1
        # AND the rows were patched: the newest message is on top
        assert _list(app).row_at(0).subject.startswith("Neighbourhood")
        assert _list(app).row_at(0).last_text is not None
        assert _list(app).row_at(0).last_text.startswith("burst")
        # AND the bell rang for groups that are not open
        assert app.bells >= 1


async def test_help_palette_and_search_open(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Filter" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)


async def test_command_palette_sorts_and_opens_groups(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # WHEN ":" then a sort command
        await pilot.press("colon", *"sort by unread")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert _list(app).sort_mode is SortMode.UNREAD
        # WHEN ":" then a group's subject
        await pilot.press("colon", *"runners")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.group_id == "g-runners"


async def test_the_real_run_freezes_the_start_up_heap_once_the_inbox_is_drawn(
    service: InboxService, clock: FrozenClock
) -> None:
    # GIVEN the app as `run` builds it (tests otherwise leave the collector alone)
    app = make_app(service, clock=clock, bell=False, freeze_heap=True)
    gc.unfreeze()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            # THEN once the inbox is drawn, what was alive sits in the permanent generation
            assert _list(app).total == GROUPS
            frozen = gc.get_freeze_count()
            assert frozen > 1_000
            # AND a later full reload does not freeze again (frozen objects it replaces
            # are still freed by reference counting, so the count can only fall)
            app.screen.apply_changes([], reset=True)  # type: ignore[attr-defined]
            await settle(pilot)
            assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
    # AND an app built without it never freezes
    plain = make_app(service, clock=clock, bell=False)
    async with plain.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() == 0


async def test_the_inbox_is_drawn_before_its_rows_arrive(
    service: InboxService, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an inbox query that has not returned yet
    release = asyncio.Event()
    read = service.reading.inbox_page

    async def slow_page(*args: Any, **kwargs: Any) -> tuple[list[InboxRow], InboxCursor | None]:
        await release.wait()
        return await read(*args, **kwargs)

    monkeypatch.setattr(service.reading, "inbox_page", slow_page)
    app = make_app(service, clock=clock, bell=False)
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        await pilot.pause()
        # THEN the screen is drawn: header, filter bar and footer, saying it is loading
        assert isinstance(app.screen, InboxScreen)
        drawn = screen_text(app)
        assert LOADING in drawn
        assert "Filter" in drawn
        assert _list(app).total == 0
        # WHEN the rows arrive THEN they are drawn in place, and the counts replace it
        release.set()
        await settle(pilot)
        drawn = screen_text(app)
        assert _list(app).total == GROUPS
        assert LOADING not in drawn
        assert f"{GROUPS}/{GROUPS}" in drawn
        assert "Book club" in drawn


async def test_background_work_starts_once_the_first_rows_are_drawn(
    service: InboxService, clock: FrozenClock
) -> None:
    # GIVEN the work the runner defers until the inbox is on screen
    seen: list[int] = []
    app: GroupsApp | None = None

    async def started() -> None:
        assert app is not None
        seen.append(_list(app).total)

    app = make_app(service, clock=clock, bell=False, on_started=started)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await settle(pilot)
        # THEN it ran once, with the rows already in the list
        assert seen == [GROUPS]


async def test_a_filter_keystroke_restyles_the_counts_not_the_screen(
    app: GroupsApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    restyled: list[str] = []
    update_styles = GroupsApp.update_styles

    def spy(self: GroupsApp, node: Any, animate: bool = True) -> None:
        restyled.append(type(node).__name__)
        update_styles(self, node, animate=animate)

    monkeypatch.setattr(GroupsApp, "update_styles", spy)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        restyled.clear()
        # WHEN the first key is typed into the filter (the filter switches on)
        await pilot.press("b")
        await settle(pilot)
        # THEN the counts say the list is filtered, and the screen (every widget of it)
        # was not styled again for it
        assert "InboxScreen" not in restyled
        counts = app.screen.query_one("#counts")
        assert counts.has_class("-filtered")
        # WHEN it is deleted again (the filter switches off) THEN the same
        await pilot.press("backspace")
        await settle(pilot)
        assert not counts.has_class("-filtered")
        assert "InboxScreen" not in restyled
        assert _list(app).filter_text == ""


async def test_rows_read_before_a_page_fails_are_shown_in_order(
    service: InboxService, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import groups_tui.ui.app as app_module
    import groups_tui.ui.screens.inbox as inbox_module

    # GIVEN an inbox read in pages of two, whose third page fails (a disk error)
    monkeypatch.setattr(app_module, "FIRST_SCREEN_ROWS", 2)
    monkeypatch.setattr(inbox_module, "_REST_PAGE", 2)
    read = service.reading.inbox_page
    pages: list[int] = []

    async def failing(
        after: InboxCursor | None = None, limit: int | None = None
    ) -> tuple[RowTable, InboxCursor | None]:
        if after is not None:
            pages.append(len(pages))
            if len(pages) == 2:
                raise RuntimeError("disk I/O error")
        return await read(after, limit)

    monkeypatch.setattr(service.reading, "inbox_page", failing)
    every, _ = await read()
    expected = [every.row(i).group_id for i in range(4)]
    app = make_app(service, clock=clock, bell=False)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        # THEN the four rows read are all shown, in the inbox's order, not only the
        # first screen's (the order waited for a last page that never came)
        group_list = _list(app)
        assert pages == [0, 1]
        assert [group_list.row_at(i).group_id for i in range(len(group_list.shown))] == expected
        # AND the counts say the list is incomplete (no longer "loading" for ever)
        drawn = screen_text(app)
        assert f"4/4 · sort activity · {NOT_ALL_LOADED}" in drawn
        assert "· loading" not in drawn
