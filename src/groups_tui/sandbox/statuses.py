"""Delivery statuses of the business's messages, with the pricing of each delivery.

A group message gets a group-level ``sent`` and per-participant ``delivered`` and ``read``
(or ``failed``) statuses, sometimes several participants in one change (aggregated) and
sometimes ``read`` with no ``delivered`` before it; a 1:1 template gets ``sent``,
``delivered`` and maybe ``read``. The ``pricing`` objects follow the charging rules of the
simulated send date (:func:`groups_tui.domain.pricing.charging_rule`), counting the free
service deliveries of each month; marketing inside an open group window, which Meta's
pages disagree on, is priced as the ``marketing_in_window`` knob says (a free one carries
``type: free_group_customer_service``, ``billable: false`` and its ``group_marketing``
category, the shape of the reference's free group statuses).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from groups_tui.domain.events import FIELD_MESSAGES
from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import charging_rule, rule_sets

from .emitter import Emitter
from .errors import error_object
from .people import Population
from .scheduling import Timeline
from .state import Json, OutboundMessage, SandboxKnobs

__all__ = ["Statuses"]


class Statuses:
    """Schedules the statuses of every message the business sends.

    Args:
        timeline: Simulated time (statuses are scheduled on it).
        emitter: Where webhooks go.
        knobs: Rates and delays of outcomes.
        population: The simulated people (their country, user ids).
        rng: The world's random source.
    """

    def __init__(
        self,
        *,
        timeline: Timeline,
        emitter: Emitter,
        knobs: SandboxKnobs,
        population: Population,
        rng: random.Random,
    ) -> None:
        self._timeline = timeline
        self._emitter = emitter
        self._knobs = knobs
        self._population = population
        self._rng = rng
        self.service_used: dict[tuple[int, int], int] = {}
        """Service deliveries charged against the free allowance, by (year, month)."""
        # The reference's rules, with marketing inside the window priced as the knob says.
        self._rules = rule_sets(in_window_marketing_charged=knobs.marketing_in_window == "charged")

    def schedule_group(self, msg: OutboundMessage) -> None:
        """Schedule the statuses of a group message."""
        k = self._knobs
        rng = self._rng
        at = self._timeline.at
        t0 = msg.sent_at
        sent_at = t0 + rng.uniform(0.2, 1.5)
        at(
            sent_at,
            lambda t: self._emitter.emit(
                FIELD_MESSAGES, {"statuses": [self._status(msg, "sent", t, None)]}
            ),
        )
        delivered: list[tuple[float, str]] = []
        read: list[tuple[float, str, bool]] = []  # (time, wa_id, carries pricing)
        failed: list[tuple[float, str, int]] = []
        for wa_id in msg.recipients:
            person = self._population.get(wa_id)
            if (
                k.us_marketing_paused
                and msg.category is TemplateCategory.MARKETING
                and person is not None
                and person.country == "US"
            ):
                failed.append((sent_at + rng.uniform(0.5, 5), wa_id, 131049))
                continue
            if rng.random() < k.failure_rate:
                failed.append((sent_at + rng.uniform(0.5, 30), wa_id, 131026))
                continue
            d_at = sent_at + rng.uniform(*k.delivery_delay)
            reads = rng.random() < k.read_rate
            skip_delivered = reads and rng.random() < k.read_without_delivered_rate
            r_at = d_at + rng.uniform(*k.read_delay)
            if not skip_delivered:
                delivered.append((d_at, wa_id))
            if reads:
                read.append((r_at, wa_id, skip_delivered))
        aggregate = rng.random() < k.aggregate_rate
        for when, wa_id, code in failed:
            at(when, self._failed_action(msg, wa_id, code))
        if aggregate and delivered:
            when = max(t for t, _ in delivered)
            at(when, self._delivery_action(msg, "delivered", [w for _, w in delivered], True))
        else:
            for when, wa_id in delivered:
                at(when, self._delivery_action(msg, "delivered", [wa_id], True))
        for when, wa_id, priced in read:
            at(when, self._delivery_action(msg, "read", [wa_id], priced))

    def schedule_individual(self, msg: OutboundMessage) -> None:
        """Schedule the statuses of a 1:1 message."""
        rng = self._rng
        t1 = msg.sent_at + rng.uniform(0.2, 1.5)
        t2 = t1 + rng.uniform(*self._knobs.delivery_delay)
        t3 = t2 + rng.uniform(*self._knobs.read_delay)

        def status(name: str, priced: bool) -> Callable[[float], None]:
            def run(t: float) -> None:
                item = self._status(msg, name, t, None)
                if priced and (pricing := self._pricing(msg)) is not None:
                    item["pricing"] = pricing
                self._emitter.emit(FIELD_MESSAGES, {"statuses": [item]})

            return run

        self._timeline.at(t1, status("sent", False))
        self._timeline.at(t2, status("delivered", True))
        if rng.random() < self._knobs.read_rate:
            self._timeline.at(t3, status("read", False))

    def _status(self, msg: OutboundMessage, status: str, t: float, who: str | None) -> Json:
        item: Json = {"id": msg.id, "status": status, "timestamp": self._emitter.ts(t)}
        if msg.group_id is not None:
            item["recipient_id"] = msg.group_id
            item["recipient_type"] = "group"
            if who is not None:
                if not self._emitter.phone_hidden(who):
                    item[self._emitter.participant_field()] = who
                if self._knobs.bsuid and (p := self._population.get(who)) is not None:
                    item["recipient_participant_user_id"] = p.user_id
        else:
            item["recipient_id"] = msg.to
        return item

    def _pricing(self, msg: OutboundMessage) -> Json | None:
        """The pricing object of one delivery, per the rules of the send date."""
        if msg.type == "pin":
            return None
        on = datetime.fromtimestamp(msg.sent_at, UTC).date()
        month = (on.year, on.month)
        used = self.service_used.get(month, 0)
        rule = charging_rule(
            msg.category,
            on,
            window_open=msg.window_open,
            service_free_left=max(0, self._knobs.service_allowance - used),
            rules=self._rules,
        )
        if rule.uses_allowance:
            self.service_used[month] = used + 1
        name = msg.category.value if msg.category is not None else "service"
        category = f"group_{name}" if msg.group_id is not None else name
        pricing_type = rule.pricing_type
        if msg.group_id is None and pricing_type != "regular":
            pricing_type = "free_customer_service"
        return {
            "billable": rule.charged,
            "pricing_model": "PMP",
            "type": pricing_type,
            "category": category,
        }

    def _delivery_action(
        self, msg: OutboundMessage, status: str, who: Sequence[str], priced: bool
    ) -> Callable[[float], None]:
        def run(t: float) -> None:
            items = []
            for wa_id in who:
                item = self._status(msg, status, t, wa_id)
                if priced and (pricing := self._pricing(msg)) is not None:
                    item["pricing"] = pricing
                items.append(item)
            self._emitter.emit(FIELD_MESSAGES, {"statuses": items})

        return run

    def _failed_action(
        self, msg: OutboundMessage, wa_id: str, code: int
    ) -> Callable[[float], None]:
        def run(t: float) -> None:
            item = self._status(msg, "failed", t, wa_id)
            err = error_object(code)
            err["href"] = "/documentation/business-messaging/whatsapp/support/error-codes"
            item["errors"] = [err]
            self._emitter.emit(FIELD_MESSAGES, {"statuses": [item]})

        return run
