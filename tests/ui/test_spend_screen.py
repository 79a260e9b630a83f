"""The spend screen (`$`): a sparkline of daily spend over 30 days, and the days.

The ledger is filled the way production fills it: priced status webhooks through the
listener's writer, one marketing template a weekday to the book club's members over the
last four weeks (one busy day with a second send), on top of the seed's own sends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline

from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.spend import DAYS, SpendScreen
from tests.helpers import meta
from tests.ui.conftest import screen_text, settle
from tests.ui.seed import BOOK_CLUB, BOOK_MEMBERS
from tests.ui.world import World

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


async def _a_month_of_sends(world: World) -> None:
    """Priced deliveries on the weekdays of the last four weeks (not today)."""
    now = int(world.clock())
    price = meta.pricing("group_marketing", charged=True)
    changes = []
    for back in range(1, DAYS - 2):
        at = now - back * 86_400
        if datetime.fromtimestamp(at, UTC).weekday() >= 5:
            continue
        people = BOOK_MEMBERS[: 1 + back % len(BOOK_MEMBERS)]
        changes.append(
            meta.statuses(f"wamid.month.{back}", BOOK_CLUB, at, "delivered", people, price=price)
        )
        if back == 9:
            changes.append(
                meta.statuses(
                    "wamid.month.busy", BOOK_CLUB, at, "delivered", BOOK_MEMBERS, price=price
                )
            )
    await world.webhook(*changes)


def _period(world: World) -> tuple[date, date]:
    today = datetime.fromtimestamp(world.clock(), UTC).date()
    return today - timedelta(days=DAYS - 1), today


def _app(world: World) -> GroupsApp:
    return make_app(world.service, clock=world.clock, bell=False)


async def test_dollar_opens_the_daily_spend_chart(world: World) -> None:
    # GIVEN a month of priced deliveries
    await _a_month_of_sends(world)
    report = await world.service.reading.spend_report(*_period(world))
    assert sum(1 for r in report.rows if r.charges) >= 15
    app = _app(world)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # WHEN `$` is pressed in the inbox
        await pilot.press("dollar_sign")
        await settle(pilot)
        # THEN the spend screen charts one bar per day, oldest first, today last
        assert isinstance(app.screen, SpendScreen)
        chart = app.screen.query_one("#spend-chart", Sparkline)
        assert chart.data == [float(r.amount) for r in report.rows]
        assert len(report.rows) == DAYS and report.rows[-1].key == _period(world)[1].isoformat()
        # AND the total and the newest days are written out
        text = screen_text(app)
        assert f"${report.total:.4f}" in text
        assert report.rows[-1].key in text and report.rows[-2].key in text
        busiest = max(report.rows, key=lambda r: r.amount)
        assert f"most ${busiest.amount:.4f} on {busiest.key}" in text
        # AND Escape goes back
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SpendScreen)


async def _open(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("dollar_sign")
    await settle(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_spend_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    world = snapshot_worlds()
    world.sync(lambda: _a_month_of_sends(world))
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=world.in_app(_open))
