"""Moderation: the queue (act, dismiss, blocklist, paging) and removing a sender in a
conversation; the audit log screen."""

from __future__ import annotations

from decimal import Decimal

from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.audit_log import AuditLogScreen
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.moderation_queue import ModerationQueueScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from tests.helpers.meta import Person
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, RUI
from tests.ui.test_admin_members import removals
from tests.ui.world import World

SEEDED_AUDIT_ENTRIES = 8
"""Audit entries of the seeded history (a create, three sends, four older actions)."""


async def test_spammer_is_removed_from_the_inbox_in_three_keys(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # GIVEN a spam burst was just flagged
        spammer = RUI
        await world.flag("burst", "g-runners", spammer, "6 messages within 60 s from +351913333333")
        await settle(pilot)
        # WHEN the operator presses M, x, y
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ModerationQueueScreen)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        # THEN the spammer's removal was requested and the flag is acted on
        assert removals(world) == [("g-runners", [spammer.key])]
        assert (await world.all_flags())[-1].state == "acted"
        assert "removed from 1 group" in screen_text(app)


async def test_dismiss_and_show_all(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        table = app.screen.query_one(MarkTable)
        assert table.row_count == 2
        await pilot.press("d")
        await settle(pilot)
        assert table.row_count == 1
        assert [f.state for f in await world.all_flags()] == ["open", "dismissed"]
        await pilot.press("a")
        await settle(pilot)
        assert table.row_count == 2
        assert "every flag" in screen_text(app)


async def test_join_flag_rejects_the_request(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        # The newest flag is the blocklisted join request to Parents 3B
        await pilot.press("x")
        await settle(pilot)
        assert "Reject the join request" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        (reject,) = world.graph.calls("DELETE", "g-parents/join_requests")
        assert reject.body["join_requests"] == ["jr-g-parents-0"]


async def test_blocklist_from_the_queue(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        await pilot.press("j", "b", "y")
        await settle(pilot)
        assert [key for key, _reason in await world.store.moderation.blocklist()] == [
            "5511987654321"
        ]


async def test_queue_pages_by_keyset(app: GroupsApp, world: World) -> None:
    # One entry per person: 120 people flagged once each.
    now = int(world.clock())
    for i in range(120):
        person = Person(f"Flooder {i}", f"3519100{i:05d}")
        await world.flag("link_flood", BOOK_CLUB, person, f"flood {i}", at=now - 120 + i)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        table = app.screen.query_one(MarkTable)
        assert table.row_count == 50
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 100
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 122


async def test_remove_sender_of_the_selected_message(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_group(BOOK_CLUB)
        await settle(pilot)
        # WHEN [ selects the newest message (Alice's), then steps back over our three
        # sends to Bruno's photo, and X confirms
        await pilot.press(*["left_square_bracket"] * 5)
        assert "Selected Bruno Souza" in screen_text(app)
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Bruno Souza" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        # THEN Bruno's removal was requested
        assert removals(world) == [(BOOK_CLUB, ["5511987654321"])]
        assert isinstance(app.screen, ConversationScreen)
        assert "Removal requested" in screen_text(app)


async def test_remove_sender_defaults_to_the_newest_member_message(
    app: GroupsApp, world: World
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.open_group(BOOK_CLUB)
        await settle(pilot)
        await pilot.press("X", "y")
        await settle(pilot)
        assert removals(world) == [(BOOK_CLUB, ["447911123456"])]


async def test_audit_log_lists_actions_and_pages(app: GroupsApp, world: World) -> None:
    now = world.clock()
    for i in range(150):
        await world.audit_at(
            now - 10 + i,
            "invite.send",
            BOOK_CLUB,
            [f"4477009{i:05d}"],
            {"wamid": f"w{i}"},
            Decimal("0.0080"),
        )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert isinstance(app.screen, AuditLogScreen)
        table = app.screen.query_one(MarkTable)
        assert table.row_count == 100
        assert "invite.send" in screen_text(app)
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 150 + SEEDED_AUDIT_ENTRIES
        await pilot.press("end", "enter")
        text = screen_text(app)
        assert "#1 " in text and "group.create" in text


async def test_queue_pages_by_keyset_and_drops_a_page_read_for_the_other_view(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    # GIVEN 70 more flagged people than the seeded ones (one entry per person)
    now = int(world.clock())
    for i in range(70):
        person = Person(f"Burster {i}", f"3519100{i:05d}")
        await world.flag("burst", "g-runners", person, f"burst {i}", at=now - 70 + i)
    flags = await world.all_flags()
    open_flags = len({f.wa_id or f.participant_key for f in flags if f.state == "open"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ModerationQueueScreen)
        table = screen.query_one(MarkTable)
        # THEN one page is read, and the title says more exist
        assert table.row_count == ModerationQueueScreen.PAGE
        assert f"{ModerationQueueScreen.PAGE}+" in screen_text(app)
        # WHEN the cursor reaches the end THEN the older page follows
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == open_flags
        assert f"· {open_flags}" in screen_text(app)
        # WHEN the operator switches to every flag
        await pilot.press("a", "home")
        await settle(pilot)
        shown = table.row_count
        assert shown >= ModerationQueueScreen.PAGE and "every flag" in screen_text(app)
        # AND a page read earlier for open flags only arrives late
        screen.post_message(screen.PageLoaded(flags[:1], {}, False, ("open",)))
        await settle(pilot)
        # THEN it is dropped
        assert table.row_count == shown
