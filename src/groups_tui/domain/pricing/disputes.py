"""Charging rules Meta's own documentation disputes, each reading with its source.

Two questions have conflicting answers in Meta's pages (pricing.md sections 3, 4 and 9;
cloud-api-groups.md 6.2 and 6.3):

* whether a **marketing** template sent while the group's window is open is free: the
  Groups API pricing page of 2025-10-22 (and the seed article) says an open group window
  lets "utility and marketing template messages, or free form messages" go out for free;
  the 1:1 rules, the same page's billing tables and its 2026 revision charge marketing
  always;
* whether a **utility** template sent inside the window is charged from 2026-10-01: the
  dated "rate card updates" section of the pricing page, the non-template pricing page
  and the webhook changelog say charged; the overview bullets at the top of the main
  pricing page still say free.

A :class:`Dispute` lists the readings (the rule, its source, its date). The rule set in
force says which reading the product applies by default (its own boolean for the rule);
the disputed readings are what a cost preview shows as a range, and what evidence from
the cost ledger can settle (:mod:`.calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from groups_tui.domain.models import TemplateCategory

__all__ = [
    "MARKETING_IN_WINDOW",
    "UTILITY_IN_WINDOW_FROM_2026_10",
    "Dispute",
    "DisputedRule",
    "Reading",
    "Source",
]


class DisputedRule(StrEnum):
    """A charging rule whose answer Meta's pages disagree on."""

    MARKETING_IN_WINDOW = "marketing_in_window"
    """A marketing template sent while the group window is open."""
    UTILITY_IN_WINDOW = "utility_in_window"
    """A utility template sent while the group window is open."""

    @property
    def category(self) -> TemplateCategory:
        """The template category the rule prices."""
        if self is DisputedRule.MARKETING_IN_WINDOW:
            return TemplateCategory.MARKETING
        return TemplateCategory.UTILITY

    @property
    def question(self) -> str:
        """The rule in words, e.g. ``"marketing inside the group window"``."""
        return f"{self.category.value} inside the group window"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a reading of a rule comes from.

    Attributes:
        name: The page, e.g. ``"Meta's Groups pricing page"``.
        url: Its address.
        dated: The date of the version cited (its "updated" date).
    """

    name: str
    url: str
    dated: date

    def cite(self) -> str:
        """``"Meta's Groups pricing page (2025-10-22)"``."""
        return f"{self.name} ({self.dated.isoformat()})"


@dataclass(frozen=True, slots=True)
class Reading:
    """One answer to a disputed rule.

    Attributes:
        charged: Whether this reading charges the delivery.
        rule: The answer in words: ``"free"`` or ``"charged"``.
        source: Where it is written.
    """

    charged: bool
    rule: str
    source: Source

    def says(self) -> str:
        """``"free per Meta's Groups pricing page (2025-10-22)"``."""
        return f"{self.rule} per {self.source.cite()}"


@dataclass(frozen=True, slots=True)
class Dispute:
    """A disputed rule and its readings: at least one that charges and one that does not.

    Attributes:
        rule: Which rule.
        readings: The readings, free first.
    """

    rule: DisputedRule
    readings: tuple[Reading, ...]

    def __post_init__(self) -> None:
        outcomes = {r.charged for r in self.readings}
        if outcomes != {True, False}:
            raise ValueError(f"{self.rule.value}: a dispute needs a free and a charged reading")

    def reading(self, charged: bool) -> Reading:
        """The first reading with this outcome."""
        return next(r for r in self.readings if r.charged is charged)

    def summary(self) -> str:
        """The dispute in one sentence, free reading first.

        ``"marketing inside the group window is free per Meta's Groups pricing page
        (2025-10-22), charged per the 1:1 rules and Meta's Groups pricing tables
        (2026-05-21)"``.
        """
        free, charged = self.reading(False), self.reading(True)
        return f"{self.rule.question} is {free.says()}, {charged.says()}"


_GROUPS_PRICING: Final = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/pricing/"
)
_PRICING: Final = (
    "https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing"
)
_NON_TEMPLATE: Final = _PRICING + "/non-template-messages"

MARKETING_IN_WINDOW: Final = Dispute(
    DisputedRule.MARKETING_IN_WINDOW,
    (
        Reading(
            charged=False,
            rule="free",
            source=Source("Meta's Groups pricing page", _GROUPS_PRICING, date(2025, 10, 22)),
        ),
        Reading(
            charged=True,
            rule="charged",
            source=Source(
                "the 1:1 rules and Meta's Groups pricing tables",
                _GROUPS_PRICING,
                date(2026, 5, 21),
            ),
        ),
    ),
)
"""Marketing inside an open group window (pricing.md section 4, cloud-api-groups.md 6.3)."""

UTILITY_IN_WINDOW_FROM_2026_10: Final = Dispute(
    DisputedRule.UTILITY_IN_WINDOW,
    (
        Reading(
            charged=False,
            rule="free",
            source=Source("the overview of Meta's pricing page", _PRICING, date(2026, 9, 10)),
        ),
        Reading(
            charged=True,
            rule="charged",
            source=Source(
                "Meta's rate card updates and non-template pricing page",
                _NON_TEMPLATE,
                date(2026, 9, 10),
            ),
        ),
    ),
)
"""Utility inside an open window from 2026-10-01 (pricing.md sections 3 and 9.1)."""
