"""Untrusted text is data: shown literally, firing nothing, raising no markup error."""

from __future__ import annotations

from textual.message import Message

from groups_tui.domain.text import visible
from groups_tui.service import InboxService, ServiceError
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.conversation import ConversationScreen
from tests.helpers.meta import PHONE_NUMBER_ID
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, HOSTILE
from tests.ui.world import World


async def test_hostile_subjects_and_bodies_are_shown_literally(app: GroupsApp) -> None:
    actions: list[str] = []
    messages: list[Message] = []
    original = app.run_action

    async def spy(action: str, *args: object, **kwargs: object) -> bool:
        actions.append(str(action))
        return await original(action, *args, **kwargs)  # type: ignore[arg-type]

    app.run_action = spy  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await settle(pilot)
        # THEN the inbox shows the hostile subjects as typed
        inbox = screen_text(app)
        assert "[bold]Pwn[/bold] [@click=app.quit]x" in inbox
        assert "[link=https://evil.example]click[/l" in inbox
        assert "␛[31mred␛[0m <U+202E>evil" in inbox
        assert "Eve␇␈" in inbox
        # WHEN the hostile group is opened and every line is clicked
        app.open_group("g-hostile-1")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        text = screen_text(app)
        for hostile in HOSTILE[:-1]:
            assert visible(hostile).split("\n")[0][:40] in text, hostile
        for y in range(3, 30):
            await pilot.click(offset=(8, y))
        await settle(pilot)
        # THEN the app is still running and no action came from the text
        assert app.is_running
        assert app.return_value is None
        assert not any("quit" in a for a in actions)


async def test_hostile_subject_in_the_command_palette(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"click")
        await settle(pilot)
        assert "[link=https://evil.example]click" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


async def test_hostile_error_text_is_notified_as_plain_text(
    app: GroupsApp, service: InboxService
) -> None:
    # GIVEN the service refuses with a hostile text (injected: its own refusals are fixed
    # sentences; what the Cloud API says is the next test)
    async def boom(group_id: str, text: str) -> object:
        raise ServiceError("[@click=app.quit]refused[/] \x1b[2J")

    service.sending.send_text = boom  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_group("g-book")
        await settle(pilot)
        await pilot.press("i", *"hi", "ctrl+s")
        await settle(pilot)
        assert app.is_running
        assert "Not sent: [@click=app.quit]refused[/] ␛[2J" in screen_text(app)
        notes = [n.message for n in app._notifications]
        assert notes == ["[@click=app.quit]refused[/] ␛[2J"]


async def test_hostile_cloud_api_error_text_is_shown_as_plain_text(
    app: GroupsApp, world: World
) -> None:
    # GIVEN the Cloud API refuses the send with a hostile error message
    hostile = "[@click=app.quit]refused[/] \x1b[2J"
    world.graph.fail("POST", f"{PHONE_NUMBER_ID}/messages", 400, 135000, hostile)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        app.open_group(BOOK_CLUB)
        await settle(pilot)
        # WHEN the operator sends
        await pilot.press("i", *"hi", "ctrl+s")
        await settle(pilot)
        # THEN the send is failed with the API's words, shown literally, and nothing fired
        assert app.is_running
        text = screen_text(app)
        assert "[@click=app.quit]refused[/] ␛[2J" in text
        assert "Failed (135000): (#135000) [@click=app.quit]refused[/] ␛[2J" in text
        (sent,) = world.graph.requests
        assert sent.status == 400
