"""What a group message would cost, member by member, before it is sent."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group as RenderGroup
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from groups_tui.domain.pricing import CostPreview as Preview
from groups_tui.domain.pricing import Origin, PreviewFlag, rule_set_on
from groups_tui.ui.formatting import money
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["CostPreview", "describe_allowance"]

_FLAG_TEXT: dict[PreviewFlag, str] = {
    PreviewFlag.TOTAL_IS_LOWER_BOUND: "some rates are unknown: the total is a lower bound",
    PreviewFlag.US_MARKETING_PAUSED: (
        "marketing to US numbers is reportedly not delivered (error 131049)"
    ),
    PreviewFlag.SERVICE_ALLOWANCE_EXHAUSTED: (
        "the monthly free service allowance runs out with this message"
    ),
}


def describe_allowance(preview: Preview) -> str:
    """The monthly free service allowance in words, as of the preview's day.

    Args:
        preview: A computed preview.

    Returns:
        ``"free service allowance: 120 of 1,000 used this month"``, or a sentence saying
        no allowance applies yet.
    """
    allowance = rule_set_on(preview.on).service_monthly_allowance
    if allowance is None or preview.service_free_left is None:
        return "free service allowance: not in force on this date (service messages free)"
    # service_free_left is what remains *after* this message; count this message's
    # free deliveries back in to show what was used before it.
    free_here = (
        sum(1 for line in preview.lines if not line.charged) if preview.category is None else 0
    )
    used = allowance - preview.service_free_left - free_here
    return f"free service allowance: {max(used, 0):,} of {allowance:,} used this month"


class CostPreview(Widget):
    """A live cost preview: total, one line per member, flags and the allowance.

    Each member line shows the country, market, rate, the expected charge and the rule
    that applied (for example "utility inside window: charged from 2026-10-01"). Unknown
    rates are shown as unknown, never as zero. Where a rule Meta's pages disagree on
    priced the send, a line gives the range of totals and the readings with their
    sources, and each member's cost becomes a range; where what Meta charged recently
    settled it, the line says so ("as charged on 2026-12-03: free in window").
    """

    DEFAULT_CSS = """
    CostPreview {
        height: auto;
        padding: 0 1;
        &.-refused { color: $error; }
        &.-unknown { border-left: thick $warning; }
    }
    """

    preview: reactive[Preview | None] = reactive(None, layout=True)
    """The preview shown, ``None`` while it is being computed."""

    message: reactive[str] = reactive("Choose a template to see its cost.", layout=True)
    """What to show while there is no preview."""

    def watch_preview(self, preview: Preview | None) -> None:
        """Set the state classes for the new preview."""
        self.set_class(preview is not None and preview.refusal is not None, "-refused")
        self.set_class(preview is not None and bool(preview.unknown), "-unknown")

    def render(self) -> RenderableType:
        """The preview as a small table."""
        preview = self.preview
        if preview is None:
            return Text(self.message)
        if preview.refusal is not None:
            return safe(f"Cannot send: {preview.refusal.reason}")
        category = "service (free-form)" if preview.category is None else preview.category.value
        head = Text()
        head.append("Total ", style="bold")
        head.append(money(preview.total), style="bold")
        if preview.unknown:
            head.append(f" + {len(preview.unknown)} unknown", style="bold")
        head.append(
            f"  · {category} · {preview.charged_count}/{len(preview.lines)} charged"
            f" · rules of {preview.rule_set_effective_from.isoformat()}"
            f" · priced {preview.on.isoformat()}"
        )
        disputes: list[Text] = []
        for note in preview.disputes:
            why = Text()
            if note.origin is Origin.CONFIGURATION:
                unpriced = sum(1 for line in preview.lines if line.high is None)
                more = f" + {unpriced} unknown" if unpriced else ""
                why.append(
                    f"Range {money(preview.low_total)} – {money(preview.high_total)}{more}: ",
                    style="bold",
                )
            else:
                why.append("Calibrated: ", style="bold")
            why.append_text(safe(note.reason))
            disputes.append(why)
        shared_rule = len({line.rule for line in preview.lines}) == 1
        any_note = any(line.note for line in preview.lines)
        table = Table(box=None, expand=True, show_edge=False, pad_edge=False, padding=(0, 1))
        table.add_column("Member", ratio=2, no_wrap=True)
        table.add_column("Market", ratio=2, no_wrap=True)
        table.add_column("Rate", width=7, justify="right", no_wrap=True)
        ranged = preview.is_range
        cost_width = 9 if ranged else 7
        table.add_column("Cost", width=cost_width, justify="right", no_wrap=True)
        if not shared_rule:
            table.add_column("Rule", ratio=4)
        if any_note:
            table.add_column("Note", ratio=4)
        for line in preview.lines:
            who = line.name or line.wa_id or line.member_key
            market = Text(line.country or "??", style="bold")
            market.append(" ").append_text(safe(fit(line.market or "unknown market", 30)))
            cells: list[Text | str] = [
                safe(fit(who, 30)),
                market,
                money(line.rate).removeprefix("$") if line.rate is not None else "unknown",
                _cost_cell(line.amount, line.low, line.high, ranged),
            ]
            if not shared_rule:
                cells.append(safe(line.rule))
            if any_note:
                cells.append(safe(line.note or ""))
            table.add_row(*cells)
        parts: list[RenderableType] = [head, *disputes]
        if shared_rule and preview.lines:
            rule = Text("Rule: ", style="bold")
            rule.append_text(safe(preview.lines[0].rule))
            parts.append(rule)
        parts.append(table)
        notes = [Text(describe_allowance(preview), style="italic")]
        notes.extend(
            Text(f"⚠ {_FLAG_TEXT[flag]}") for flag in sorted(preview.flags) if flag in _FLAG_TEXT
        )
        return RenderGroup(*parts, *notes)


def _cost_cell(
    amount: Decimal | None, low: Decimal | None, high: Decimal | None, ranged: bool
) -> Text:
    """A member's cost: the amount, or ``0–0.0625`` when a disputed rule spans it."""
    if ranged and low != high:
        text = f"{_short(low)}–{_short(high)}"
        return Text(text, style="bold reverse" if high is None else "")
    return Text(money(amount).removeprefix("$"), style="bold reverse" if amount is None else "")


def _short(value: Decimal | None) -> str:
    if value is None:
        return "?"
    return "0" if value == 0 else money(value).removeprefix("$")
