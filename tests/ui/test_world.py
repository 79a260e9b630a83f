"""The UI tests run against the real service, over a store filled the way production
fills it (see :mod:`tests.ui.world`)."""

from __future__ import annotations

import importlib.util

from groups_tui.listener.ingest import events_from_body
from groups_tui.service import InboxService
from tests.helpers import meta
from tests.ui.seed import BOOK_CLUB
from tests.ui.world import World


async def test_the_screens_talk_to_the_real_service(world: World, service: InboxService) -> None:
    # GIVEN the service the UI tests hand to the app
    # THEN it is the production class, over the world's store and Cloud API client,
    # and no stand-in that re-implements its rules is left in the suite
    assert type(service) is InboxService
    # over the world's store and client: what it sends reaches the Graph double and the
    # world's outbox
    sent = await service.sending.send_text(BOOK_CLUB, "Hello")
    assert [r.path for r in world.graph.requests] == [f"{meta.PHONE_NUMBER_ID}/messages"]
    stored = await world.store.outbox.get(sent.id)
    assert stored is not None and stored.wamid == sent.wamid
    assert importlib.util.find_spec("tests.ui.fake_service") is None


async def test_the_seeded_state_is_what_its_webhooks_say(world: World) -> None:
    # GIVEN the seeded world, and the state it holds
    before = await world.store.raw.state_digest()
    stats = await world.store.raw.stats()
    assert stats.total > 200 and stats.errors == 0
    # WHEN everything webhooks produced is forgotten and the raw log replayed
    await world.store.raw.reset_derived_state()
    await world.store.raw.replay(events_from_body)
    # THEN the same state comes back: it was written by the listener's apply path (and
    # by the service's own calls, which a reset keeps), never behind its back
    assert await world.store.raw.state_digest() == before
    row = await world.service.reading.inbox_row(BOOK_CLUB)
    assert row is not None and (row.participant_count, row.unread) == (5, 3)


async def test_the_seeded_history_reached_the_cloud_api_only_through_the_service(
    world: World,
) -> None:
    # GIVEN a fresh copy of the seed THEN the test's Graph double has seen nothing yet,
    # and what the seed's sends got back is in the outbox as Meta answered it
    assert world.graph.requests == []
    page = await world.service.reading.messages_page(BOOK_CLUB)
    ours = [v for v in page.messages if v.outbox_state is not None]
    assert [(v.message.text, v.outbox_state) for v in ours] == [
        ("Reminder: meeting Thursday 7pm", "accepted"),
        ("Your order 42 has shipped", "accepted"),
        ("Link to the venue", "accepted"),
    ]
    assert [str(v.delivery and v.delivery.label()) for v in ours] == [
        "delivered 4/5, read 2/5",
        "delivered 5/5, read 3/5",
        "delivered 3/5, read 1/5, failed 1",
    ]
