"""Effective-dated charging rules: which deliveries of a group message Meta charges, and why.

The rules are a table of rule sets (:data:`RULE_SETS`), each in force from its
``effective_from`` until the next one; :func:`charging_rule` applies the one in force on
the day of sending to one delivery.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.sending import Refusal

from .disputes import MARKETING_IN_WINDOW, UTILITY_IN_WINDOW_FROM_2026_10, Dispute, DisputedRule

__all__ = [
    "AUTH_REFUSAL",
    "PRICING_TYPE_FREE_GROUP",
    "PRICING_TYPE_REGULAR",
    "RULE_SETS",
    "ChargeRule",
    "PricingRefused",
    "RuleSet",
    "charging_rule",
    "rule_set_on",
    "rule_sets",
]

PRICING_TYPE_REGULAR: Final = "regular"
PRICING_TYPE_FREE_GROUP: Final = "free_group_customer_service"


class PricingRefused(ValueError):
    """The message cannot be priced because it cannot be sent to a group.

    Attributes:
        refusal: The rule that forbids it.
    """

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Charging rules in force from a date until the next rule set.

    Marketing outside the window is charged and authentication refused under every rule
    set, so only what changes (or is disputed) is data here. A rule Meta's pages disagree
    on carries its :class:`~.disputes.Dispute` (every reading with its source and date);
    the rule set's own boolean for it is the reading the product applies by default.

    Attributes:
        effective_from: First day the rules apply.
        utility_in_window_charged: Whether a utility template sent while the group window
            is open is charged.
        service_monthly_allowance: Free service deliveries per business number per
            calendar month; ``None`` means service messages are free without limit.
        source: Where the rules come from.
        marketing_in_window_charged: Whether a marketing template sent while the group
            window is open is charged.
        disputes: The rules of this set that Meta's pages disagree on.
    """

    effective_from: date
    utility_in_window_charged: bool
    service_monthly_allowance: int | None
    source: str
    marketing_in_window_charged: bool = True
    disputes: tuple[Dispute, ...] = ()

    def dispute(self, rule: DisputedRule) -> Dispute | None:
        """The dispute over ``rule`` in this set, if Meta's pages disagree on it."""
        return next((d for d in self.disputes if d.rule is rule), None)

    def configured(self, rule: DisputedRule) -> bool:
        """Whether this set charges ``rule`` (the reading applied without evidence)."""
        if rule is DisputedRule.MARKETING_IN_WINDOW:
            return self.marketing_in_window_charged
        return self.utility_in_window_charged


RULE_SETS: Final[tuple[RuleSet, ...]] = (
    RuleSet(
        effective_from=date(2025, 7, 1),
        utility_in_window_charged=False,
        service_monthly_allowance=None,
        source="Groups API pricing, per-message pricing (cloud-api-groups.md 6.1)",
        disputes=(MARKETING_IN_WINDOW,),
    ),
    RuleSet(
        effective_from=date(2026, 10, 1),
        utility_in_window_charged=True,
        service_monthly_allowance=1_000,
        source="Meta pricing update of 2026-10-01 (pricing.md 3-4, cloud-api-groups.md 6.2)",
        disputes=(MARKETING_IN_WINDOW, UTILITY_IN_WINDOW_FROM_2026_10),
    ),
)
"""Rule sets, oldest first. Dates before the first are priced by the first."""


def rule_sets(
    *,
    in_window_utility_charged: bool = True,
    in_window_marketing_charged: bool = True,
    base: Sequence[RuleSet] = RULE_SETS,
) -> tuple[RuleSet, ...]:
    """The rule table with the disputed in-window rules decided by a setting.

    Meta's own pages conflict on in-window utility from 2026-10-01 and on in-window
    marketing (:mod:`.disputes`); this builds the table for a setting that sides with
    the other reading. The disputes stay attached, so a preview still shows both.

    Args:
        in_window_utility_charged: ``False`` to keep utility free inside the window in
            every rule set.
        in_window_marketing_charged: ``False`` to make marketing free inside the window
            in every rule set.
        base: The table to start from.

    Returns:
        A rule table for :func:`charging_rule` and :func:`preview_cost`.
    """
    if in_window_utility_charged and in_window_marketing_charged:
        return tuple(base)
    out: list[RuleSet] = []
    for r in base:
        if not in_window_utility_charged:
            r = dataclasses.replace(r, utility_in_window_charged=False)
        if not in_window_marketing_charged:
            r = dataclasses.replace(r, marketing_in_window_charged=False)
        out.append(r)
    return tuple(out)


def rule_set_on(on: date, rules: Sequence[RuleSet] = RULE_SETS) -> RuleSet:
    """The rule set in force on a date.

    Args:
        on: The day of sending, in the business account's time zone (rates switch at
            00:00 there).
        rules: Rule table, oldest first.

    Returns:
        The latest rule set whose ``effective_from`` is not after ``on``, or the first one.
    """
    current = rules[0]
    for rule in rules:
        if rule.effective_from <= on:
            current = rule
    return current


def _free_until(on: date, rules: Sequence[RuleSet]) -> str:
    later = [r.effective_from for r in rules if r.effective_from > on]
    if not later:
        return "free"
    return f"free until {(min(later) - timedelta(days=1)).isoformat()}"


AUTH_REFUSAL: Final = Refusal(
    "authentication_template",
    "Authentication templates cannot be sent to WhatsApp groups",
    131051,
)
"""Why an authentication template cannot be priced: groups do not accept it."""


@dataclass(frozen=True, slots=True)
class ChargeRule:
    """Whether one delivery is charged, and why.

    Attributes:
        charged: True if Meta charges for the delivery.
        rate_category: The rate column that applies when charged; ``None`` when free.
        label: The rule in words, e.g. ``"marketing: always charged"``.
        pricing_type: What Meta's status webhook says: ``"regular"`` or
            ``"free_group_customer_service"``.
        uses_allowance: True if the delivery consumes the monthly service allowance.
        disputed: The disputed rule that decided the delivery, if any (Meta's pages
            disagree on it; the rule set carries its readings).
    """

    charged: bool
    rate_category: TemplateCategory | None
    label: str
    pricing_type: str
    uses_allowance: bool = False
    disputed: DisputedRule | None = None


_NOTHING_DECIDED: Final[Mapping[DisputedRule, bool]] = MappingProxyType({})


def charging_rule(
    category: TemplateCategory | None,
    on: date,
    *,
    window_open: bool,
    service_free_left: int,
    rules: Sequence[RuleSet] = RULE_SETS,
    decided: Mapping[DisputedRule, bool] = _NOTHING_DECIDED,
) -> ChargeRule:
    """The rule for one delivery.

    Args:
        category: Template category, or ``None`` for a service (free-form) message.
        on: The day of sending.
        window_open: Whether the group's 24-hour window is open.
        service_free_left: Free service deliveries left this month, counted before this
            one (ignored while no allowance applies).
        rules: Rule table, oldest first.
        decided: Disputed rules settled otherwise than by the rule set (by what Meta
            actually charged, :mod:`.calibration`): ``True`` charged, ``False`` free.
            Only rules the set in force disputes are overridden.

    Returns:
        The charge rule.

    Raises:
        PricingRefused: For authentication templates, which groups do not accept.
    """
    rule_set = rule_set_on(on, rules)
    if category is TemplateCategory.AUTHENTICATION:
        raise PricingRefused(AUTH_REFUSAL)

    def charges(rule: DisputedRule) -> tuple[bool, DisputedRule | None]:
        if rule_set.dispute(rule) is None:
            return rule_set.configured(rule), None
        return decided.get(rule, rule_set.configured(rule)), rule

    if category is TemplateCategory.MARKETING:
        if not window_open:
            return ChargeRule(True, category, "marketing: always charged", PRICING_TYPE_REGULAR)
        charged, disputed = charges(DisputedRule.MARKETING_IN_WINDOW)
        if charged:
            label = "marketing inside window: charged"
            return ChargeRule(True, category, label, PRICING_TYPE_REGULAR, disputed=disputed)
        label = "marketing inside window: free"
        return ChargeRule(False, None, label, PRICING_TYPE_FREE_GROUP, disputed=disputed)
    if category is TemplateCategory.UTILITY:
        if not window_open:
            return ChargeRule(
                True, category, "utility outside window: charged", PRICING_TYPE_REGULAR
            )
        charged, disputed = charges(DisputedRule.UTILITY_IN_WINDOW)
        if charged:
            label = f"utility inside window: charged from {rule_set.effective_from.isoformat()}"
            return ChargeRule(True, category, label, PRICING_TYPE_REGULAR, disputed=disputed)
        label = f"utility inside window: {_free_until(on, rules)}"
        return ChargeRule(False, None, label, PRICING_TYPE_FREE_GROUP, disputed=disputed)
    allowance = rule_set.service_monthly_allowance
    if allowance is None:
        return ChargeRule(
            False, None, f"service: {_free_until(on, rules)}", PRICING_TYPE_FREE_GROUP
        )
    if service_free_left > 0:
        label = f"service: free allowance ({service_free_left:,} of {allowance:,} left this month)"
        return ChargeRule(False, None, label, PRICING_TYPE_FREE_GROUP, uses_allowance=True)
    return ChargeRule(
        True,
        TemplateCategory.UTILITY,
        "service beyond the monthly allowance: utility rate",
        PRICING_TYPE_REGULAR,
    )
