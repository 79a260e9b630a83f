"""Plain records the store accepts and returns besides the domain models."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from groups_tui.domain.pricing import RateCard

__all__ = [
    "FAILED_EVENTS_COUNTER",
    "REFUSED_COUNTER",
    "AuditEntry",
    "Change",
    "Contact",
    "CostFn",
    "EventFailure",
    "FlaggedPerson",
    "GroupAnnotations",
    "HistoryEntry",
    "InboxRow",
    "LedgerLine",
    "MarketFn",
    "MemberSignals",
    "StoredFlag",
    "MessageCursor",
    "OutboxItem",
    "PENDING_PREFIX",
    "PendingOperation",
    "Pricing",
    "RawEvent",
    "RawEventIn",
    "RawInsertResult",
    "RawStats",
    "SearchHit",
    "SpendSummary",
    "TimelinePage",
    "UNPRICED",
]

NUMBER_OF_GROUP = (
    "coalesce({explicit}, (SELECT phone_number_id FROM groups WHERE id = {group}), '')"
)
"""SQL of the number a row belongs to: the one given, else its group's, else unassigned
(format with the two placeholders)."""

REFUSED_COUNTER = "listener.signatures_refused"
"""Counter of deliveries the listener refused for a missing or wrong signature."""

FAILED_EVENTS_COUNTER = "events.failed"
"""Counter of events that could not be applied (kept equal to the rows of
``event_failures`` by triggers, schema v7); cheap to read for the header."""

CostFn = Callable[[str | None, str | None, bool | None, str | None], Decimal | None]
"""``cost_fn(category, pricing_type, billable, participant) -> amount or None``; the
participant is named by ``wa_id``, or by business-scoped user id when no number is known."""

MarketFn = Callable[[str | None], str | None]
"""``market_fn(participant) -> market name or None`` (``wa_id``, else the BSUID)."""


class Pricing(NamedTuple):
    """How the cost ledger prices what it records, given once where the store is opened.

    :meth:`from_rate_card` prices with a rate card; the default prices nothing (every
    amount unknown, never zero).

    Attributes:
        cost_fn: Prices one ledger line (``None``: amounts unknown).
        market_fn: Names the participant's market (``None``: unknown).
    """

    cost_fn: CostFn | None = None
    market_fn: MarketFn | None = None

    @classmethod
    def from_rate_card(cls, card: RateCard) -> Pricing:
        """Price with ``card`` (what the listener, the TUI and a replay all use)."""
        from groups_tui.domain.pricing import ledger_functions

        return cls(*ledger_functions(card))


UNPRICED = Pricing()
"""No pricing: every ledger amount unknown (never zero)."""


MessageCursor = tuple[int, str]
"""Keyset position in a group's timeline: ``(at, message id)``."""


@dataclass(frozen=True, slots=True)
class RawEventIn:
    """A verified webhook body waiting to be logged.

    Attributes:
        body: The raw request bytes (exactly as signed).
        dedupe_key: Stable key of the delivery; a retry of the same delivery repeats it.
        received_at: Receipt time, epoch seconds.
    """

    body: bytes
    dedupe_key: str
    received_at: float
    phone_number_id: str | None = None
    """The number the body's first change names (``metadata.phone_number_id``)."""


@dataclass(frozen=True, slots=True)
class RawInsertResult:
    """Outcome of logging one raw event.

    Attributes:
        raw_id: Row id in the raw log (the existing one for a duplicate).
        duplicate: True when the dedupe key had already been logged.
    """

    raw_id: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class RawEvent:
    """A row of the raw log.

    Attributes:
        phone_number_id: The number the body's first change names, if it names one.
        other_number: None of its events is for a number this database serves: it is
            kept here only (nothing of it reached the inbox, the ledger or the feed).
    """

    id: int
    dedupe_key: str
    body: bytes
    received_at: float
    applied_at: float | None
    parse_state: str
    error: str | None
    phone_number_id: str | None = None
    other_number: bool = False


@dataclass(frozen=True, slots=True)
class RawStats:
    """Counts over the raw log.

    Attributes:
        total: Rows logged.
        applied: Rows applied to state (whatever their parse state).
        unparsed: Rows kept for re-parsing (unknown shapes).
        errors: Rows with at least one event that could not be applied (or that could
            not be parsed at all); the rest of such a row's events were applied.
        last_event_at: Receipt time of the newest row, if any.
        failed_events: Events not applied (see :class:`EventFailure`); a body that could
            not be parsed counts as one.
        other_number: Rows kept only: every event of them is another number's.
    """

    total: int
    applied: int
    unparsed: int
    errors: int
    last_event_at: float | None
    failed_events: int = 0
    other_number: int = 0


@dataclass(frozen=True, slots=True)
class EventFailure:
    """One event of a logged body that could not be applied (the rest of it was).

    Attributes:
        raw_id: The raw row the body is logged as.
        index: The event's position among the body's parsed events; ``-1`` when the body
            itself could not be parsed (then none of it was applied).
        kind: The event's kind (``group_created``...), or ``body`` for a parse failure.
        group_id: The group the event is about, if any.
        event_key: The event's dedupe key (how ``events replay --failed`` finds it again).
        at: The event's webhook time, if known.
        reason: Why it failed.
        failed_at: When it failed (bookkeeping clock).
    """

    raw_id: int
    index: int
    kind: str
    group_id: str | None
    event_key: str | None
    at: int | None
    reason: str
    failed_at: float


@dataclass(frozen=True, slots=True)
class Change:
    """One change-feed row; followers poll ``id > last seen``."""

    id: int
    kind: str
    group_id: str | None
    entity: str | None
    at: int | None
    raw_id: int | None
    payload: Mapping[str, Any]


PENDING_PREFIX = "pending:"
"""Prefix of the id a group goes by while Meta has not given it one yet (its request id
follows)."""


class InboxRow(NamedTuple):
    """One group in the inbox, compact enough for 10,000 in memory.

    A named tuple: the inbox builds 10,000 of them at start-up, several times faster than
    frozen dataclass instances.

    Attributes:
        group_id: Meta's group id, or :data:`PENDING_PREFIX` and the request id while
            the group is being created.
        haystack: The subject, member names, numbers and usernames that the
            filter-as-you-type matches against, :func:`~groups_tui.domain.text.folded`
            (any case, any accent).
        last_outbound: The newest message is the business's own (``last_sender`` is then
            ``None``).
        request_id: The create request's id, when the group was created from here.
        tag: The operator's tag of the group.
        phone_number_id: The business number the group belongs to.
    """

    group_id: str
    subject: str
    participant_count: int
    unread: int
    pending_requests: int
    last_sender: str | None
    last_text: str | None
    last_activity_at: int | None
    last_inbound_at: int | None
    last_inbound_by: str | None
    suspended: bool
    state: str
    flagged: bool
    haystack: str
    last_outbound: bool = False
    request_id: str | None = None
    tag: str | None = None
    phone_number_id: str = ""
    open_flags: int = 0
    """Open moderation flags raised in the group (the inbox marks it, ``f`` lists it)."""

    # JSON (docs/json.md): one shape with `groups show`'s group; the filter's haystack
    # (every member's number) is internal. (A NamedTuple body may hold class attributes
    # at run time; mypy only accepts fields there.)
    json_names = {"last_text": "last_message_preview"}  # type: ignore[misc]
    json_omit = frozenset({"haystack"})  # type: ignore[misc]

    @property
    def is_pending(self) -> bool:
        """True while Meta has not confirmed the group (it has no Meta id yet)."""
        return self.group_id.startswith(PENDING_PREFIX)


@dataclass(frozen=True, slots=True)
class StoredFlag:
    """A moderation flag as kept in the store.

    Attributes:
        id: Local id.
        rule: The rule that fired (``link_flood``, ``burst``...).
        action: What the rule is configured to do (``notify``, ``auto_remove``...).
        group_id: The group, if any.
        participant_key: The member or requester.
        wa_id: Their number, if known.
        message_id: The message that tipped the rule, if any.
        join_request_id: The join request, for join rules.
        at: Event time of the flag.
        reason: Human sentence.
        evidence: Message ids behind the flag.
        state: open, acted, dismissed, auto_acted or auto_failed.
        outcome: What was done, or why it failed.
        phone_number_id: The business number of the flag's group.
    """

    id: int
    rule: str
    action: str
    group_id: str | None
    participant_key: str | None
    wa_id: str | None
    message_id: str | None
    join_request_id: str | None
    at: int
    reason: str
    evidence: tuple[str, ...]
    state: str
    outcome: str | None
    phone_number_id: str = ""


@dataclass(frozen=True, slots=True)
class FlaggedPerson:
    """One person's open moderation flags, in every group: one entry of the queue.

    Attributes:
        id: The newest of their open flags' ids (the queue's keyset).
        who: Their number, else their member key (what the actions take).
        wa_id: Their number, if known.
        participant_key: Their member key in the newest flag.
        group_id: The group of the newest flag.
        group_ids: Every group their open flags name, newest flag's group first.
        rules: The rules that fired, each once.
        flags: How many open flags.
        reason: The newest flag's sentence.
        message_id: The message that tipped the newest flag, if any.
        at: Event time of the newest flag.
        join_requests_only: Every flag is about a join request (acting rejects them).
    """

    id: int
    who: str
    wa_id: str | None
    participant_key: str | None
    group_id: str | None
    group_ids: tuple[str, ...]
    rules: tuple[str, ...]
    flags: int
    reason: str
    message_id: str | None
    at: int
    join_requests_only: bool
    phone_number_id: str = ""
    """The business number of the newest flag's group."""


@dataclass(frozen=True, slots=True)
class MemberSignals:
    """Where a person shows up across the account's groups.

    Attributes:
        groups: Groups (other than the one asked about) where they are present.
        removed_before: True if the business removed them from any group before.
    """

    groups: int
    removed_before: bool


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """A page of a group's stored timeline, newest first.

    Attributes:
        items: Messages, newest first.
        next_before: Cursor for the next (older) page, or ``None`` at the beginning.
    """

    items: Sequence[Any]
    next_before: MessageCursor | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One membership event of a participant."""

    participant_key: str
    action: str
    at: int
    initiated_by: str | None
    via: str | None
    request_id: str | None
    error_code: int | None
    error_message: str | None
    observed: bool = False
    """Seen by a read of the group through the API, not told by a webhook: ``at`` is
    when the read happened, the change itself came earlier."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A full-text search result.

    Attributes:
        group_id: The message's group.
        message_id: The message.
        subject: The group's subject (its id when the group is unknown).
        snippet: Plain text around the matches, exactly as in the message (``…`` where
            text was left out); untrusted.
        at: The message's time.
        sender_name: Who sent it, when known.
        spans: ``(start, end)`` offsets of the matches in ``snippet``, in order.
    """

    group_id: str
    message_id: str
    subject: str
    snippet: str
    at: int
    sender_name: str | None = None
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One charge recorded in the cost ledger from a status webhook; ``amount`` is
    ``None`` when unknown. (A charge *expected* before a send is a
    :class:`~groups_tui.domain.pricing.CostLine`.)"""

    message_id: str
    participant_key: str
    group_id: str | None
    category: str | None
    pricing_type: str | None
    billable: bool | None
    market: str | None
    amount: Decimal | None
    at: int


@dataclass(frozen=True, slots=True)
class SpendSummary:
    """Spend over a period.

    Attributes:
        total: Sum of the known amounts.
        charges: Ledger rows in the period.
        unknown: Rows whose amount is unknown (not included in ``total``).
    """

    total: Decimal
    charges: int
    unknown: int


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Spend of one bucket of the cost ledger (a day, a group, a market or a category).

    Attributes:
        key: The bucket: a UTC day ``YYYY-MM-DD``, a group id, a market or a category;
            ``None`` for lines that do not say (a charge without a market...).
        amount: Sum of the known amounts.
        charges: Ledger lines in the bucket.
        unknown: Lines whose amount is unknown (not in ``amount``).
        label: What the key names, for people (a group's subject), when known.
    """

    key: str | None
    amount: Decimal
    charges: int
    unknown: int
    label: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An outbound message and the fate of its API call.

    Attributes:
        id: Local outbox id.
        group_id: Target group.
        kind: Message kind.
        payload: The request body to send.
        state: ``queued``, ``accepted``, ``failed`` or ``unknown``.
        wamid: Message id returned by the API once accepted.
        error_code: API error code when failed.
        error_message: API error message when failed.
        created_at: Enqueue time.
        updated_at: Time of the last state change.
        message_id: Id of the timeline row (the wamid once accepted, else a local id).
    """

    id: int
    group_id: str
    kind: str
    payload: Mapping[str, Any]
    state: str
    wamid: str | None
    error_code: int | None
    error_message: str | None
    created_at: float
    updated_at: float
    message_id: str

    @property
    def error(self) -> str | None:
        """Why the send did not succeed, worded for the operator (``None`` otherwise)."""
        if self.state == "failed":
            code = f"(#{self.error_code}) " if self.error_code else ""
            return f"{code}{self.error_message or 'failed'}"
        if self.state == "unknown":
            return "no answer from the API: the message may or may not have been sent"
        return None


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """An asynchronous group operation awaiting its webhook (of the number it was sent
    through)."""

    request_id: str
    kind: str
    group_id: str | None
    payload: Mapping[str, Any]
    state: str
    error: str | None
    created_at: float
    resolved_at: int | None
    phone_number_id: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited operator action (through the number it names)."""

    id: int
    at: float
    os_user: str
    action: str
    group_id: str | None
    targets: Sequence[Any]
    api_result: Any
    cost: Decimal | None
    phone_number_id: str = ""
    role: str | None = None
    """The role the operator held (team mode), ``None`` in single-user mode."""


@dataclass(frozen=True, slots=True)
class Contact:
    """Local details about a member."""

    participant_key: str
    display_name: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class GroupAnnotations:
    """Operator annotations of a group."""

    group_id: str
    flagged: bool = False
    tag: str | None = None
    note: str | None = None
    read_through: int | None = None


@dataclass(frozen=True, slots=True)
class DatabaseCheck:
    """What ``PRAGMA integrity_check`` and ``foreign_key_check`` say of a database file.

    Attributes:
        path: The file checked.
        ok: Integrity and foreign keys are both intact.
        problems: The checks' complaints (empty when ``ok``); a file that is not a
            database at all gives the engine's error here.
        schema_version: ``PRAGMA user_version`` (0 when unreadable).
        counts: Rows per table, by table name (FTS index internals left out).
    """

    path: str
    ok: bool
    problems: tuple[str, ...]
    schema_version: int
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class BackupResult:
    """A finished online backup.

    Attributes:
        path: The copy (a self-contained file: rollback journal, no WAL beside it).
        bytes: Its size.
        pages: Its page count.
        check: The integrity check and counts of the copy.
    """

    path: str
    bytes: int
    pages: int
    check: DatabaseCheck
