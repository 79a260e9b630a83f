"""Members screen: removal (one, marked, everywhere), local details, history, suspension."""

from __future__ import annotations

from textual.message import Message

from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.member_details import MemberDetailsModal
from groups_tui.ui.screens.members import MembersScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from tests.helpers.meta import GraphRequest
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, BRUNO
from tests.ui.world import World


def removals(world: World) -> list[tuple[str, list[str]]]:
    """Each removal call that reached the Cloud API: the group and who, in one call."""
    return [(r.group_id, _users(r)) for r in world.graph.calls("DELETE", "/participants")]


def _users(request: GraphRequest) -> list[str]:
    return [p.get("user") or p["user_id"] for p in request.body["participants"]]


async def _open_members(app: GroupsApp, pilot: object, group_id: str = BOOK_CLUB) -> MembersScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.open_members(group_id)
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, MembersScreen)
    return app.screen


async def test_members_lists_who_joined_how_and_what_they_said(app: GroupsApp) -> None:
    # GIVEN the book club WHEN its members screen opens from the inbox with `m`
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "m")
        await settle(pilot)
        # THEN every member is listed with number, last message and count
        assert isinstance(app.screen, MembersScreen)
        table = app.screen.query_one(MarkTable)
        assert table.row_count == 5
        text = screen_text(app)
        assert "Alice Martin" in text and "+447911123456" in text
        assert "See you Thursday!" in text
        assert "burst" in text  # Bruno's open moderation flag
        assert "Members · Book club" in text


async def test_remove_one_member_confirms_then_stays_pending_until_the_webhook(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_members(app, pilot)
        # WHEN the operator presses x on the first member and confirms
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        # THEN one removal call was made, and the member shows as removing
        assert removals(world) == [(BOOK_CLUB, ["447911123456"])]
        assert "removing…" in screen_text(app)
        assert "removal pending" in screen_text(app)
        # WHEN the participants webhook confirms it
        (removal,) = world.graph.requests
        await world.confirm(removal.answer["request_id"])
        await settle(pilot)
        # THEN the member is gone from the list (the change feed reloaded it)
        assert screen.query_one(MarkTable).row_count == 4
        assert "Alice Martin" not in screen_text(app)


async def test_cancelled_removal_calls_nothing(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_members(app, pilot)
        await pilot.press("x", "n")
        await settle(pilot)
        assert world.graph.requests == []


async def test_marked_members_are_removed_in_one_call(app: GroupsApp, world: World) -> None:
    messages: list[Message] = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        await _open_members(app, pilot)
        # WHEN two members are marked with space and X removes them
        await pilot.press("space", "space", "X")
        await settle(pilot)
        assert any(isinstance(m, MarkTable.MarksChanged) and len(m.marked) == 2 for m in messages)
        await pilot.press("y")
        await settle(pilot)
        # THEN one call carried both
        assert removals(world) == [(BOOK_CLUB, ["447911123456", "5511987654321"])]


async def test_remove_everywhere_removes_the_number_from_each_group(
    app: GroupsApp, world: World
) -> None:
    # GIVEN Bruno is also in the runners group
    await world.join("g-runners", BRUNO)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_members(app, pilot)
        # WHEN E is pressed on Bruno and confirmed
        await pilot.press("j", "E")
        await settle(pilot)
        assert "EVERY group" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        # THEN both groups got a removal
        groups = sorted(g for g, _ in removals(world))
        assert groups == [BOOK_CLUB, "g-runners"]
        assert "Removal requested in 2 group(s)" in screen_text(app)


async def test_local_details_are_saved_and_shown(app: GroupsApp, service: InboxService) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_members(app, pilot)
        # WHEN e edits the first member's name and note
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, MemberDetailsModal)
        await pilot.press(*"Alice (VIP)", "tab", *"pays by card", "ctrl+s")
        await settle(pilot)
        # THEN the contact is stored and the list shows the local name
        contact = await service.admin.contact("447911123456")
        assert contact is not None
        assert (contact.display_name, contact.note) == ("Alice (VIP)", "pays by card")
        assert "Alice (VIP)" in screen_text(app)


async def test_history_toggles_with_h(app: GroupsApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_members(app, pilot)
        await pilot.press("h")
        await settle(pilot)
        text = screen_text(app)
        assert "History of joins, leaves and removals" in text
        assert "join" in text and "via invite_link" in text


async def test_suspended_group_disables_removal_and_says_why(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_members(app, pilot, "g-suspended")
        # WHEN x is pressed
        await pilot.press("x")
        await settle(pilot)
        # THEN nothing asks or calls, and the banner says why (Meta's suspend webhook
        # states no reason, so there is none to show)
        assert isinstance(app.screen, MembersScreen)
        assert world.graph.requests == []
        assert "suspended: no reason given" in screen_text(app)


def test_history_says_when_a_row_was_seen_by_a_read() -> None:
    from groups_tui.store.records import HistoryEntry
    from groups_tui.ui.screens.members import history_text

    # GIVEN a join told by a webhook and a leave seen only by a read of the group
    entries = [
        HistoryEntry("111", "join", 1000, None, "invite_link", None, None, None),
        HistoryEntry("111", "leave", 2000, None, None, None, None, None, observed=True),
    ]
    # WHEN the history is drawn THEN only the read's row says its time is approximate
    lines = history_text(entries, {"111": "Ana"}, now=3000).plain.splitlines()
    assert "seen by a read" not in lines[1]
    assert "leave" in lines[2] and "seen by a read of the group: time approximate" in lines[2]
