"""Every key and action can be found: the help, the palette, confirm dialogs and the footer
(real service, sandbox over HTTP)."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList

from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.help import HelpScreen
from groups_tui.ui.screens.inbox import InboxScreen
from groups_tui.ui.screens.members import MembersScreen
from groups_tui.ui.widgets.key_bar import KeyBar
from tests.integration.e2e.support import BR, DE, US, Stack
from tests.ui.conftest import screen_text, settle

from .snapshots import SIZES, matches_snapshot
from .support import app_for, until


async def _group(stack: Stack) -> str:
    group_id = await stack.create_group("Order 6006")
    await stack.join(group_id, DE, BR, US)
    await stack.say(group_id, DE, "Is it on its way?")
    return group_id


async def _inbox(app: GroupsApp, pilot: Pilot[None]) -> InboxScreen:
    await settle(pilot)
    await until(pilot, lambda: "Order 6006" in screen_text(app), "the inbox")
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    return screen


def _help_keys(app: GroupsApp) -> dict[str, str]:
    help_screen = app.screen
    assert isinstance(help_screen, HelpScreen)
    return {" ".join(e.keys): e.description for e in help_screen.entries}


async def test_help_lists_every_key_of_the_inbox_hidden_ones_too(stack: Stack) -> None:
    await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await _inbox(app, pilot)
        # WHEN ? is pressed on the inbox
        await pilot.press("question_mark")
        await settle(pilot)
        # THEN the keys the footer leaves out are listed with what they do
        keys = _help_keys(app)
        for key in ("i", "J", "D", "A", "u", "f", "x", "^o", "^f", "^q", "?", ":"):
            assert key in keys, key
        assert keys["D"] == "Delete" and keys["^o"] == "Automations"
        # AND navigation keys are grouped, each action once with all its keys
        assert keys["↓ j"] == "Down"


async def test_help_follows_a_remapped_key(stack: Stack) -> None:
    await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await _inbox(app, pilot)
        # GIVEN the audit log remapped from A to ctrl+l (what [keys] does)
        app.set_keymap({"inbox.audit": "ctrl+l"})
        await pilot.press("question_mark")
        await settle(pilot)
        keys = _help_keys(app)
        # THEN the help shows the new key, not the old one
        assert keys.get("^l") == "Audit" and "A" not in keys


async def _palette_titles(app: GroupsApp, pilot: Pilot[None], query: str) -> list[str]:
    await pilot.press("colon", *query)
    palette = app.screen
    assert isinstance(palette, CommandPalette)

    def listed() -> list[str]:
        options = palette.query_one("CommandList", OptionList)
        return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

    await until(pilot, lambda: bool(listed()), f"palette hits for {query!r}")
    await settle(pilot)
    titles = listed()
    await pilot.press("escape")
    await settle(pilot)
    return titles


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("member", "Members of this group"),
        ("invite", "Invite link of this group"),
        ("delete", "Delete this group…"),
        ("settings", "Group settings…"),
        ("audit", "Audit log"),
    ],
)
async def test_the_palette_finds_actions_by_name(stack: Stack, query: str, expected: str) -> None:
    await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await _inbox(app, pilot)
        titles = await _palette_titles(app, pilot, query)
        assert any(expected in title for title in titles), titles


async def test_the_palette_runs_group_settings_and_lists_quit_once(stack: Stack) -> None:
    await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await _inbox(app, pilot)
        # WHEN "quit" is searched: one Quit
        titles = await _palette_titles(app, pilot, "quit")
        assert sum(1 for t in titles if t.startswith("Quit")) == 1, titles
        # WHEN "settings" is chosen on the inbox
        await pilot.press("colon", *"group settings")
        await until(pilot, lambda: "Group settings…" in screen_text(app), "the hit")
        await pilot.press("enter")
        # THEN the settings of the highlighted group open
        await until(pilot, lambda: "GroupSettingsModal" == type(app.screen).__name__, "settings")
        assert "Order 6006" in screen_text(app)


async def test_a_confirm_dialog_shows_its_keys(stack: Stack) -> None:
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await _inbox(app, pilot)
        app.open_group(group_id)
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen), "conversation")
        await until(pilot, lambda: "Is it on its way?" in screen_text(app), "the message")
        # WHEN X asks to remove the sender of the newest member message
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirm dialog")
        text = screen_text(app)
        # THEN the dialog says which keys answer it
        assert "Remove (y)" in text and "No (n/esc)" in text
        assert "y remove · n/esc cancel" in text
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)


async def test_the_footer_keeps_help_at_80_columns(stack: Stack) -> None:
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await _inbox(app, pilot)
        bars = {"inbox": str(app.screen.query_one(KeyBar).render())}
        app.open_group(group_id)
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen), "conversation")
        await settle(pilot)
        bars["conversation"] = str(app.screen.query_one(KeyBar).render())
        app.navigation.open_members(group_id)
        await until(pilot, lambda: isinstance(app.screen, MembersScreen), "members")
        await settle(pilot)
        bars["members"] = str(app.screen.query_one(KeyBar).render())
        for name, bar in bars.items():
            # THEN each footer fits, keeps ? Help and says keys were left out
            assert len(bar) <= 80, name
            assert "? Help" in bar and bar.endswith("…"), (name, bar)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("where", ["inbox", "conversation"])
async def test_help_snapshot(
    stack: Stack, snapshot: SnapshotAssertion, where: str, size: str
) -> None:
    group_id = await _group(stack)
    app = app_for(stack)
    async with app.run_test(size=SIZES[size]) as pilot:
        await _inbox(app, pilot)
        if where == "conversation":
            app.open_group(group_id)
            await until(pilot, lambda: "Is it on its way?" in screen_text(app), "conversation")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert await matches_snapshot(pilot, snapshot)
