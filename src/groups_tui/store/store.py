"""The :class:`Store`: the repositories of one database, opened and closed together.

``store = await Store.open(path, pricing=...)`` gives ``store.raw`` (the raw webhook log
and applying it), ``store.groups``, ``store.messages``, ``store.ledger``,
``store.outbox``, ``store.operations``, ``store.feed``, ``store.audit``,
``store.moderation``, ``store.automations`` and ``store.maintenance``, all over
``store.db``, the one
:class:`~groups_tui.store.database.Database` that owns the connections, the writer
thread and the migrations. The Store itself holds no SQL: it only builds the
repositories, so that callers receive one object to pass around and close.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from groups_tui.domain.numbers import BusinessNumber
from groups_tui.store.audit import Audit
from groups_tui.store.automations import Automations
from groups_tui.store.database import Database
from groups_tui.store.feed import Feed
from groups_tui.store.groups import Groups
from groups_tui.store.leases import Leases
from groups_tui.store.ledger import Ledger
from groups_tui.store.maintenance import Maintenance
from groups_tui.store.messages import Messages
from groups_tui.store.moderation import Moderation
from groups_tui.store.numbers import Numbers
from groups_tui.store.operations import Operations
from groups_tui.store.outbox import Outbox
from groups_tui.store.raw_log import RawLog
from groups_tui.store.records import UNPRICED, Pricing
from groups_tui.store.sqlite import SQLiteDatabase

__all__ = ["Store"]


class Store:
    """The repositories over one database. Create with :meth:`open`.

    Args:
        db: The open database.
        pricing: How the cost ledger prices new lines (the default leaves every amount
            unknown); given once, here.
        clock: Returns the current epoch time (receipt and bookkeeping times only).
    """

    def __init__(
        self,
        db: Database,
        *,
        pricing: Pricing = UNPRICED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        """The database every repository reads and writes through."""
        self.numbers = Numbers(db, clock=clock)
        """The business numbers the database serves (how events are routed)."""
        self.ledger = Ledger(db, pricing=pricing, clock=clock)
        """The cost ledger (and its pricing)."""
        self.raw = RawLog(db, ledger=self.ledger, numbers=self.numbers, clock=clock)
        """The raw webhook log, its counters, and applying it to derived state."""
        self.groups = Groups(db, clock=clock)
        """Groups, members, join requests and annotations."""
        self.messages = Messages(db, clock=clock)
        """Timelines, delivery states, search and the template cache."""
        self.outbox = Outbox(db, clock=clock)
        """Outbound messages and their fate."""
        self.operations = Operations(db, clock=clock)
        """Asynchronous operations awaiting their webhook."""
        self.feed = Feed(db, clock=clock)
        """The change feed and followers' positions."""
        self.audit = Audit(db, clock=clock)
        """The audit log."""
        self.moderation = Moderation(db, clock=clock)
        """Contacts, blocklist and moderation flags."""
        self.automations = Automations(db, clock=clock)
        """Local state of the automations."""
        self.leases = Leases(db, clock=clock)
        """Runner leases (one process runs the automations)."""
        self.maintenance = Maintenance(db, clock=clock)
        """Online backup and integrity check of the database file."""

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        pricing: Pricing = UNPRICED,
        clock: Callable[[], float] = time.time,
        numbers: Sequence[BusinessNumber] = (),
    ) -> Store:
        """Open (creating if needed) and migrate the SQLite database at ``path``.

        Args:
            path: Database file; ``":memory:"`` gives a private single-connection store.
            pricing: See :class:`Store`.
            clock: See :class:`Store`.
            numbers: The configured business numbers, in configuration order: the
                database serves exactly them from now on (``store.numbers.register``,
                which also gives the facts stored before numbers were known to the
                first). Without them, the numbers registered before are served.

        Returns:
            The open store.
        """
        store = cls(await SQLiteDatabase.open(path), pricing=pricing, clock=clock)
        try:
            if numbers:
                await store.numbers.register(numbers)
            else:
                await store.numbers.load()
        except BaseException:
            await store.close()
            raise
        return store

    @classmethod
    async def open_readonly(cls, path: str | Path) -> Store:
        """Open an existing, migrated database for reading only (follower processes).

        Args:
            path: Database file written by another process.

        Returns:
            A store whose writes raise
            :class:`~groups_tui.store.database.StoreClosedError`.
        """
        store = cls(await SQLiteDatabase.open(path, readonly=True))
        try:
            await store.numbers.load()
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def path(self) -> str | Path:
        """The database path."""
        return self.db.path

    async def close(self) -> None:
        """Finish the submitted writes and close the database (idempotent)."""
        await self.db.close()
