"""The spend screen (`$`): a sparkline of daily spend over 30 days, and the days."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline

from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.spend import DAYS, SpendScreen
from tests.ui.conftest import screen_text, settle
from tests.ui.fake_service import FakeService, FrozenClock

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def _app() -> GroupsApp:
    clock = FrozenClock()
    return make_app(FakeService(clock), clock=clock, bell=False)


async def test_dollar_opens_the_daily_spend_chart() -> None:
    # GIVEN the inbox WHEN `$` is pressed
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        # THEN the spend screen charts one bar per day, oldest first, today last
        assert isinstance(app.screen, SpendScreen)
        report = await app.service.reading.spend_report(*_period(app))
        chart = app.screen.query_one("#spend-chart", Sparkline)
        assert chart.data == [float(r.amount) for r in report.rows]
        assert len(report.rows) == DAYS
        text = screen_text(app)
        # AND the summary and the newest days are written out, with the unknown charge
        assert f"${report.total:.4f}" in text
        assert "1 charge(s) of unknown amount" in text
        assert report.rows[-1].key in text
        # AND Escape goes back
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SpendScreen)


def _period(app: GroupsApp) -> tuple[object, object]:
    from datetime import UTC, datetime, timedelta

    today = datetime.fromtimestamp(app.now(), UTC).date()
    return today - timedelta(days=DAYS - 1), today


async def _open(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("dollar_sign")
    await settle(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_spend_snapshot(snap_compare: Callable[..., bool], size: str) -> None:
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_open)
