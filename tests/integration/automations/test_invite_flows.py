"""Invite flows against the sandbox: a keyword in a 1:1 message yields exactly one invite.

The sandbox has no way for a simulated person to write a 1:1 message (``persons.message``
is for group members), so the tests emit that webhook through the sandbox's own signed
webhook sender with :meth:`Emitter.emit`.
"""

from __future__ import annotations

from collections import Counter

from groups_tui.automations.config import AutomationsConfig, InviteRule
from groups_tui.workers.runner import AutomationRunner

from .support import BR, DE, IN, Stack

TEMPLATE = "group_invite_upon_request"


def one_to_one(stack: Stack, wa_id: str, text: str, name: str = "Ana") -> str:
    """A person writes to the business number (a signed 1:1 ``messages`` webhook)."""
    world = stack.world
    wamid = world.ids.wamid(wa_id)
    world.emitter.emit(
        "messages",
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(int(world.now())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        },
    )
    return wamid


def invites_to(stack: Stack, wa_id: str) -> list[str | None]:
    """Group ids of the invite-link templates the sandbox accepted for ``wa_id``."""
    return [
        m.template
        for m in stack.world.log.sent.values()
        if m.group_id is None and m.to == wa_id and m.template == TEMPLATE
    ]


async def test_keyword_message_produces_exactly_one_invite(stack: Stack) -> None:
    # GIVEN a group and a rule answering "join" with its invite
    group = stack.world.groups.add("Yoga Tuesday")
    await stack.service.reading.sync_groups()
    config = AutomationsConfig(
        invite_rules=(
            InviteRule(name="yoga", keywords=("join",), group_id=group.id, repeat_after_hours=24),
        )
    )
    runner = AutomationRunner(stack.service, config)
    await runner.step()
    try:
        # WHEN the same person asks twice (and the webhook is delivered again), and
        # someone else writes without the keyword
        one_to_one(stack, DE, "Hi! Can I JOIN the yoga group?")
        await stack.settle()
        await runner.step()
        one_to_one(stack, DE, "join please, did you get my message?")
        one_to_one(stack, BR, "What time is the class?")
        await stack.settle(60)
        await runner.step()
        await runner.step()

        # THEN exactly one invite went out, to the asker, for that group
        assert len(invites_to(stack, DE)) == 1
        assert invites_to(stack, BR) == []
        sends = await stack.store.automations.invite_flow_sends()
        assert [(s.rule, s.person, s.group_id, s.state) for s in sends] == [
            ("yoga", DE, group.id, "sent")
        ]
        # AND it is audited with its cost
        audits = [
            e
            for e in await stack.store.audit.entries(limit=100)
            if e.action == "automation.invite_flow"
        ]
        assert len(audits) == 1 and audits[0].cost is not None and audits[0].cost > 0
        assert audits[0].group_id == group.id and audits[0].targets == [DE]
        status = await runner.status()
        assert status.rules[0].sent == 1

        # WHEN the period has passed THEN asking again yields a second invite
        stack.world.advance(25 * 3600)
        one_to_one(stack, DE, "join")
        await stack.settle()
        await runner.step()
        assert len(invites_to(stack, DE)) == 2
    finally:
        await runner.stop()


async def test_number_list_rule_creates_a_group_then_invites(stack: Stack) -> None:
    # GIVEN a rule that creates a group for every message from a listed number
    config = AutomationsConfig(
        invite_rules=(InviteRule(name="vip", numbers=(f"+{IN}",), new_group_subject="VIP {name}"),)
    )
    runner = AutomationRunner(stack.service, config)
    await runner.step()
    try:
        # WHEN that number writes anything, and an unlisted one writes too
        one_to_one(stack, IN, "hello", name="Ravi")
        one_to_one(stack, BR, "hello")
        await stack.settle()
        await runner.step()  # creates the group
        await stack.settle()  # its creation webhook arrives
        await runner.step()  # sends the invite

        # THEN one group named for the person exists and the invite points at it
        subjects = Counter(g.subject for g in stack.world.groups.active())
        assert subjects == Counter({"VIP Ravi": 1})
        sends = await stack.store.automations.invite_flow_sends()
        assert len(sends) == 1 and sends[0].state == "sent" and sends[0].group_id
        assert len(invites_to(stack, IN)) == 1 and invites_to(stack, BR) == []
    finally:
        await runner.stop()


async def test_paused_rule_and_unknown_template(stack: Stack) -> None:
    # GIVEN a rule with a template that does not exist, and a paused rule
    group = stack.world.groups.add("Chess club")
    await stack.service.reading.sync_groups()
    config = AutomationsConfig(
        invite_rules=(
            InviteRule(
                name="broken", keywords=("chess",), group_id=group.id, template="no_such_template"
            ),
            InviteRule(name="quiet", keywords=("chess",), group_id=group.id),
        )
    )
    runner = AutomationRunner(stack.service, config)
    await runner.step()
    await runner.pause("quiet")
    try:
        # WHEN someone asks
        one_to_one(stack, DE, "chess?")
        await stack.settle()
        await runner.step()
        # THEN nothing is sent; the failure names the template and is listed
        assert invites_to(stack, DE) == []
        status = await runner.status()
        broken = next(r for r in status.rules if r.name == "broken")
        assert broken.last_error is not None and "no_such_template" in broken.last_error
        assert next(r for r in status.rules if r.name == "quiet").paused
        assert any("no_such_template" in f.detail for f in status.failures)
    finally:
        await runner.stop()
