"""Pricing a member known only by a business-scoped user id (BSUID, reference 3.9).

A BSUID such as ``BR.13491208655302741918`` carries no number; its prefix names the
member's country, which sets the market. A prefix that names no country leaves the rate
unknown, never 0. Expected amounts are read from the packaged rate card's rows.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from groups_tui.domain.identity import bsuid_country, is_bsuid, is_phone_number
from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.pricing import (
    MemberRef,
    PreviewFlag,
    RateCard,
    actual_cost,
    ledger_functions,
    preview_cost,
)

CARD = RateCard.load_default()
MARKETING = TemplateCategory.MARKETING
ON = date(2026, 11, 2)


def rate(iso2: str) -> Decimal:
    row = CARD.row_for_region(iso2)
    assert row is not None and row.marketing is not None, iso2
    return row.marketing


@pytest.mark.parametrize(
    ("value", "bsuid", "country", "phone"),
    [
        ("US.13491208655302741918", True, "US", False),
        (" BR.1 ", True, "BR", False),
        ("ZZ.1", True, "ZZ", False),
        ("us.1", False, None, False),
        ("US.ENT.11815799212886844830", False, None, False),
        ("US.", False, None, False),
        ("+1 (650) 555-1234", False, None, True),
        ("16505551234", False, None, True),
    ],
)
def test_identifiers_are_told_apart(
    value: str, bsuid: bool, country: str | None, phone: bool
) -> None:
    assert is_bsuid(value) is bsuid
    assert bsuid_country(value) == country
    assert is_phone_number(value) is phone


@pytest.mark.parametrize(
    ("user_id", "market", "iso2"),
    [
        ("BR.13491208655302741918", "Brazil", "BR"),
        ("US.13491208655302741918", "North America", "US"),
        ("DE.1", "Germany", "DE"),
        ("IN.42", "India", "IN"),
    ],
)
def test_a_bsuid_is_priced_in_the_market_of_the_country_it_names(
    user_id: str, market: str, iso2: str
) -> None:
    match = CARD.match(user_id)
    assert (match.market, match.country_iso2) == (market, iso2)
    assert match.rate(MARKETING) == rate(iso2)
    assert match.note is not None and "business-scoped user id" in match.note


@pytest.mark.parametrize(
    ("user_id", "why"),
    [
        ("ZZ.13491208655302741918", "names no known country"),
        ("PL.1", "Poland has been its own market"),
        ("GU.1", "Guam may be priced"),
    ],
)
def test_a_bsuid_without_a_known_market_stays_unknown(user_id: str, why: str) -> None:
    match = CARD.match(user_id)
    assert match.market is None and match.rate(MARKETING) is None
    assert match.reason is not None and why in match.reason


def test_a_country_off_the_card_is_priced_like_its_numbers() -> None:
    # Faroe Islands: listed nowhere by Meta, so "Other", as a +298 number is.
    faroe = CARD.match("FO.1")
    assert faroe.market == "Other" and faroe.market == CARD.match("+298 211234").market
    # Guernsey shares +44 with the UK row.
    assert CARD.match("GG.1").market == CARD.match("+44 7781 123456").market


def test_a_member_with_a_number_is_priced_by_the_number() -> None:
    match = CARD.match_member("5511987654321", "DE.1")
    assert match is not None and match.market == "Brazil"
    by_id = CARD.match_member(None, "DE.1")
    assert by_id is not None and by_id.market == "Germany"
    assert CARD.match_member(None, "BSUID.ghost") is None
    assert CARD.match_member(None, None) is None


def test_cost_preview_prices_members_known_only_by_bsuid() -> None:
    members = [
        MemberRef("BR.13491208655302741918", None, "Ana"),
        MemberRef("ZZ.77", None, "Nobody knows"),
        MemberRef("BSUID.ghost", None, "Ghost"),
    ]
    preview = preview_cost(
        members, MARKETING, ON, window_open=False, service_used_this_month=0, card=CARD
    )
    brazil, zz, ghost = preview.lines
    assert (brazil.market, brazil.country, brazil.amount) == ("Brazil", "BR", rate("BR"))
    assert zz.amount is None and zz.note is not None and "names no known country" in zz.note
    assert ghost.amount is None and ghost.note is not None and "only a user id" in ghost.note
    assert preview.total == rate("BR")
    assert preview.unknown == (zz, ghost)
    assert PreviewFlag.TOTAL_IS_LOWER_BOUND in preview.flags


def test_the_ledger_prices_a_delivery_to_a_bsuid() -> None:
    cost_fn, market_fn = ledger_functions(CARD)
    assert market_fn("BR.1") == "Brazil"
    assert cost_fn("group_marketing", "regular", True, "BR.1") == rate("BR")
    assert actual_cost("group_marketing", "regular", True, "ZZ.1", CARD) is None
    assert market_fn("ZZ.1") is None
