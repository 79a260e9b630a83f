"""Rate card, market lookup and the effective-dated charging rules.

Expected amounts are read from the packaged rate card's rows, never typed in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import (
    RULE_SETS,
    CostPreview,
    MemberRef,
    PreviewFlag,
    PricingRefused,
    RateCard,
    RateCardError,
    RateRow,
    actual_cost,
    charging_rule,
    preview_cost,
    rule_set_on,
    rule_sets,
)

MARKETING = TemplateCategory.MARKETING
UTILITY = TemplateCategory.UTILITY
AUTH = TemplateCategory.AUTHENTICATION
LAST_FREE_DAY = date(2026, 9, 30)
CHANGE_DAY = date(2026, 10, 1)

CARD = RateCard.load_default()


def row(iso2: str) -> RateRow:
    found = CARD.row_for_region(iso2)
    assert found is not None, iso2
    return found


def rate(iso2: str, category: TemplateCategory | None) -> Decimal:
    """The card's rate for a country (``None`` = service, the utility column)."""
    value = row(iso2).rate(category)
    assert value is not None, (iso2, category)
    return value


def number(region: str) -> str:
    """A valid mobile number of a region, as a wa_id (digits, no '+')."""
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    assert example is not None
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:]


def members(*regions: str) -> list[MemberRef]:
    return [MemberRef(f"k{i}", number(r), f"{r} member") for i, r in enumerate(regions)]


# --------------------------------------------------------------------------- card


def test_default_card_loads_with_effective_dates() -> None:
    assert len(CARD.rows) == 147
    assert CARD.effective_dates == (date(2026, 1, 1), date(2026, 7, 1), date(2026, 10, 1))
    assert CARD.newest_effective_date == CHANGE_DAY
    # CSV: Kazakhstan,KZ,76;77,0.0604,0.0180,0.0180,2026-10-01,...
    kz = row("KZ")
    assert kz.calling_codes == ("76", "77")
    assert kz.effective_date == CHANGE_DAY
    assert kz.marketing == Decimal("0.0604")
    # CSV: Germany,DE,49,0.1365,0.0550,0.0550,2026-01-01,...
    assert row("DE").effective_date == date(2026, 1, 1)
    assert row("DO").calling_codes == ("1809", "1829", "1849")
    assert row("NA").market == "Rest of Africa"


def test_empty_cells_are_unknown_not_zero() -> None:
    # CSV: Italy,IT,39,,0.0300,0.0300,2026-01-01,...
    assert row("IT").marketing is None
    assert row("IT").utility == Decimal("0.0300")
    # CSV: Pakistan,PK,92,0.0473,,,2026-01-01,...
    assert row("PK").utility is None and row("PK").authentication is None
    assert all(r.rate(c) != 0 for r in CARD.rows for c in (MARKETING, UTILITY, AUTH))


def test_fallback_row() -> None:
    fallback = CARD.fallback
    assert fallback is not None
    assert fallback.market == "Other"
    assert fallback.calling_codes == ()
    assert fallback.is_fallback


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "card.csv"
    path.write_text(
        "market,country_iso2,calling_code,marketing_usd,utility_usd,authentication_usd,"
        "effective_date,source_url\n"
        "Testland,TL,999,0.5,,0.1,2027-01-01,https://example.com\n"
        "Other,*,*,0.2,0.02,0.02,2027-01-01,https://example.com\n",
        encoding="utf-8",
    )
    card = RateCard.load(path)
    assert card.effective_dates == (date(2027, 1, 1),)
    assert card.rows[0].marketing == Decimal("0.5")
    assert card.rows[0].utility is None
    assert card.fallback is not None and card.fallback.utility == Decimal("0.02")


@pytest.mark.parametrize(
    "body",
    [
        "market,country_iso2\nX,XX\n",
        "market,country_iso2,calling_code,marketing_usd,utility_usd,authentication_usd,"
        "effective_date,source_url\nX,XX,12,abc,,,2026-01-01,u\n",
        "market,country_iso2,calling_code,marketing_usd,utility_usd,authentication_usd,"
        "effective_date,source_url\nX,XX,12,0.1,,,01/01/2026,u\n",
        "market,country_iso2,calling_code,marketing_usd,utility_usd,authentication_usd,"
        "effective_date,source_url\nX,XX,12,0.1,,,2026-01-01,u\nY,XX,13,0.1,,,2026-01-01,u\n",
    ],
)
def test_malformed_card(body: str) -> None:
    with pytest.raises(RateCardError):
        RateCard.parse(body)


# --------------------------------------------------------------------------- markets


@pytest.mark.parametrize(
    ("wa_id", "market", "country", "code"),
    [
        ("18095551234", "Rest of Latin America", "DO", "1809"),
        ("+1 264 235 1234", "Other", "AI", "1264"),
        ("12125551234", "North America", "US", "1"),
        ("14165551234", "North America", "CA", "1"),
        ("18765551234", "Rest of Latin America", "JM", "1876"),
        ("77012345678", "Kazakhstan", "KZ", "77"),
        ("79161234567", "Russia", "RU", "7"),
        ("5511987654321", "Brazil", "BR", "55"),
    ],
)
def test_longest_prefix_markets(wa_id: str, market: str, country: str, code: str) -> None:
    match = CARD.match(wa_id)
    assert (match.market, match.country_iso2, match.calling_code) == (market, country, code)


def test_match_rates_come_from_the_row() -> None:
    match = CARD.match("18095551234")
    assert match.marketing == row("DO").marketing
    assert match.rate(None) == row("DO").utility
    assert CARD.rate_for(MARKETING, "12642351234") == row("AI").marketing


@pytest.mark.parametrize("region", ["PL", "UA", "HU", "BD", "GU"])
def test_markets_missing_from_card_are_unknown_not_other(region: str) -> None:
    match = CARD.match(number(region))
    assert match.market is None
    assert match.country_iso2 == region
    assert match.reason and "no rate" in match.reason
    assert CARD.rate_for(MARKETING, number(region)) is None


def test_unlisted_country_falls_back_to_other() -> None:
    fallback = CARD.fallback
    assert fallback is not None
    match = CARD.match(number("IS"))
    assert (match.market, match.country_iso2) == ("Other", "IS")
    assert match.marketing == fallback.marketing


def test_shared_calling_code_is_priced_by_code() -> None:
    match = CARD.match(number("GG"))
    assert (match.market, match.country_iso2) == ("United Kingdom", "GG")
    assert match.utility == row("GB").utility


@pytest.mark.parametrize("wa_id", ["", "not-a-number", "12", "+3912"])
def test_unparseable_numbers_are_unknown(wa_id: str) -> None:
    match = CARD.match(wa_id)
    assert not match.known
    assert match.reason
    assert match.rate(MARKETING) is None


# --------------------------------------------------------------------------- rules


def test_rule_sets_are_dated_data() -> None:
    assert [r.effective_from for r in RULE_SETS] == sorted(r.effective_from for r in RULE_SETS)
    assert rule_set_on(LAST_FREE_DAY).effective_from == date(2025, 7, 1)
    assert rule_set_on(CHANGE_DAY).effective_from == CHANGE_DAY


def test_utility_in_window_both_sides_of_the_change() -> None:
    before = charging_rule(UTILITY, LAST_FREE_DAY, window_open=True, service_free_left=0)
    assert not before.charged
    assert before.label == "utility inside window: free until 2026-09-30"
    assert before.pricing_type == "free_group_customer_service"
    after = charging_rule(UTILITY, CHANGE_DAY, window_open=True, service_free_left=0)
    assert after.charged and after.rate_category is UTILITY
    assert after.label == "utility inside window: charged from 2026-10-01"
    assert after.pricing_type == "regular"


@pytest.mark.parametrize("on", [LAST_FREE_DAY, CHANGE_DAY])
def test_utility_outside_window_and_marketing_always_charged(on: date) -> None:
    utility = charging_rule(UTILITY, on, window_open=False, service_free_left=0)
    assert utility.charged and utility.pricing_type == "regular"
    for window_open in (True, False):
        marketing = charging_rule(MARKETING, on, window_open=window_open, service_free_left=5)
        assert marketing.charged
        # Inside the window the rule is disputed (test_pricing_disputes.py): the label no
        # longer claims "always".
        expected = (
            "marketing inside window: charged" if window_open else "marketing: always charged"
        )
        assert marketing.label == expected


def test_service_both_sides_of_the_change() -> None:
    before = charging_rule(None, LAST_FREE_DAY, window_open=True, service_free_left=0)
    assert not before.charged and before.label == "service: free until 2026-09-30"
    free = charging_rule(None, CHANGE_DAY, window_open=True, service_free_left=312)
    assert not free.charged and free.uses_allowance
    assert free.label == "service: free allowance (312 of 1,000 left this month)"
    beyond = charging_rule(None, CHANGE_DAY, window_open=True, service_free_left=0)
    assert beyond.charged and beyond.rate_category is UTILITY
    assert beyond.label == "service beyond the monthly allowance: utility rate"


def test_authentication_cannot_be_priced() -> None:
    with pytest.raises(PricingRefused) as info:
        charging_rule(AUTH, CHANGE_DAY, window_open=True, service_free_left=0)
    assert info.value.refusal.code == "authentication_template"


def test_in_window_utility_setting() -> None:
    lenient = rule_sets(in_window_utility_charged=False)
    rule = charging_rule(UTILITY, CHANGE_DAY, window_open=True, service_free_left=0, rules=lenient)
    assert not rule.charged


# --------------------------------------------------------------------------- preview


def preview(
    group: list[MemberRef],
    category: TemplateCategory | None,
    on: date,
    *,
    window_open: bool = True,
    used: int = 0,
) -> CostPreview:
    return preview_cost(
        group, category, on, window_open=window_open, service_used_this_month=used, card=CARD
    )


def test_utility_in_window_preview_both_sides() -> None:
    group = members("BR", "IN", "FR")
    before = preview(group, UTILITY, LAST_FREE_DAY)
    assert before.total == 0
    assert before.charged_count == 0
    after = preview(group, UTILITY, CHANGE_DAY)
    assert after.total == rate("BR", UTILITY) + rate("IN", UTILITY) + rate("FR", UTILITY)
    assert after.rule_set_effective_from == CHANGE_DAY
    assert PreviewFlag.IN_WINDOW_UTILITY_DISPUTED in after.flags


def test_marketing_preview_sums_member_markets() -> None:
    group = members("BR", "DE", "KZ")
    result = preview(group, MARKETING, LAST_FREE_DAY, window_open=False)
    expected = [rate("BR", MARKETING), rate("DE", MARKETING), rate("KZ", MARKETING)]
    assert [line.amount for line in result.lines] == expected
    assert result.total == sum(expected, Decimal(0))
    assert not result.total_is_lower_bound


def test_service_allowance_runs_out_mid_group() -> None:
    group = members("BR", "BR", "IN", "IN", "FR")
    result = preview(group, None, CHANGE_DAY, used=998)
    charged = [line.charged for line in result.lines]
    assert charged == [False, False, True, True, True]
    assert result.lines[0].rule == "service: free allowance (2 of 1,000 left this month)"
    assert result.lines[1].rule == "service: free allowance (1 of 1,000 left this month)"
    assert result.total == rate("IN", UTILITY) * 2 + rate("FR", UTILITY)
    assert result.service_free_left == 0
    assert PreviewFlag.SERVICE_ALLOWANCE_EXHAUSTED in result.flags


def test_service_free_before_the_change() -> None:
    result = preview(members("BR", "IN"), None, LAST_FREE_DAY, used=5_000)
    assert result.total == 0
    assert result.service_free_left is None


def test_service_allowance_left_after_send() -> None:
    result = preview(members("BR", "IN", "FR"), None, CHANGE_DAY, used=10)
    assert result.total == 0
    assert result.service_free_left == 1_000 - 10 - 3


def test_unknown_rates_are_not_zero() -> None:
    group = members("BR", "IT", "PL")
    result = preview(group, MARKETING, CHANGE_DAY)
    brazil, italy, poland = result.lines
    assert brazil.amount == row("BR").marketing
    assert italy.amount is None and italy.rate is None and italy.market == "Italy"
    assert italy.note and "no marketing rate" in italy.note
    assert poland.amount is None and poland.market is None and poland.country == "PL"
    assert poland.note and "Poland" in poland.note
    assert result.unknown == (italy, poland)
    assert result.total == row("BR").marketing
    assert result.total_is_lower_bound


def test_us_marketing_is_flagged_not_zeroed() -> None:
    result = preview(members("US", "BR"), MARKETING, CHANGE_DAY)
    us = result.lines[0]
    assert us.amount == row("US").marketing
    assert us.note and "131049" in us.note
    assert PreviewFlag.US_MARKETING_PAUSED in result.flags


def test_member_without_phone_number_is_unknown() -> None:
    result = preview([MemberRef("US.abc", None, "Bo")], MARKETING, CHANGE_DAY)
    assert result.lines[0].amount is None
    assert result.total_is_lower_bound


@pytest.mark.parametrize(
    ("category", "window_open", "group", "code"),
    [
        (AUTH, True, members("BR"), "authentication_template"),
        (None, False, members("BR"), "window_closed"),
        (MARKETING, True, [], "no_members"),
    ],
)
def test_preview_refusals(
    category: TemplateCategory | None, window_open: bool, group: list[MemberRef], code: str
) -> None:
    result = preview(group, category, CHANGE_DAY, window_open=window_open)
    assert result.refusal is not None and result.refusal.code == code
    assert result.lines == ()


_REGIONS = ["BR", "IN", "FR", "IT", "PL", "US", "DO", "AI", "KZ", "RU", "IS", "PK", "SG"]


@settings(max_examples=60, deadline=None)
@given(
    regions=st.lists(st.sampled_from(_REGIONS), max_size=8),
    category=st.sampled_from([MARKETING, UTILITY, None]),
    on=st.sampled_from([LAST_FREE_DAY, CHANGE_DAY]),
    window_open=st.booleans(),
    used=st.integers(0, 1_100),
)
def test_total_equals_sum_of_known_lines(
    regions: list[str],
    category: TemplateCategory | None,
    on: date,
    window_open: bool,
    used: int,
) -> None:
    result = preview(members(*regions), category, on, window_open=window_open, used=used)
    if result.refusal is not None:
        return
    known = [line.amount for line in result.lines if line.amount is not None]
    assert result.total == sum(known, Decimal(0))
    assert result.total_is_lower_bound == bool(result.unknown)
    assert all(line.amount is None for line in result.unknown)
    assert all(line.amount == 0 for line in result.lines if not line.charged)
    if category is None and on >= CHANGE_DAY:
        free = sum(1 for line in result.lines if not line.charged)
        assert free == min(len(regions), max(1_000 - used, 0))


# --------------------------------------------------------------------------- actual cost


def test_actual_cost_from_webhook_pricing() -> None:
    br = number("BR")
    assert actual_cost("group_marketing", "regular", True, br, CARD) == row("BR").marketing
    assert actual_cost("group_utility", "regular", None, br, CARD) == row("BR").utility
    assert actual_cost("group_service", "regular", None, br, CARD) == row("BR").utility
    assert actual_cost("utility", "free_customer_service", True, br, CARD) == 0
    assert actual_cost("group_service", "free_group_customer_service", False, br, CARD) == 0
    assert actual_cost("marketing", "free_entry_point", None, br, CARD) == 0


def test_actual_cost_without_type_uses_billable() -> None:
    br = number("BR")
    assert actual_cost("group_marketing", None, True, br, CARD) == row("BR").marketing
    assert actual_cost("group_utility", "", False, br, CARD) == 0
    assert actual_cost("group_utility", None, None, br, CARD) is None


def test_actual_cost_unknowns() -> None:
    assert actual_cost("group_marketing", "regular", True, number("PL"), CARD) is None
    assert actual_cost("group_marketing", "regular", True, number("IT"), CARD) is None
    assert actual_cost("mystery", "regular", True, number("BR"), CARD) is None
    assert actual_cost("group_marketing", "regular", True, None, CARD) is None


def test_actual_cost_exempt_subtype() -> None:
    br = number("BR")
    assert actual_cost("group_service", "regular", True, br, CARD, subtype="paid_exempt") == 0
