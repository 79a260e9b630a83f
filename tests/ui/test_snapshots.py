"""Snapshots of every screen at 80x24 and 120x40, with a frozen clock and the seeded world
(the real service over a seeded store, :mod:`tests.ui.world`).

Widget-level snapshots use tiny host apps, so a change to one widget does not churn
every screen's snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import OptionList

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import MemberRef, RateCard, preview_cost
from groups_tui.ui.app import GroupsApp, make_app, styles_dir
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.template_picker import TemplatePicker
from groups_tui.ui.widgets.cost_preview import CostPreview
from groups_tui.ui.widgets.group_list import GroupList
from groups_tui.ui.widgets.safe_text import safe
from groups_tui.ui.widgets.window_countdown import WindowCountdown
from tests.ui.conftest import settle
from tests.ui.seed import BOOK_CLUB, DAY, RUNNERS, RUNNERS_MEMBERS, Seed, epoch
from tests.ui.world import FrozenClock, World

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}

Setup = Callable[[Pilot[None]], Awaitable[None]]


def _app(world: World) -> GroupsApp:
    return make_app(
        world.service, clock=world.clock, bell=False, sandbox_note="SANDBOX — simulated users"
    )


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
def test_screen_snapshot(
    snap_compare: Callable[..., bool],
    snapshot_worlds: Callable[..., World],
    screen: str,
    size: str,
) -> None:
    world = snapshot_worlds()
    run_before = world.in_app(SCREENS[screen])
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
def test_template_picker_after_2026_10_01_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    clock = FrozenClock(epoch(2026, 10, 5, 12, 0))
    world = snapshot_worlds(Seed(now=int(clock())), clock)
    run_before = world.in_app(_template_picker)
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)


async def _template_picker_marketing(pilot: Pilot[None]) -> None:
    await _template_picker(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, TemplatePicker)
    # spring_sale, a marketing template; the window is open
    for _ in range(len(picker.templates)):
        if picker.templates[picker.query_one(OptionList).highlighted or 0].name == "spring_sale":
            break
        await pilot.press("down")
    await settle(pilot)


@pytest.mark.parametrize("size", list(SIZES))
def test_template_picker_disputed_range_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    # Marketing inside the open window: Meta's pages disagree, so the total is a range.
    world = snapshot_worlds()
    run_before = world.in_app(_template_picker_marketing)
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)


async def _marketing_priced_free(world: World) -> None:
    """Yesterday two marketing templates went to Runners Lisbon inside its window (Inês
    wrote 10 minutes before), and Meta priced the four deliveries as free."""
    now = world.clock()
    template = await world.service.reading.find_template("spring_sale")
    assert template is not None
    for n in range(2):
        world.clock.set(now - DAY + 40 * 60 + n * 60)
        sent = await world.service.sending.send_template(RUNNERS, template, ["10%"])
        assert sent.wamid is not None
        await world.deliver(
            RUNNERS,
            sent.wamid,
            delivered=RUNNERS_MEMBERS,
            category="group_marketing",
            at=int(world.clock()) + 5,
        )
    world.clock.set(now)


@pytest.mark.parametrize("size", list(SIZES))
def test_template_picker_calibrated_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World], size: str
) -> None:
    # Meta priced four in-window marketing deliveries of the day before as free.
    world = snapshot_worlds()
    world.sync(lambda: _marketing_priced_free(world))
    calibration = world.sync(world.service.sending.pricing_calibration)
    assert list(calibration.decided().values()) == [False], calibration
    run_before = world.in_app(_template_picker_marketing)
    assert snap_compare(_app(world), terminal_size=SIZES[size], run_before=run_before)


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


def test_group_list_rows_snapshot(
    snap_compare: Callable[..., bool], snapshot_worlds: Callable[..., World]
) -> None:
    world = snapshot_worlds(Seed(fillers=0, book_messages=0))
    rows = world.sync(world.service.reading.inbox_rows)
    group_list = GroupList(now=world.clock())

    async def fill(pilot: Pilot[None]) -> None:
        group_list.set_rows(rows)
        group_list.focus()
        await pilot.press("j")

    assert BOOK_CLUB in {r.group_id for r in rows}
    assert snap_compare(_Host(group_list), terminal_size=(80, 12), run_before=fill)


def epoch_date(year: int, month: int, day: int):  # type: ignore[no-untyped-def]
    from datetime import date

    return date(year, month, day)
