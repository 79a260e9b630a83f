"""Local SQLite store: schema, migrations, raw webhook log, derived state and queries.

Use :class:`Store` (``await Store.open(path, pricing=...)``): its repositories
(``store.raw``, ``store.groups``, ``store.messages``...) read and write through one
:class:`Database`. Nothing connects at import time. See ``docs/storage.md``.
"""

from groups_tui.store.database import Database, SchemaTooNewError, StoreClosedError
from groups_tui.store.records import (
    UNPRICED,
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
    Pricing,
    RawEvent,
    RawEventIn,
    RawInsertResult,
    RawStats,
    SearchHit,
    SpendSummary,
)
from groups_tui.store.store import Store

__all__ = [
    "AuditEntry",
    "Change",
    "Contact",
    "CostFn",
    "CostLine",
    "Database",
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
    "Pricing",
    "RawEvent",
    "RawEventIn",
    "RawInsertResult",
    "RawStats",
    "SchemaTooNewError",
    "SearchHit",
    "SpendSummary",
    "Store",
    "StoreClosedError",
    "UNPRICED",
]
