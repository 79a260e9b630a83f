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

Meta's pages disagree on whether in-window utility became charged on 2026-10-01; the
reference treats it as charged, and :func:`rule_sets` builds the alternative table for a
setting. The status webhook's ``pricing`` object is what really decides
(:func:`actual_cost`).
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import Final

import phonenumbers

from groups_tui.domain.identity import bsuid_country, is_bsuid
from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.sending import Refusal

__all__ = [
    "RULE_SETS",
    "UNPRICED_REGIONS",
    "ChargeRule",
    "CostLine",
    "CostPreview",
    "MarketMatch",
    "MemberRef",
    "PreviewFlag",
    "PricingRefused",
    "RateCard",
    "RateCardError",
    "RateRow",
    "RuleSet",
    "actual_cost",
    "ledger_functions",
    "charging_rule",
    "preview_cost",
    "rule_set_on",
    "rule_sets",
]

PRICING_TYPE_REGULAR: Final = "regular"
PRICING_TYPE_FREE_GROUP: Final = "free_group_customer_service"

_COLUMNS: Final = (
    "market",
    "country_iso2",
    "calling_code",
    "marketing_usd",
    "utility_usd",
    "authentication_usd",
    "effective_date",
    "source_url",
)

UNPRICED_REGIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "HK": "Hong Kong has been its own market since 2026-07-01",
        "HU": "Hungary has been its own market since 2026-07-01",
        "PL": "Poland has been its own market since 2026-07-01",
        "RO": "Romania has been its own market since 2026-07-01",
        "BD": "Bangladesh has been its own market since 2026-10-01",
        "IQ": "Iraq has been its own market since 2026-10-01",
        "KW": "Kuwait has been its own market since 2026-10-01",
        "NP": "Nepal has been its own market since 2026-10-01",
        "OM": "Oman has been its own market since 2026-10-01",
        "LK": "Sri Lanka has been its own market since 2026-10-01",
        "UA": "Ukraine has been its own market since 2026-10-01",
        "GU": "Guam may be priced as North America or as Other; Meta does not say",
        "MP": "The Northern Mariana Islands may be priced as North America or as Other",
        "AS": "American Samoa may be priced as North America or as Other",
        "VI": "The US Virgin Islands may be priced as North America or as Other",
    }
)
"""Regions Meta prices that the rate card does not cover (pricing.md sections 7-8).

These must not fall back to "Other" or to an old regional rate: their real rates differ.
A card that gains a row for one of them takes precedence over this table.
"""


class RateCardError(ValueError):
    """The rate-card CSV is malformed."""


class PricingRefused(ValueError):
    """The message cannot be priced because it cannot be sent to a group.

    Attributes:
        refusal: The rule that forbids it.
    """

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


# --------------------------------------------------------------------------- rate card


@dataclass(frozen=True, slots=True)
class RateRow:
    """One country (or the "Other" fallback) on the rate card.

    Attributes:
        market: Meta's market name, e.g. ``"Rest of Latin America"``.
        country_iso2: ISO 3166 code, or ``"*"`` for the fallback row.
        calling_codes: Calling-code prefixes (digits); empty for the fallback row.
        marketing: Marketing rate, ``None`` if unknown.
        utility: Utility rate (also the service rate), ``None`` if unknown.
        authentication: Authentication rate, ``None`` if unknown.
        effective_date: Date of the newest Meta card on which these numbers were seen.
        source_url: Where the row was read.
    """

    market: str
    country_iso2: str
    calling_codes: tuple[str, ...]
    marketing: Decimal | None
    utility: Decimal | None
    authentication: Decimal | None
    effective_date: date
    source_url: str

    @property
    def is_fallback(self) -> bool:
        """True for the "Other" row that covers countries Meta does not list."""
        return self.country_iso2 == "*"

    def rate(self, category: TemplateCategory | None) -> Decimal | None:
        """Rate for a category; ``None`` (service) uses the utility rate, as Meta does."""
        return _pick_rate(category, self.marketing, self.utility, self.authentication)


def _pick_rate(
    category: TemplateCategory | None,
    marketing: Decimal | None,
    utility: Decimal | None,
    authentication: Decimal | None,
) -> Decimal | None:
    if category is TemplateCategory.MARKETING:
        return marketing
    if category is TemplateCategory.AUTHENTICATION:
        return authentication
    return utility


def _category_name(category: TemplateCategory | None) -> str:
    return "service" if category is None else category.value


@dataclass(frozen=True, slots=True)
class MarketMatch:
    """The market a member's number is priced in, or why it is unknown.

    Attributes:
        number: The number as given.
        market: Market name, or ``None`` when it cannot be determined.
        country_iso2: The number's country (phonenumbers region) when known.
        calling_code: The card prefix that matched, or the country calling code.
        marketing: Marketing rate, ``None`` if unknown.
        utility: Utility (and service) rate, ``None`` if unknown.
        authentication: Authentication rate, ``None`` if unknown.
        effective_date: The matched row's effective date.
        reason: Why the market is unknown.
        note: Extra context for a known market (fallback used, shared calling code...).
    """

    number: str
    market: str | None
    country_iso2: str | None
    calling_code: str | None
    marketing: Decimal | None = None
    utility: Decimal | None = None
    authentication: Decimal | None = None
    effective_date: date | None = None
    reason: str | None = None
    note: str | None = None

    @property
    def known(self) -> bool:
        """True if the number maps to a market on the card."""
        return self.market is not None

    def rate(self, category: TemplateCategory | None) -> Decimal | None:
        """Rate for a category (``None`` = service, priced at the utility rate)."""
        return _pick_rate(category, self.marketing, self.utility, self.authentication)

    def missing_reason(self, category: TemplateCategory | None) -> str | None:
        """Why :meth:`rate` is ``None`` for ``category``, or ``None`` if it is known."""
        if self.market is None:
            return self.reason
        if self.rate(category) is not None:
            return None
        where = self.market if self.country_iso2 is None else f"{self.market} ({self.country_iso2})"
        return (
            f"the rate card has no {_category_name(category)} rate for {where}: "
            "Meta changed it and the new rate was not found"
        )


class RateCard:
    """Meta's per-message rates by market, loaded from a CSV file.

    Market lookup (:meth:`match`) works on the member's number:

    1. The number is parsed with ``phonenumbers`` (``+`` added when missing); an
       unparseable or impossible number is unknown.
    2. A card prefix longer than the country calling code wins outright: that is how Meta
       splits shared codes (``1809`` Dominican Republic, ``1264`` Anguilla as Other,
       ``77`` Kazakhstan).
    3. Otherwise the number's country (phonenumbers region) is looked up on the card
       (``1`` + a US area code is the US row, ``7`` + ``9xx`` is Russia).
    4. A country Meta prices but the card lacks (:data:`UNPRICED_REGIONS`: Poland,
       Ukraine and the other markets created in 2026, plus US territories whose market is
       unclear) is **unknown**, never "Other": its real rate differs from the fallback.
    5. A country sharing a calling code with a card country (Guernsey on +44, Vatican
       City on +39, Aland on +358) is priced by that calling code, as Meta prices by code.
    6. Only a country Meta lists nowhere goes to the ``*`` "Other" row.

    A possible but invalid number (a fictional ``+1 555`` number, say) has no reliable
    country; it is priced by the longest card prefix alone, which is Meta's own method,
    with a note saying so. One matching no prefix and no single country is unknown.
    """

    __slots__ = (
        "_by_prefix",
        "_by_region",
        "_fallback",
        "_max_prefix",
        "_unpriced",
        "rows",
        "source",
    )

    def __init__(
        self,
        rows: Iterable[RateRow],
        *,
        source: str = "",
        unpriced_regions: Mapping[str, str] = UNPRICED_REGIONS,
    ) -> None:
        """Build a card from rows.

        Args:
            rows: The card's rows, at most one per country and one fallback.
            source: Where the rows came from, for messages.
            unpriced_regions: Regions known to have a market absent from the card, with
                the reason shown to the operator.

        Raises:
            RateCardError: On a duplicate country or fallback row.
        """
        self.rows: tuple[RateRow, ...] = tuple(rows)
        self.source = source
        by_region: dict[str, RateRow] = {}
        by_prefix: dict[str, list[RateRow]] = {}
        fallback: RateRow | None = None
        for row in self.rows:
            if row.is_fallback:
                if fallback is not None:
                    raise RateCardError(f"{source}: more than one fallback (*) row")
                fallback = row
                continue
            if row.country_iso2 in by_region:
                raise RateCardError(f"{source}: duplicate country {row.country_iso2}")
            by_region[row.country_iso2] = row
            for code in row.calling_codes:
                by_prefix.setdefault(code, []).append(row)
        self._by_region = by_region
        self._by_prefix = {k: tuple(v) for k, v in by_prefix.items()}
        self._max_prefix = max((len(k) for k in by_prefix), default=0)
        self._fallback = fallback
        self._unpriced = {k: v for k, v in unpriced_regions.items() if k not in by_region}

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RateCard:
        """Load a card from a CSV file the user names.

        Args:
            path: CSV with the columns of the packaged ``rates.csv``.

        Returns:
            The card.

        Raises:
            OSError: If the file cannot be read.
            RateCardError: If the contents are malformed.
        """
        with open(path, encoding="utf-8", newline="") as fh:
            return cls.parse(fh.read(), source=os.fspath(path))

    @classmethod
    def load_default(cls) -> RateCard:
        """The card shipped in the package (``groups_tui/data/rates.csv``)."""
        return _default_card()

    @classmethod
    def configured(cls, path: str | os.PathLike[str] | None) -> RateCard:
        """The card every part prices with: ``path`` (``GROUPS_TUI_RATES_CSV``) if set,
        else the packaged one. The TUI, the listener and ``events replay`` all use this,
        so a replay prices the cost ledger exactly as the listener did.

        Args:
            path: The configured CSV, or ``None``.

        Returns:
            The card.
        """
        return cls.load(path) if path else cls.load_default()

    @classmethod
    def parse(cls, text: str, *, source: str = "<text>") -> RateCard:
        """Parse CSV text.

        Empty rate cells are unknown (``None``). ``calling_code`` may hold several
        prefixes separated by ``;``. The row with ``country_iso2 = *`` is the "Other"
        fallback.

        Args:
            text: The CSV contents.
            source: Name used in error messages.

        Returns:
            The card.

        Raises:
            RateCardError: On a missing column, a bad number or date, or a duplicate row.
        """
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise RateCardError(f"{source}: missing column(s) {', '.join(missing)}")
        rows = [_parse_row(raw, source, reader.line_num) for raw in reader]
        return cls(rows, source=source)

    # ------------------------------------------------------------------ queries

    @property
    def fallback(self) -> RateRow | None:
        """The "Other" row, if the card has one."""
        return self._fallback

    @property
    def effective_dates(self) -> tuple[date, ...]:
        """Distinct row effective dates, oldest first."""
        return tuple(sorted({r.effective_date for r in self.rows}))

    @property
    def newest_effective_date(self) -> date | None:
        """The newest card any row was seen on."""
        dates = self.effective_dates
        return dates[-1] if dates else None

    def row_for_region(self, country_iso2: str) -> RateRow | None:
        """The row for one country, if the card lists it."""
        return self._by_region.get(country_iso2.upper())

    def match(self, number: str) -> MarketMatch:
        """Find the market a phone number, ``wa_id`` or business-scoped user id is priced in.

        A business-scoped user id (``US.13491208655302741918``) has no number: it is
        priced by the country its prefix names (:meth:`_match_named_country`).

        Args:
            number: E.164 with or without ``+`` (spaces, dots, dashes and brackets are
                ignored), or a BSUID.

        Returns:
            The match; ``market`` is ``None`` with a ``reason`` when unknown.
        """
        named = bsuid_country(number)
        if named is not None:
            return self._match_named_country(number, named)
        try:
            parsed = phonenumbers.parse(_normalise(number), None)
        except phonenumbers.NumberParseException:
            return MarketMatch(number, None, None, None, reason=f"{number!r} is not a phone number")
        if not phonenumbers.is_possible_number(parsed):
            return MarketMatch(
                number, None, None, None, reason=f"{number!r} is not a possible phone number"
            )
        if not parsed.country_code:
            return MarketMatch(number, None, None, None, reason=f"{number!r} has no country code")
        cc = str(parsed.country_code)
        digits = cc + phonenumbers.national_significant_number(parsed)
        valid = phonenumbers.is_valid_number(parsed)
        region = _region(parsed, parsed.country_code, valid)
        note = None if valid else "number is not valid for its country; priced by calling code"

        prefix, prefix_rows = self._longest_prefix(digits)
        if prefix_rows and len(prefix) > len(cc):
            return self._matched(number, _pick(prefix_rows, region), region, prefix, note)
        if region is not None and region in self._by_region:
            row = self._by_region[region]
            return self._matched(number, row, region, prefix or cc, note)
        if region is not None and region in self._unpriced:
            return MarketMatch(
                number,
                None,
                region,
                cc,
                reason=f"{self._unpriced[region]}; the rate card has no rate for it",
            )
        if prefix_rows:
            row = _pick(prefix_rows, region)
            shared = f"priced by calling code +{prefix} ({row.market})"
            return self._matched(number, row, region, prefix, note or shared)
        if region is None:
            return MarketMatch(
                number,
                None,
                None,
                cc,
                reason=f"cannot tell which country +{cc} {number!r} belongs to",
            )
        if self._fallback is None:
            return MarketMatch(
                number,
                None,
                region,
                cc,
                reason=f"{region} is not on the card, which has no Other row",
            )
        return self._matched(
            number, self._fallback, region, cc, note or f"{region} is not listed by Meta: Other"
        )

    def match_member(self, wa_id: str | None, user_id: str | None = None) -> MarketMatch | None:
        """The market of a member: by phone number when known, else by the BSUID's country.

        Args:
            wa_id: The member's phone-number id, if known.
            user_id: The member's business-scoped user id (or member key), if known.

        Returns:
            The match, or ``None`` when there is no number and ``user_id`` is not a BSUID.
        """
        if wa_id:
            return self.match(wa_id)
        if user_id and is_bsuid(user_id):
            return self.match(user_id)
        return None

    def _match_named_country(self, user_id: str, region: str) -> MarketMatch:
        """Price a BSUID by the country it names, as a number of that country would be.

        The card's row for the country wins; a country Meta prices off the card is
        unknown; one sharing an unsplit calling code with a card country is priced by
        that code (Guernsey as the UK); one Meta lists nowhere is "Other". Where the
        calling code is split by longer prefixes (+1, +7) and the country has no row of
        its own, a BSUID carries no area code to decide with: unknown. A prefix that
        names no country (``ZZ``) is unknown.
        """
        code = phonenumbers.country_code_for_region(region)
        if not code:
            return MarketMatch(
                user_id,
                None,
                None,
                None,
                reason=f"{user_id!r} names no known country ({region}), so its market is unknown",
            )
        cc = str(code)
        note = f"priced by the country its business-scoped user id names ({region})"
        row = self._by_region.get(region)
        if row is not None:
            return self._matched(user_id, row, region, cc, note)
        if region in self._unpriced:
            return MarketMatch(
                user_id,
                None,
                region,
                cc,
                reason=f"{self._unpriced[region]}; the rate card has no rate for it",
            )
        split = any(len(p) > len(cc) and p.startswith(cc) for p in self._by_prefix)
        rows = self._by_prefix.get(cc)
        if rows and not split:
            row = _pick(rows, region)
            return self._matched(
                user_id, row, region, cc, f"{note}; priced by calling code +{cc} ({row.market})"
            )
        if split:
            return MarketMatch(
                user_id,
                None,
                region,
                cc,
                reason=f"+{cc} is split between markets and {region} has no row on the card",
            )
        if self._fallback is None:
            return MarketMatch(
                user_id,
                None,
                region,
                cc,
                reason=f"{region} is not on the card, which has no Other row",
            )
        return self._matched(
            user_id, self._fallback, region, cc, f"{note}; {region} is not listed by Meta: Other"
        )

    def rate_for(self, category: TemplateCategory | None, number: str) -> Decimal | None:
        """Rate for one delivered message to ``number``.

        Args:
            category: Template category, or ``None`` for a service (free-form) message,
                which is priced at the utility rate.
            number: The member's phone number or ``wa_id``.

        Returns:
            The list rate, or ``None`` if unknown.
        """
        return self.match(number).rate(category)

    def _longest_prefix(self, digits: str) -> tuple[str, tuple[RateRow, ...]]:
        for length in range(min(len(digits), self._max_prefix), 0, -1):
            rows = self._by_prefix.get(digits[:length])
            if rows:
                return digits[:length], rows
        return "", ()

    @staticmethod
    def _matched(
        number: str, row: RateRow, region: str | None, code: str, note: str | None
    ) -> MarketMatch:
        return MarketMatch(
            number=number,
            market=row.market,
            country_iso2=region or (None if row.is_fallback else row.country_iso2),
            calling_code=code,
            marketing=row.marketing,
            utility=row.utility,
            authentication=row.authentication,
            effective_date=row.effective_date,
            note=note,
        )

    def __repr__(self) -> str:
        return f"RateCard(source={self.source!r}, rows={len(self.rows)})"


def _normalise(number: str) -> str:
    cleaned = "".join(ch for ch in number if ch not in " \t.-()/")
    return cleaned if cleaned.startswith("+") else "+" + cleaned


def _region(parsed: phonenumbers.PhoneNumber, country_code: int, valid: bool) -> str | None:
    if valid:
        region = phonenumbers.region_code_for_number(parsed)
        if region and region != "001":
            return str(region)
        return None
    candidates = phonenumbers.region_codes_for_country_code(country_code)
    if len(candidates) == 1 and candidates[0] != "001":
        return str(candidates[0])
    return None


def _pick(rows: tuple[RateRow, ...], region: str | None) -> RateRow:
    for row in rows:
        if row.country_iso2 == region:
            return row
    return rows[0]


def _decimal(cell: str, column: str, where: str) -> Decimal | None:
    cell = cell.strip()
    if not cell:
        return None
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise RateCardError(f"{where}: {column} {cell!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise RateCardError(f"{where}: {column} {cell!r} is not a valid rate")
    return value


def _parse_row(raw: dict[str, str | None], source: str, line: int) -> RateRow:
    where = f"{source}:{line}"
    cells = {k: (raw.get(k) or "").strip() for k in _COLUMNS}
    iso2 = cells["country_iso2"].upper()
    if not iso2:
        raise RateCardError(f"{where}: country_iso2 is empty")
    codes: tuple[str, ...]
    if iso2 == "*" or cells["calling_code"] == "*":
        codes = ()
        iso2 = "*"
    else:
        codes = tuple(c.strip().lstrip("+") for c in cells["calling_code"].split(";") if c.strip())
        if not codes or not all(c.isdigit() for c in codes):
            raise RateCardError(f"{where}: bad calling_code {cells['calling_code']!r}")
    try:
        effective = date.fromisoformat(cells["effective_date"])
    except ValueError:
        raise RateCardError(f"{where}: bad effective_date {cells['effective_date']!r}") from None
    return RateRow(
        market=cells["market"],
        country_iso2=iso2,
        calling_codes=codes,
        marketing=_decimal(cells["marketing_usd"], "marketing_usd", where),
        utility=_decimal(cells["utility_usd"], "utility_usd", where),
        authentication=_decimal(cells["authentication_usd"], "authentication_usd", where),
        effective_date=effective,
        source_url=cells["source_url"],
    )


@functools.cache
def _default_card() -> RateCard:
    resource = resources.files("groups_tui").joinpath("data", "rates.csv")
    return RateCard.parse(resource.read_text(encoding="utf-8"), source="groups_tui/data/rates.csv")


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Charging rules in force from a date until the next rule set.

    Marketing is charged and authentication refused under every rule set, so only what
    changes is data here.

    Attributes:
        effective_from: First day the rules apply.
        utility_in_window_charged: Whether a utility template sent while the group window
            is open is charged.
        service_monthly_allowance: Free service deliveries per business number per
            calendar month; ``None`` means service messages are free without limit.
        source: Where the rules come from.
    """

    effective_from: date
    utility_in_window_charged: bool
    service_monthly_allowance: int | None
    source: str


RULE_SETS: Final[tuple[RuleSet, ...]] = (
    RuleSet(
        effective_from=date(2025, 7, 1),
        utility_in_window_charged=False,
        service_monthly_allowance=None,
        source="Groups API pricing, per-message pricing (cloud-api-groups.md 6.1)",
    ),
    RuleSet(
        effective_from=date(2026, 10, 1),
        utility_in_window_charged=True,
        service_monthly_allowance=1_000,
        source="Meta pricing update of 2026-10-01 (pricing.md 3-4, cloud-api-groups.md 6.2)",
    ),
)
"""Rule sets, oldest first. Dates before the first are priced by the first."""


def rule_sets(*, in_window_utility_charged: bool = True) -> tuple[RuleSet, ...]:
    """The rule table, optionally with in-window utility kept free after 2026-10-01.

    Meta's own pages conflict on the 2026-10-01 utility change (pricing.md section 3);
    this builds the table for a user setting that sides with the other reading.

    Args:
        in_window_utility_charged: ``False`` to keep utility free inside the window in
            every rule set.

    Returns:
        A rule table for :func:`charging_rule` and :func:`preview_cost`.
    """
    if in_window_utility_charged:
        return RULE_SETS
    return tuple(dataclasses.replace(r, utility_in_window_charged=False) for r in RULE_SETS)


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


_AUTH_REFUSAL: Final = Refusal(
    "authentication_template",
    "Authentication templates cannot be sent to WhatsApp groups",
    131051,
)


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
    """

    charged: bool
    rate_category: TemplateCategory | None
    label: str
    pricing_type: str
    uses_allowance: bool = False


def charging_rule(
    category: TemplateCategory | None,
    on: date,
    *,
    window_open: bool,
    service_free_left: int,
    rules: Sequence[RuleSet] = RULE_SETS,
) -> ChargeRule:
    """The rule for one delivery.

    Args:
        category: Template category, or ``None`` for a service (free-form) message.
        on: The day of sending.
        window_open: Whether the group's 24-hour window is open.
        service_free_left: Free service deliveries left this month, counted before this
            one (ignored while no allowance applies).
        rules: Rule table, oldest first.

    Returns:
        The charge rule.

    Raises:
        PricingRefused: For authentication templates, which groups do not accept.
    """
    rule_set = rule_set_on(on, rules)
    if category is TemplateCategory.AUTHENTICATION:
        raise PricingRefused(_AUTH_REFUSAL)
    if category is TemplateCategory.MARKETING:
        return ChargeRule(True, category, "marketing: always charged", PRICING_TYPE_REGULAR)
    if category is TemplateCategory.UTILITY:
        if not window_open:
            return ChargeRule(
                True, category, "utility outside window: charged", PRICING_TYPE_REGULAR
            )
        if rule_set.utility_in_window_charged:
            label = f"utility inside window: charged from {rule_set.effective_from.isoformat()}"
            return ChargeRule(True, category, label, PRICING_TYPE_REGULAR)
        label = f"utility inside window: {_free_until(on, rules)}"
        return ChargeRule(False, None, label, PRICING_TYPE_FREE_GROUP)
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


# --------------------------------------------------------------------------- preview


class PreviewFlag(StrEnum):
    """Caveats a cost preview carries for the operator."""

    TOTAL_IS_LOWER_BOUND = "total_is_lower_bound"
    """At least one member's rate is unknown and left out of the total."""
    US_MARKETING_PAUSED = "us_marketing_paused"
    """Marketing to US numbers is reportedly not delivered (error 131049)."""
    IN_WINDOW_UTILITY_DISPUTED = "in_window_utility_disputed"
    """In-window utility is priced as charged; Meta's pages disagree."""
    SERVICE_ALLOWANCE_EXHAUSTED = "service_allowance_exhausted"
    """Some deliveries fall beyond the monthly free service allowance."""


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A current group member other than the business.

    Attributes:
        key: The member key (``user_id`` or ``wa_id``).
        wa_id: Phone-number id, which decides the market; ``None`` if only a user id
            is known, and the market is then the country a BSUID key names, if any.
        name: Display name.
    """

    key: str
    wa_id: str | None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CostLine:
    """Expected cost of delivering the message to one member.

    Attributes:
        member_key: The member key.
        name: Display name.
        wa_id: Phone-number id.
        country: ISO code of the member's country, if known.
        market: Market name, if known.
        rate: The market's rate for the category that would apply, if known.
        charged: Whether the delivery is charged.
        rule: The charge rule's label.
        amount: Expected charge: 0 when free, the rate when charged, ``None`` when the
            rate is unknown.
        note: Why the amount is unknown, or a caveat.
    """

    member_key: str
    name: str | None
    wa_id: str | None
    country: str | None
    market: str | None
    rate: Decimal | None
    charged: bool
    rule: str
    amount: Decimal | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CostPreview:
    """Expected cost of one group message, member by member.

    Attributes:
        total: Sum of the known amounts (USD). A lower bound when any line is unknown.
        lines: One line per member, in the order given.
        unknown: The lines whose amount is unknown (a subset of ``lines``).
        refusal: Set when the message cannot be sent at all; ``lines`` is then empty.
        rule_set_effective_from: Start date of the rule set used.
        service_free_left: Free service deliveries left this month after this message
            (assuming every member receives it); ``None`` while no allowance applies.
        flags: Caveats for the operator.
        category: The category priced (``None`` = service).
        on: The day priced.
    """

    total: Decimal
    lines: tuple[CostLine, ...]
    unknown: tuple[CostLine, ...]
    refusal: Refusal | None
    rule_set_effective_from: date
    service_free_left: int | None
    flags: frozenset[PreviewFlag]
    category: TemplateCategory | None
    on: date

    @property
    def total_is_lower_bound(self) -> bool:
        """True if some rates are unknown, so the real cost may be higher."""
        return PreviewFlag.TOTAL_IS_LOWER_BOUND in self.flags

    @property
    def charged_count(self) -> int:
        """Members whose delivery is charged."""
        return sum(1 for line in self.lines if line.charged)


_US_MARKETING_NOTE: Final = (
    "Meta reportedly holds back marketing to US numbers (error 131049); "
    "an undelivered message costs nothing"
)


def preview_cost(
    members: Sequence[MemberRef],
    category: TemplateCategory | None,
    on: date,
    *,
    window_open: bool,
    service_used_this_month: int,
    card: RateCard,
    rules: Sequence[RuleSet] = RULE_SETS,
) -> CostPreview:
    """Expected cost of sending one message to a group.

    Assumes every member receives the message; undelivered members cost nothing, so the
    real cost can only be lower (except for unknown rates). Free service deliveries are
    taken from the monthly allowance one member at a time, in the order given.

    Args:
        members: Current members other than the business.
        category: Template category, or ``None`` for a free-form (service) message.
        on: The day of sending.
        window_open: Whether the group's 24-hour window is open.
        service_used_this_month: Service deliveries already made this calendar month by
            the business number, 1:1 chats included.
        card: The rate card.
        rules: Rule table, oldest first.

    Returns:
        The preview; ``refusal`` is set (and no lines) for an authentication template,
        a free-form message with the window closed, or a group with no members.
    """
    rule_set = rule_set_on(on, rules)
    allowance = rule_set.service_monthly_allowance
    free_left = None if allowance is None else max(allowance - service_used_this_month, 0)

    refusal: Refusal | None = None
    if category is TemplateCategory.AUTHENTICATION:
        refusal = _AUTH_REFUSAL
    elif category is None and not window_open:
        refusal = Refusal(
            "window_closed",
            "Free-form messages need the group's 24-hour window to be open; send a template",
            131047,
        )
    elif not members:
        refusal = Refusal(
            "no_members", "A group whose only member is the business cannot be messaged", 131020
        )
    if refusal is not None:
        return CostPreview(
            total=Decimal(0),
            lines=(),
            unknown=(),
            refusal=refusal,
            rule_set_effective_from=rule_set.effective_from,
            service_free_left=free_left,
            flags=frozenset(),
            category=category,
            on=on,
        )

    flags: set[PreviewFlag] = set()
    lines: list[CostLine] = []
    left = free_left or 0
    for member in members:
        rule = charging_rule(
            category, on, window_open=window_open, service_free_left=left, rules=rules
        )
        if rule.uses_allowance:
            left -= 1
        lines.append(_line(member, rule, card, category, flags))
        if rule.charged and category is None:
            flags.add(PreviewFlag.SERVICE_ALLOWANCE_EXHAUSTED)
        if rule.charged and category is TemplateCategory.UTILITY and window_open:
            flags.add(PreviewFlag.IN_WINDOW_UTILITY_DISPUTED)

    unknown = tuple(line for line in lines if line.amount is None)
    if unknown:
        flags.add(PreviewFlag.TOTAL_IS_LOWER_BOUND)
    total = sum((line.amount for line in lines if line.amount is not None), Decimal(0))
    return CostPreview(
        total=total,
        lines=tuple(lines),
        unknown=unknown,
        refusal=None,
        rule_set_effective_from=rule_set.effective_from,
        service_free_left=None if free_left is None else left,
        flags=frozenset(flags),
        category=category,
        on=on,
    )


def _line(
    member: MemberRef,
    rule: ChargeRule,
    card: RateCard,
    category: TemplateCategory | None,
    flags: set[PreviewFlag],
) -> CostLine:
    match = card.match_member(member.wa_id, member.key) or MarketMatch(
        "", None, None, None, reason="only a user id is known, so the country is unknown"
    )
    rate_category = rule.rate_category if rule.charged else category
    rate = match.rate(rate_category)
    note: str | None = None
    amount: Decimal | None
    if not rule.charged:
        amount = Decimal(0)
    elif rate is None:
        amount = None
        note = match.missing_reason(rule.rate_category)
    else:
        amount = rate
        note = match.note
    if category is TemplateCategory.MARKETING and match.country_iso2 == "US":
        flags.add(PreviewFlag.US_MARKETING_PAUSED)
        note = _US_MARKETING_NOTE
    return CostLine(
        member_key=member.key,
        name=member.name,
        wa_id=member.wa_id,
        country=match.country_iso2,
        market=match.market,
        rate=rate,
        charged=rule.charged,
        rule=rule.label,
        amount=amount,
        note=note,
    )


# --------------------------------------------------------------------------- actual cost

_WEBHOOK_CATEGORIES: Final[Mapping[str, TemplateCategory | None]] = MappingProxyType(
    {
        "marketing": TemplateCategory.MARKETING,
        "marketing_lite": TemplateCategory.MARKETING,
        "utility": TemplateCategory.UTILITY,
        "authentication": TemplateCategory.AUTHENTICATION,
        "service": None,
    }
)
_FREE_CATEGORIES: Final = frozenset({"referral_conversion"})


def actual_cost(
    category_from_webhook: str,
    pricing_type: str | None,
    billable: bool | None,
    wa_id: str | None,
    card: RateCard,
    *,
    subtype: str | None = None,
) -> Decimal | None:
    """Ledger amount for one status webhook ``pricing`` object (one member, one message).

    ``pricing.type`` decides: ``regular`` is charged, any ``free_*`` type is free. Only
    when the type is missing (some group samples omit it) does the deprecated
    ``billable`` flag decide. A charged amount is the member's list rate on ``card`` for
    the category (``group_`` prefix ignored; service at the utility rate).

    Args:
        category_from_webhook: ``pricing.category``, e.g. ``group_marketing``.
        pricing_type: ``pricing.type``, e.g. ``regular`` or ``free_group_customer_service``.
        billable: ``pricing.billable``, if present.
        wa_id: The member's phone-number id, or their business-scoped user id when no
            number is known (priced by the country it names).
        card: The rate card.
        subtype: ``pricing.subtype``; ``paid_exempt`` (government and non-profit
            exemption) is free.

    Returns:
        The amount, ``Decimal(0)`` when free, or ``None`` when the category, the market
        or the rate is unknown, or nothing says whether it is charged.
    """
    name = category_from_webhook.strip().lower().removeprefix("group_")
    kind = (pricing_type or "").strip().lower()
    if kind.startswith("free_") or name in _FREE_CATEGORIES:
        return Decimal(0)
    if (subtype or "").strip().lower() == "paid_exempt":
        return Decimal(0)
    if kind == PRICING_TYPE_REGULAR:
        charged = True
    elif not kind and billable is not None:
        charged = billable
    else:
        return None
    if not charged:
        return Decimal(0)
    if name not in _WEBHOOK_CATEGORIES or not wa_id:
        return None
    return card.rate_for(_WEBHOOK_CATEGORIES[name], wa_id)


def ledger_functions(
    card: RateCard,
) -> tuple[
    Callable[[str | None, str | None, bool | None, str | None], Decimal | None],
    Callable[[str | None], str | None],
]:
    """The store's pricing hooks for the cost ledger, bound to `card`.

    Returns:
        ``(cost_fn, market_fn)``: ``cost_fn(category, pricing_type, billable, wa_id)``
        gives the amount of one ledger line (``None`` when unknown) and
        ``market_fn(wa_id)`` the member's market name (``None`` when unknown).
    """

    # Each call parses a phone number; a busy listener sees the same members again and
    # again, and the card is fixed for the functions' lifetime, so both are memoised.
    @functools.lru_cache(maxsize=65_536)
    def cost_fn(
        category: str | None, pricing_type: str | None, billable: bool | None, wa_id: str | None
    ) -> Decimal | None:
        if not category:
            return None
        return actual_cost(category, pricing_type, billable, wa_id, card)

    @functools.lru_cache(maxsize=65_536)
    def market_fn(wa_id: str | None) -> str | None:
        if not wa_id:
            return None
        match = card.match(wa_id)
        return match.market if match.known else None

    return cost_fn, market_fn
