"""The one-line header: account, listener health, pricing evidence and spend today.

With several business numbers it names how many, and shows today's spend in total and,
where there is room, number by number, with this month's free service allowance of
every number together (``$`` in the inbox details both per number).
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from groups_tui.domain.pricing import Evidence
from groups_tui.service.types import AccountInfo, ListenerStatus, Mode, NumberSpend
from groups_tui.ui.formatting import ago, money
from groups_tui.ui.widgets.safe_text import fit

__all__ = ["StatusHeader"]


class StatusHeader(Widget):
    """Account number with LIVE or SANDBOX, listener state, open moderation flags and
    today's spend.

    The listener part says whether webhooks arrive in this process or whether we follow a
    separate ``groups-tui listen`` through the change feed, how old the newest webhook is,
    how many deliveries were refused for a bad signature and, when there are any, how
    many stored webhook events could not be applied. The age is recomputed on every app
    tick from the injected clock. When what Meta charged recently contradicts a disputed
    charging rule as configured, it says so (``groups-tui cost --explain`` tells more).
    """

    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        &.-sandbox { background: $warning 30%; }
        &.-refused { color: $error; }
        &.-failed { color: $error; }
        &.-contradicted { color: $warning; }
    }
    """

    account: reactive[AccountInfo | None] = reactive(None)
    """The business number and mode."""

    listener: reactive[ListenerStatus | None] = reactive(None)
    """Listener state, ``None`` until first loaded."""

    spend_today: reactive[Decimal | None] = reactive(None)
    """Sum of the cost ledger since local midnight."""

    now: reactive[int] = reactive(0)
    """Current epoch seconds from the app clock."""

    note: reactive[str | None] = reactive(None)
    """An extra plain notice, e.g. "SANDBOX — simulated users"."""

    open_flags: reactive[int] = reactive(0)
    """Open moderation flags (``M`` opens the queue)."""

    contradictions: reactive[tuple[Evidence, ...]] = reactive(())
    """What Meta charged that contradicts the configured reading of a disputed rule."""

    by_number: reactive[tuple[NumberSpend, ...]] = reactive(())
    """Today's spend and the month's allowance of each number (several numbers only)."""

    def tick(self, now: float) -> None:
        """Advance the clock, repainting only when the webhook age label changes."""
        listener = self.listener
        last = listener.last_event_at if listener is not None else None
        if ago(last, now) != ago(last, self.now):
            self.now = int(now)
        else:
            self.set_reactive(StatusHeader.now, int(now))

    def watch_account(self, account: AccountInfo | None) -> None:
        """Mark sandbox mode."""
        self.set_class(account is not None and account.mode is Mode.SANDBOX, "-sandbox")

    def watch_listener(self, listener: ListenerStatus | None) -> None:
        """Mark refused signatures and events that could not be applied."""
        self.set_class(listener is not None and listener.signatures_refused > 0, "-refused")
        self.set_class(listener is not None and listener.failed_events > 0, "-failed")

    def watch_contradictions(self, contradictions: tuple[Evidence, ...]) -> None:
        """Mark evidence that contradicts the pricing configuration."""
        self.set_class(bool(contradictions), "-contradicted")

    def render(self) -> Text:
        """The header line: the wide wording if it fits, else the short one; the failed
        events count and the spend at the end are never cut (the listener part gives
        way first)."""
        width = self.size.width
        # (narrow wording, spend number by number): each number's spend gives way last.
        levels: tuple[tuple[bool, bool], ...] = (
            (False, True),
            (True, True),
            (False, False),
            (True, False),
        )
        if len(self.by_number) < 2:
            levels = ((False, False), (True, False))
        for narrow, breakdown in levels:
            left, right = self._parts(narrow, breakdown)
            # In the short wording, each number's spend may cut the listener details
            # (down to _MIN_LEFT cells).
            needed = min(left.cell_len, _MIN_LEFT) if breakdown and narrow else left.cell_len
            if needed + right.cell_len <= width:
                break
        left.truncate(max(width - right.cell_len, 0), overflow="ellipsis")
        left.append_text(right)
        return left

    def _parts(self, narrow: bool, breakdown: bool = False) -> tuple[Text, Text]:
        """The account and listener part, and the failed-events and spend part."""
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        account = self.account
        numbers = self.by_number
        if account is None:
            text.append(" …")
        else:
            shown = f"{len(numbers)} numbers" if len(numbers) > 1 else account.display_phone_number
            text.append(" " + fit(shown, 20) + " ")
            # The sandbox note already names the mode; on a wide screen it replaces it.
            label = self.note if self.note and not narrow else account.mode.value
            text.append(fit(label, 40), style="bold reverse")
        text.append(" │ ")
        listener = self.listener
        if listener is None:
            text.append("listener …")
        else:
            mode = {"in-process": "listener in-process", "following": "following listener"}
            if narrow:
                mode = {"in-process": "in-process", "following": "following"}
            text.append(mode.get(listener.mode, "no listener"))
            if listener.last_event_at is not None:
                text.append(f" · webhook {ago(listener.last_event_at, self.now)}")
            else:
                text.append(" · no webhook yet")
            refused = listener.signatures_refused
            text.append(f" · {refused} refused", style="bold" if refused else "")
        spend = money(self.spend_today) if self.spend_today is not None else "…"
        right = Text(end="")
        failed = listener.failed_events if listener is not None else 0
        if failed:
            # Shown only when there are some (`groups-tui events list --failed` lists
            # them), and never cut: the listener details give way first.
            right.append(" │ ")
            right.append(f"{failed} failed", style="bold")
        if self.open_flags:
            # Never cut: someone may be spamming a group right now (M opens the queue).
            right.append(" │ ")
            n = self.open_flags
            right.append(f"{n} flag{'s' if n != 1 else ''}", style="bold")
        if self.contradictions:
            # Never cut either: a preview that no longer follows the configuration.
            right.append(" │ ")
            right.append(_contradiction(self.contradictions, narrow), style="bold")
        if len(numbers) > 1:
            right.append_text(_numbers_spend(numbers, spend, narrow, breakdown))
            return text, right
        right.append(f" │ {spend} today" if narrow else f" │ today {spend}")
        return text, right


_MIN_LEFT = 36
"""Cells the account and listener keep when each number's spend is shown beside them."""


def _numbers_spend(
    numbers: tuple[NumberSpend, ...], total: str, narrow: bool, breakdown: bool
) -> Text:
    """Spend today in total (and number by number), and the allowance used of all."""
    out = Text(end="")
    if narrow:
        out.append(f" │ {total} today")
    else:
        out.append(f" │ today {total}")
    if breakdown:
        out.append(" (" + " · ".join(f"{fit(n.label, 8)} {money(n.today)}" for n in numbers) + ")")
    allowance = numbers[0].allowance
    if allowance is not None:
        used = sum(n.service_used for n in numbers)
        free = f"{used:,}/{allowance * len(numbers):,}"
        out.append(f" │ svc {free}" if narrow else f" │ free service {free}")
    return out


def _contradiction(evidence: tuple[Evidence, ...], narrow: bool) -> str:
    """``"⚠ Meta: marketing in window free"`` (narrow) or, wide, with the configuration."""
    if len(evidence) > 1:
        return f"⚠ Meta: {len(evidence)} pricing rules" + ("" if narrow else " differ from config")
    e = evidence[0]
    observed = "charged" if e.observed_charged else "free"
    configured = "charged" if e.configured_charged else "free"
    head = f"⚠ Meta: {e.rule.category.value} in window {observed}"
    return head if narrow else f"{head}, config {configured}"
