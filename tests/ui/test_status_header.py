"""The header keeps today's spend in view at every width."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.app import App, ComposeResult

from groups_tui.service.types import AccountInfo, ListenerStatus, Mode
from groups_tui.ui.widgets.status_header import StatusHeader

NOW = 1_789_473_600


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusHeader()


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160])
async def test_spend_today_is_never_cut(width: int) -> None:
    app = _Host()
    async with app.run_test(size=(width, 5)) as pilot:
        header = app.query_one(StatusHeader)
        header.account = AccountInfo("+1 555 010 0000", "PNID", Mode.SANDBOX)
        header.note = "SANDBOX — simulated users"
        header.listener = ListenerStatus("in-process", last_event_at=NOW - 30, signatures_refused=2)
        header.spend_today = Decimal("12.3456")
        header.now = NOW
        await pilot.pause()
        line = "".join(s.text for s in header.render_lines(header.region.reset_offset)[0:1])
        assert len(line.rstrip()) <= width
        assert "$12.3456" in line
        if width >= 120:
            # THEN the wide wording, in full
            assert "SANDBOX — simulated users" in line and "listener in-process" in line
            assert "2 refused" in line
        elif width >= 80:
            # THEN the short wording, still whole
            assert "in-process" in line and "2 refused" in line
        else:
            # THEN the listener part gives way, with an ellipsis
            assert "…" in line


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_failed_events_are_counted_only_when_there_are_some(width: int) -> None:
    app = _Host()
    async with app.run_test(size=(width, 5)) as pilot:
        header = app.query_one(StatusHeader)
        header.account = AccountInfo("+1 555 010 0000", "PNID", Mode.SANDBOX)
        header.note = "SANDBOX — simulated users"
        header.spend_today = Decimal("12.3456")
        header.now = NOW

        async def line(failed: int) -> str:
            header.listener = ListenerStatus(
                "in-process", last_event_at=NOW - 30, signatures_refused=2, failed_events=failed
            )
            await pilot.pause()
            return "".join(s.text for s in header.render_lines(header.region.reset_offset)[0:1])

        # GIVEN no failed events, THEN the header does not mention them
        assert "failed" not in await line(0)
        assert not header.has_class("-failed")
        # GIVEN some, THEN their count and the spend are shown whole at every width
        shown = await line(3)
        assert len(shown.rstrip()) <= width
        assert "│ 3 failed │" in shown and "$12.3456" in shown
        assert header.has_class("-failed")


def test_an_unknown_join_approval_mode_is_shown_as_data() -> None:
    from groups_tui.domain.models import Group, Unknown
    from groups_tui.domain.window import window_state
    from groups_tui.service.types import GroupDetail
    from groups_tui.ui.widgets.group_banner import banner_text

    group = Group(id="g1", subject="Team", join_approval=Unknown("[bold]AUTO\x1b[2J"))
    text = banner_text(GroupDetail(group, (), window_state(None, NOW, None)), "Members")
    assert "unknown: [bold]AUTO" in text.plain
    assert "\x1b" not in text.plain
    assert "invite link" not in text.plain and "approval required" not in text.plain


@pytest.mark.parametrize("width", [60, 80, 120, 160])
async def test_evidence_contradicting_the_pricing_configuration_is_shown(width: int) -> None:
    from datetime import date

    from groups_tui.domain.pricing import DeliveryTally, calibrate

    # GIVEN Meta priced three in-window marketing deliveries as free, which the
    # configuration charges
    free = DeliveryTally(
        "group_marketing", "free_group_customer_service", False, True, date(2026, 12, 3), 3
    )
    contradictions = calibrate([free], date(2026, 12, 3)).contradictions
    assert len(contradictions) == 1
    app = _Host()
    async with app.run_test(size=(width, 5)) as pilot:
        header = app.query_one(StatusHeader)
        header.account = AccountInfo("+1 555 010 0000", "PNID", Mode.SANDBOX)
        header.note = "SANDBOX — simulated users"
        header.listener = ListenerStatus("in-process", last_event_at=NOW - 30, signatures_refused=2)
        header.spend_today = Decimal("12.3456")
        header.now = NOW
        await pilot.pause()
        assert not header.has_class("-contradicted")
        # WHEN the header learns of it
        header.contradictions = contradictions
        await pilot.pause()
        line = "".join(s.text for s in header.render_lines(header.region.reset_offset)[0:1])
        # THEN it says so, whole, beside the spend, at every width
        assert len(line.rstrip()) <= width
        assert "⚠ Meta: marketing in window free" in line and "$12.3456" in line
        assert header.has_class("-contradicted")
        if width >= 160:
            assert "config charged" in line
