"""Remembered preferences and remapped keys (real stack).

The theme chosen in the palette, the inbox's sort order and the columns shown are kept
in ``preferences.json`` in the data directory and found again by the next run; the
``[keys]`` table of the config remaps keys through Textual's keymap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.command import CommandPalette

from groups_tui.config import load_settings
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.preferences import Preferences, PreferencesFile
from groups_tui.ui.screens.help import HelpScreen
from groups_tui.ui.screens.inbox import ColumnTitles, InboxScreen
from groups_tui.ui.widgets.group_list import GroupList, SortMode
from tests.integration.e2e.support import DE, Stack
from tests.ui.conftest import screen_text, settle

from .snapshots import SIZES, matches_snapshot
from .support import until


def _app(stack: Stack, path: Path, keymap: dict[str, str] | None = None) -> GroupsApp:
    return make_app(
        stack.service,
        clock=stack.clock.now,
        bell=False,
        preferences=PreferencesFile(path),
        keymap=keymap,
    )


async def _inbox(app: GroupsApp, pilot: object) -> InboxScreen:
    await until(
        pilot,  # type: ignore[arg-type]
        lambda: isinstance(app.screen, InboxScreen) and app.screen.group_list.rows != [],
        "the inbox",
    )
    screen = app.screen
    assert isinstance(screen, InboxScreen)
    return screen


def _said(app: GroupsApp, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


async def _group(stack: Stack) -> str:
    group_id = await stack.create_group("Order 8008")
    await stack.join(group_id, DE)
    await stack.say(group_id, DE, "Hello?")
    return group_id


async def _palette(app: GroupsApp, pilot: object, query: str) -> None:
    await pilot.press("colon", *query)  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")  # type: ignore[arg-type]
    await until(
        pilot,  # type: ignore[arg-type]
        lambda: bool(app.screen.query("CommandList Option")) or query in screen_text(app),
        "the hits",
    )
    await settle(pilot)  # type: ignore[arg-type]


async def test_theme_sort_and_columns_are_found_again_after_a_restart(
    stack: Stack, tmp_path: Path
) -> None:
    await _group(stack)
    path = tmp_path / "data" / "preferences.json"
    app = _app(stack, path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _inbox(app, pilot)
        # WHEN the operator picks a theme in the palette
        await _palette(app, pilot, "theme")
        await pilot.press("enter")
        await until(pilot, lambda: "Search for themes" in screen_text(app), "the theme list")
        await pilot.press(*"nord")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "back to the inbox")
        assert app.theme == "nord"
        # AND sorts by the window closing soonest (s)
        await pilot.press("s")
        await settle(pilot)
        assert screen.group_list.sort_mode is SortMode.CLOSING
        # AND hides the Window column from the palette
        await _palette(app, pilot, "column window")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "back to the inbox")
        assert "Window" not in str(screen.query_one(ColumnTitles).render())
    # THEN the choices are in the data directory
    assert json.loads(path.read_text()) == {
        "theme": "nord",
        "inbox_sort": "closing",
        "hidden_columns": ["window"],
    }
    # AND the next run starts with them
    again = _app(stack, path)
    async with again.run_test(size=(120, 40)) as pilot:
        screen = await _inbox(again, pilot)
        assert again.theme == "nord"
        assert screen.group_list.sort_mode is SortMode.CLOSING
        assert screen.group_list.hidden_columns == {"window"}
        text = screen_text(again)
        assert "sort closing" in text
        assert "Window" not in str(screen.query_one(ColumnTitles).render())
        assert "Last message" in text


async def test_an_unreadable_preferences_file_is_kept_aside_and_said(
    stack: Stack, tmp_path: Path
) -> None:
    await _group(stack)
    path = tmp_path / "preferences.json"
    path.write_text("{not json")
    app = _app(stack, path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _inbox(app, pilot)
        assert screen.group_list.sort_mode is SortMode.ACTIVITY
        await until(pilot, lambda: _said(app, "not valid preferences"), "the warning")
    assert not path.exists()
    assert (tmp_path / "preferences.json.unreadable").read_text() == "{not json"


def test_preferences_keep_only_known_values(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(json.dumps({"theme": 3, "inbox_sort": "closing", "hidden_columns": ["x"]}))
    assert PreferencesFile(path).load() == Preferences(inbox_sort="closing")


async def test_keys_remapped_in_the_config_work_and_are_listed(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a config file with a [keys] table
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"inbox.sort" = "S"\n"inbox.nothing" = "z"\n')
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(config))
    settings = load_settings()
    assert settings.keys == {"inbox.sort": "S", "inbox.nothing": "z"}
    await _group(stack)
    app = _app(stack, tmp_path / "preferences.json", keymap=settings.keys)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _inbox(app, pilot)
        # THEN the unknown id is said, not a crash
        await until(pilot, lambda: _said(app, "no key has the id inbox.nothing"), "the warning")
        # AND S sorts, s no longer does
        await pilot.press("s")
        await settle(pilot)
        assert screen.group_list.sort_mode is SortMode.ACTIVITY
        await pilot.press("S")
        await settle(pilot)
        assert screen.group_list.sort_mode is SortMode.CLOSING
        # AND the help lists the key as remapped
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        lines = [ln for ln in screen_text(app).splitlines() if "Sort —" in ln]
        assert lines and " S " in lines[0], lines


@pytest.mark.parametrize("size", list(SIZES))
async def test_inbox_with_hidden_columns_snapshot(
    stack: Stack, snapshot: SnapshotAssertion, size: str, tmp_path: Path
) -> None:
    await _group(stack)
    path = tmp_path / "preferences.json"
    PreferencesFile(path).save(Preferences(hidden_columns=frozenset({"requests", "activity"})))
    app = _app(stack, path)
    async with app.run_test(size=SIZES[size]) as pilot:
        await _inbox(app, pilot)
        await settle(pilot)
        assert app.screen.query_one(GroupList).hidden_columns == {"requests", "activity"}
        assert await matches_snapshot(pilot, snapshot)
