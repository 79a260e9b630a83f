"""A cost preview explained: member by member, the rule applied, its source and origin.

What ``groups-tui cost --explain`` prints (plain or ``--json``): for each member the
market, the rate, the rule applied, where that rule is written and whether it comes from
the configuration or from what Meta charged (evidence); the range totals; each disputed
rule with its readings; and the ledger's evidence on every disputed rule in force,
including evidence that contradicts the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from groups_tui.domain.models import TemplateCategory

from .calibration import Calibration, Evidence, Origin
from .disputes import DisputedRule, Reading
from .preview import CostPreview, DisputeNote

__all__ = [
    "CostExplanation",
    "DisputeExplanation",
    "EvidenceExplanation",
    "MemberCharge",
    "explain_cost",
]


def _outcome(charged: bool | None) -> str | None:
    return None if charged is None else ("charged" if charged else "free")


@dataclass(frozen=True, slots=True)
class MemberCharge:
    """One member's expected charge and why.

    Attributes:
        member: The member key.
        name: Display name.
        wa_id: Phone-number id.
        country: ISO code of the member's country, if known.
        market: Market name, if known.
        rate: The market's rate for the category, if known.
        amount: Expected charge (``None`` when unknown).
        low: Lowest charge over the readings of a disputed rule.
        high: Highest such charge.
        rule: The rule applied.
        source: Where that rule is written (or what Meta charged).
        source_url: The source's address, when it has one.
        origin: ``configuration`` or ``evidence``.
        note: A caveat, or why the amount is unknown.
    """

    member: str
    name: str | None
    wa_id: str | None
    country: str | None
    market: str | None
    rate: Decimal | None
    amount: Decimal | None
    low: Decimal | None
    high: Decimal | None
    rule: str
    source: str
    source_url: str | None
    origin: Origin
    note: str | None


@dataclass(frozen=True, slots=True)
class DisputeExplanation:
    """A disputed rule that priced this send.

    Attributes:
        rule: Which rule.
        question: The rule in words.
        readings: Every reading with its source and date.
        applied: The reading applied: ``free`` or ``charged``.
        origin: ``configuration`` (the figure is a range) or ``evidence``.
        reason: The dispute in one sentence, or what Meta charged.
    """

    rule: DisputedRule
    question: str
    readings: tuple[Reading, ...]
    applied: str
    origin: Origin
    reason: str


@dataclass(frozen=True, slots=True)
class EvidenceExplanation:
    """The cost ledger's evidence on one disputed rule in force today.

    Attributes:
        rule: Which rule.
        since: The first day counted.
        free: Deliveries Meta did not charge.
        charged: Deliveries Meta charged.
        evidence_min: Deliveries priced one way that settle the rule.
        configured: The configured reading: ``free`` or ``charged``.
        observed: What the evidence settles (``None``: not settled).
        observed_on: The latest day a delivery was priced that way.
        contradicts: True when it settles the rule against the configuration.
        summary: All of it in one sentence.
    """

    rule: DisputedRule
    since: date
    free: int
    charged: int
    evidence_min: int
    configured: str
    observed: str | None
    observed_on: date | None
    contradicts: bool
    summary: str

    @classmethod
    def of(cls, e: Evidence) -> EvidenceExplanation:
        """The explanation of one piece of evidence."""
        return cls(
            rule=e.rule,
            since=e.since,
            free=e.free,
            charged=e.charged,
            evidence_min=e.evidence_min,
            configured="charged" if e.configured_charged else "free",
            observed=_outcome(e.observed_charged),
            observed_on=e.observed_on,
            contradicts=e.contradicts,
            summary=e.describe(),
        )


@dataclass(frozen=True, slots=True)
class CostExplanation:
    """A cost preview explained (``groups-tui cost --explain``).

    Attributes:
        category: The category priced (``None`` = service).
        on: The day priced.
        rule_set_from: Start date of the rule set used.
        total: Expected total (known amounts).
        low_total: Lowest total over the readings of unsettled disputed rules.
        high_total: Highest such total.
        is_range: True when an unsettled disputed rule priced some deliveries.
        total_is_lower_bound: True when some rates are unknown.
        members: One entry per member.
        disputes: The disputed rules that priced this send.
        evidence: The ledger's evidence on every disputed rule in force.
        contradictions: Evidence that contradicts the configuration, in words.
    """

    category: TemplateCategory | None
    on: date
    rule_set_from: date
    total: Decimal
    low_total: Decimal
    high_total: Decimal
    is_range: bool
    total_is_lower_bound: bool
    members: tuple[MemberCharge, ...]
    disputes: tuple[DisputeExplanation, ...]
    evidence: tuple[EvidenceExplanation, ...]
    contradictions: tuple[str, ...]

    def text(self) -> str:
        """The explanation as tab-separated plain lines (untrusted names included:
        print it through the terminal-safe output)."""
        out: list[str] = []
        for m in self.members:
            rate = "unknown" if m.rate is None else str(m.rate)
            amount = "unknown" if m.amount is None else str(m.amount)
            spread = "" if m.low == m.high else f" ({_money(m.low)} – {_money(m.high)})"
            out.append(
                f"{m.name or m.member}\t{m.country or '?'}\t{m.market or '?'}\trate {rate}\t"
                f"cost {amount}{spread}\t{m.rule}\t{m.origin.value}: {m.source}"
                + (f"\t({m.note})" if m.note else "")
            )
        total = f"total: {self.total} USD"
        if self.is_range:
            total += f" (range {self.low_total} – {self.high_total} USD)"
        if self.total_is_lower_bound:
            total += " (lower bound: some rates unknown)"
        out.append(total)
        for d in self.disputes:
            out.append(f"disputed ({d.origin.value}, applied {d.applied}): {d.reason}")
        for e in self.evidence:
            out.append(f"evidence: {e.summary}")
        for c in self.contradictions:
            out.append(f"contradiction: {c}")
        return "\n".join(out)


def _money(value: Decimal | None) -> str:
    return "unknown" if value is None else str(value)


def _dispute(note: DisputeNote) -> DisputeExplanation:
    return DisputeExplanation(
        rule=note.dispute.rule,
        question=note.dispute.rule.question,
        readings=note.dispute.readings,
        applied="charged" if note.applied.charged else "free",
        origin=note.origin,
        reason=note.reason,
    )


def explain_cost(preview: CostPreview, calibration: Calibration | None) -> CostExplanation:
    """Explain a preview member by member, with the ledger's evidence.

    Args:
        preview: The preview (computed with ``calibration``).
        calibration: The evidence on the disputed rules in force, if weighed.

    Returns:
        The explanation.
    """
    evidence = calibration.evidence if calibration is not None else ()
    return CostExplanation(
        category=preview.category,
        on=preview.on,
        rule_set_from=preview.rule_set_effective_from,
        total=preview.total,
        low_total=preview.low_total,
        high_total=preview.high_total,
        is_range=preview.is_range,
        total_is_lower_bound=preview.total_is_lower_bound,
        members=tuple(
            MemberCharge(
                member=line.member_key,
                name=line.name,
                wa_id=line.wa_id,
                country=line.country,
                market=line.market,
                rate=line.rate,
                amount=line.amount,
                low=line.low,
                high=line.high,
                rule=line.rule,
                source=line.source,
                source_url=line.source_url,
                origin=line.origin,
                note=line.note,
            )
            for line in preview.lines
        ),
        disputes=tuple(_dispute(n) for n in preview.disputes),
        evidence=tuple(EvidenceExplanation.of(e) for e in evidence),
        contradictions=tuple(e.describe() for e in evidence if e.contradicts),
    )
