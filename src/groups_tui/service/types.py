"""Records the service hands to the UI, the CLI and the workers.

Plain frozen dataclasses: the UI keeps thousands of them in memory, so they stay small.
A record the store already returns in the shape callers need (an inbox row, an outbox
item, a search hit, a flag...) is not copied into a second class: it is defined once in
:mod:`groups_tui.store.records` and named here, so callers of the service import every
record from this module and never from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from groups_tui.domain.models import (
    DeliveryState,
    DeliverySummary,
    Group,
    JoinRequest,
    Message,
    Participant,
)
from groups_tui.domain.timeline import TimelineEvent
from groups_tui.domain.window import WindowState
from groups_tui.store.groups import InboxCursor
from groups_tui.store.inbox_table import FIELD_GROUPS, NO_TIME, RowsView, RowTable
from groups_tui.store.records import (
    PENDING_PREFIX,
    AuditEntry,
    BackupResult,
    Change,
    Contact,
    DatabaseCheck,
    FlaggedPerson,
    HistoryEntry,
    InboxRow,
    LedgerLine,
    OutboxItem,
    PendingOperation,
    RawEvent,
    SearchHit,
    SpendRow,
    StoredFlag,
)

if TYPE_CHECKING:
    from groups_tui.store.automations import (
        AnnounceRow,
        AutomationJob,
        AutomationRun,
        BulkInvite,
        BulkRow,
        ForwardItem,
        InviteFlowSend,
    )

__all__ = [
    "FIELD_GROUPS",
    "NO_TIME",
    "PENDING_PREFIX",
    "AccountInfo",
    "AnnounceRow",
    "AuditEntry",
    "AutomationJob",
    "AutomationRun",
    "AutomationSetup",
    "AutomationStatus",
    "BackupResult",
    "BulkInvite",
    "BulkRow",
    "Change",
    "ConfiguredRule",
    "ConfiguredTarget",
    "Contact",
    "DatabaseCheck",
    "DecisionResult",
    "FlaggedPerson",
    "ForwardItem",
    "GroupDetail",
    "HistoryEntry",
    "InboxCursor",
    "InboxRow",
    "InviteFlowSend",
    "InviteOutcome",
    "JoinRequestView",
    "KnownPerson",
    "LedgerLine",
    "ListenerStatus",
    "MemberRow",
    "MessagePage",
    "MessageView",
    "RecipientView",
    "Mode",
    "NumberSpend",
    "OutboxItem",
    "PendingOperation",
    "RawEvent",
    "RowTable",
    "RowsView",
    "RuleView",
    "SearchHit",
    "SpendReport",
    "SpendRow",
    "StoredFlag",
    "TargetView",
    "TimelineEvent",
]


class Mode(StrEnum):
    """Which backend the account talks to."""

    LIVE = "LIVE"
    SANDBOX = "SANDBOX"


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """The business number shown in the header."""

    display_phone_number: str
    phone_number_id: str
    mode: Mode


@dataclass(frozen=True, slots=True)
class NumberSpend:
    """What one business number spent today and used of its monthly allowance.

    Attributes:
        phone_number_id: The number.
        label: How people name it.
        today: Known spend since local midnight.
        unknown: Charges today whose amount is unknown (not in ``today``).
        service_used: Service deliveries this calendar month (each number has its own
            free allowance).
        allowance: The free service deliveries per number per month in force today
            (``None`` before the allowance exists: service messages are free).
    """

    phone_number_id: str
    label: str
    today: Decimal
    unknown: int
    service_used: int
    allowance: int | None


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    """How webhooks reach this process.

    Attributes:
        mode: ``"in-process"`` (the listener runs inside this app), ``"following"`` (a
            separate ``groups-tui listen`` writes the database and we follow its change
            feed) or ``"none"``.
        last_event_at: Epoch seconds of the newest stored webhook.
        events_stored: Raw webhooks stored.
        signatures_refused: Deliveries refused for a missing or wrong signature.
        url: Where the listener accepts webhooks, when known.
        failed_events: Webhook events stored but not applied (``events list --failed``).
    """

    mode: str
    last_event_at: float | None = None
    events_stored: int = 0
    signatures_refused: int = 0
    url: str | None = None
    failed_events: int = 0


@dataclass(frozen=True, slots=True)
class GroupDetail:
    """A group with its members and window, for the conversation and admin screens."""

    group: Group
    members: tuple[Participant, ...]
    window: WindowState
    pending_operations: tuple[PendingOperation, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message with what the operator needs beside it.

    Attributes:
        message: The stored message.
        delivery: Per-recipient tally for outbound messages.
        outbox_state: queued / accepted / failed / unknown for messages we sent.
        error: The API's reason when a send failed.
        cost: Actual cost so far from the status webhooks' pricing (outbound only);
            ``None`` when nothing was charged or the rate is unknown.
        cost_unknown: True when at least one charge had an unknown rate.
        outbox_id: The outbox item of a message we sent: it stays the same when the
            message's local id becomes Meta's wamid, so a view keyed by it is one row.
    """

    message: Message
    delivery: DeliverySummary | None = None
    outbox_state: str | None = None
    error: str | None = None
    cost: Decimal | None = None
    cost_unknown: bool = False
    outbox_id: int | None = None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """A page of a conversation, oldest first; ``older`` is the keyset cursor for more.

    Attributes:
        messages: The page's messages, oldest first.
        older: The cursor for the next older page, ``None`` at the beginning.
        events: What happened in the group over the page's stretch of time (joins,
            leaves, removals, requests, settings), oldest first: from the oldest message
            (the beginning, on the last page) up to the cursor the page was read before
            (now, on the newest page), so that pages never share an event.
    """

    messages: tuple[MessageView, ...]
    older: tuple[int, str] | None
    events: tuple[TimelineEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class RecipientView:
    """One member's copy of a message the business sent, as the operator checks it.

    Attributes:
        member_key: The member's key.
        name: Their WhatsApp name, when known (untrusted).
        wa_id: Their number, when known.
        state: The best state reported, ``None`` while no status came for them.
        delivered_at: When the copy first reached them.
        read_at: When they first read it.
        failed_at: When delivery to them failed.
        error_code: Meta's error code of a failure.
        error: Meta's reason for a failure (untrusted).
        charge: The charge Meta booked for their copy (its amount ``None`` when the
            rate is unknown), or ``None`` when nothing was booked.
        still_member: Whether they are in the group now.
    """

    member_key: str
    name: str | None
    wa_id: str | None
    state: DeliveryState | None
    delivered_at: int | None = None
    read_at: int | None = None
    failed_at: int | None = None
    error_code: int | None = None
    error: str | None = None
    charge: LedgerLine | None = None
    still_member: bool = True


@dataclass(frozen=True, slots=True)
class JoinRequestView:
    """A pending join request with the signals an operator decides on."""

    request: JoinRequest
    country: str | None
    in_other_groups: int
    removed_before: bool
    blocklisted: bool


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """Outcome of approving or rejecting join requests: ids done, and (id, reason) failed."""

    done: tuple[str, ...]
    failed: tuple[tuple[str, str], ...] = ()


# --- administration views -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member as the members screen lists it.

    Attributes:
        member: The participant.
        country: ISO country of their number, when the rate card knows it.
        last_message_at: Time of their newest message among those scanned.
        last_message: Its text (untrusted).
        message_count: Their messages among those scanned.
        count_is_partial: True when the scan stopped before the group's first message,
            so ``message_count`` is a lower bound.
        flags: Rules of their open moderation flags in this group.
        contact_name: Local display name the operator gave them.
        note: Local note.
        removing: A removal of this member is pending.
        blocklisted: They are on the local blocklist.
    """

    member: Participant
    country: str | None = None
    last_message_at: int | None = None
    last_message: str | None = None
    message_count: int = 0
    count_is_partial: bool = False
    flags: tuple[str, ...] = ()
    contact_name: str | None = None
    note: str | None = None
    removing: bool = False
    blocklisted: bool = False


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """Someone the invite picker offers: a member of a recent group or a saved contact."""

    key: str
    wa_id: str
    name: str
    groups: int = 0


@dataclass(frozen=True, slots=True)
class InviteOutcome:
    """What became of one 1:1 invite-link template send.

    Attributes:
        number: The recipient's number (digits).
        state: ``accepted``, ``failed``, or (for an automation's single send)
            ``unknown``: no answer came, so it may have been sent.
        wamid: The message id when accepted.
        error: The API's reason when failed.
    """

    number: str
    state: str
    wamid: str | None = None
    error: str | None = None


# --- automations ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfiguredRule:
    """An invite rule as configured: its name, what triggers it, which group it offers."""

    name: str
    trigger: str
    group: str


@dataclass(frozen=True, slots=True)
class ConfiguredTarget:
    """A forwarding target as configured: its name and where events go."""

    name: str
    destination: str


@dataclass(frozen=True, slots=True)
class AutomationSetup:
    """The invite rules and forwarding targets configured for this account (read from the
    ``[automations]`` configuration by whoever starts the service)."""

    rules: tuple[ConfiguredRule, ...] = ()
    targets: tuple[ConfiguredTarget, ...] = ()

    @property
    def names(self) -> set[str]:
        """Every rule and target name."""
        return {r.name for r in self.rules} | {t.name for t in self.targets}


@dataclass(frozen=True, slots=True)
class RuleView:
    """An invite rule as the automations screen shows it."""

    name: str
    trigger: str
    group: str
    paused: bool
    sent: int
    last_run_at: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class TargetView:
    """A forwarding target as the automations screen shows it."""

    name: str
    destination: str
    paused: bool
    pending: int
    delivered: int
    last_run_at: float | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class AutomationStatus:
    """Everything the automations screen renders."""

    running: bool
    rules: tuple[RuleView, ...]
    targets: tuple[TargetView, ...]
    recent_runs: tuple[AutomationRun, ...]
    failures: tuple[AutomationRun, ...]


@dataclass(frozen=True, slots=True)
class SpendReport:
    """What the cost ledger says was spent from `since` to `until`, bucketed by `by`.

    Attributes:
        by: ``day``, ``group``, ``market`` or ``category``.
        since: First UTC day counted.
        until: Last UTC day counted (included).
        total: Sum of the known amounts (USD).
        charges: Ledger lines counted.
        unknown: Lines whose amount is unknown (not in ``total``).
        rows: One per bucket; by day, every day of the period, zero when nothing was
            charged.
    """

    by: str
    since: date
    until: date
    total: Decimal
    charges: int
    unknown: int
    rows: tuple[SpendRow, ...]


_AUTOMATION_ROWS = frozenset(
    (
        "AnnounceRow",
        "AutomationJob",
        "AutomationRun",
        "BulkInvite",
        "BulkRow",
        "ForwardItem",
        "InviteFlowSend",
    )
)
"""The automations' stored rows (:mod:`groups_tui.store.automations`), named here as the
others are but imported with the first use of one: the inbox needs none of them."""


def __getattr__(name: str) -> object:
    if name not in _AUTOMATION_ROWS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from groups_tui.store import automations

    value = getattr(automations, name)
    globals()[name] = value
    return value
