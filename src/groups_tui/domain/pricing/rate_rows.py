"""The rate card's rows, and the CSV file they are read from.

Money is :class:`~decimal.Decimal` in USD per delivered message; an empty cell is an
unknown rate (``None``), never 0.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from groups_tui.domain.models import TemplateCategory

__all__ = ["COLUMNS", "RateCardError", "RateRow", "category_name", "rate_for_category", "read_rows"]

COLUMNS: Final = (
    "market",
    "country_iso2",
    "calling_code",
    "marketing_usd",
    "utility_usd",
    "authentication_usd",
    "effective_date",
    "source_url",
)
"""The columns a rate-card CSV must have (others are ignored)."""


class RateCardError(ValueError):
    """The rate-card CSV is malformed."""


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
        return rate_for_category(category, self.marketing, self.utility, self.authentication)


def rate_for_category(
    category: TemplateCategory | None,
    marketing: Decimal | None,
    utility: Decimal | None,
    authentication: Decimal | None,
) -> Decimal | None:
    """The rate of ``category``; ``None`` (service) uses the utility rate, as Meta does."""
    if category is TemplateCategory.MARKETING:
        return marketing
    if category is TemplateCategory.AUTHENTICATION:
        return authentication
    return utility


def category_name(category: TemplateCategory | None) -> str:
    """The category in words; ``None`` is ``"service"``."""
    return "service" if category is None else category.value


def read_rows(text: str, source: str) -> list[RateRow]:
    """Read the rows of a rate-card CSV (see :meth:`~.rate_card.RateCard.parse`).

    Args:
        text: The CSV contents.
        source: Name used in error messages.

    Returns:
        The rows, in file order.

    Raises:
        RateCardError: On a missing column, a bad number, code or date.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise RateCardError(f"{source}: missing column(s) {', '.join(missing)}")
    return [_parse_row(raw, source, reader.line_num) for raw in reader]


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
    cells = {k: (raw.get(k) or "").strip() for k in COLUMNS}
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
