"""The inbox over the full stack: what the operator finds and sees (issue 16)."""

from __future__ import annotations

from groups_tui.domain.moderation.config import ModerationConfig
from groups_tui.sandbox.people import Person
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.moderation_queue import ModerationQueueScreen
from groups_tui.ui.widgets.group_list import GroupList
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.workers.moderation import ModerationWatcher
from tests.integration.e2e.support import BR, DE, OP_DELAY, Stack
from tests.ui.conftest import screen_text, settle

from .support import app_for, shows, until


def _rows(app: object) -> int:
    return app.screen.query_one(MarkTable).row_count  # type: ignore[attr-defined]


async def test_filter_as_you_type_finds_member_names_with_or_without_accents(
    stack: Stack,
) -> None:
    # GIVEN a group where Sofía Castro and Björn Åkesson wrote (participant webhooks carry
    # numbers only: names arrive with messages), and a group without them
    stack.world.population.add(Person("34611222333", "Sofía Castro", "ES", "ES.34611222333"))
    stack.world.population.add(Person("46701234567", "Björn Åkesson", "SE", "SE.46701234567"))
    wedding = await stack.create_group("Wedding")
    other = await stack.create_group("Other")
    await stack.join(wedding, "34611222333", "46701234567", DE)
    await stack.join(other, BR)
    await stack.say(wedding, "34611222333", "hola")
    await stack.say(wedding, "46701234567", "hej")
    await stack.say(other, BR, "oi")
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        await until(pilot, lambda: group_list.total == 2, "both groups")
        for typed in ("castro", "Björn", "sofía", "SOFIA", "bjorn akesson", "akesson"):
            # WHEN the operator types a member's name in the filter
            await pilot.press("slash", *typed)
            await settle(pilot)
            # THEN the group they are in is shown, and only it
            shown = [group_list.row_at(i).group_id for i in range(len(group_list.shown))]
            assert shown == [wedding], typed
            await pilot.press("escape", "escape")
            await settle(pilot)
            assert len(group_list.shown) == 2


async def test_a_spammer_in_three_groups_is_seen_from_the_inbox_and_removed_in_three_keys(
    stack: Stack,
) -> None:
    # GIVEN a spammer who joined three groups (and a fourth group without them)
    groups = [await stack.create_group(f"Shop {i}") for i in range(3)]
    quiet = await stack.create_group("Quiet")
    for group_id in groups:
        await stack.join(group_id, DE, BR)
    await stack.join(quiet, DE)
    watcher = ModerationWatcher(stack.service, ModerationConfig(burst_count=3, burst_window=60))
    await watcher.prepare()
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # WHEN they post a burst in each, which the watcher flags (one flag per group)
        for group_id in groups:
            for i in range(3):
                stack.world.persons.message(group_id, BR, f"BUY NOW {i} https://spam.example")
        await stack.settle()
        flags = await watcher.process(await stack.store.feed.since(0, 1000))
        assert {f.group_id for f in flags} == set(groups)
        n = len(flags)  # bursts, links, the same text in several groups
        group_list = app.screen.query_one(GroupList)
        # THEN the inbox marks the three groups, and the header counts the open flags
        await until(pilot, shows(pilot, f"│ {n} flags │"), "open flags in the header")
        await until(
            pilot,
            lambda: sum(r.open_flags for r in group_list.rows) == n,
            "flag counts on the rows",
        )
        text = screen_text(app)
        for i in range(3):
            assert f"!Shop {i}" in text, text
        assert "!Quiet" not in text and " Quiet" in text
        # AND f lists exactly the flagged groups
        await pilot.press("f")
        await settle(pilot)
        shown = {group_list.row_at(i).group_id for i in range(len(group_list.shown))}
        assert shown == set(groups)
        await pilot.press("f")
        # WHEN the operator presses M (one entry for the person), x, y: three keys
        await pilot.press("M")
        await until(
            pilot,
            lambda: isinstance(app.screen, ModerationQueueScreen) and _rows(app) == 1,
            "one entry for the spammer",
        )
        assert f"{n} flags" in screen_text(app)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        assert "every group" in screen_text(app) and "in 3 groups" in screen_text(app)
        await pilot.press("y")
        await until(pilot, shows(pilot, "removed from 3 groups"), "acted")
        await stack.settle(OP_DELAY)
        # THEN they are out of all three groups, and nobody else was touched
        for group_id in groups:
            assert list(stack.world.groups[group_id].members) == [DE]
        assert list(stack.world.groups[quiet].members) == [DE]
        await until(pilot, lambda: _rows(app) == 0, "the queue is empty")


async def test_blocking_a_number_offers_to_remove_it_now(stack: Stack) -> None:
    groups = [await stack.create_group(f"Shop {i}") for i in range(2)]
    for group_id in groups:
        await stack.join(group_id, DE, BR)
    watcher = ModerationWatcher(stack.service, ModerationConfig(burst_count=3, burst_window=60))
    await watcher.prepare()
    app = app_for(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for i in range(3):
            stack.world.persons.message(groups[0], BR, f"BUY NOW {i}")
        await stack.settle()
        await watcher.process(await stack.store.feed.since(0, 1000))
        await pilot.press("M")
        await until(pilot, lambda: _rows(app) == 1, "the flagged person")
        # WHEN the operator blocklists them
        await pilot.press("b", "y")
        # THEN the app offers to remove them now from the two groups they are in
        await until(pilot, shows(pilot, "now from the 2 groups"), "the removal offer")
        assert await stack.service.moderation.blocklist() == [(BR, "flagged by burst")]
        await pilot.press("y")
        await until(pilot, shows(pilot, "removed from 2 groups"), "removed")
        await stack.settle(OP_DELAY)
        for group_id in groups:
            assert list(stack.world.groups[group_id].members) == [DE]
