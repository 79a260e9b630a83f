"""NO_COLOR: Textual drops colours itself; the app keeps Textual's filters."""

from __future__ import annotations

import pytest

from groups_tui.ui.app import GroupsApp


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


def _monochrome(app: GroupsApp) -> bool:
    return any(type(f).__name__ in ("Monochrome", "NoColor") for f in app.get_line_filters())


def test_colours_by_default(colour: None, app: GroupsApp) -> None:
    assert not _monochrome(app)


def test_no_color_makes_the_tui_monochrome(no_color: None, app: GroupsApp) -> None:
    assert _monochrome(app)
