"""Bulk creation from CSV against the sandbox over real HTTP: pacing, resume, bad rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from groups_tui.automations.bulk_create import BulkCreateError, bulk_create

from .conftest import StackFactory
from .support import DE, Crash, Stack, default_knobs

RATE = 2.0


def csv_text(n: int = 50, bad_line: int | None = 12) -> str:
    lines = ["subject,description,join_approval,tag,invite"]
    for i in range(1, n + 1):
        if bad_line is not None and len(lines) + 1 == bad_line:
            lines.append("Broken row,,maybe,,")
        invite = f"+{DE}" if i <= 5 else ""
        approval = "yes" if i % 10 == 0 else "no"
        lines.append(f"Order {1000 + i},Class of {i},{approval},order-{1000 + i},{invite}")
    return "\n".join(lines) + "\n"


def record_creates(stack: Stack, crash_after: int | None = None) -> list[tuple[float, str]]:
    """Record every create call (simulated time, subject); optionally die after one."""
    calls: list[tuple[float, str]] = []
    groups = stack.client.groups
    original = type(groups).create.__get__(groups)  # the unwrapped call

    async def create(
        subject: str, description: str | None = None, join_approval: bool = False
    ) -> str:
        calls.append((stack.clock.now(), subject))
        request_id = await original(subject, description, join_approval)
        if crash_after is not None and len(calls) == crash_after:
            raise Crash("killed right after the create call reached Meta")
        return request_id

    groups.create = create  # type: ignore[method-assign]
    return calls


def active_subjects(stack: Stack) -> Counter[str]:
    return Counter(g.subject for g in stack.world.groups.active())


async def test_fifty_groups_interrupted_and_resumed_are_created_once(
    make_stack: StackFactory,
) -> None:
    # GIVEN a sandbox allowing RATE group operations per simulated second
    stack = await make_stack(knobs=default_knobs(group_ops_per_second=RATE, group_ops_burst=1))
    text = csv_text()
    vclock = stack.virtual()
    groups, messages = stack.pacer(RATE, vclock), stack.pacer(10, vclock)
    first = record_creates(stack, crash_after=21)

    # WHEN the process dies right after the 21st create call reached Meta
    with pytest.raises(Crash):
        await bulk_create(
            stack.service,
            text,
            group_pacer=groups,
            message_pacer=messages,
            sleep=stack.sleep_settle,
        )
    await stack.settle()
    assert len(first) == 21

    # AND the same file is run again
    second = record_creates(stack)
    report = await bulk_create(
        stack.service,
        text,
        group_pacer=groups,
        message_pacer=messages,
        sleep=stack.sleep_settle,
    )

    # THEN it resumed the job: the interrupted row was matched, not created again
    assert report.resumed
    assert len(second) == 29
    subjects = active_subjects(stack)
    assert len(subjects) == 50 and set(subjects.values()) == {1}
    assert len(report.created) == 50
    assert len({c["group_id"] for c in report.created}) == 50
    # AND the malformed row is named, while the rest proceeded
    assert [r["row"] for r in report.invalid] == [12]
    assert "row 12" in str(report.invalid[0]["reason"])
    assert "maybe" in str(report.invalid[0]["reason"])
    # AND the invites went out once each, with their cost
    assert report.invites_sent == 5 and not report.invites_failed
    assert report.invite_cost > 0
    # AND no simulated second saw more create calls than the configured rate
    per_second = Counter(int(at) for at, _ in first + second)
    assert max(per_second.values()) <= RATE
    # AND tags were recorded and every step audited
    tagged = report.created[0]
    assert (await stack.store.groups.annotations(str(tagged["group_id"]))).tag == tagged["tag"]
    actions = Counter(e.action for e in await stack.store.audit.entries(limit=1000))
    # (the call the crash cut short was never audited as a create; its reconciliation is)
    assert actions["group.create"] == 49
    assert actions["automation.bulk_create.reconciled"] == 1
    assert actions["automation.invite"] == 5
    assert actions["automation.bulk_create"] == 1


async def test_a_finished_file_is_not_created_twice(stack: Stack) -> None:
    # GIVEN a small file already processed
    text = csv_text(3, bad_line=None)
    report = await bulk_create(stack.service, text, sleep=stack.sleep_settle)
    assert len(report.created) == 3
    # WHEN it is run again THEN it is refused with the job named
    with pytest.raises(BulkCreateError, match="--again"):
        await bulk_create(stack.service, text, sleep=stack.sleep_settle)
    assert len(stack.world.groups.active()) == 3


async def test_unknown_template_fails_the_invites_but_not_the_groups(stack: Stack) -> None:
    # GIVEN a file with invites and a template name that does not exist
    text = csv_text(2, bad_line=None)
    # WHEN it runs
    report = await bulk_create(
        stack.service, text, template="no_such_template", sleep=stack.sleep_settle
    )
    # THEN the groups exist and each invite failure names the template
    assert len(report.created) == 2
    assert len(report.invites_failed) == 2
    assert all("no_such_template" in str(f["reason"]) for f in report.invites_failed)


async def test_meta_refusal_is_reported_with_its_reason(make_stack: StackFactory) -> None:
    # GIVEN a number that may hold only two groups
    stack = await make_stack(knobs=default_knobs(max_groups=2))
    # WHEN a file of three rows is created
    report = await bulk_create(stack.service, csv_text(3, bad_line=None), sleep=stack.sleep_settle)
    # THEN two are created and the third failed with Meta's reason
    assert len(report.created) == 2
    assert len(report.failed) == 1
    failure: dict[str, Any] = report.failed[0]
    assert "row 4" in str(failure["reason"]) and "131211" in str(failure["reason"])
