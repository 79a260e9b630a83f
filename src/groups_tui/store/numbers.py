"""The business numbers a database serves, and how an event finds its number.

A store opened with the configured numbers registers them (:meth:`Numbers.register`):
the ``numbers`` table then lists exactly them, in configuration order, and every other
store opened on the file (a follower, ``events replay``) reads the same list. The applier
routes each webhook event by the number its change names (``metadata.phone_number_id``,
:class:`Routing`): an event of a number the database does not serve changes nothing and
its raw row is marked ``other_number``. A database that serves no number yet routes
nothing away (every event is applied, under the number it names).

Facts stored before the database knew its numbers (schema v9 fills them with the
placeholder :data:`~groups_tui.domain.numbers.UNASSIGNED`) are adopted by the first
number of the first registration: a single-number database moves under the configured
number without loss (``meta`` key ``numbers.adopted`` records which number adopted them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from groups_tui.domain.numbers import UNASSIGNED, BusinessNumber
from groups_tui.store.feed import append_change, set_meta
from groups_tui.store.repository import Repository
from groups_tui.store.schema import NUMBERED_TABLES

__all__ = ["ADOPTED_KEY", "Numbers", "Routing"]

ADOPTED_KEY = "numbers.adopted"
"""Meta key: the number that adopted the facts stored before numbers were known."""


@dataclass(frozen=True, slots=True)
class Routing:
    """Which numbers a database serves, as the applier routes events.

    Attributes:
        served: Ids of the numbers served; empty routes nothing away.
        default: The number of an event that names none and whose group is unknown
            (the first number served), or :data:`UNASSIGNED`.
    """

    served: frozenset[str] = frozenset()
    default: str = UNASSIGNED

    @classmethod
    def of(cls, numbers: Sequence[BusinessNumber]) -> Routing:
        """The routing of these numbers (the first one is the default)."""
        if not numbers:
            return cls()
        return cls(frozenset(n.phone_number_id for n in numbers), numbers[0].phone_number_id)

    def route(self, named: str | None, known: str | None) -> str | None:
        """The number an event belongs to, or ``None`` when it is another number's.

        Args:
            named: The number the event's webhook names, if it names one.
            known: The number of the group the event is about, if the store has it.

        Returns:
            The number to store the event's facts under, or ``None`` (not served here).
        """
        if not self.served:
            return named or known or UNASSIGNED
        if named:
            return named if named in self.served else None
        return known or self.default


def _number_from_row(row: Sequence[object]) -> BusinessNumber:
    return BusinessNumber(
        phone_number_id=str(row[0]),
        label=str(row[1]),
        business_account_id=None if row[2] is None else str(row[2]),
        display_phone_number=None if row[3] is None else str(row[3]),
    )


_SELECT = (
    "SELECT phone_number_id, label, business_account_id, display_phone_number FROM numbers "
    "ORDER BY position, phone_number_id"
)


class Numbers(Repository):
    """The numbers the database serves (a snapshot is kept for routing)."""

    _served: tuple[BusinessNumber, ...] = ()

    @property
    def served(self) -> tuple[BusinessNumber, ...]:
        """The numbers served, in configuration order (as last loaded or registered)."""
        return self._served

    @property
    def routing(self) -> Routing:
        """How the applier routes events (from :attr:`served`)."""
        return Routing.of(self._served)

    async def load(self) -> tuple[BusinessNumber, ...]:
        """Read the numbers the database serves (another process may have registered).

        A read-only open of a file an older version wrote (no ``numbers`` table yet)
        serves none.
        """

        def read(conn: sqlite3.Connection) -> list[Sequence[object]]:
            try:
                return conn.execute(_SELECT).fetchall()
            except sqlite3.DatabaseError:
                # No table yet, or not a database at all: what reads the file next (say
                # `db check`) reports the damage.
                return []

        rows = await self.db.execute_fn(read)
        self._served = tuple(_number_from_row(r) for r in rows)
        return self._served

    async def register(self, numbers: Sequence[BusinessNumber]) -> tuple[BusinessNumber, ...]:
        """Serve exactly ``numbers`` from now on, and adopt the unassigned facts.

        The first registration gives every fact stored before numbers were known (the
        v9 placeholder) to the first number, in the same transaction.

        Args:
            numbers: The configured numbers, in configuration order (not empty).

        Returns:
            The numbers served.

        Raises:
            ValueError: No number, or one id twice.
        """
        items = list(numbers)
        if not items:
            raise ValueError("register at least one number")
        if len({n.phone_number_id for n in items}) != len(items):
            raise ValueError("a number is listed twice")
        now = self._clock()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM numbers")
            conn.executemany(
                "INSERT INTO numbers(phone_number_id, label, business_account_id, "
                "display_phone_number, position, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        n.phone_number_id,
                        n.label,
                        n.business_account_id,
                        n.display_phone_number,
                        position,
                        now,
                    )
                    for position, n in enumerate(items)
                ],
            )
            adopted = conn.execute("SELECT 1 FROM meta WHERE key = ?", (ADOPTED_KEY,)).fetchone()
            if adopted is None:
                set_meta(conn, ADOPTED_KEY, items[0].phone_number_id)
                if _adopt(conn, items[0]):
                    # Followers reload: every unassigned row now has its number.
                    append_change(conn, "store.reset", entity="numbers")

        await self.db.execute_write_fn(write)
        self._served = tuple(items)
        return self._served


def _adopt(conn: sqlite3.Connection, number: BusinessNumber) -> int:
    """Give the unassigned facts to ``number`` (inside the caller's transaction).

    Returns:
        The rows adopted.
    """
    adopted = 0
    for table in NUMBERED_TABLES:
        adopted += conn.execute(
            f"UPDATE {table} SET phone_number_id = ? WHERE phone_number_id = ?",
            (number.phone_number_id, UNASSIGNED),
        ).rowcount
    if number.business_account_id:
        adopted += conn.execute(
            "UPDATE OR REPLACE templates SET business_account_id = ? WHERE business_account_id = ?",
            (number.business_account_id, UNASSIGNED),
        ).rowcount
    return adopted
