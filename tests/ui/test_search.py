"""Search hits: the snippet is shown exactly, its matches highlighted by offset."""

from __future__ import annotations

from rich.text import Text

from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.search import SearchScreen, snippet_text
from tests.helpers.meta import Person
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World


def highlighted(text: Text) -> list[str]:
    return [text.plain[s.start : s.end] for s in text.spans if s.style == "bold reverse"]


def test_brackets_in_a_snippet_are_text_and_only_the_spans_are_highlighted() -> None:
    # GIVEN a snippet that looks like markup and like the old in-band [match] marks
    text = snippet_text("M0 [bold]x[/] tail", ((14, 18),))
    # THEN it is shown exactly, with only the match styled
    assert text.plain == "M0 [bold]x[/] tail"
    assert highlighted(text) == ["tail"]


def test_marks_and_controls_in_a_snippet_are_shown_visibly_and_spans_still_fit() -> None:
    # A snippet holding STX/ETX (the store's default marks), a bidi override and a newline:
    # each piece is made visible, so offsets into the raw text still land on the match.
    text = snippet_text("\x02gate\x03 \u202eend\nx", ((1, 5), (8, 11)))
    assert text.plain == "␂gate␃ <U+202E>end x"
    assert highlighted(text) == ["gate", "end"]


async def test_search_screen_shows_a_bracketed_message_exactly(
    app: GroupsApp, world: World
) -> None:
    # GIVEN a member wrote something that looks like markup
    await world.receive(BOOK_CLUB, Person("Mallory", "447700900666"), "M0 [bold]x[/] tail")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # WHEN searching for it
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"tail")
        await settle(pilot)
        # THEN the hit shows the message as written
        assert "M0 [bold]x[/] tail" in screen_text(app)


async def test_down_then_enter_opens_the_first_hit(app: GroupsApp, world: World) -> None:
    # GIVEN a search with hits
    await world.receive(BOOK_CLUB, Person("Mallory", "447700900666"), "meet at the gate")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f", *"gate")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.hits
        first = app.screen.hits[0]
        # WHEN Down leaves the query box for the hits, and Enter
        await pilot.press("down", "enter")
        await settle(pilot)
        # THEN the first hit's group is open (Down highlighted it)
        assert getattr(app.screen, "group_id", None) == first.group_id
