"""Invite flows: answer a 1:1 message with the invite-link template of a group.

1:1 messages never reach the inbox's state (the store applies group events only), so the
runner reads them from the durable raw log. For every rule that matches (a keyword in
the text, or a sender on the rule's list), the invite is recorded in
``invite_flow_sends`` *before* the API call; a rule never sends the same person the same
invite again while an earlier send of it (sent, in flight or of unknown outcome) is
younger than the rule's repeat period.

A rule with ``new_group_subject`` creates a group for the person first; the invite waits
(state ``waiting``) until the creation webhook gives the group its id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from groups_tui.automations.config import InviteRule
from groups_tui.automations.pacing import Pacer
from groups_tui.domain.events import InboundMessage
from groups_tui.domain.models import GroupState, Template
from groups_tui.service import PENDING_PREFIX, InboxService, ServiceError

__all__ = ["InviteFlows", "Trigger", "matches"]


@dataclass(frozen=True, slots=True)
class Trigger:
    """An inbound 1:1 message, as the rules see it (to the number it names: a group
    it creates is that number's)."""

    wamid: str
    wa_id: str
    name: str | None
    text: str
    at: int
    phone_number_id: str | None = None

    @classmethod
    def from_event(cls, event: InboundMessage) -> Trigger | None:
        """The trigger of a 1:1 message (``None`` for group messages or no ``wa_id``)."""
        if event.group_id is not None or not event.sender.wa_id:
            return None
        return cls(
            wamid=event.wamid,
            wa_id=event.sender.wa_id,
            name=event.sender.profile_name,
            text=event.text or "",
            at=event.at,
            phone_number_id=event.phone_number_id,
        )


def matches(rule: InviteRule, trigger: Trigger) -> str | None:
    """Why ``rule`` fires for ``trigger`` (``None`` when it does not)."""
    if trigger.wa_id in rule.digits:
        return f"sender {trigger.wa_id} is on the rule's list"
    for keyword in rule.keywords:
        if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", trigger.text, re.IGNORECASE):
            return f"message contains {keyword!r}"
    return None


class InviteFlows:
    """Evaluates the invite rules and sends the invites.

    Args:
        service: The service (sends, group creation, the automations' rows, clock).
        rules: The configured rules.
        pacer: Paces the sends (and group creations) to the number's throughput.
    """

    def __init__(
        self, service: InboxService, rules: Sequence[InviteRule], pacer: Pacer | None = None
    ) -> None:
        self.service = service
        self.rules = tuple(rules)
        self.pacer = pacer or Pacer(10.0)

    async def on_message(self, trigger: Trigger, paused: set[str] | frozenset[str]) -> int:
        """Apply every active rule to one 1:1 message; returns invites started."""
        started = 0
        for rule in self.rules:
            if rule.name in paused:
                continue
            why = matches(rule, trigger)
            if why is None:
                continue
            if await self._fire(rule, trigger, why):
                started += 1
        return started

    async def _fire(self, rule: InviteRule, trigger: Trigger, why: str) -> bool:
        automations = self.service.automations
        now = self.service.clock()
        since = now - rule.repeat_after_hours * 3600
        if await automations.invite_flow_recent(rule.name, trigger.wa_id, rule.group_key, since):
            return False
        # Recorded before the call; a new group's invite waits for the group's id.
        send_id = await automations.invite_flow_begin(
            rule.name,
            trigger.wa_id,
            rule.group_key,
            state="waiting" if rule.group_id is None else "calling",
            at=now,
            group_id=rule.group_id,
            trigger_id=trigger.wamid,
            phone_number_id=None if rule.group_id is not None else trigger.phone_number_id,
        )
        if rule.group_id is not None:
            await self._send(rule, send_id, trigger.wa_id, rule.group_id, why)
            return True
        subject = (rule.new_group_subject or "").format_map(
            {"name": trigger.name or trigger.wa_id, "wa_id": trigger.wa_id}
        )[:128]
        await self.pacer.acquire()
        try:
            # The group is the number's the person wrote to.
            op = await self.service.admin.create_group(subject, number=trigger.phone_number_id)
        except ServiceError as exc:
            await automations.invite_flow_update(send_id, "failed", error=exc.message)
            await automations.add_run(
                rule.name,
                "invite_rule",
                False,
                f"could not create a group for {trigger.wa_id}: {exc.message}",
            )
            return True
        await automations.invite_flow_update(send_id, "waiting", request_id=op.request_id)
        await automations.add_run(
            rule.name,
            "invite_rule",
            True,
            f"{why}: creating group {subject!r} for {trigger.wa_id}",
        )
        return True

    async def resolve_waiting(self, paused: set[str] | frozenset[str] = frozenset()) -> int:
        """Send the invites whose new group now exists; returns how many were sent."""
        automations, reading = self.service.automations, self.service.reading
        rules = {r.name: r for r in self.rules}
        sent = 0
        for row in await automations.invite_flow_sends(state="waiting"):
            rule = rules.get(row.rule)
            if rule is None or rule.name in paused or not row.request_id:
                continue
            group = await reading.group(PENDING_PREFIX + row.request_id)
            if group is None:
                continue
            if group.state is GroupState.FAILED:
                op = await reading.operation(row.request_id)
                reason = (op.error if op else None) or "Meta refused to create the group"
                await automations.invite_flow_update(row.id, "failed", error=reason)
                await automations.add_run(rule.name, "invite_rule", False, reason)
                continue
            if not group.id:
                continue
            await automations.invite_flow_update(row.id, "calling", group_id=group.id)
            await self._send(rule, row.id, row.person, group.id, "new group ready")
            sent += 1
        return sent

    async def _send(
        self, rule: InviteRule, send_id: int, wa_id: str, group_id: str, why: str
    ) -> None:
        automations = self.service.automations
        template: Template | None
        try:
            # The template of the group's own number's business account.
            number = await self.service.reading.number_of(group_id)
            template = await self.service.reading.find_template(
                rule.template, rule.language, refresh=True, number=number or None
            )
        except ServiceError:
            template = None
        if self.service.read_only or template is None:
            reason = (
                "read-only: no Cloud API client"
                if self.service.read_only
                else f"unknown template {rule.template!r} ({rule.language})"
            )
            await automations.invite_flow_update(send_id, "failed", error=reason)
            await automations.add_run(
                rule.name, "invite_rule", False, f"invite to {wa_id} not sent: {reason}"
            )
            return
        cost = self.service.sending.invite_cost(wa_id, template)
        await self.pacer.acquire()
        outcome = await self.service.sending.send_invite(wa_id, template, group_id)
        result: dict[str, object]
        if outcome.state == "accepted":
            state, result, detail = (
                "sent",
                {"wamid": outcome.wamid},
                f"{why}: invite sent to {wa_id}",
            )
        elif outcome.state == "unknown":
            state, result, cost = "unknown", {"outcome": "unknown"}, None
            detail = f"invite to {wa_id}: no answer, it may have been sent"
        else:
            state, result, cost = "failed", {"error": outcome.error}, None
            detail = f"invite to {wa_id} failed: {outcome.error}"
        await automations.invite_flow_update(
            send_id, state, wamid=outcome.wamid, error=outcome.error, cost=cost
        )
        await self._log(rule, group_id, wa_id, result, cost, state == "sent", detail)

    async def _log(
        self,
        rule: InviteRule,
        group_id: str,
        wa_id: str,
        result: dict[str, object],
        cost: Decimal | None,
        ok: bool,
        detail: str,
    ) -> None:
        await self.service.automations.audit(
            "automation.invite_flow",
            group_id=group_id,
            targets=[wa_id],
            result={"rule": rule.name, **result},
            cost=cost,
        )
        await self.service.automations.add_run(rule.name, "invite_rule", ok, detail)
