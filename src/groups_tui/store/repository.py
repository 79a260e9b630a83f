"""What every repository shares: the database, the clock, and small SQL helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from groups_tui.store.database import Database

__all__ = ["IN_CHUNK", "MAX_PARAMS", "Repository", "chunks", "marks"]

T = TypeVar("T")

IN_CHUNK = 500
"""Bound on ``IN (?, ?, ...)`` lists; far below SQLite's variable limit."""

MAX_PARAMS = 990
"""Parameters of one multi-row statement (within SQLite's oldest limit, 999)."""


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterable[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(n: int) -> str:
    """``n`` comma-separated ``?`` placeholders."""
    return ",".join("?" * n)


class Repository:
    """A set of related tables, read and written only through :attr:`db`.

    Args:
        db: The database every query goes through.
        clock: Returns the current epoch time (bookkeeping times only, never event time).
    """

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self.db.fetch_one(sql, params)

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self.db.fetch_all(sql, params)
