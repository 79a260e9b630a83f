"""A file is sent as the same kind, or refused for the same reason, whether it goes
through the service (what every command calls) or is attached in the TUI; both over the
full stack (real HTTP sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from groups_tui.service import ServiceError
from groups_tui.ui.screens.conversation import ConversationScreen
from tests.integration.e2e.support import BR, DE, Stack
from tests.ui.conftest import settle

from .support import app_for, until

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 2_000
CASES = [
    # (file name, size in bytes, what happens)
    ("cover.jpg", 2_000, "sent image"),
    ("report.pdf", 3_000, "sent document"),
    ("clip.mp4", 4_000, "sent video"),
    ("clip.3gp", 4_000, "sent video"),
    ("voice.ogg", 1_500, "sent audio"),
    # Meta takes WebP only as a sticker, and stickers are refused in groups until verified
    ("smile.webp", 1_000, "refused: Stickers are not documented as supported"),
    ("data.unknownext", 1_000, "refused: WhatsApp does not accept application/octet-stream"),
    ("huge.jpg", 5_000_001, "refused: WhatsApp accepts image files of at most 5 MB"),
]


def _file(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes((JPEG + b"0" * size)[:size])
    return path


async def _through_the_service(stack: Stack, group_id: str, path: Path) -> str:
    before = len(await stack.outbound(group_id))
    try:
        item = await stack.service.sending.send_media(group_id, path)
    except ServiceError as error:
        return f"refused: {error.args[0]}"
    assert item.state == "accepted", item
    sent = await stack.outbound(group_id)
    assert len(sent) == before + 1
    return f"sent {sent[-1].message.kind.value}"


async def _through_the_tui(stack: Stack, group_id: str, path: Path) -> str:
    before = len(await stack.outbound(group_id))
    app = app_for(stack)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        app.open_group(group_id)
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen), "conversation")
        screen = app.screen
        await until(pilot, lambda: screen.detail is not None, "the group's detail")
        # WHEN the operator attaches the file by path
        await pilot.press("a")
        screen.query_one("#attach-path", Input).value = str(path)
        await pilot.press("enter")
        status = screen.query_one("#composer-status", Static)

        def line() -> str:
            return str(status.content)

        await until(
            pilot,
            lambda: line().startswith("Not sent: ") or line() == f"{path.name}: accepted",
            "the outcome of the attachment",
        )
        if line().startswith("Not sent: "):
            return "refused: " + line().removeprefix("Not sent: ")
    sent = await stack.outbound(group_id)
    assert len(sent) == before + 1
    return f"sent {sent[-1].message.kind.value}"


@pytest.mark.parametrize(("name", "size", "expected"), CASES)
async def test_the_service_and_the_tui_decide_a_file_alike(
    stack: Stack, tmp_path: Path, name: str, size: int, expected: str
) -> None:
    # GIVEN a group with members whose window is open
    group_id = await stack.create_group("Media 1042")
    await stack.join(group_id, DE, BR)
    await stack.say(group_id, DE, "Send me the file please")
    path = _file(tmp_path, name, size)
    # WHEN the file goes through the service, then is attached in the TUI
    service_outcome = await _through_the_service(stack, group_id, path)
    tui_outcome = await _through_the_tui(stack, group_id, path)
    # THEN both send it as the same kind, or refuse it for the same reason
    assert tui_outcome == service_outcome
    assert service_outcome.startswith(expected), service_outcome
