"""What the audit log and the moderation queue share: a table of records read newest
first by keyset (``id < oldest``), a page at a time as the cursor nears the end, each
row naming its group by subject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import DataTable

from groups_tui.ui.screen_roles import Ticking
from groups_tui.ui.screens._base import AppScreen
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["KeysetRecord", "KeysetTableScreen"]


class KeysetRecord(Protocol):
    """A record with a keyset id, newest highest, and perhaps a group."""

    @property
    def id(self) -> int: ...

    @property
    def group_id(self) -> str | None: ...


RecordT = TypeVar("RecordT", bound=KeysetRecord)


class KeysetTableScreen(AppScreen, Ticking, Generic[RecordT]):
    """A :class:`MarkTable` of records, newest first, read a keyset page at a time.

    Subclasses say how to read a page (:meth:`fetch_page`) and draw a row
    (:meth:`cells`), and may react when a page is shown (:meth:`page_shown`).
    """

    PAGE: ClassVar[int] = 50
    """Records per keyset page."""

    @dataclass
    class PageLoaded(Message):
        """A keyset page arrived.

        Attributes:
            records: Newest first.
            subjects: Group subjects by id.
            append: The page continues the list (else it replaces it).
            view: What the page was read for (see :meth:`page_view`).
        """

        records: list[Any]
        subjects: dict[str, str]
        append: bool
        view: object

    def __init__(self) -> None:
        """Start empty; :meth:`load` reads the newest page."""
        super().__init__()
        self.records: dict[str, RecordT] = {}
        self.subjects: dict[str, str] = {}
        self.exhausted = False
        """No older page is left (or one is being read)."""
        self._oldest: int | None = None

    @property
    def table(self) -> MarkTable:
        """The record table."""
        return self.query_one(MarkTable)

    @property
    def current(self) -> RecordT | None:
        """The record under the cursor."""
        return self.records.get(self.table.current_key or "")

    async def fetch_page(self, before_id: int | None, limit: int) -> list[RecordT]:
        """Read up to ``limit`` records older than ``before_id`` (newest when ``None``)."""
        raise NotImplementedError

    def cells(self, record: RecordT, subject: str | None, now: float) -> list[Text]:
        """The cells of one row."""
        raise NotImplementedError

    def page_view(self) -> object:
        """What the rows are read for; a page read for another view is dropped."""
        return None

    def page_shown(self) -> None:
        """Called after each page is shown."""

    def load(self, before_id: int | None = None) -> None:
        """Read the newest page (replacing the rows), or the page before ``before_id``."""
        self._load(before_id)

    @work(exclusive=True, group="keyset-load", exit_on_error=False)
    async def _load(self, before_id: int | None) -> None:
        view = self.page_view()
        records = await self.fetch_page(before_id, self.PAGE)
        missing = [r.group_id for r in records if r.group_id and r.group_id not in self.subjects]
        subjects = await self.app.service.reading.subjects(missing) if missing else {}
        self.post_message(self.PageLoaded(records, subjects, before_id is not None, view))

    @on(PageLoaded)
    def _page_loaded(self, event: PageLoaded) -> None:
        if event.view != self.page_view():
            return
        self.subjects.update(event.subjects)
        if not event.append:
            self.records = {}
        records: list[RecordT] = event.records
        for record in records:
            self.records[str(record.id)] = record
        self._oldest = records[-1].id if records else self._oldest
        self.exhausted = len(records) < self.PAGE
        now = self.app.now()
        self.table.set_rows(
            ((str(r.id), self.cells(r, self.subjects.get(r.group_id or ""), now)) for r in records),
            append=event.append,
        )
        self.page_shown()

    @on(DataTable.RowHighlighted)
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        """Read the next keyset page when the cursor nears the end."""
        if not self.exhausted and event.cursor_row >= self.table.row_count - 5:
            self.exhausted = True  # one request per page
            self._load(self._oldest)

    def tick(self, now: float) -> None:
        """Advance the header clock (once it is mounted)."""
        for header in self.query(StatusHeader):
            header.tick(now)
