"""Join requests screen: approve, reject, bulk, refusal into a full group, live updates."""

from __future__ import annotations

from groups_tui.service import InboxService
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.join_requests import JoinRequestsScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from tests.helpers.meta import Person
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, DAY
from tests.ui.world import World


def asker(i: int) -> Person:
    return Person(f"Asker {i}", f"44770090020{i}")


async def _ask(world: World, n: int, group_id: str = BOOK_CLUB, first: int = 0) -> None:
    """`n` people ask to join, two minutes ago."""
    at = int(world.clock()) - 120
    await world.ask(group_id, [(f"jr-{i}", asker(i)) for i in range(first, first + n)], at)


async def _pending(service: InboxService, group_id: str = BOOK_CLUB) -> list[str]:
    return [v.request.join_request_id for v in await service.reading.join_requests(group_id)]


async def _open(app: GroupsApp, pilot: object, group_id: str = BOOK_CLUB) -> JoinRequestsScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.open_join_requests(group_id)
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, JoinRequestsScreen)
    return app.screen


async def test_requests_show_signals(app: GroupsApp, world: World) -> None:
    # GIVEN one asker is in another of our groups, and one was removed from one before
    now = int(world.clock())
    await world.join("g-runners", asker(0), at=now - 5 * DAY)
    await world.join("g-flagged", asker(1), at=now - 5 * DAY)
    await world.leave_removed("g-flagged", asker(1), at=now - 4 * DAY)
    await _ask(world, 3)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot)
        text = screen_text(app)
        assert "Asker 0" in text and "+447700900200" in text
        assert "in 1 of our groups" in text
        assert "removed before" in text


async def test_approve_one_and_reject_one(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    # GIVEN three requests to the book club (five members, three seats free)
    await _ask(world, 3)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        # WHEN a approves the first and r rejects the next
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        # THEN each went to the service, and one request is left
        (approve,) = world.graph.calls("POST", f"{BOOK_CLUB}/join_requests")
        (reject,) = world.graph.calls("DELETE", f"{BOOK_CLUB}/join_requests")
        assert (approve.body["join_requests"], reject.body["join_requests"]) == (
            ["jr-0"],
            ["jr-1"],
        )
        assert await _pending(service) == ["jr-2"]
        assert screen.query_one(MarkTable).row_count == 1
        assert "1 rejected" in screen_text(app)


async def test_marked_requests_are_decided_in_one_call(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    await _ask(world, 3)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot)
        await pilot.press("space", "space", "r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        (reject,) = world.graph.calls("DELETE", f"{BOOK_CLUB}/join_requests")
        assert reject.body["join_requests"] == ["jr-0", "jr-1"]
        assert await _pending(service) == ["jr-2"]


async def test_approval_into_a_full_group_is_refused_with_the_reason(
    app: GroupsApp, world: World, service: InboxService
) -> None:
    # GIVEN Parents 3B holds eight members and has two requests
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, "g-parents")
        # WHEN the operator approves one
        await pilot.press("a")
        await settle(pilot)
        # THEN the service refused before any API call, and the reason is on screen
        assert world.graph.requests == []
        assert "at most 8 members" in screen_text(app)
        assert len(await _pending(service, "g-parents")) == 2


async def test_requests_update_live(app: GroupsApp, world: World) -> None:
    await _ask(world, 1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        # WHEN a new request arrives and another is revoked (webhooks)
        await _ask(world, 1, first=1)
        await world.revoke(BOOK_CLUB, "jr-0", asker(0))
        await settle(pilot)
        # THEN the list shows the new state without a key press
        assert screen.query_one(MarkTable).row_keys == ["jr-1"]
