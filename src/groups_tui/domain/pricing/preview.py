"""Expected cost of one group message, member by member, with the caveats of the total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from groups_tui.domain.models import TemplateCategory
from groups_tui.domain.sending import Refusal

from .calibration import Calibration, Evidence, Origin
from .disputes import Dispute, DisputedRule, Reading
from .rate_card import MarketMatch, RateCard
from .rules import AUTH_REFUSAL, RULE_SETS, ChargeRule, RuleSet, charging_rule, rule_set_on

__all__ = ["CostLine", "CostPreview", "DisputeNote", "MemberRef", "PreviewFlag", "preview_cost"]


class PreviewFlag(StrEnum):
    """Caveats a cost preview carries for the operator."""

    TOTAL_IS_LOWER_BOUND = "total_is_lower_bound"
    """At least one member's rate is unknown and left out of the total."""
    US_MARKETING_PAUSED = "us_marketing_paused"
    """Marketing to US numbers is reportedly not delivered (error 131049)."""
    IN_WINDOW_UTILITY_DISPUTED = "in_window_utility_disputed"
    """In-window utility is priced by the configured reading; Meta's pages disagree and no
    evidence settles it, so the preview is a range."""
    MARKETING_IN_WINDOW_DISPUTED = "marketing_in_window_disputed"
    """In-window marketing is priced by the configured reading; Meta's pages disagree and
    no evidence settles it, so the preview is a range."""
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
        low: The lowest charge any reading of a disputed rule gives (``amount`` when
            nothing is disputed); ``None`` when unknown.
        high: The highest such charge; ``None`` when unknown.
        origin: Whether the rule applied comes from the configuration or from evidence.
        source: Where the rule applied is written (or what Meta charged).
        source_url: The source's address, when it has one.
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
    low: Decimal | None
    high: Decimal | None
    origin: Origin
    source: str
    source_url: str | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DisputeNote:
    """A disputed rule that priced deliveries of a preview, and how it was settled.

    Attributes:
        dispute: The rule and every reading with its source.
        applied: The reading the preview applied.
        origin: ``configuration`` (no evidence settles it: the preview is a range) or
            ``evidence`` (Meta's recent charges settle it).
        evidence: The cost ledger's evidence on the rule, when it was weighed.
    """

    dispute: Dispute
    applied: Reading
    origin: Origin
    evidence: Evidence | None = None

    @property
    def reason(self) -> str:
        """Why the figure is what it is: the dispute in one sentence, or, when evidence
        settles it, ``"as charged on 2026-12-03: free in window"``."""
        if self.origin is Origin.EVIDENCE and self.evidence is not None:
            settled = self.evidence.as_charged()
            if settled is not None:
                return settled
        return self.dispute.summary()


@dataclass(frozen=True, slots=True)
class CostPreview:
    """Expected cost of one group message, member by member.

    Attributes:
        total: Sum of the known amounts (USD). A lower bound when any line is unknown.
        low_total: Sum of the known lowest amounts: what the preview costs if every
            disputed rule not settled by evidence goes the cheap way.
        high_total: Sum of the known highest amounts (the other way).
        disputes: The disputed rules that priced some deliveries, and how each was
            settled.
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
    low_total: Decimal
    high_total: Decimal
    disputes: tuple[DisputeNote, ...]

    @property
    def is_range(self) -> bool:
        """True when a disputed rule no evidence settles priced some deliveries."""
        return any(note.origin is Origin.CONFIGURATION for note in self.disputes)

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
    calibration: Calibration | None = None,
) -> CostPreview:
    """Expected cost of sending one message to a group.

    Assumes every member receives the message; undelivered members cost nothing, so the
    real cost can only be lower (except for unknown rates). Free service deliveries are
    taken from the monthly allowance one member at a time, in the order given.

    A delivery under a disputed rule (:mod:`.disputes`) is priced by the reading the
    evidence settles (``calibration``), else by the configured one; in the latter case
    its line's ``low`` and ``high`` span every reading, and so do ``low_total`` and
    ``high_total``.

    Args:
        members: Current members other than the business.
        category: Template category, or ``None`` for a free-form (service) message.
        on: The day of sending.
        window_open: Whether the group's 24-hour window is open.
        service_used_this_month: Service deliveries already made this calendar month by
            the business number, 1:1 chats included.
        card: The rate card.
        rules: Rule table, oldest first.
        calibration: What Meta charged recently for disputed rules (:func:`.calibrate`);
            used only when it was weighed for the rule set in force on ``on``.

    Returns:
        The preview; ``refusal`` is set (and no lines) for an authentication template,
        a free-form message with the window closed, or a group with no members.
    """
    rule_set = rule_set_on(on, rules)
    if calibration is not None and calibration.rule_set_from != rule_set.effective_from:
        calibration = None
    decided = calibration.decided() if calibration is not None else {}
    allowance = rule_set.service_monthly_allowance
    free_left = None if allowance is None else max(allowance - service_used_this_month, 0)

    refusal: Refusal | None = None
    if category is TemplateCategory.AUTHENTICATION:
        refusal = AUTH_REFUSAL
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
            low_total=Decimal(0),
            high_total=Decimal(0),
            disputes=(),
        )

    flags: set[PreviewFlag] = set()
    lines: list[CostLine] = []
    notes: dict[DisputedRule, DisputeNote] = {}
    left = free_left or 0
    for member in members:
        rule = charging_rule(
            category,
            on,
            window_open=window_open,
            service_free_left=left,
            rules=rules,
            decided=decided,
        )
        if rule.uses_allowance:
            left -= 1
        note: DisputeNote | None = None
        if rule.disputed is not None:
            note = notes.get(rule.disputed) or _dispute_note(
                rule_set, rule.disputed, rule.charged, decided, calibration
            )
            notes[rule.disputed] = note
            if note.origin is Origin.CONFIGURATION:
                flags.add(_DISPUTE_FLAGS[rule.disputed])
        lines.append(_line(member, rule, card, category, flags, rule_set, note))
        if rule.charged and category is None:
            flags.add(PreviewFlag.SERVICE_ALLOWANCE_EXHAUSTED)

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
        low_total=sum((ln.low for ln in lines if ln.low is not None), Decimal(0)),
        high_total=sum((ln.high for ln in lines if ln.high is not None), Decimal(0)),
        disputes=tuple(notes.values()),
    )


_DISPUTE_FLAGS: Final[dict[DisputedRule, PreviewFlag]] = {
    DisputedRule.MARKETING_IN_WINDOW: PreviewFlag.MARKETING_IN_WINDOW_DISPUTED,
    DisputedRule.UTILITY_IN_WINDOW: PreviewFlag.IN_WINDOW_UTILITY_DISPUTED,
}


def _dispute_note(
    rule_set: RuleSet,
    rule: DisputedRule,
    charged: bool,
    decided: dict[DisputedRule, bool],
    calibration: Calibration | None,
) -> DisputeNote:
    dispute = rule_set.dispute(rule)
    assert dispute is not None  # charging_rule names only rules the set disputes
    return DisputeNote(
        dispute=dispute,
        applied=dispute.reading(charged),
        origin=Origin.EVIDENCE if rule in decided else Origin.CONFIGURATION,
        evidence=calibration.for_rule(rule) if calibration is not None else None,
    )


def _source(rule_set: RuleSet, note: DisputeNote | None) -> tuple[str, str | None]:
    """Where the rule applied to a line is written, and its address."""
    if note is None:
        return rule_set.source, None
    if note.origin is Origin.EVIDENCE and note.evidence is not None:
        return f"Meta's status webhooks: {note.evidence.tally()}", None
    return note.applied.source.cite(), note.applied.source.url


def _line(
    member: MemberRef,
    rule: ChargeRule,
    card: RateCard,
    category: TemplateCategory | None,
    flags: set[PreviewFlag],
    rule_set: RuleSet,
    dispute: DisputeNote | None,
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
    low = high = amount
    if dispute is not None and dispute.origin is Origin.CONFIGURATION:
        # Every reading of the rule: free (0) one way, the category's rate the other.
        low, high = Decimal(0), rate
    source, source_url = _source(rule_set, dispute)
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
        low=low,
        high=high,
        origin=Origin.EVIDENCE
        if dispute is not None and dispute.origin is Origin.EVIDENCE
        else Origin.CONFIGURATION,
        source=source,
        source_url=source_url,
        note=note,
    )
