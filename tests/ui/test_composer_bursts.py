"""Keys that reach the conversation in one read (a fast typist, a paste, a batch over SSH).

The terminal driver queues every key of a read before the first is handled. Ctrl+S is a
priority binding, run as soon as the app reads it, while the letters before it still
wait in the composer's own queue; and a send that succeeds clears the composer. Neither
may cost the operator a letter: what was typed before Ctrl+S is what is sent, and what
was typed after it stays in the composer.
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.create_group import CreateGroupModal
from tests.helpers.meta import PHONE_NUMBER_ID
from tests.ui.conftest import open_conversation, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World

MESSAGES = f"{PHONE_NUMBER_ID}/messages"


def _burst(app: GroupsApp, keys: list[str]) -> None:
    """Queue ``keys`` as the driver does with one read (nothing handled in between)."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key("space" if key == " " else key, key))
        else:
            app.post_message(events.Key(key, None))


def _sent(world: World) -> list[str]:
    return [
        r.body["text"]["body"]
        for r in world.graph.requests
        if r.method == "POST" and r.path == MESSAGES and r.body.get("type") == "text"
    ]


async def test_text_and_ctrl_s_in_one_read_send_the_whole_text(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        await pilot.press("i")
        assert isinstance(app.focused, TextArea)
        # WHEN the text and Ctrl+S arrive in one read
        _burst(app, [*"Hello all", "ctrl+s"])
        await settle(pilot)
        # THEN the whole text is sent, once, and the composer is empty
        assert _sent(world) == ["Hello all"]
        assert screen.composer.text == ""


async def test_what_is_typed_after_ctrl_s_stays_in_the_composer(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        await pilot.press("i")
        # WHEN the next message is typed right after Ctrl+S, before the send returns
        _burst(app, [*"First", "ctrl+s", *"Second"])
        await settle(pilot)
        # THEN the first is sent and the second is still being written
        assert _sent(world) == ["First"]
        assert screen.composer.text == "Second"


async def test_i_text_and_ctrl_s_in_one_read_send_the_whole_text(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        # WHEN "i", the text and Ctrl+S arrive in one read, the log focused
        _burst(app, ["i", *"On my way", "ctrl+s"])
        await settle(pilot)
        # THEN the letters are the composer's text (not the log's keys) and all are sent
        assert _sent(world) == ["On my way"]
        assert screen.composer.text == ""


async def test_a_subject_and_ctrl_s_in_one_read_create_the_group_with_it_once(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CreateGroupModal)
        # WHEN the subject and Ctrl+S arrive in one read, twice over (a key repeated)
        _burst(app, [*"Order 3003", "ctrl+s", "ctrl+s"])
        await settle(pilot)
        # THEN the group is requested once, with the whole subject
        creates = [r for r in world.graph.requests if r.path == f"{PHONE_NUMBER_ID}/groups"]
        assert [r.body["subject"] for r in creates] == ["Order 3003"]
