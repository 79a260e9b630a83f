"""Local SQLite store: schema, migrations, raw webhook log, derived state and queries.

Use :class:`Store` (``await Store.open(path)``); nothing connects at import time.
"""

from groups_tui.store.records import (
    AuditEntry,
    Change,
    Contact,
    CostFn,
    CostLine,
    EventFailure,
    GroupAnnotations,
    HistoryEntry,
    InboxRow,
    MarketFn,
    MemberSignals,
    MessageCursor,
    MessagePage,
    OutboxItem,
    PendingOperation,
    RawEvent,
    RawEventIn,
    RawInsertResult,
    RawStats,
    SearchHit,
    SpendSummary,
)
from groups_tui.store.store import Store, StoreClosedError

__all__ = [
    "AuditEntry",
    "Change",
    "Contact",
    "CostFn",
    "CostLine",
    "EventFailure",
    "GroupAnnotations",
    "HistoryEntry",
    "InboxRow",
    "MemberSignals",
    "MarketFn",
    "MessageCursor",
    "MessagePage",
    "OutboxItem",
    "PendingOperation",
    "RawEvent",
    "RawEventIn",
    "RawInsertResult",
    "RawStats",
    "SearchHit",
    "SpendSummary",
    "Store",
    "StoreClosedError",
]
