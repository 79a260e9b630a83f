"""What a delivered group message actually cost: the ledger amount of a status webhook."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from groups_tui.domain.models import TemplateCategory

from .rate_card import RateCard
from .rules import PRICING_TYPE_REGULAR

__all__ = ["actual_cost", "charged_per_webhook", "ledger_functions", "webhook_template_category"]

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


def charged_per_webhook(pricing_type: str | None, billable: bool | None) -> bool | None:
    """Whether a status webhook's ``pricing`` says the delivery was charged.

    ``pricing.type`` decides: ``regular`` is charged, any ``free_*`` type is free. Only
    when the type is missing (some group samples omit it) does the deprecated
    ``billable`` flag decide.

    Returns:
        ``True`` charged, ``False`` free, ``None`` when nothing says (or the type is one
        this version does not know).
    """
    kind = (pricing_type or "").strip().lower()
    if kind.startswith("free_"):
        return False
    if kind == PRICING_TYPE_REGULAR:
        return True
    if not kind and billable is not None:
        return billable
    return None


def webhook_template_category(category_from_webhook: str | None) -> TemplateCategory | None:
    """The template category a ``pricing.category`` names (``group_`` prefix ignored).

    Returns:
        Marketing, utility or authentication; ``None`` for service, a category this
        version does not know, or none at all.
    """
    name = (category_from_webhook or "").strip().lower().removeprefix("group_")
    return _WEBHOOK_CATEGORIES.get(name)


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
    charged = charged_per_webhook(pricing_type, billable)
    if charged is False or name in _FREE_CATEGORIES:
        return Decimal(0)
    if (subtype or "").strip().lower() == "paid_exempt":
        return Decimal(0)
    if charged is None:
        return None
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
