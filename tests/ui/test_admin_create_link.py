"""Create a group, wait for Meta, then copy, draw and reset its invite link; invite people."""

from __future__ import annotations

from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.create_group import CreateGroupModal
from groups_tui.ui.screens.invite_link import InviteLinkScreen
from groups_tui.ui.screens.invite_people import InvitePeopleModal, parse_number
from groups_tui.ui.widgets.qr_code import QRCode, qr_lines
from tests.helpers.meta import PHONE_NUMBER_ID
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World


async def test_create_shows_pending_then_the_link_with_a_qr_code(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        # WHEN n opens the modal and a subject is typed
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CreateGroupModal)
        await pilot.press(*"Order 3003")
        assert "10/128" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        # THEN the group was requested and its link screen waits for Meta
        (create,) = world.graph.requests
        assert (create.method, create.path) == ("POST", f"{PHONE_NUMBER_ID}/groups")
        assert create.body == {
            "messaging_product": "whatsapp",
            "subject": "Order 3003",
            "join_approval_mode": "auto_approve",
        }
        assert isinstance(app.screen, InviteLinkScreen)
        assert "Pending: waiting for Meta" in screen_text(app)
        assert app.screen.query_one(QRCode).data == ""
        # WHEN the lifecycle webhook arrives
        await world.confirm(create.answer["request_id"])
        await settle(pilot)
        # THEN the link and its QR code show
        link = "https://chat.whatsapp.com/g-new-req-1"
        assert link in screen_text(app)
        assert app.screen.query_one(QRCode).data == link
        # WHEN c copies it
        await pilot.press("c")
        await settle(pilot)
        # THEN the clipboard holds it (written with OSC 52) and the screen says so
        assert app.clipboard == link
        assert "Copied the invite link" in screen_text(app)


async def test_create_failure_shows_metas_reason(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Doomed", "ctrl+s")
        await settle(pilot)
        (create,) = world.graph.requests
        await world.confirm(
            create.answer["request_id"], error=(131211, "Group creation limit reached")
        )
        await settle(pilot)
        assert "Meta did not create the group" in screen_text(app)
        assert "Group creation limit reached" in screen_text(app)


async def test_empty_subject_is_refused_without_a_call(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CreateGroupModal)
        assert "cannot be empty" in screen_text(app)
        assert world.graph.requests == []


async def test_reset_link_asks_first(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_invite_link(BOOK_CLUB)
        await settle(pilot)
        assert "chat.whatsapp.com/g-book" in screen_text(app)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert world.graph.calls("POST", f"{BOOK_CLUB}/invite_link")
        assert "chat.whatsapp.com/g-book-1" in screen_text(app)
        assert "New link made" in screen_text(app)


async def test_invite_people_validates_numbers_previews_cost_and_warns_on_seats(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_invite_link(BOOK_CLUB)
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, InvitePeopleModal)
        # WHEN a bad number is typed THEN it is refused
        await pilot.press(*"12345", "enter")
        assert "Not a valid phone number" in screen_text(app)
        # WHEN four valid numbers are added (three seats are free)
        for number in (
            "+49 151 23456780",
            "+55 11 98765 4322",
            "+1 650 555 1234",
            "+52 55 1234 5678",
        ):
            await pilot.press("ctrl+a", "ctrl+k", *number, "enter")
        await settle(pilot)
        text = screen_text(app)
        # THEN the cost of the 1:1 sends and the seat warning show
        assert "4 chosen · 3 free seat(s)" in text
        assert "utility template, $" in text
        assert "4 invites for 3 free seat(s)" in text
        # WHEN Ctrl+S sends
        await pilot.press("ctrl+s")
        await settle(pilot)
        sent = world.graph.calls("POST", f"{PHONE_NUMBER_ID}/messages")
        assert [r.body["to"] for r in sent] == [
            "4915123456780",
            "5511987654322",
            "16505551234",
            "525512345678",
        ]
        assert all(
            r.body["template"]["name"] == "group_invite_upon_request"
            and r.body["template"]["components"][0]["parameters"]
            == [{"type": "group_id", "group_id": BOOK_CLUB}]
            for r in sent
        )
        assert not isinstance(app.screen, InvitePeopleModal)


def test_parse_number_accepts_spaced_international_numbers() -> None:
    assert parse_number("+44 7911 123456") == "447911123456"
    assert parse_number("447911123456") == "447911123456"
    assert parse_number("12345") is None
    assert parse_number("") is None


def test_qr_lines_pack_two_modules_per_cell() -> None:
    lines = qr_lines("https://chat.whatsapp.com/x")
    assert len({len(line) for line in lines}) == 1
    assert set("".join(lines)) <= set(" ▀▄█")
