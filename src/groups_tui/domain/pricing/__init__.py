"""Cost of a group message: the rate card, market lookup and effective-dated charging rules.

Money is :class:`~decimal.Decimal` in USD per delivered message. An unknown rate is
``None`` and stays unknown all the way to the screen; it is never treated as 0.

Charging (reference: pricing.md sections 3-4, cloud-api-groups.md section 6). A group
message is charged once per member it is delivered to, at that member's market rate. What
is charged depends on the date, so the rules are a table of rule sets
(:data:`RULE_SETS`), each in force from its ``effective_from`` until the next one:

* from 2025-07-01: marketing charged; utility charged outside the group window and free
  inside it; service (free-form) messages free;
* from 2026-10-01: marketing charged; utility charged inside the window too; service
  messages free for the first 1,000 deliveries per business number per calendar month,
  then charged at the market's utility rate. A group message delivered to N members uses
  N of the allowance.

Authentication templates cannot be sent to groups at all.

Meta's pages disagree on two of these rules: whether in-window utility became charged on
2026-10-01, and whether marketing sent inside the group window is free. Each rule set
carries such disputes as data (:mod:`.disputes`: every reading with its source and date);
its own value is the configured reading (charged, as the reference prices both), which
:func:`rule_sets` and the ``[pricing]`` settings (:class:`PricingConfig`) can flip. A
preview shows the range of every reading, unless what Meta actually charged recently
settles the rule (:mod:`.calibration`). The status webhook's ``pricing`` object is what
really decides each delivery's cost (:func:`actual_cost`).

Modules:

* :mod:`.rate_rows`: the rate card's rows and the CSV they are read from;
* :mod:`.rate_card`: :class:`RateCard`, the market of a member's number or BSUID;
* :mod:`.disputes`: the disputed rules and their readings, each with its source;
* :mod:`.rules`: the effective-dated rule sets and :func:`charging_rule`;
* :mod:`.calibration`: :func:`calibrate`, the ledger's evidence on the disputed rules,
  and the ``[pricing]`` settings;
* :mod:`.preview`: :func:`preview_cost`, the expected cost member by member;
* :mod:`.explain`: :func:`explain_cost`, a preview member by member with the rule, its
  source and its origin (``groups-tui cost --explain``);
* :mod:`.ledger`: :func:`actual_cost`, what a status webhook says was charged.

The names below are the package's public API; import them from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .calibration import (
        CALIBRATION_MAX_AGE,
        Calibration,
        DeliveryTally,
        Evidence,
        Origin,
        PricingConfig,
        calibrate,
        evidence_period,
    )
    from .disputes import Dispute, DisputedRule, Reading, Source
    from .explain import CostExplanation, MemberCharge, explain_cost
    from .ledger import actual_cost, charged_per_webhook, ledger_functions
    from .preview import CostLine, CostPreview, DisputeNote, MemberRef, PreviewFlag, preview_cost
    from .rate_card import UNPRICED_REGIONS, MarketMatch, RateCard
    from .rate_rows import RateCardError, RateRow
    from .rules import (
        RULE_SETS,
        ChargeRule,
        PricingRefused,
        RuleSet,
        charging_rule,
        rule_set_on,
        rule_sets,
    )

__all__ = [
    "CALIBRATION_MAX_AGE",
    "RULE_SETS",
    "UNPRICED_REGIONS",
    "Calibration",
    "ChargeRule",
    "CostExplanation",
    "CostLine",
    "CostPreview",
    "DeliveryTally",
    "Dispute",
    "DisputeNote",
    "DisputedRule",
    "Evidence",
    "MarketMatch",
    "MemberCharge",
    "MemberRef",
    "Origin",
    "PreviewFlag",
    "PricingConfig",
    "PricingRefused",
    "RateCard",
    "RateCardError",
    "RateRow",
    "Reading",
    "RuleSet",
    "Source",
    "actual_cost",
    "calibrate",
    "charged_per_webhook",
    "charging_rule",
    "evidence_period",
    "explain_cost",
    "ledger_functions",
    "preview_cost",
    "rule_set_on",
    "rule_sets",
]


_HOMES = {
    "CALIBRATION_MAX_AGE": "calibration",
    "Calibration": "calibration",
    "DeliveryTally": "calibration",
    "Evidence": "calibration",
    "Origin": "calibration",
    "PricingConfig": "calibration",
    "calibrate": "calibration",
    "evidence_period": "calibration",
    "Dispute": "disputes",
    "DisputedRule": "disputes",
    "Reading": "disputes",
    "Source": "disputes",
    "CostExplanation": "explain",
    "MemberCharge": "explain",
    "explain_cost": "explain",
    "actual_cost": "ledger",
    "charged_per_webhook": "ledger",
    "ledger_functions": "ledger",
    "CostLine": "preview",
    "CostPreview": "preview",
    "DisputeNote": "preview",
    "MemberRef": "preview",
    "PreviewFlag": "preview",
    "preview_cost": "preview",
    "UNPRICED_REGIONS": "rate_card",
    "MarketMatch": "rate_card",
    "RateCard": "rate_card",
    "RateCardError": "rate_rows",
    "RateRow": "rate_rows",
    "RULE_SETS": "rules",
    "ChargeRule": "rules",
    "PricingRefused": "rules",
    "RuleSet": "rules",
    "charging_rule": "rules",
    "rule_set_on": "rules",
    "rule_sets": "rules",
}
"""The module of each public name: the package imports one on first use of a name of
it (``from groups_tui.domain.pricing import RateCard`` loads the rate card, not the
previews, their explanations and the ledger's evidence)."""


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
