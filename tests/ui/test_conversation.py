"""Conversation behaviour: sending, live outbox state, the window countdown, refusals,
paging, search jumps and the template cost preview."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Input, TextArea

from groups_tui.domain.pricing import RateCard
from groups_tui.ui.app import GroupsApp, make_app
from groups_tui.ui.screens.conversation import ConversationScreen
from groups_tui.ui.screens.search import SearchScreen
from groups_tui.ui.screens.template_picker import TemplatePicker
from groups_tui.ui.widgets.cost_preview import CostPreview
from groups_tui.ui.widgets.group_list import Columns, GroupList, row_columns
from groups_tui.ui.widgets.message_log import MessageLog
from groups_tui.ui.widgets.window_countdown import WindowCountdown
from tests.helpers.meta import PHONE_NUMBER_ID
from tests.ui.conftest import open_conversation, screen_text, settle
from tests.ui.seed import ALICE, BOOK_CLUB, BOOK_MEMBERS, Seed, epoch
from tests.ui.world import FrozenClock, World

MESSAGES = f"{PHONE_NUMBER_ID}/messages"


async def test_sending_text_shows_the_outbox_state_live(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        # GIVEN the composer focused (i) WHEN typing and Ctrl+S
        await pilot.press("i")
        assert isinstance(app.focused, TextArea)
        await pilot.press(*"Hello all")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # THEN the send went through the service once, the state is shown, the box cleared
        assert [(r.method, r.path, r.body) for r in world.graph.requests] == [
            (
                "POST",
                MESSAGES,
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "group",
                    "to": BOOK_CLUB,
                    "type": "text",
                    "text": {"preview_url": False, "body": "Hello all"},
                },
            )
        ]
        assert "message: accepted" in screen_text(app)
        assert screen.composer.text == ""
        log = screen.query_one(MessageLog)
        sent = log.views[-1]
        assert sent.message.text == "Hello all"
        assert "delivered 0/5" in screen_text(app)
        # WHEN status webhooks arrive through the change feed
        await world.deliver(
            BOOK_CLUB, sent.message.id, delivered=BOOK_MEMBERS[:4], read=BOOK_MEMBERS[:2]
        )
        await settle(pilot)
        # THEN the delivery across participants updates live
        assert "delivered 4/5, read 2/5" in screen_text(app)


async def test_countdown_crosses_one_hour_and_zero(
    app: GroupsApp, world: World, clock: FrozenClock
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        countdown = screen.query_one(WindowCountdown)
        # GIVEN 23 h left
        assert countdown.has_class("-window-open")
        assert "23h 00m left" in screen_text(app)
        assert not screen.composer.disabled
        # WHEN the clock reaches 59 min 59 s left and the app timer fires
        clock.advance(22 * 3_600 + 1)
        app.tick_clock()
        await settle(pilot)
        # THEN the countdown turns to a warning
        assert countdown.has_class("-closing") and not countdown.has_class("-window-open")
        assert "Window closing soon · 59m left" in screen_text(app)
        assert not screen.composer.disabled
        # WHEN the window closes
        clock.advance(3_600)
        app.tick_clock()
        await settle(pilot)
        # THEN it says closed and free-form sending is disabled with the reason
        assert countdown.has_class("-closed")
        text = screen_text(app)
        assert "Window closed" in text
        assert screen.composer.disabled
        assert "24-hour window is closed" in text
        # AND Ctrl+S does not reach the Cloud API
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert world.graph.requests == []


async def test_inbox_countdown_turns_to_warning_then_closed(
    app: GroupsApp, clock: FrozenClock
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        row = next(r for r in group_list.rows if r.group_id == BOOK_CLUB)
        cols = Columns.for_width(79)
        # 23 h left now; the inbox counts what is left at the end of this minute
        assert row_columns(row, clock(), cols)[-1].strip() == "22h 59m"
        clock.advance(22 * 3_600 + 1)
        app.tick_clock()
        await settle(pilot)
        assert row_columns(row, clock(), cols)[-1].strip() == "59m"
        assert "59m" in screen_text(app)
        clock.advance(3_600)
        app.tick_clock()
        await settle(pilot)
        assert row_columns(row, clock(), cols)[-1].strip() == "closed"


def _book_club_line(app: GroupsApp) -> str:
    return next(line for line in screen_text(app).splitlines() if "Book club" in line)


async def test_inbox_countdown_changes_on_the_rows_own_second_not_the_clocks_minute(
    world: World, clock: FrozenClock
) -> None:
    # GIVEN a window that closes 30 s into a minute of the clock (a member wrote then)
    opened = int(clock()) - 3_600 + 30
    await world.receive(BOOK_CLUB, ALICE, "half a minute later", at=opened)
    closes = opened + 24 * 3_600
    assert closes % 60 == 30
    app = make_app(world.service, clock=clock, bell=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        repainted: list[int] = []
        refresh_line = group_list.refresh_line

        def spy(position: int) -> None:
            repainted.append(position)
            refresh_line(position)

        group_list.refresh_line = spy  # type: ignore[method-assign]

        async def tick_at(at: int) -> list[str]:
            repainted.clear()
            clock.now = float(at)
            app.tick_clock()
            await settle(pilot)
            return [group_list.row_at(p).group_id for p in repainted]

        # WHEN the last hour begins, one second into the minute's second half
        await tick_at(closes - 3_601)
        assert (closes - 3_601) // 60 == (closes - 3_599) // 60
        # THEN that row alone is drawn again, in the warning colour, without waiting
        assert await tick_at(closes - 3_599) == [BOOK_CLUB]
        # WHEN the window closes, one second after a tick that read "<1m"
        await tick_at(closes - 1)
        assert _book_club_line(app).endswith("<1m")
        assert await tick_at(closes + 1) == [BOOK_CLUB]
        # THEN the row already reads "closed", within the same minute of the clock
        assert (closes - 1) // 60 == (closes + 1) // 60
        assert _book_club_line(app).endswith("closed")
        # AND a tick that changes no label draws nothing
        assert await tick_at(closes + 2) == []


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("sticker.webp", b"RIFF....WEBP", "Stickers are not documented as supported"),
        ("archive.zip", b"PK\x03\x04", "does not accept application/zip"),
    ],
)
async def test_unsupported_send_is_refused_before_any_api_call(
    app: GroupsApp, world: World, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_conversation(app, pilot, BOOK_CLUB)
        # WHEN attaching the file by path
        await pilot.press("a")
        attach = app.screen.query_one("#attach-path", Input)
        assert app.focused is attach
        attach.value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        # THEN the Groups-specific reason is shown and nothing reached the API
        assert reason in screen_text(app).replace("\n", " ")
        assert world.graph.requests == []


async def test_attaching_an_image_sends_media(app: GroupsApp, world: World, tmp_path: Path) -> None:
    path = tmp_path / "cover.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"0" * 1000)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_conversation(app, pilot, BOOK_CLUB)
        await pilot.press("a")
        app.screen.query_one("#attach-path", Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        # THEN the file was uploaded, then sent to the group by its media id
        upload, send = world.graph.requests
        assert (upload.method, upload.path) == ("POST", f"{PHONE_NUMBER_ID}/media")
        assert upload.body["file"] == ("cover.jpg", 1003)
        assert (send.path, send.body["to"], send.body["type"]) == (MESSAGES, BOOK_CLUB, "image")
        assert send.body["image"] == {"id": upload.answer["id"]}
        assert "‹image› · 1.0 KB · image/jpeg" in screen_text(app)


async def test_pgup_at_the_top_loads_older_messages_by_keyset(app: GroupsApp) -> None:
    messages: list[Message] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        log = screen.query_one(MessageLog)
        first_page = len(log.views)
        assert first_page == 50 and log.older is not None
        # WHEN going to the top (g) of what is loaded
        await pilot.press("g")
        await settle(pilot)
        # THEN exactly one older page was requested and prepended
        requested = [m for m in messages if isinstance(m, MessageLog.OlderRequested)]
        assert len(requested) == 1
        assert len(log.views) == 100
        assert log.views[0].message.at <= log.views[50].message.at
        # WHEN PgUp at the top again THEN the rest arrives, then history ends
        await pilot.press("home", "pageup")
        await settle(pilot)
        await pilot.press("home", "pageup")
        await settle(pilot)
        assert log.older is None
        assert "beginning of the conversation" in "\n".join(s.text for s in log._lines[:1])


async def test_an_older_page_keeps_the_view_in_place_in_the_frame_that_draws_it(
    app: GroupsApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conversation(app, pilot, BOOK_CLUB)
        log = screen.query_one(MessageLog)
        assert log.older is not None and log.scroll_y > 0
        page = await app.service.reading.messages_page(BOOK_CLUB, older=log.older)
        shown, lines = log.scroll_y, len(log._lines)
        # WHEN the older page is prepended
        log.prepend(page.messages, page.older, page.events)
        # THEN the view already shows the same lines (moved down by the lines added),
        # not the old offset for one frame and the right one after it
        assert len(log._lines) > lines
        assert log.scroll_y == shown + len(log._lines) - lines
        await settle(pilot)
        assert log.scroll_y == shown + len(log._lines) - lines


async def test_search_jumps_to_the_message_in_its_group(app: GroupsApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"chapter 7 thoughts")
        await settle(pilot)
        assert "Book club" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        log = screen.query_one(MessageLog)
        assert log.views[-1].message.text == "Chapter 7 thoughts"
        assert "Chapter 7 thoughts" in screen_text(app)


def _card_rates(category: str) -> dict[str, Decimal | None]:
    card = RateCard.load_default()
    out: dict[str, Decimal | None] = {}
    for region in ("GB", "BR", "SG", "DE"):
        row = card.row_for_region(region)
        assert row is not None
        out[region] = row.utility if category == "utility" else row.marketing
    return out


async def _preview_for(app: GroupsApp, pilot: object, template: str) -> CostPreview:
    """Open the template picker and move down to `template`."""
    await open_conversation(app, pilot, BOOK_CLUB)  # type: ignore[arg-type]
    await pilot.press("t")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    picker = app.screen
    assert isinstance(picker, TemplatePicker)
    for _ in picker.templates:
        if picker.selected is not None and picker.selected.name == template:
            break
        await pilot.press("down")  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[arg-type]
    assert picker.selected is not None and picker.selected.name == template
    return picker.query_one(CostPreview)


async def test_utility_template_inside_window_is_free_before_2026_10_01(
    app: GroupsApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        cost = await _preview_for(app, pilot, "order_update")
        preview = cost.preview
        assert preview is not None and preview.category is not None
        assert preview.total == Decimal(0)
        rates = _card_rates("utility")
        text = screen_text(app)
        assert "Total $0.0000" in text
        assert "utility inside window: free until 2026-09-30" in text
        for region, rate in rates.items():
            assert rate is not None
            assert f"{rate:.4f}" in text, region  # the rate is shown, the charge is 0


async def test_utility_template_inside_window_is_charged_from_2026_10_01(
    worlds: Callable[..., Awaitable[World]],
) -> None:
    clock = FrozenClock(epoch(2026, 10, 5, 12, 0))
    world = await worlds(Seed(now=int(clock())), clock)
    app = make_app(world.service, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        cost = await _preview_for(app, pilot, "order_update")
        preview = cost.preview
        assert preview is not None
        rates = _card_rates("utility")
        expected = sum((r for r in rates.values() if r is not None), Decimal(0))
        assert preview.total == expected
        text = screen_text(app)
        assert f"Total ${expected:.4f} + 1 unknown" in text  # the member with no number
        assert "utility inside window: charged from 2026-10-01" in text
        assert "free service allowance: 120 of 1,000 used this month" in text


async def test_marketing_template_flags_unknown_rates(
    worlds: Callable[..., Awaitable[World]],
) -> None:
    clock = FrozenClock(epoch(2026, 10, 5, 12, 0))
    world = await worlds(Seed(now=int(clock())), clock)
    app = make_app(world.service, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        cost = await _preview_for(app, pilot, "spring_sale")
        preview = cost.preview
        assert preview is not None
        rates = _card_rates("marketing")
        known = [r for r in rates.values() if r is not None]
        unknown = 5 - len(known)
        assert preview.total == sum(known, Decimal(0))
        assert f"Total ${sum(known, Decimal(0)):.4f} + {unknown} unknown" in screen_text(app)
        assert "total is a lower bound" in screen_text(app)


async def test_template_send_goes_through_the_service(app: GroupsApp, world: World) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _preview_for(app, pilot, "order_update")
        await pilot.press("enter")  # select: focus the first parameter
        await pilot.press(*"42", "enter", *"Tuesday", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        (sent,) = world.graph.requests
        assert (sent.path, sent.body["to"], sent.body["type"]) == (MESSAGES, BOOK_CLUB, "template")
        assert sent.body["template"] == {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "42"},
                        {"type": "text", "text": "Tuesday"},
                    ],
                }
            ],
        }
        assert "template order_update: accepted" in screen_text(app)


async def test_authentication_template_cannot_be_chosen(app: GroupsApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await _preview_for(app, pilot, "order_update")
        assert "login_code  authentication" in screen_text(app)
        assert "(cannot be sent to groups)" in screen_text(app)
        assert "draft_promo" not in screen_text(app), "only approved templates are listed"
