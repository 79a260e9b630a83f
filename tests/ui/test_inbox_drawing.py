"""The inbox list's fast paths: narrowing filters, cached rows, no screen layouts."""

from __future__ import annotations

import random

from textual.widget import Widget

from groups_tui.service import InboxService
from groups_tui.service.types import InboxRow
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.widgets.filter_input import FilterInput
from groups_tui.ui.widgets.group_list import Columns, GroupList, row_columns
from tests.helpers.meta import Person
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World

SEED = 7


def _list(app: GroupsApp) -> GroupList:
    return app.screen.query_one(GroupList)


def _brute_force(group_list: GroupList, query: str) -> list[str]:
    wanted = query.strip().lower()
    by_order = [group_list.rows[i] for i in group_list._order]
    return [r.group_id for r in by_order if wanted in r.haystack]


async def test_typing_on_and_back_gives_what_a_fresh_filter_gives(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        print(f"random keystrokes seeded with {SEED}")
        rng = random.Random(SEED)
        alphabet = "abcdeginorstu 0123"
        query = ""
        # WHEN random keystrokes type on (narrowing) and delete (widening)
        for _ in range(120):
            if query and rng.random() < 0.35:
                query = query[:-1]
            else:
                query += rng.choice(alphabet)
            group_list.set_query(query)
            # THEN the rows shown are always those a scan of every row finds
            shown = [group_list.row_at(i).group_id for i in range(len(group_list.shown))]
            assert shown == _brute_force(group_list, query), query


async def test_a_changed_row_is_drawn_anew(app: GroupsApp) -> None:
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        group_list = _list(app)
        assert "Book club" in screen_text(app)
        # WHEN the row is replaced by a newer version (same group, new subject)
        old = next(r for r in group_list.rows if r.group_id == BOOK_CLUB)
        new: InboxRow = old._replace(subject="Reading circle", haystack="reading circle")
        group_list.update_rows([new])
        await settle(pilot)
        # THEN the cached drawing of the old version is not reused
        assert "Reading circle" in screen_text(app)
        assert "Book club" not in screen_text(app)


async def test_filtering_never_lays_out_the_screen(app: GroupsApp) -> None:
    layouts: list[str] = []
    original = Widget.refresh

    def spy(self: Widget, *regions: object, **kwargs: object) -> Widget:
        if kwargs.get("layout"):
            layouts.append(type(self).__name__)
        return original(self, *regions, **kwargs)  # type: ignore[arg-type]

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        Widget.refresh = spy  # type: ignore[method-assign]
        try:
            # WHEN typing a filter, and deleting it again
            await pilot.press(*"runners", *["backspace"] * 7)
            await settle(pilot)
        finally:
            Widget.refresh = original  # type: ignore[method-assign]
        # THEN the box, the list and the counts repainted, and nothing asked for a layout
        assert layouts == []
        assert isinstance(app.focused, FilterInput)
        assert len(_list(app).shown) == _list(app).total


async def test_the_open_group_is_not_reloaded_for_its_own_read_mark(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    calls: list[str] = []
    page = service.reading.messages_page

    async def counting_page(group_id: str, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(group_id)
        return await page(group_id, **kwargs)  # type: ignore[arg-type]

    service.reading.messages_page = counting_page  # type: ignore[method-assign]
    row = await service.reading.inbox_row(BOOK_CLUB)
    assert row is not None and row.unread > 0
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # WHEN the operator opens an unread group (which marks it read)
        app.open_group(BOOK_CLUB)
        await settle(pilot, rounds=8)
        assert isinstance(app.screen, ConversationScreen)
        assert await world.reads() == [BOOK_CLUB]
        # THEN the page was read once: the read mark's change is for the inbox only
        assert calls == [BOOK_CLUB]
        # AND a real change to the group still reloads it
        await world.receive(BOOK_CLUB, Person("Dieter", "4915112345678"), "new message")
        await settle(pilot, rounds=8)
        assert calls.count(BOOK_CLUB) >= 2
        # AND the covered inbox catches up when it is shown again
        await pilot.press("escape")
        await settle(pilot, rounds=8)
        inbox_row = next(r for r in app.inbox_rows_snapshot() if r.group_id == BOOK_CLUB)
        assert inbox_row.last_text == "new message"
        # (a message that arrived while the group was open counts as read)
        assert inbox_row.unread == 0
        assert await world.reads() == [BOOK_CLUB, BOOK_CLUB]


async def test_a_covered_inbox_applies_changes_when_shown_again(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        runners = next(r for r in _list(app).rows if r.subject.startswith("Runners"))
        app.open_group(BOOK_CLUB)
        await settle(pilot, rounds=8)
        # WHEN a message arrives for another group while a conversation covers the inbox
        await world.receive(runners.group_id, Person("Ana", "351912345678"), "hidden update")
        await settle(pilot, rounds=8)
        # THEN the hidden inbox is not patched yet
        hidden = next(r for r in app.inbox_rows_snapshot() if r.group_id == runners.group_id)
        assert hidden.last_text != "hidden update"
        # WHEN the operator goes back
        await pilot.press("escape")
        await settle(pilot, rounds=8)
        # THEN the row shows it, on top (most recent activity)
        assert _list(app).row_at(0).group_id == runners.group_id
        assert "hidden update" in screen_text(app)


def test_the_business_own_last_message_is_marked_and_cannot_be_impersonated() -> None:
    def row(sender: str | None, outbound: bool) -> InboxRow:
        return InboxRow(
            "g", "Orders", 3, 0, 0, sender, "on my way", 100, 100, None, False, "active",
            False, "orders", outbound,
        )  # fmt: skip

    cols = Columns.for_width(100)
    ours = row_columns(row(None, True), 200, cols)[5].strip()
    theirs = row_columns(row("You", False), 200, cols)[5].strip()
    assert ours == "You › on my way"
    assert theirs == "You: on my way"
