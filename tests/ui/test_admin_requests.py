"""Join requests screen: approve, reject, bulk, refusal into a full group, live updates."""

from __future__ import annotations

from groups_tui.domain.models import JoinRequest
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.join_requests import JoinRequestsScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from tests.ui.conftest import screen_text, settle
from tests.ui.fake_service import BOOK_CLUB, FakeService


def _ask(service: FakeService, n: int, group_id: str = BOOK_CLUB) -> None:
    now = int(service.clock())
    service.requests[group_id] = [
        JoinRequest(
            f"jr-{i}", group_id, f"44770090020{i}", profile_name=f"Asker {i}", created_at=now - 120
        )
        for i in range(n)
    ]


async def _open(app: GroupsApp, pilot: object, group_id: str = BOOK_CLUB) -> JoinRequestsScreen:
    await settle(pilot)  # type: ignore[arg-type]
    app.open_join_requests(group_id)
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, JoinRequestsScreen)
    return app.screen


async def test_requests_show_signals(app: GroupsApp, service: FakeService) -> None:
    _ask(service, 3)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot)
        text = screen_text(app)
        assert "Asker 0" in text and "+447700900200" in text
        assert "in 1 of our groups" in text
        assert "removed before" in text


async def test_approve_one_and_reject_one(app: GroupsApp, service: FakeService) -> None:
    # GIVEN three requests to the book club (five members, three seats free)
    _ask(service, 3)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        # WHEN a approves the first and r rejects the next
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        # THEN each went to the service, and one request is left
        assert ("approve_join_requests", BOOK_CLUB) in service.api_calls
        assert ("reject_join_requests", BOOK_CLUB) in service.api_calls
        assert [r.join_request_id for r in service.requests[BOOK_CLUB]] == ["jr-2"]
        assert screen.query_one(MarkTable).row_count == 1
        assert "1 rejected" in screen_text(app)


async def test_marked_requests_are_decided_in_one_call(
    app: GroupsApp, service: FakeService
) -> None:
    _ask(service, 3)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot)
        await pilot.press("space", "space", "r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert service.api_calls.count(("reject_join_requests", BOOK_CLUB)) == 1
        assert [r.join_request_id for r in service.requests[BOOK_CLUB]] == ["jr-2"]


async def test_approval_into_a_full_group_is_refused_with_the_reason(
    app: GroupsApp, service: FakeService
) -> None:
    # GIVEN Parents 3B holds eight members and has two requests
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, "g-parents")
        # WHEN the operator approves one
        await pilot.press("a")
        await settle(pilot)
        # THEN the service refused before any API call, and the reason is on screen
        assert ("approve_join_requests", "g-parents") not in service.api_calls
        assert "at most 8 members" in screen_text(app)
        assert len(service.requests["g-parents"]) == 2


async def test_requests_update_live(app: GroupsApp, service: FakeService) -> None:
    _ask(service, 1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(app, pilot)
        # WHEN a new request arrives and another is revoked (webhooks)
        _ask(service, 2)
        service.requests[BOOK_CLUB].pop(0)
        service.emit("join_request.created", BOOK_CLUB)
        await settle(pilot)
        # THEN the list shows the new state without a key press
        assert screen.query_one(MarkTable).row_keys == ["jr-1"]
