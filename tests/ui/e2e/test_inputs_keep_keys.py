"""Inputs keep their keys, and one send is one row (real service, sandbox over HTTP).

While the attach box has focus every letter is text: Tab completes the path as a shell
does instead of leaving the box. Leaving it anyway closes it, says so, and keeps the
path for the next ``a``. A send whose local id becomes Meta's wamid stays one row.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static

from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.widgets.message_log import MessageLog
from tests.integration.e2e.support import BR, DE, STATUS_HORIZON, Stack
from tests.ui.conftest import screen_text, settle

from .support import app_for, shows, until


async def _open(app: GroupsApp, pilot: object, group_id: str) -> ConversationScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.open_group(group_id)
    await until(
        pilot,  # type: ignore[arg-type]
        lambda: isinstance(app.screen, ConversationScreen) and app.screen.detail is not None,
        "the conversation",
    )
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    return screen


async def _group(stack: Stack) -> str:
    group_id = await stack.create_group("Order 5005")
    await stack.join(group_id, DE, BR)
    await stack.say(group_id, DE, "Send me the note please")
    return group_id


def _status(screen: ConversationScreen) -> str:
    return str(screen.query_one("#composer-status", Static).content)


def _rows_named(screen: ConversationScreen, name: str) -> int:
    log = screen.query_one(MessageLog)
    return sum(
        1 for v in log.views if v.message.media is not None and v.message.media.filename == name
    )


async def test_typing_a_path_with_tab_never_runs_a_screen_key(stack: Stack, tmp_path: Path) -> None:
    # GIVEN two files starting alike, and an open conversation
    (tmp_path / "note.txt").write_text("the code is 4471\n")
    (tmp_path / "notes.md").write_text("# notes\n")
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot, group_id)
        # WHEN the operator attaches, types part of the path, presses Tab, types on
        await pilot.press("a", *f"{tmp_path}/no", "tab")
        box = screen.query_one("#attach-path", Input)
        # THEN Tab completed what all candidates share, listed them and kept the focus
        assert box.has_focus and box.value == f"{tmp_path}/note"
        assert "note.txt" in _status(screen) and "notes.md" in _status(screen)
        await pilot.press(*".txt")
        # AND the letters (a t among them) went into the box: no template dialog opened
        assert app.screen is screen
        assert box.value == f"{tmp_path}/note.txt"
        # WHEN it is sent
        await pilot.press("enter")
        await until(pilot, lambda: _status(screen) == "note.txt: accepted", "the send")
        await stack.settle(STATUS_HORIZON)
        await until(pilot, shows(pilot, "delivered 2/2"), "the delivery")
        # THEN the conversation draws it once, as the audit logs it once
        assert _rows_named(screen, "note.txt") == 1
        assert screen_text(app).count("‹document› note.txt") == 1
        sends = [e for e in await stack.audit() if e.action == "send.document"]
        assert len(sends) == 1


async def test_leaving_the_attach_box_closes_it_and_keeps_the_path(
    stack: Stack, tmp_path: Path
) -> None:
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot, group_id)
        # GIVEN a half-typed path
        await pilot.press("a", *"/tmp/half-typ")
        box = screen.query_one("#attach-path", Input)
        # WHEN focus leaves the box (Shift+Tab, to the composer's text)
        await pilot.press("shift+tab")
        await settle(pilot)
        # THEN the box is closed and the status line says the path is kept
        assert not box.display
        assert "a reopens it (/tmp/half-typ)" in _status(screen)
        # WHEN the operator goes back to the log (Esc) and presses a again
        await pilot.press("escape", "a", *"ed")
        # THEN the box is back with the path, the cursor at its end
        assert box.display and box.has_focus and box.value == "/tmp/half-typed"


async def test_a_send_accepted_while_shown_as_queued_stays_one_row(stack: Stack) -> None:
    # GIVEN an open conversation
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot, group_id)
        # WHEN a send is queued (written to the outbox before its API call, as a slow
        # upload leaves it) and the conversation shows it
        item = await stack.store.outbox.enqueue(
            group_id, "text", {"type": "text"}, text="Parcel at the gate"
        )
        await until(pilot, shows(pilot, "Parcel at the gate"), "the queued row")
        assert item.message_id in [v.message.id for v in screen.query_one(MessageLog).views]
        # AND then the API accepts it: its id becomes Meta's wamid
        await stack.store.outbox.mark_accepted(item.id, "wamid.accepted-later")
        await until(
            pilot,
            lambda: any(
                v.message.id == "wamid.accepted-later" for v in screen.query_one(MessageLog).views
            ),
            "the accepted row",
        )
        # THEN it is one row, not the queued one plus the accepted one
        texts = [v.message.text for v in screen.query_one(MessageLog).views]
        assert texts.count("Parcel at the gate") == 1
        assert screen_text(app).count("Parcel at the gate") == 1
