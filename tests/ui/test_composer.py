"""The composer widget on its own, in a tiny host app: it reports a typed path upward."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Input, Static

from groups_tui.ui.widgets.composer import HINT, Composer


def submissions(messages: list[Message]) -> list[Composer.PathSubmitted]:
    """Each submission once (the hook sees a message at every node it bubbles through)."""
    unique = {id(m): m for m in messages if isinstance(m, Composer.PathSubmitted)}
    return list(unique.values())


PHOTO = Path("~/photo.jpg").expanduser()


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Composer(id="composer")


async def test_a_submitted_path_is_reported_and_the_box_closes() -> None:
    messages: list[Message] = []
    app = Host()
    async with app.run_test(message_hook=messages.append) as pilot:
        composer = app.query_one(Composer)
        # GIVEN the attach box, opened
        composer.open_attach()
        await pilot.pause()
        box = app.query_one("#attach-path", Input)
        assert box.display and box.has_focus
        # WHEN a path is typed and submitted
        box.value = "~/photo.jpg"
        await pilot.press("enter")
        await pilot.pause()
        # THEN the composer reports it (expanded) and the box is closed and empty
        (submitted,) = submissions(messages)
        assert submitted.path == PHOTO
        assert submitted.control is composer
        assert not box.display and box.value == ""
        # AND an empty submission says so with no path
        composer.open_attach()
        await pilot.press("enter")
        await pilot.pause()
        paths = [m.path for m in submissions(messages)]
        assert paths[-1] is None and len(paths) == 2
        assert composer.close_attach() is False


async def test_writing_is_off_until_allowed_and_the_status_is_plain_text() -> None:
    app = Host()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        assert composer.text_area.disabled
        composer.allow(True)
        composer.show_hint()
        await pilot.pause()
        status = app.query_one("#composer-status", Static)
        assert not composer.text_area.disabled and str(status.render()) == HINT
        composer.status("[bold]not markup[/bold]")
        await pilot.pause()
        assert str(status.render()) == "[bold]not markup[/bold]"
