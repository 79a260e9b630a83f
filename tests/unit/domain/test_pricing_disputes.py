"""Disputed charging rules: ranges with their sources, and calibration by what Meta charged.

Expected amounts are read from the packaged rate card's rows, never typed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import (
    RULE_SETS,
    Calibration,
    CostPreview,
    DeliveryTally,
    Dispute,
    DisputedRule,
    MemberRef,
    Origin,
    PreviewFlag,
    PricingConfig,
    RateCard,
    Reading,
    RuleSet,
    Source,
    calibrate,
    charging_rule,
    evidence_period,
    explain_cost,
    preview_cost,
    rule_set_on,
    rule_sets,
)

from .test_pricing import number, rate

MARKETING = TemplateCategory.MARKETING
UTILITY = TemplateCategory.UTILITY
LAST_OLD_DAY = date(2026, 9, 30)
CHANGE_DAY = date(2026, 10, 1)
DEC_03 = date(2026, 12, 3)
MKT = DisputedRule.MARKETING_IN_WINDOW
UTL = DisputedRule.UTILITY_IN_WINDOW
FREE = "free_group_customer_service"

CARD = RateCard.load_default()
GROUP = [MemberRef(f"k{r}", number(r), f"{r} member") for r in ("BR", "DE", "IN")]


def marketing_sum() -> Decimal:
    return rate("BR", MARKETING) + rate("DE", MARKETING) + rate("IN", MARKETING)


def utility_sum() -> Decimal:
    return rate("BR", UTILITY) + rate("DE", UTILITY) + rate("IN", UTILITY)


def tally(
    category: str | None,
    on: date,
    count: int,
    *,
    pricing_type: str | None = "regular",
    billable: bool | None = None,
    window_open: bool = True,
) -> DeliveryTally:
    return DeliveryTally(category, pricing_type, billable, window_open, on, count)


def free(category: str | None, on: date, count: int) -> DeliveryTally:
    return tally(category, on, count, pricing_type=FREE, billable=False)


def preview(
    category: TemplateCategory,
    on: date,
    *,
    window_open: bool = True,
    calibration: Calibration | None = None,
    rules: Sequence[RuleSet] = RULE_SETS,
) -> CostPreview:
    return preview_cost(
        GROUP,
        category,
        on,
        window_open=window_open,
        service_used_this_month=0,
        card=CARD,
        rules=rules,
        calibration=calibration,
    )


# --------------------------------------------------------------------------- disputes as data


def test_every_rule_set_disputes_marketing_in_window_and_the_new_one_utility() -> None:
    old, new = RULE_SETS
    assert [d.rule for d in old.disputes] == [MKT]
    assert [d.rule for d in new.disputes] == [MKT, UTL]
    # The configured readings are what the product always applied.
    assert old.configured(MKT) and new.configured(MKT) and new.configured(UTL)
    assert old.dispute(UTL) is None


def test_each_reading_carries_its_rule_source_and_date() -> None:
    marketing = RULE_SETS[0].dispute(MKT)
    assert marketing is not None
    free_reading = marketing.reading(False)
    assert free_reading.rule == "free"
    assert free_reading.source.name == "Meta's Groups pricing page"
    assert free_reading.source.dated == date(2025, 10, 22)
    assert free_reading.source.url.endswith("/whatsapp/groups/pricing/")
    charged_reading = marketing.reading(True)
    assert charged_reading.source.dated == date(2026, 5, 21)
    assert "1:1 rules" in charged_reading.source.name
    utility = RULE_SETS[1].dispute(UTL)
    assert utility is not None
    assert utility.reading(False).source.name == "the overview of Meta's pricing page"
    assert utility.reading(True).source.url.endswith("/pricing/non-template-messages")


def test_a_dispute_needs_both_outcomes() -> None:
    source = Source("x", "https://example.com", date(2026, 1, 1))
    with pytest.raises(ValueError, match="free and a charged reading"):
        Dispute(MKT, (Reading(True, "charged", source), Reading(True, "charged", source)))


def test_decided_overrides_only_a_rule_the_set_disputes() -> None:
    # Marketing outside the window is not disputed: evidence cannot make it free.
    closed = charging_rule(
        MARKETING, CHANGE_DAY, window_open=False, service_free_left=0, decided={MKT: False}
    )
    assert closed.charged and closed.disputed is None
    # Utility inside the window before 2026-10-01 is not disputed either.
    before = charging_rule(
        UTILITY, LAST_OLD_DAY, window_open=True, service_free_left=0, decided={UTL: True}
    )
    assert not before.charged and before.disputed is None
    inside = charging_rule(
        MARKETING, CHANGE_DAY, window_open=True, service_free_left=0, decided={MKT: False}
    )
    assert not inside.charged and inside.disputed is MKT
    assert inside.pricing_type == FREE
    assert inside.label == "marketing inside window: free"


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("on", [LAST_OLD_DAY, CHANGE_DAY])
def test_marketing_in_window_is_a_range_with_its_reason(on: date) -> None:
    result = preview(MARKETING, on)
    # The figure stays what the product always charged ...
    assert result.total == marketing_sum()
    # ... shown as a range from every reading, with both sources in the reason.
    assert result.is_range
    assert (result.low_total, result.high_total) == (Decimal(0), marketing_sum())
    [note] = result.disputes
    assert note.origin is Origin.CONFIGURATION
    assert note.applied.charged
    assert note.reason == (
        "marketing inside the group window is free per Meta's Groups pricing page "
        "(2025-10-22), charged per the 1:1 rules and Meta's Groups pricing tables (2026-05-21)"
    )
    assert PreviewFlag.MARKETING_IN_WINDOW_DISPUTED in result.flags
    for line in result.lines:
        assert line.low == 0 and line.high == line.rate == line.amount
        assert line.origin is Origin.CONFIGURATION
        assert line.source == "the 1:1 rules and Meta's Groups pricing tables (2026-05-21)"
        assert line.source_url is not None and "groups/pricing" in line.source_url


def test_marketing_outside_the_window_is_not_disputed() -> None:
    result = preview(MARKETING, CHANGE_DAY, window_open=False)
    assert not result.is_range and result.disputes == ()
    assert result.low_total == result.high_total == result.total == marketing_sum()
    assert all(line.low == line.high == line.amount for line in result.lines)
    assert {line.source for line in result.lines} == {rule_set_on(CHANGE_DAY).source}


def test_utility_in_window_is_disputed_only_from_2026_10_01() -> None:
    before = preview(UTILITY, LAST_OLD_DAY)
    assert before.total == 0 and not before.is_range and before.high_total == 0
    after = preview(UTILITY, CHANGE_DAY)
    assert after.total == utility_sum()
    assert after.is_range and (after.low_total, after.high_total) == (0, utility_sum())
    [note] = after.disputes
    assert note.dispute.rule is UTL
    assert note.reason.startswith(
        "utility inside the group window is free per the overview of Meta's pricing page"
    )
    assert PreviewFlag.IN_WINDOW_UTILITY_DISPUTED in after.flags


def test_configured_free_reading_still_shows_the_range() -> None:
    lenient = rule_sets(in_window_marketing_charged=False)
    result = preview(MARKETING, CHANGE_DAY, rules=lenient)
    assert result.total == 0
    assert (result.low_total, result.high_total) == (0, marketing_sum())
    [note] = result.disputes
    assert not note.applied.charged and note.origin is Origin.CONFIGURATION
    assert all(
        line.source.startswith("Meta's Groups pricing page (2025-10-22)") for line in result.lines
    )


# --------------------------------------------------------------------------- calibration


def test_evidence_below_the_minimum_leaves_the_range() -> None:
    calibration = calibrate([free("group_marketing", DEC_03, 2)], DEC_03)
    evidence = calibration.for_rule(MKT)
    assert evidence is not None and evidence.free == 2
    assert evidence.observed_charged is None and not evidence.contradicts
    result = preview(MARKETING, DEC_03, calibration=calibration)
    assert result.is_range and result.total == marketing_sum()


def test_enough_free_deliveries_settle_marketing_in_window_as_free() -> None:
    calibration = calibrate(
        [
            free("group_marketing", DEC_03 - timedelta(days=4), 1),
            free("group_marketing", DEC_03, 2),
        ],
        DEC_03,
    )
    evidence = calibration.for_rule(MKT)
    assert evidence is not None
    assert evidence.observed_charged is False
    assert evidence.observed_on == DEC_03
    # It contradicts the configured reading (charged): the header and --explain say so.
    assert evidence.contradicts and calibration.contradictions == (evidence,)
    result = preview(MARKETING, DEC_03, calibration=calibration)
    assert result.total == 0 and not result.is_range
    assert result.low_total == result.high_total == 0
    [note] = result.disputes
    assert note.origin is Origin.EVIDENCE
    assert note.reason == "as charged on 2026-12-03: free in window"
    assert PreviewFlag.MARKETING_IN_WINDOW_DISPUTED not in result.flags
    for line in result.lines:
        assert not line.charged and line.origin is Origin.EVIDENCE
        assert (
            line.source == "Meta's status webhooks: 3 free, 0 charged since 2026-11-04 (3 needed)"
        )


def test_evidence_that_agrees_settles_without_contradiction() -> None:
    calibration = calibrate([tally("group_utility", DEC_03, 3)], DEC_03)
    evidence = calibration.for_rule(UTL)
    assert evidence is not None and evidence.observed_charged is True
    assert not evidence.contradicts and calibration.contradictions == ()
    result = preview(UTILITY, DEC_03, calibration=calibration)
    assert result.total == utility_sum() and not result.is_range
    assert result.disputes[0].reason == "as charged on 2026-12-03: charged in window"
    assert PreviewFlag.IN_WINDOW_UTILITY_DISPUTED not in result.flags


def test_evidence_against_a_configured_free_reading_contradicts_it() -> None:
    config = PricingConfig(utility_in_window_charged=False)
    calibration = calibrate(
        [tally("group_utility", DEC_03, 5)], DEC_03, rules=config.rule_sets(), config=config
    )
    [contradiction] = calibration.contradictions
    assert contradiction.rule is UTL and contradiction.configured_charged is False
    assert "contradicting the configuration (free)" in contradiction.describe()


@pytest.mark.parametrize(
    ("free_count", "charged_count", "observed"),
    [(3, 3, None), (4, 3, False), (3, 4, True), (2, 1, None), (0, 3, True)],
)
def test_mixed_evidence_needs_a_majority_and_the_minimum(
    free_count: int, charged_count: int, observed: bool | None
) -> None:
    calibration = calibrate(
        [
            free("group_marketing", DEC_03, free_count),
            tally("group_marketing", DEC_03, charged_count),
        ],
        DEC_03,
    )
    evidence = calibration.for_rule(MKT)
    assert evidence is not None and evidence.observed_charged is observed


def test_the_minimum_and_the_days_are_configurable() -> None:
    rows = [free("group_marketing", DEC_03 - timedelta(days=10), 1)]
    assert calibrate(rows, DEC_03).decided() == {}
    assert calibrate(rows, DEC_03, config=PricingConfig(evidence_min=1)).decided() == {MKT: False}
    short = PricingConfig(evidence_min=1, evidence_days=10)
    assert calibrate(rows, DEC_03, config=short).decided() == {}
    assert calibrate(
        rows, DEC_03, config=PricingConfig(evidence_min=1, evidence_days=11)
    ).decided() == {MKT: False}


def test_only_matching_deliveries_count() -> None:
    rows = [
        free("group_marketing", DEC_03 - timedelta(days=30), 9),  # one day too old
        free("group_marketing", DEC_03 + timedelta(days=1), 9),  # after the day priced
        tally("group_marketing", DEC_03, 9, pricing_type=FREE, window_open=False),  # closed
        free("group_service", DEC_03, 9),  # not a disputed category
        tally("group_marketing", DEC_03, 9, pricing_type="mystery"),  # says nothing
        tally("group_marketing", DEC_03, 9, pricing_type=None, billable=None),
        free(None, DEC_03, 9),
    ]
    evidence = calibrate(rows, DEC_03).for_rule(MKT)
    assert evidence is not None and (evidence.free, evidence.charged) == (0, 0)
    # Without a type, the deprecated billable flag decides; the group_ prefix is optional.
    rows = [tally("marketing", DEC_03, 3, pricing_type=None, billable=False)]
    assert calibrate(rows, DEC_03).decided() == {MKT: False}


def test_evidence_from_before_2026_10_01_does_not_settle_the_new_rules() -> None:
    # Utility inside the window was free until 2026-09-30: not evidence for October.
    rows = [free("group_utility", LAST_OLD_DAY - timedelta(days=i), 5) for i in range(3)]
    october = calibrate(rows, CHANGE_DAY + timedelta(days=1))
    evidence = october.for_rule(UTL)
    assert evidence is not None and evidence.free == 0
    assert preview(UTILITY, CHANGE_DAY + timedelta(days=1), calibration=october).is_range
    # Marketing evidence of September does not carry over to October either ...
    rows = [free("group_marketing", LAST_OLD_DAY, 5)]
    assert calibrate(rows, CHANGE_DAY).decided() == {}
    # ... but settles September itself.
    assert calibrate(rows, LAST_OLD_DAY).decided() == {MKT: False}
    # And October's evidence counts in October.
    rows = [free("group_utility", CHANGE_DAY, 3)]
    assert calibrate(rows, CHANGE_DAY + timedelta(days=1)).decided() == {UTL: False}


def test_a_calibration_for_another_rule_set_is_ignored() -> None:
    september = calibrate([free("group_marketing", LAST_OLD_DAY, 5)], LAST_OLD_DAY)
    result = preview(MARKETING, CHANGE_DAY, calibration=september)
    assert result.is_range and result.disputes[0].origin is Origin.CONFIGURATION


def test_evidence_period_covers_the_days_counted() -> None:
    since, until = evidence_period(DEC_03, PricingConfig(evidence_days=30))
    assert until - since == 30 * 86_400
    assert datetime.fromtimestamp(since, UTC).date() == date(2026, 11, 4)
    assert datetime.fromtimestamp(until, UTC).date() == date(2026, 12, 4)


# --------------------------------------------------------------------------- configuration


def test_pricing_config_from_the_toml_table() -> None:
    config = PricingConfig.from_mapping(
        {"evidence_min": 5, "evidence_days": 14, "marketing_in_window": "free"}
    )
    assert config == PricingConfig(
        evidence_min=5, evidence_days=14, marketing_in_window_charged=False
    )
    assert not rule_set_on(CHANGE_DAY, config.rule_sets()).marketing_in_window_charged
    assert PricingConfig.from_mapping({}) == PricingConfig()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"evidence_min": 0}, "pricing.evidence_min must be at least 1"),
        ({"evidence_days": "30"}, "pricing.evidence_days must be a whole number"),
        ({"evidence_min": True}, "pricing.evidence_min must be a whole number"),
        ({"marketing_in_window": "maybe"}, 'pricing.marketing_in_window must be "charged"'),
        ({"evidence": 3}, "pricing.evidence is not a known setting"),
    ],
)
def test_pricing_config_refuses_bad_values(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        PricingConfig.from_mapping(table)


# --------------------------------------------------------------------------- explanation


def test_explanation_lists_every_member_with_rule_source_and_origin() -> None:
    calibration = calibrate([free("group_marketing", DEC_03, 3)], DEC_03)
    explained = explain_cost(preview(MARKETING, DEC_03, calibration=calibration), calibration)
    assert [m.member for m in explained.members] == ["kBR", "kDE", "kIN"]
    brazil = explained.members[0]
    assert (brazil.market, brazil.rate) == ("Brazil", rate("BR", MARKETING))
    assert brazil.rule == "marketing inside window: free"
    assert brazil.origin is Origin.EVIDENCE and brazil.source.startswith("Meta's status webhooks")
    assert explained.total == 0 and not explained.is_range
    [evidence] = [e for e in explained.evidence if e.rule is MKT]
    assert (evidence.free, evidence.observed, evidence.configured) == (3, "free", "charged")
    assert evidence.contradicts
    assert (
        explained.contradictions
        and "contradicting the configuration" in explained.contradictions[0]
    )
    text = explained.text()
    assert "evidence: Meta's status webhooks" in text
    assert "contradiction: marketing inside the group window" in text


def test_explanation_of_a_range() -> None:
    explained = explain_cost(preview(MARKETING, DEC_03), calibrate([], DEC_03))
    assert explained.is_range
    assert (explained.low_total, explained.high_total) == (0, marketing_sum())
    assert {m.origin for m in explained.members} == {Origin.CONFIGURATION}
    [dispute] = explained.disputes
    assert dispute.applied == "charged" and len(dispute.readings) == 2
    assert f"range 0 – {marketing_sum()} USD" in explained.text()
    assert explained.contradictions == ()


# --------------------------------------------------------------------------- properties


_REGIONS = ["BR", "IN", "FR", "IT", "PL", "US", "DE", "KZ"]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    regions=st.lists(st.sampled_from(_REGIONS), min_size=1, max_size=8),
    category=st.sampled_from([MARKETING, UTILITY]),
    on=st.sampled_from([LAST_OLD_DAY, CHANGE_DAY, DEC_03]),
    window_open=st.booleans(),
    free_count=st.integers(0, 5),
    charged_count=st.integers(0, 5),
    marketing_charged=st.booleans(),
)
def test_the_figure_lies_within_the_range(
    regions: list[str],
    category: TemplateCategory,
    on: date,
    window_open: bool,
    free_count: int,
    charged_count: int,
    marketing_charged: bool,
) -> None:
    rules = rule_sets(in_window_marketing_charged=marketing_charged)
    name = f"group_{category.value}"
    calibration = calibrate(
        [free(name, on, free_count), tally(name, on, charged_count)], on, rules=rules
    )
    group = [MemberRef(f"k{i}", number(r)) for i, r in enumerate(regions)]
    result = preview_cost(
        group,
        category,
        on,
        window_open=window_open,
        service_used_this_month=0,
        card=CARD,
        rules=rules,
        calibration=calibration,
    )
    assert result.low_total <= result.total <= result.high_total
    assert result.is_range == any(n.origin is Origin.CONFIGURATION for n in result.disputes)
    if not result.is_range:
        assert all(line.low == line.high == line.amount for line in result.lines)
    decided = calibration.decided()
    for note in result.disputes:
        assert (note.origin is Origin.EVIDENCE) == (note.dispute.rule in decided)
