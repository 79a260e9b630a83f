"""What Meta actually charged, as evidence that settles a disputed charging rule.

Every delivered group message's status webhook says how Meta priced it
(``pricing.category``, ``pricing.type``, ``billable``); the cost ledger keeps one line per
(message, member), and the store tells whether the group's window was open when the
message was sent (:meth:`groups_tui.store.ledger.Ledger.pricing_evidence`). For each rule
the rule set in force disputes (:mod:`.disputes`), :func:`calibrate` counts the deliveries
of the last ``evidence_days`` days that fall under it (same category, window open, sent
under the same rule set) and how Meta priced them:

* at least ``evidence_min`` deliveries priced one way, and more than the other way: the
  preview applies what Meta did (origin ``evidence``) and says so ("as charged on
  2026-12-03: free in window");
* otherwise the configured reading applies (origin ``configuration``) and the preview
  shows the range of every reading.

Evidence that settles a rule against the configured reading *contradicts* the
configuration: the header and ``groups-tui cost --explain`` show it.

Deliveries sent under another rule set never count: evidence from September 2026 says
nothing about the rules of October 2026.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Final

from .disputes import DisputedRule
from .ledger import charged_per_webhook, webhook_template_category
from .rules import RULE_SETS, RuleSet, rule_set_on, rule_sets

__all__ = [
    "CALIBRATION_MAX_AGE",
    "Calibration",
    "DeliveryTally",
    "Evidence",
    "Origin",
    "PricingConfig",
    "calibrate",
    "evidence_period",
]

DEFAULT_EVIDENCE_MIN: Final = 3
DEFAULT_EVIDENCE_DAYS: Final = 30
CALIBRATION_MAX_AGE: Final = 60.0
"""Seconds a calibration may be reused (a preview per highlighted template, an announcement
to many groups and the header all weigh the same 30 days of ledger lines); evidence that is
a minute old settles a rule as well as fresh evidence does."""
_CHOICES: Final = {"charged": True, "free": False}


class Origin(StrEnum):
    """Where the rule a preview applied comes from."""

    CONFIGURATION = "configuration"
    """The rule table (and the ``[pricing]`` settings)."""
    EVIDENCE = "evidence"
    """What Meta charged for recent deliveries of the same kind."""


@dataclass(frozen=True, slots=True)
class PricingConfig:
    """The ``[pricing]`` settings: the reading applied to each disputed rule, and when
    evidence from the cost ledger wins over it.

    Attributes:
        evidence_min: Deliveries priced the same way that settle a disputed rule.
        evidence_days: How many days back deliveries count (today included).
        marketing_in_window_charged: The configured reading of marketing inside the
            group window (charged, as the product always priced it).
        utility_in_window_charged: The configured reading of utility inside the window
            from 2026-10-01 (charged).
    """

    evidence_min: int = DEFAULT_EVIDENCE_MIN
    evidence_days: int = DEFAULT_EVIDENCE_DAYS
    marketing_in_window_charged: bool = True
    utility_in_window_charged: bool = True

    def __post_init__(self) -> None:
        if self.evidence_min < 1:
            raise ValueError(f"evidence_min must be at least 1, got {self.evidence_min}")
        if self.evidence_days < 1:
            raise ValueError(f"evidence_days must be at least 1, got {self.evidence_days}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], *, prefix: str = "pricing") -> PricingConfig:
        """Build the settings from the ``[pricing]`` table of the config file.

        The expected shape (every key optional; defaults as on the class)::

            [pricing]
            evidence_min = 3
            evidence_days = 30
            marketing_in_window = "charged"   # or "free"
            utility_in_window = "charged"     # or "free" (from 2026-10-01)

        Raises:
            ValueError: A key is unknown or a value has the wrong type or range; the
                message names the key, e.g. ``"pricing.evidence_min must be ..."``.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{prefix} must be a table, got {type(data).__name__}")
        known = ("evidence_min", "evidence_days", "marketing_in_window", "utility_in_window")
        for key in data:
            if key not in known:
                raise ValueError(
                    f"{prefix}.{key} is not a known setting (expected one of: {', '.join(known)})"
                )
        kwargs: dict[str, int | bool] = {}
        for key in ("evidence_min", "evidence_days"):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{prefix}.{key} must be a whole number, got {value!r}")
                if value < 1:
                    raise ValueError(f"{prefix}.{key} must be at least 1, got {value}")
                kwargs[key] = value
        for key in ("marketing_in_window", "utility_in_window"):
            if key in data:
                value = data[key]
                if not isinstance(value, str) or value not in _CHOICES:
                    raise ValueError(f'{prefix}.{key} must be "charged" or "free", got {value!r}')
                kwargs[f"{key}_charged"] = _CHOICES[value]
        return cls(**kwargs)  # type: ignore[arg-type]

    def rule_sets(self, base: Sequence[RuleSet] = RULE_SETS) -> tuple[RuleSet, ...]:
        """``base`` with the configured reading of each disputed rule."""
        return rule_sets(
            in_window_utility_charged=self.utility_in_window_charged,
            in_window_marketing_charged=self.marketing_in_window_charged,
            base=base,
        )


@dataclass(frozen=True, slots=True)
class DeliveryTally:
    """Delivered group messages of one kind, as the cost ledger recorded them.

    Attributes:
        category: ``pricing.category`` as Meta sent it (``group_marketing``...).
        pricing_type: ``pricing.type`` (``regular``, ``free_group_customer_service``...).
        billable: ``pricing.billable``, if present.
        window_open: Whether the group's window was open when the message was sent.
        sent_on: The day the message was sent (UTC).
        count: How many deliveries (one per member) share all of the above.
    """

    category: str | None
    pricing_type: str | None
    billable: bool | None
    window_open: bool
    sent_on: date
    count: int


@dataclass(frozen=True, slots=True)
class Evidence:
    """What Meta charged recently for deliveries under one disputed rule.

    Attributes:
        rule: The disputed rule.
        rule_set_from: The rule set the deliveries were sent under (the one in force on
            the day of the calibration).
        since: The first day counted.
        configured_charged: The reading the configuration applies.
        evidence_min: Deliveries priced the same way that settle the rule.
        free: Deliveries Meta did not charge.
        charged: Deliveries Meta charged.
        last_free_on: The latest day a free one was sent.
        last_charged_on: The latest day a charged one was sent.
    """

    rule: DisputedRule
    rule_set_from: date
    since: date
    configured_charged: bool
    evidence_min: int
    free: int = 0
    charged: int = 0
    last_free_on: date | None = None
    last_charged_on: date | None = None

    @property
    def observed_charged(self) -> bool | None:
        """What the evidence settles: ``True`` charged, ``False`` free, ``None`` when
        there are too few deliveries or as many priced each way."""
        if self.charged >= self.evidence_min and self.charged > self.free:
            return True
        if self.free >= self.evidence_min and self.free > self.charged:
            return False
        return None

    @property
    def observed_on(self) -> date | None:
        """The latest day Meta priced a delivery as the evidence settles."""
        observed = self.observed_charged
        if observed is None:
            return None
        return self.last_charged_on if observed else self.last_free_on

    @property
    def origin(self) -> Origin:
        """``evidence`` when the evidence settles the rule, else ``configuration``."""
        return Origin.CONFIGURATION if self.observed_charged is None else Origin.EVIDENCE

    @property
    def applied_charged(self) -> bool:
        """The reading a preview applies: the evidence's, else the configuration's."""
        observed = self.observed_charged
        return self.configured_charged if observed is None else observed

    @property
    def contradicts(self) -> bool:
        """True when the evidence settles the rule against the configured reading."""
        observed = self.observed_charged
        return observed is not None and observed is not self.configured_charged

    def as_charged(self) -> str | None:
        """``"as charged on 2026-12-03: free in window"``, when the evidence settles it."""
        on = self.observed_on
        if on is None:
            return None
        outcome = "charged" if self.observed_charged else "free"
        return f"as charged on {on.isoformat()}: {outcome} in window"

    def tally(self) -> str:
        """``"3 free, 0 charged since 2026-11-04 (3 needed)"``."""
        return (
            f"{self.free} free, {self.charged} charged since {self.since.isoformat()} "
            f"({self.evidence_min} needed)"
        )

    def describe(self) -> str:
        """The evidence in one sentence, for ``cost --explain`` and the header."""
        configured = "charged" if self.configured_charged else "free"
        head = f"{self.rule.question}: Meta priced {self.tally()}"
        settled = self.as_charged()
        if settled is None:
            return f"{head}; configured as {configured}"
        if self.contradicts:
            return f"{head}; {settled}, contradicting the configuration ({configured})"
        return f"{head}; {settled}, as configured"


@dataclass(frozen=True, slots=True)
class Calibration:
    """The evidence on every disputed rule of the rule set in force on a day.

    Attributes:
        on: The day calibrated for.
        rule_set_from: The rule set in force that day.
        evidence: One entry per rule the set disputes.
    """

    on: date
    rule_set_from: date
    evidence: tuple[Evidence, ...] = field(default=())

    def for_rule(self, rule: DisputedRule) -> Evidence | None:
        """The evidence on one rule, if the rule set disputes it."""
        return next((e for e in self.evidence if e.rule is rule), None)

    def decided(self) -> dict[DisputedRule, bool]:
        """The rules the evidence settles, with what it settles (``True`` charged)."""
        out: dict[DisputedRule, bool] = {}
        for e in self.evidence:
            observed = e.observed_charged
            if observed is not None:
                out[e.rule] = observed
        return out

    @property
    def contradictions(self) -> tuple[Evidence, ...]:
        """Evidence that settles a rule against the configured reading."""
        return tuple(e for e in self.evidence if e.contradicts)


def evidence_period(on: date, config: PricingConfig) -> tuple[int, int]:
    """The send times whose deliveries :func:`calibrate` weighs for ``on``.

    Returns:
        ``(since, until)`` in epoch seconds: from 00:00 UTC ``evidence_days - 1`` days
        before ``on`` up to (not including) 00:00 UTC the day after.
    """
    first = on - timedelta(days=config.evidence_days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    return int(since.timestamp()), int((since + timedelta(days=config.evidence_days)).timestamp())


def calibrate(
    tallies: Iterable[DeliveryTally],
    on: date,
    *,
    rules: Sequence[RuleSet] = RULE_SETS,
    config: PricingConfig | None = None,
) -> Calibration:
    """Weigh the ledger's evidence on each disputed rule in force on ``on``.

    A delivery counts for a rule when its category is the rule's, the group window was
    open when it was sent, it was sent within ``config.evidence_days`` days up to ``on``
    (``on`` included) and under the same rule set as ``on``, and its ``pricing`` says
    whether it was charged. Deliveries sent after ``on`` are ignored.

    Args:
        tallies: Delivered group messages, grouped (from the cost ledger).
        on: The day to calibrate for (the day of the preview).
        rules: The rule table (with the configured readings).
        config: Thresholds; the defaults when omitted.

    Returns:
        The evidence on every disputed rule of the rule set in force on ``on``.
    """
    config = config or PricingConfig()
    rule_set = rule_set_on(on, rules)
    since = on - timedelta(days=config.evidence_days - 1)
    counts: dict[DisputedRule, Evidence] = {
        d.rule: Evidence(
            rule=d.rule,
            rule_set_from=rule_set.effective_from,
            since=since,
            configured_charged=rule_set.configured(d.rule),
            evidence_min=config.evidence_min,
        )
        for d in rule_set.disputes
    }
    by_category = {rule.category: rule for rule in counts}
    for t in tallies:
        if not t.window_open or t.count <= 0 or not since <= t.sent_on <= on:
            continue
        category = webhook_template_category(t.category)
        rule = by_category.get(category) if category is not None else None
        if rule is None or rule_set_on(t.sent_on, rules) is not rule_set:
            continue
        charged = charged_per_webhook(t.pricing_type, t.billable)
        if charged is None:
            continue
        e = counts[rule]
        if charged:
            last = max(filter(None, (e.last_charged_on, t.sent_on)))
            counts[rule] = replace(e, charged=e.charged + t.count, last_charged_on=last)
        else:
            last = max(filter(None, (e.last_free_on, t.sent_on)))
            counts[rule] = replace(e, free=e.free + t.count, last_free_on=last)
    return Calibration(
        on=on, rule_set_from=rule_set.effective_from, evidence=tuple(counts.values())
    )
