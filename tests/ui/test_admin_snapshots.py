"""Snapshots of every administration screen and modal at 80x24 and 120x40.

Same deterministic setup as ``test_snapshots.py``: the frozen clock, UTC, no cursor
blink and the seeded world, here with three join requests to the Book club (one from a
blocklisted number).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from groups_tui.ui.app import GroupsApp, make_app
from tests.ui.conftest import settle
from tests.ui.seed import BOOK_CLUB, Seed
from tests.ui.world import World

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

Setup = Callable[[Pilot[None]], Awaitable[None]]


def _app(world: World) -> GroupsApp:
    return make_app(
        world.service, clock=world.clock, bell=False, sandbox_note="SANDBOX — simulated users"
    )


def _gapp(pilot: Pilot[None]) -> GroupsApp:
    app = pilot.app
    assert isinstance(app, GroupsApp)
    return app


async def _members(pilot: Pilot[None]) -> None:
    await settle(pilot)
    _gapp(pilot).open_members(BOOK_CLUB)
    await settle(pilot)
    await pilot.press("j", "space")
    await settle(pilot)


async def _members_history(pilot: Pilot[None]) -> None:
    await _members(pilot)
    await pilot.press("h")
    await settle(pilot)


async def _members_suspended(pilot: Pilot[None]) -> None:
    await settle(pilot)
    _gapp(pilot).open_members("g-suspended")
    await settle(pilot)


async def _member_details(pilot: Pilot[None]) -> None:
    await _members(pilot)
    await pilot.press("k", "e")
    await settle(pilot)


async def _join_requests(pilot: Pilot[None]) -> None:
    await settle(pilot)
    _gapp(pilot).open_join_requests(BOOK_CLUB)
    await settle(pilot)


async def _join_requests_full(pilot: Pilot[None]) -> None:
    await settle(pilot)
    _gapp(pilot).open_join_requests("g-parents")
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)


async def _create_group(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("n", *"Order 3003 support")
    await settle(pilot)


async def _invite_link_pending(pilot: Pilot[None]) -> None:
    await _create_group(pilot)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def _invite_link(pilot: Pilot[None]) -> None:
    await settle(pilot)
    _gapp(pilot).open_invite_link(BOOK_CLUB)
    await settle(pilot)


async def _invite_people(pilot: Pilot[None]) -> None:
    await _invite_link(pilot)
    await pilot.press("p")
    await settle(pilot)
    for number in ("+49 151 23456780", "+1 650 555 1234", "+52 55 1234 5678", "+91 98765 43211"):
        await pilot.press("ctrl+a", "ctrl+k", *number, "enter")
    await settle(pilot)


async def _group_settings(pilot: Pilot[None]) -> None:
    await _members(pilot)
    await pilot.press("s")
    await settle(pilot)


async def _delete_group(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("j", "D")
    await settle(pilot)
    await pilot.press(*"Book")
    await settle(pilot)


async def _moderation_queue(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("M")
    await settle(pilot)


async def _audit_log(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("A")
    await settle(pilot)


SCREENS: dict[str, Setup] = {
    "members": _members,
    "members-history": _members_history,
    "members-suspended": _members_suspended,
    "member-details": _member_details,
    "join-requests": _join_requests,
    "join-requests-full-refused": _join_requests_full,
    "create-group": _create_group,
    "invite-link-pending": _invite_link_pending,
    "invite-link": _invite_link,
    "invite-people": _invite_people,
    "group-settings": _group_settings,
    "delete-group": _delete_group,
    "moderation-queue": _moderation_queue,
    "audit-log": _audit_log,
}


@pytest.mark.parametrize(
    ("screen", "size"),
    [pytest.param(s, z, id=f"{s}-{z}") for s in SCREENS for z in SIZES],
)
def test_admin_snapshot(
    snap_compare: Callable[..., bool],
    snapshot_worlds: Callable[..., World],
    screen: str,
    size: str,
) -> None:
    world = snapshot_worlds(Seed(requests_to_book_club=True))
    run_before = world.in_app(SCREENS[screen])
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)
