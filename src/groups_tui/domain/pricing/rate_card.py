"""The rate card: Meta's per-message rates by market, and the market of a member's number."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from groups_tui.domain.identity import bsuid_country, is_bsuid
from groups_tui.domain.models import TemplateCategory

from .rate_rows import RateCardError, RateRow, category_name, rate_for_category, read_rows

if TYPE_CHECKING:
    import phonenumbers

# ``phonenumbers`` (~10 ms) is imported by the lookups that use it: loading and checking
# a card, as every start does, does not.

__all__ = ["UNPRICED_REGIONS", "MarketMatch", "RateCard"]

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
        return rate_for_category(category, self.marketing, self.utility, self.authentication)

    def missing_reason(self, category: TemplateCategory | None) -> str | None:
        """Why :meth:`rate` is ``None`` for ``category``, or ``None`` if it is known."""
        if self.market is None:
            return self.reason
        if self.rate(category) is not None:
            return None
        where = self.market if self.country_iso2 is None else f"{self.market} ({self.country_iso2})"
        return (
            f"the rate card has no {category_name(category)} rate for {where}: "
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
        return cls(read_rows(text, source), source=source)

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
        import phonenumbers

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
        import phonenumbers

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
    import phonenumbers

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


@functools.cache
def _default_card() -> RateCard:
    resource = resources.files("groups_tui").joinpath("data", "rates.csv")
    return RateCard.parse(resource.read_text(encoding="utf-8"), source="groups_tui/data/rates.csv")
