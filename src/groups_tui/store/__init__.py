"""Local SQLite store: schema, migrations, raw webhook log, derived state and queries.

Use :class:`Store` (``await Store.open(path, pricing=...)``): its repositories
(``store.raw``, ``store.groups``, ``store.messages``...) read and write through one
:class:`Database`. Nothing connects at import time. See ``docs/storage.md``.
"""

from groups_tui.store.database import Database, SchemaTooNewError, StoreClosedError
from groups_tui.store.records import (
    PENDING_PREFIX,
    UNPRICED,
    AuditEntry,
    BackupResult,
    Change,
    Contact,
    CostFn,
    DatabaseCheck,
    EventFailure,
    FlaggedPerson,
    GroupAnnotations,
    HistoryEntry,
    InboxRow,
    LedgerLine,
    MarketFn,
    MemberSignals,
    MessageCursor,
    OutboxItem,
    PendingOperation,
    Pricing,
    RawEvent,
    RawEventIn,
    RawInsertResult,
    RawStats,
    SearchHit,
    SpendRow,
    SpendSummary,
    TimelinePage,
)
from groups_tui.store.store import Store

__all__ = [
    "AuditEntry",
    "BackupResult",
    "Change",
    "Contact",
    "CostFn",
    "Database",
    "DatabaseCheck",
    "EventFailure",
    "FlaggedPerson",
    "GroupAnnotations",
    "HistoryEntry",
    "InboxRow",
    "LedgerLine",
    "MemberSignals",
    "MarketFn",
    "MessageCursor",
    "OutboxItem",
    "PENDING_PREFIX",
    "PendingOperation",
    "Pricing",
    "RawEvent",
    "RawEventIn",
    "RawInsertResult",
    "RawStats",
    "SchemaTooNewError",
    "SearchHit",
    "SpendRow",
    "SpendSummary",
    "Store",
    "StoreClosedError",
    "TimelinePage",
    "UNPRICED",
]
