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
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from groups_tui.domain.numbers import BusinessNumber
from groups_tui.store.database import Database
from groups_tui.store.numbers import Numbers
from groups_tui.store.records import UNPRICED, Pricing

if TYPE_CHECKING:
    from groups_tui.store.audit import Audit
    from groups_tui.store.automations import Automations
    from groups_tui.store.feed import Feed
    from groups_tui.store.groups import Groups
    from groups_tui.store.leases import Leases
    from groups_tui.store.ledger import Ledger
    from groups_tui.store.maintenance import Maintenance
    from groups_tui.store.messages import Messages
    from groups_tui.store.moderation import Moderation
    from groups_tui.store.operations import Operations
    from groups_tui.store.outbox import Outbox
    from groups_tui.store.raw_log import RawLog

__all__ = ["Store"]


class Store:
    """The repositories over one database. Create with :meth:`open`.

    Each repository but :attr:`numbers` is built, and its module imported, when first
    used: a process that only reads the inbox imports neither the raw log's appliers nor
    the ledger's pricing.

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
        self._pricing = pricing
        self._clock = clock
        self.numbers = Numbers(db, clock=clock)
        """The business numbers the database serves (how events are routed)."""

    @cached_property
    def ledger(self) -> Ledger:
        """The cost ledger (and its pricing)."""
        from groups_tui.store.ledger import Ledger

        return Ledger(self.db, pricing=self._pricing, clock=self._clock)

    @cached_property
    def raw(self) -> RawLog:
        """The raw webhook log, its counters, and applying it to derived state."""
        from groups_tui.store.raw_log import RawLog

        return RawLog(self.db, ledger=self.ledger, numbers=self.numbers, clock=self._clock)

    @cached_property
    def groups(self) -> Groups:
        """Groups, members, join requests and annotations."""
        from groups_tui.store.groups import Groups

        return Groups(self.db, clock=self._clock)

    @cached_property
    def messages(self) -> Messages:
        """Timelines, delivery states, search and the template cache."""
        from groups_tui.store.messages import Messages

        return Messages(self.db, clock=self._clock)

    @cached_property
    def outbox(self) -> Outbox:
        """Outbound messages and their fate."""
        from groups_tui.store.outbox import Outbox

        return Outbox(self.db, clock=self._clock)

    @cached_property
    def operations(self) -> Operations:
        """Asynchronous operations awaiting their webhook."""
        from groups_tui.store.operations import Operations

        return Operations(self.db, clock=self._clock)

    @cached_property
    def feed(self) -> Feed:
        """The change feed and followers' positions."""
        from groups_tui.store.feed import Feed

        return Feed(self.db, clock=self._clock)

    @cached_property
    def audit(self) -> Audit:
        """The audit log."""
        from groups_tui.store.audit import Audit

        return Audit(self.db, clock=self._clock)

    @cached_property
    def moderation(self) -> Moderation:
        """Contacts, blocklist and moderation flags."""
        from groups_tui.store.moderation import Moderation

        return Moderation(self.db, clock=self._clock)

    @cached_property
    def automations(self) -> Automations:
        """Local state of the automations."""
        from groups_tui.store.automations import Automations

        return Automations(self.db, clock=self._clock)

    @cached_property
    def leases(self) -> Leases:
        """Runner leases (one process runs the automations)."""
        from groups_tui.store.leases import Leases

        return Leases(self.db, clock=self._clock)

    @cached_property
    def maintenance(self) -> Maintenance:
        """Online backup and integrity check of the database file."""
        from groups_tui.store.maintenance import Maintenance

        return Maintenance(self.db, clock=self._clock)

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
        from groups_tui.store.sqlite import SQLiteDatabase

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
        from groups_tui.store.sqlite import SQLiteDatabase

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
