"""Prune (dry run and real run) and announcements to 200 groups, paced and resumed."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from groups_tui.automations.announce import (
    AnnounceError,
    plan_announcement,
    run_announcement,
)
from groups_tui.automations.common import GroupFilter
from groups_tui.automations.prune import PruneError, make_filter, prune

from .conftest import StackFactory
from .support import BR, DE, Crash, Stack, default_knobs

DAY = 86_400.0
RATE = 20.0


async def test_prune_dry_run_lists_then_real_run_deletes_and_audits(stack: Stack) -> None:
    # GIVEN old order groups (one still chatting), a recent one and an unrelated class
    old = [
        stack.world.groups.add(f"Order {n}", created_at=stack.clock.now() - 40 * DAY)
        for n in (1, 2, 3)
    ]
    recent = stack.world.groups.add("Order 4")
    other = stack.world.groups.add("Yoga", created_at=stack.clock.now() - 40 * DAY)
    await stack.service.reading.sync_groups()
    stack.world.persons.join(old[2].id, DE)
    stack.world.persons.message(old[2].id, DE, "still here")
    await stack.settle()
    for group in (*old, recent):
        await stack.store.groups.annotate(group.id, tag="orders")
    flt = make_filter(idle_days=30, tag="ord*")

    # WHEN a dry run is made
    dry = await prune(stack.service, flt)

    # THEN it lists the idle tagged groups with the reasons and deletes nothing
    assert dry.dry_run
    assert {c.group_id for c in dry.candidates} == {old[0].id, old[1].id}
    assert all(any("no inbound message" in r for r in c.reasons) for c in dry.candidates)
    assert all(any("tag 'orders'" in r for r in c.reasons) for c in dry.candidates)
    assert len(stack.world.groups.active()) == 5

    # WHEN it runs for real
    real = await prune(stack.service, flt, dry_run=False)
    await stack.settle()

    # THEN exactly those groups are gone and each deletion is audited with its reasons
    assert real.deleted == 2 and not real.failed
    assert {g.id for g in stack.world.groups.active()} == {old[2].id, recent.id, other.id}
    audits = [
        e for e in await stack.store.audit.entries(limit=100) if e.action == "automation.prune"
    ]
    assert {e.group_id for e in audits} == {old[0].id, old[1].id}
    assert all(e.api_result["outcome"] == "delete requested" for e in audits)


async def test_prune_filters_and_refusals(stack: Stack) -> None:
    # GIVEN an empty group created long ago and a populated one
    empty = stack.world.groups.add("Event 2025", created_at=stack.clock.now() - 400 * DAY)
    full = stack.world.groups.add("Event 2026")
    full.members[BR] = stack.clock.now()
    await stack.service.reading.sync_groups()
    # WHEN filtering by emptiness, creation date and subject
    report = await prune(
        stack.service, make_filter(empty=True, created_before=date(2026, 1, 1), subject=r"^event")
    )
    # THEN only the empty old one matches
    assert [c.group_id for c in report.candidates] == [empty.id]
    # AND pruning without any criterion is refused
    with pytest.raises(PruneError, match="at least one criterion"):
        await prune(stack.service, GroupFilter())


async def test_announcement_to_200_groups_paced_interrupted_and_resumed(
    make_stack: StackFactory,
) -> None:
    # GIVEN 200 groups with members and a number allowing RATE messages per second
    stack = await make_stack(knobs=default_knobs(messages_per_second=RATE, message_burst=1))
    await stack.make_groups(200, prefix="Class", members=2, people=[DE, BR])
    flt = GroupFilter(subject="^Class")
    vclock = stack.virtual()
    pacer = stack.pacer(RATE, vclock)
    sends: list[tuple[float, str]] = []
    messages = stack.client.messages
    original = type(messages).send_template.__get__(messages)
    crash_at = [80]

    async def send_template(to: str, *args: object, **kwargs: object) -> object:
        sends.append((stack.clock.now(), to))
        response = await original(to, *args, **kwargs)  # type: ignore[arg-type]
        if len(sends) == crash_at[0]:
            raise Crash("killed after the 80th send reached Meta")
        return response

    messages.send_template = send_template  # type: ignore[method-assign,assignment]

    # WHEN the announcement is planned THEN the preview totals the cost per market and rule
    plan = await plan_announcement(stack.service, "weekly_offers", "en_US", ["20%"], flt)
    assert len(plan.sendable) == 200 and not plan.resumed
    markets = {b.market for b in plan.buckets}
    assert len(markets) == 2
    assert sum(b.recipients for b in plan.buckets) == 400
    assert plan.total == sum((b.amount for b in plan.buckets), start=plan.total * 0)
    assert plan.total > 0 and plan.unknown_recipients == 0

    # WHEN the run dies right after the 80th send reached Meta
    with pytest.raises(Crash):
        await run_announcement(stack.service, plan, pacer=pacer, sleep=stack.sleep_settle)

    # AND the same announcement is planned again and run
    crash_at[0] = -1
    again = await plan_announcement(stack.service, "weekly_offers", "en_US", ["20%"], flt)
    assert again.resumed and again.job_id == plan.job_id and again.already_done == 79
    assert len(again.groups) == 121  # what is left, the interrupted one included
    report = await run_announcement(stack.service, again, pacer=pacer, sleep=stack.sleep_settle)

    # THEN every group got the template exactly once
    per_group = Counter(to for _, to in sends)
    assert len(per_group) == 200 and set(per_group.values()) == {1}
    # AND the send whose answer was lost is reported, not repeated
    assert len(report.sent) == 199 and len(report.unknown) == 1 and not report.failed
    assert report.unknown[0]["group_id"] == sends[79][1]
    # AND no simulated second carried more sends than the configured rate
    per_second = Counter(int(at) for at, _ in sends)
    assert max(per_second.values()) <= RATE
    # AND the cost of what was sent is reported and audited
    assert report.cost > 0
    actions = Counter(e.action for e in await stack.store.audit.entries(limit=2000))
    assert actions["send.template"] == 199 and actions["automation.announce"] == 1


async def test_announcement_with_unknown_template_is_refused(stack: Stack) -> None:
    await stack.make_groups(2)
    with pytest.raises(AnnounceError, match="no_such_template"):
        await plan_announcement(stack.service, "no_such_template", None, [], GroupFilter())
