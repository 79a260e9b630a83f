"""The administration flows driven with the Pilot against the sandbox over real HTTP.

Each test presses the keys an operator would; the sandbox answers through the Cloud API
client and its signed webhooks reach the listener, whose change feed the app follows.
"""

from __future__ import annotations

from groups_tui.domain.models import GroupState
from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.ui.screens.audit_log import AuditLogScreen
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.invite_link import InviteLinkScreen
from groups_tui.ui.screens.join_requests import JoinRequestsScreen
from groups_tui.ui.screens.members import MembersScreen
from groups_tui.ui.screens.moderation_queue import ModerationQueueScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.workers.moderation import ModerationWatcher
from tests.integration.e2e.support import BR, DE, IN, MX, OP_DELAY, US, Stack
from tests.ui.conftest import screen_text, settle

from .support import app_for, shows, until


def people(n: int, offset: int = 0) -> list[str]:
    """Mexican numbers, for groups that need many members."""
    return [f"5215512345{i:03d}" for i in range(offset, offset + n)]


def _rows(app: object) -> int:
    return app.screen.query_one(MarkTable).row_count  # type: ignore[attr-defined]


async def test_create_link_join_remove(stack: Stack) -> None:
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # WHEN the operator creates a group from the inbox
        await pilot.press("n", *"Order 3003", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, InviteLinkScreen), "link screen")
        await until(pilot, shows(pilot, "Pending: waiting for Meta"), "pending state")
        # AND Meta's lifecycle webhook arrives
        await stack.settle(OP_DELAY)
        # THEN the link shows, and c copies it
        await until(pilot, shows(pilot, "https://chat.whatsapp.com/"), "the invite link")
        screen = app.screen
        assert isinstance(screen, InviteLinkScreen)
        group_id = screen.group_id
        group = await stack.store.groups.get(group_id)
        assert group is not None and group.invite_link
        await pilot.press("c")
        assert app.clipboard == group.invite_link
        # WHEN two people join with the link
        await stack.join(group_id, DE, BR)
        # AND the operator opens the members and removes the first one
        await pilot.press("m")
        await until(
            pilot, lambda: isinstance(app.screen, MembersScreen) and _rows(app) == 2, "two members"
        )
        await pilot.press("x", "y")
        await until(pilot, shows(pilot, "removal pending"), "pending removal")
        await stack.settle(OP_DELAY)
        # THEN the member is gone once the webhook confirms
        await until(pilot, lambda: _rows(app) == 1, "one member left")
        assert list(stack.world.groups[group_id].members) == [BR]
        actions = [e.action for e in await stack.audit()]
        assert actions == ["group.create", "participants.remove"]


async def test_approve_reject_and_refuse_into_a_full_group(stack: Stack) -> None:
    group_id = await stack.create_group("Members only", approval=True)
    seven = people(7)
    for wa_id in [*seven, DE, BR]:
        stack.world.persons.request_join(group_id, wa_id)
    await stack.settle()
    ids = [v.request.join_request_id for v in await stack.service.reading.join_requests(group_id)]
    await stack.service.admin.approve_join_requests(group_id, ids[:6])
    await stack.settle(OP_DELAY)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_join_requests(group_id)
        await until(
            pilot,
            lambda: isinstance(app.screen, JoinRequestsScreen) and _rows(app) == 3,
            "three requests",
        )
        # WHEN a approves the first and r rejects the second
        await pilot.press("a")
        await until(pilot, shows(pilot, "1 approved"), "approval")
        await until(pilot, lambda: _rows(app) == 2, "two left")
        await pilot.press("r")
        await until(pilot, shows(pilot, "1 rejected"), "rejection")
        await stack.settle(OP_DELAY)
        # THEN Meta agrees: seven members, one request left
        sim = stack.world.groups[group_id]
        assert len(sim.members) == 7 and len(sim.join_requests) == 1
        # WHEN the eighth joins elsewhere and the last request is approved
        stack.world.persons.request_join(group_id, IN)
        await stack.settle()
        [nid] = [
            v.request.join_request_id
            for v in await stack.service.reading.join_requests(group_id)
            if v.request.wa_id == IN
        ]
        await stack.service.admin.approve_join_requests(group_id, [nid])
        await stack.settle(OP_DELAY)
        await until(pilot, lambda: _rows(app) == 1, "one request left")
        await pilot.press("a")
        # THEN the approval into the full group is refused with the reason
        await until(pilot, shows(pilot, "at most 8 members"), "refusal")
        assert len(stack.world.groups[group_id].members) == 8


async def test_bulk_removal_in_one_call(stack: Stack) -> None:
    group_id = await stack.create_group("Bulk")
    eight = people(8)
    await stack.join(group_id, *eight)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_members(group_id)
        await until(
            pilot,
            lambda: isinstance(app.screen, MembersScreen) and _rows(app) == 8,
            "eight members",
        )
        # WHEN all eight are marked and removed
        await pilot.press(*["space"] * 8, "X", "y")
        await until(pilot, shows(pilot, "removal pending"), "pending removal")
        await stack.settle(OP_DELAY)
        await until(pilot, lambda: _rows(app) == 0, "nobody left")
    removals = [e for e in await stack.audit() if e.action == "participants.remove"]
    assert len(removals) == 1 and len(removals[0].targets) == 8


async def test_remove_from_every_group(stack: Stack) -> None:
    first = await stack.create_group("First")
    second = await stack.create_group("Second")
    await stack.join(first, DE, US)
    await stack.join(second, DE, MX)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_members(first)
        await until(
            pilot, lambda: isinstance(app.screen, MembersScreen) and _rows(app) == 2, "two members"
        )
        screen = app.screen
        assert isinstance(screen, MembersScreen)
        keys = [k for k, r in screen.member_rows.items() if r.member.wa_id == DE]
        screen.table.move_cursor(row=screen.table.row_keys.index(keys[0]))
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "confirmation")
        await pilot.press("y")
        await until(pilot, shows(pilot, "Removal requested in 2 group(s)"), "two removals")
        await stack.settle(OP_DELAY)
        await until(pilot, lambda: _rows(app) == 1, "DE gone here")
    assert DE not in stack.world.groups[first].members
    assert DE not in stack.world.groups[second].members


async def test_settings_change_is_pending_until_confirmed(stack: Stack) -> None:
    group_id = await stack.create_group("Old name")
    await stack.join(group_id, DE)
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_members(group_id)
        await until(
            pilot, lambda: isinstance(app.screen, MembersScreen) and _rows(app) == 1, "members"
        )
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"New name", "ctrl+s")
        await until(pilot, shows(pilot, "settings change pending"), "pending settings")
        await stack.settle(OP_DELAY)
        await until(pilot, shows(pilot, "Members · New name"), "the new subject")
        assert "settings change pending" not in screen_text(app)
    assert stack.world.groups[group_id].subject == "New name"


async def test_delete_with_the_subject_typed(stack: Stack) -> None:
    group_id = await stack.create_group("Doomed group")
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await until(pilot, shows(pilot, "Delete Doomed group?"), "delete modal")
        await pilot.press(*"Doomed", "enter")
        assert "does not match" in screen_text(app)
        await pilot.press(*" group", "enter")
        await until(
            pilot,
            lambda: any("Deletion requested" in n.message for n in app._notifications),
            "deletion requested",
        )
        await stack.settle(OP_DELAY)
        # A deleted group leaves the list (d lists it again, marked ✗)
        await until(pilot, shows(pilot, "1 deleted hidden"), "hidden once deleted")
        await pilot.press("d")
        await until(
            pilot,
            lambda: app.screen.group_list.row_at(0).state == "deleted",  # type: ignore[attr-defined]
            "deleted mark",
        )
    group = await stack.store.groups.get(group_id)
    assert group is not None and group.state is GroupState.DELETED


async def test_spam_burst_flagged_removed_from_the_queue_and_audited(stack: Stack) -> None:
    group_id = await stack.create_group("Shop")
    await stack.join(group_id, DE, BR)
    watcher = ModerationWatcher(stack.service, ModerationConfig(burst_count=5, burst_window=60))
    await watcher.prepare()
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # GIVEN a member posts a burst, which the watcher flags
        for i in range(5):
            stack.world.persons.message(group_id, BR, f"BUY NOW {i}")
        await stack.settle()
        position = 0
        flags = await watcher.process(await stack.store.feed.since(position, 1000))
        assert [f.rule for f in flags] == ["burst"]
        # WHEN the operator presses M, x, y (three keys after the flag appears)
        await pilot.press("M")
        await until(
            pilot,
            lambda: isinstance(app.screen, ModerationQueueScreen) and _rows(app) == 1,
            "the flag",
        )
        await pilot.press("x", "y")
        await until(pilot, shows(pilot, "removed from 1 group"), "acted")
        await stack.settle(OP_DELAY)
        # THEN the spammer is out, and the audit log screen lists every step
        assert list(stack.world.groups[group_id].members) == [DE]
        await pilot.press("escape", "A")
        await until(
            pilot,
            lambda: isinstance(app.screen, AuditLogScreen) and _rows(app) == 2,
            "audit entries",
        )
        assert "participants.remove" in screen_text(app)
    actions = [e.action for e in await stack.audit()]
    assert actions == ["group.create", "participants.remove"]
