"""Snapshots of every screen at 80x24 and 120x40, with a frozen clock and seeded data.

Widget-level snapshots use tiny host apps, so a change to one widget does not churn
every screen's snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from decimal import Decimal

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import DeliveryTally, MemberRef, RateCard, preview_cost
from groups_tui.ui.app import GroupsApp, make_app, styles_dir
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.widgets.cost_preview import CostPreview
from groups_tui.ui.widgets.group_list import GroupList
from groups_tui.ui.widgets.safe_text import safe
from groups_tui.ui.widgets.window_countdown import WindowCountdown
from tests.ui.conftest import settle
from tests.ui.fake_service import BOOK_CLUB, FakeService, FrozenClock, epoch

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

Setup = Callable[[Pilot[None]], Awaitable[None]]


def _app(clock: FrozenClock | None = None, evidence: Sequence[DeliveryTally] = ()) -> GroupsApp:
    clock = clock or FrozenClock()
    service = FakeService(clock)
    service.pricing_tallies = list(evidence)
    return make_app(service, clock=clock, bell=False, sandbox_note="SANDBOX — simulated users")


async def _inbox(pilot: Pilot[None]) -> None:
    await settle(pilot)


async def _inbox_filtered(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("slash", *"o", "enter", "u")
    await settle(pilot)


async def _conversation(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("j", "enter")
    await settle(pilot)


async def _conversation_hostile(pilot: Pilot[None]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, GroupsApp)
    app.open_group("g-hostile-1")
    await settle(pilot)


async def _conversation_closed(pilot: Pilot[None]) -> None:
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, GroupsApp)
    app.open_group("g-parents")
    await settle(pilot)


async def _template_picker(pilot: Pilot[None]) -> None:
    await _conversation(pilot)
    await pilot.press("t")
    await settle(pilot)


async def _search(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("ctrl+f", *"thursday")
    await settle(pilot)


async def _help(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def _confirm(pilot: Pilot[None]) -> None:
    await settle(pilot)
    question = Text("Remove ")
    question.append_text(safe("[@click=app.quit]Mallory[/]", "bold"))
    question.append(" from Book club? They can rejoin with the invite link.")
    pilot.app.push_screen(ConfirmModal(question, yes="Remove"))
    await settle(pilot)


SCREENS: dict[str, Setup] = {
    "inbox": _inbox,
    "inbox-filtered": _inbox_filtered,
    "conversation": _conversation,
    "conversation-hostile": _conversation_hostile,
    "conversation-closed": _conversation_closed,
    "template-picker": _template_picker,
    "search": _search,
    "help": _help,
    "confirm": _confirm,
}


@pytest.mark.parametrize(
    ("screen", "size"),
    [pytest.param(s, z, id=f"{s}-{z}") for s in SCREENS for z in SIZES],
)
def test_screen_snapshot(snap_compare: Callable[..., bool], screen: str, size: str) -> None:
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=SCREENS[screen])


@pytest.mark.parametrize("size", list(SIZES))
def test_template_picker_after_2026_10_01_snapshot(
    snap_compare: Callable[..., bool], size: str
) -> None:
    app = _app(FrozenClock(epoch(2026, 10, 5, 12, 0)))
    assert snap_compare(app, terminal_size=SIZES[size], run_before=_template_picker)


async def _template_picker_marketing(pilot: Pilot[None]) -> None:
    await _template_picker(pilot)
    await pilot.press("down")  # spring_sale, a marketing template; the window is open
    await settle(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_template_picker_disputed_range_snapshot(
    snap_compare: Callable[..., bool], size: str
) -> None:
    # Marketing inside the open window: Meta's pages disagree, so the total is a range.
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_template_picker_marketing)


@pytest.mark.parametrize("size", list(SIZES))
def test_template_picker_calibrated_snapshot(snap_compare: Callable[..., bool], size: str) -> None:
    # Meta priced four in-window marketing deliveries of the day before as free.
    free = DeliveryTally(
        "group_marketing", "free_group_customer_service", False, True, date(2026, 9, 14), 4
    )
    app = _app(evidence=[free])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=_template_picker_marketing)


# ---------------------------------------------------------------- widget-level host apps


class _Host(App[None]):
    CSS_PATH = [styles_dir() / "base.tcss"]

    def __init__(self, *widgets: object) -> None:
        super().__init__()
        self._widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self._widgets  # type: ignore[misc]


def test_window_countdown_states_snapshot(snap_compare: Callable[..., bool]) -> None:
    now = epoch(2026, 9, 15, 12)
    host = _Host(
        WindowCountdown(now - 3_600, "Alice", now=now),
        WindowCountdown(now - 86_400 + 1_800, "Inês", now=now),
        WindowCountdown(now - 2 * 86_400, "[@click=app.quit]x[/]", now=now),
        WindowCountdown(None, None, now=now),
    )
    assert snap_compare(host, terminal_size=(80, 6))


def test_cost_preview_widget_snapshot(snap_compare: Callable[..., bool]) -> None:
    card = RateCard.load_default()
    members = [
        MemberRef("a", "447700900123", "Alice"),
        MemberRef("b", "5511987654321", "Bruno"),
        MemberRef("c", "12025550111", "Carol (US)"),
        MemberRef("d", None, "No number"),
    ]
    preview = preview_cost(
        members,
        TemplateCategory.MARKETING,
        epoch_date(2026, 10, 5),
        window_open=True,
        service_used_this_month=999,
        card=card,
    )
    assert preview.total > Decimal(0)
    widget = CostPreview()
    widget.preview = preview
    assert snap_compare(_Host(widget), terminal_size=(80, 14))


def test_group_list_rows_snapshot(snap_compare: Callable[..., bool]) -> None:
    clock = FrozenClock()
    service = FakeService(clock, filler_groups=0, messages_in_book_club=0)
    group_list = GroupList(now=clock())

    async def fill(pilot: Pilot[None]) -> None:
        group_list.set_rows([service._row(gid) for gid in service.groups])
        group_list.focus()
        await pilot.press("j")

    assert BOOK_CLUB in service.groups
    assert snap_compare(_Host(group_list), terminal_size=(80, 12), run_before=fill)


def epoch_date(year: int, month: int, day: int):  # type: ignore[no-untyped-def]
    from datetime import date

    return date(year, month, day)
