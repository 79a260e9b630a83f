"""Group settings (checked before upload, pending until the webhook) and deletion."""

from __future__ import annotations

from pathlib import Path

from groups_tui.domain.models import GroupState
from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.delete_group import DeleteGroupModal
from groups_tui.ui.screens.group_settings import GroupSettingsModal
from groups_tui.ui.screens.members import MembersScreen
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World


def jpeg(width: int, height: int) -> bytes:
    """The smallest bytes :func:`jpeg_dimensions` reads as a JPEG of that size."""
    sof = b"\xff\xc0\x00\x11\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return b"\xff\xd8" + sof + b"\x03" + b"\x00" * 9 + b"\xff\xd9"


async def _settings(app: GroupsApp, pilot: object) -> None:
    await settle(pilot)  # type: ignore[arg-type]
    app.open_members(BOOK_CLUB)
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("s")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, GroupSettingsModal)


async def test_subject_change_is_pending_until_the_webhook(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await _settings(app, pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"Book club 2026", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)
        (update,) = world.graph.requests
        assert (update.method, update.path) == ("POST", BOOK_CLUB)
        assert update.body == {"messaging_product": "whatsapp", "subject": "Book club 2026"}
        (op,) = (await service.reading.group_detail(BOOK_CLUB)).pending_operations
        assert op.payload == {"subject": "Book club 2026"}
        assert "settings change pending" in screen_text(app)
        await world.confirm(op.request_id)
        await settle(pilot)
        text = screen_text(app)
        assert "settings change pending" not in text
        assert "Book club 2026" in text


async def test_a_picture_that_is_not_square_is_refused_before_upload(
    app: GroupsApp, world: World, tmp_path: Path
) -> None:
    picture = tmp_path / "wide.jpg"
    picture.write_bytes(jpeg(640, 480))
    async with app.run_test(size=(100, 40)) as pilot:
        await _settings(app, pilot)
        app.screen.query_one("#picture").value = str(picture)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, GroupSettingsModal)
        assert "must be square" in screen_text(app)
        assert world.graph.requests == []


async def test_a_square_picture_is_sent(app: GroupsApp, world: World, tmp_path: Path) -> None:
    picture = tmp_path / "square.jpg"
    picture.write_bytes(jpeg(640, 640))
    async with app.run_test(size=(100, 40)) as pilot:
        await _settings(app, pilot)
        app.screen.query_one("#picture").value = str(picture)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        (update,) = world.graph.requests
        assert (update.method, update.path) == ("POST", BOOK_CLUB)
        assert update.body == {
            "messaging_product": "whatsapp",
            "file": ("picture.jpg", len(jpeg(640, 640))),
        }
        assert "Requested: picture" in screen_text(app)


async def test_delete_needs_the_subject_typed_exactly(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # WHEN D is pressed on the book club (second row) and a wrong text entered
        await pilot.press("j", "D")
        await settle(pilot)
        assert isinstance(app.screen, DeleteGroupModal)
        await pilot.press(*"book club", "enter")
        await settle(pilot)
        # THEN nothing is deleted
        assert isinstance(app.screen, DeleteGroupModal)
        assert "does not match" in screen_text(app)
        assert world.graph.requests == []
        # WHEN the exact subject is typed
        await pilot.press("ctrl+a", "ctrl+k", *"Book club", "enter")
        await settle(pilot)
        # THEN the deletion is requested and pending
        assert [(r.method, r.path) for r in world.graph.requests] == [("DELETE", BOOK_CLUB)]
        (op,) = (await service.reading.group_detail(BOOK_CLUB)).pending_operations
        assert op.kind == "delete"
        await world.confirm_delete(BOOK_CLUB)
        await settle(pilot)
        assert (await service.reading.group_detail(BOOK_CLUB)).group.state is GroupState.DELETED


async def test_escape_keeps_the_group(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("j", "D")
        await settle(pilot)
        await pilot.press(*"Book club", "escape")
        await settle(pilot)
        assert world.graph.requests == []
