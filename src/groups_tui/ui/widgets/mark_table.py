"""A bounded table whose rows can be marked with Space for bulk actions.

Members and join requests are at most a handful per group (eight members), so a
:class:`~textual.widgets.DataTable` is the right tool there; the growing lists (the
moderation queue, the audit log) use it too but only ever hold the pages loaded by
keyset. Cells are :class:`rich.text.Text` built with
:func:`~groups_tui.ui.widgets.safe_text.safe`, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from groups_tui.ui.cell_widths import drawn_line, pad_to_drawn, without_spacing_marks_filter

__all__ = ["MarkTable"]

MARK_COLUMN = "mark"
_MARK = Text("✓", style="bold")
_NO_MARK = Text(" ")


class MarkTable(DataTable[Text]):
    """A row-cursor table keyed by string ids, with Space to mark rows.

    The first column shows the mark. Rows are replaced wholesale by :meth:`set_rows`,
    which keeps the cursor on the same key and forgets marks of rows that disappeared.
    """

    DEFAULT_CSS = """
    MarkTable {
        height: 1fr;
        background: $surface;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark", id="table.mark", tooltip="Mark or unmark this row"),
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("home,g", "scroll_top", "First", show=False, id="table.first"),
        Binding("end,G", "scroll_bottom", "Last", show=False, id="table.last"),
    ]
    """Space marks; ``j``/``k``, ``g``/``G`` move the cursor like the other lists."""

    class MarksChanged(Message):
        """The set of marked rows changed.

        Attributes:
            mark_table: The table that posted it.
            marked: Keys of the marked rows.
        """

        def __init__(self, mark_table: MarkTable, marked: frozenset[str]) -> None:
            super().__init__()
            self.mark_table = mark_table
            self.marked = marked

        @property
        def control(self) -> MarkTable:
            """The table that posted the message."""
            return self.mark_table

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        markable: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create the table.

        Args:
            columns: ``(key, label)`` of each column after the mark column.
            markable: False for read-only lists (no mark column, Space does nothing).
            id: Widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._column_spec = tuple(columns)
        self.markable = markable
        self.marked: set[str] = set()
        """Keys of the marked rows."""
        self.row_keys: list[str] = []
        """Keys of the rows, in display order."""

    def on_mount(self) -> None:
        """Add the columns."""
        if self.markable:
            self.add_column(Text(" "), key=MARK_COLUMN, width=1)
        for key, label in self._column_spec:
            self.add_column(Text(label), key=key)

    @property
    def current_key(self) -> str | None:
        """Key of the row under the cursor."""
        if 0 <= self.cursor_row < len(self.row_keys):
            return self.row_keys[self.cursor_row]
        return None

    def set_rows(self, rows: Iterable[tuple[str, Sequence[Text]]], *, append: bool = False) -> None:
        """Show rows, keeping the cursor on the same key.

        Args:
            rows: ``(key, cells)`` pairs; cells follow the column spec.
            append: Add after the rows already shown (the next keyset page).
        """
        keep = self.current_key
        if not append:
            self.clear()
            self.row_keys = []
        for key, cells in rows:
            if key in self.rows:
                continue
            mark = [_MARK if key in self.marked else _NO_MARK] if self.markable else []
            self.add_row(*mark, *map(pad_to_drawn, cells), key=key)
            self.row_keys.append(key)
        stale = self.marked - set(self.row_keys)
        if stale:
            self.marked -= stale
            self.post_message(self.MarksChanged(self, frozenset(self.marked)))
        if keep is not None and keep in self.row_keys and not append:
            self.move_cursor(row=self.row_keys.index(keep), animate=False)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's filters; spacing marks are compensated in :meth:`render_line`."""
        return without_spacing_marks_filter(super().get_line_filters())

    def render_line(self, y: int) -> Strip:
        """The table's line, drawn as wide as laid out (:mod:`..cell_widths`)."""
        return drawn_line(super().render_line(y), self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the mark key on read-only lists."""
        if action == "toggle_mark" and not self.markable:
            return False
        return True

    def action_toggle_mark(self) -> None:
        """Mark or unmark the row under the cursor, then move down."""
        key = self.current_key
        if not self.markable or key is None:
            return
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        try:
            self.update_cell(key, MARK_COLUMN, _MARK if key in self.marked else _NO_MARK)
        except (CellDoesNotExist, RowDoesNotExist):
            pass
        self.post_message(self.MarksChanged(self, frozenset(self.marked)))
        self.action_cursor_down()

    def clear_marks(self) -> None:
        """Unmark every row."""
        for key in list(self.marked):
            try:
                self.update_cell(key, MARK_COLUMN, _NO_MARK)
            except (CellDoesNotExist, RowDoesNotExist):
                pass
        self.marked.clear()
        self.post_message(self.MarksChanged(self, frozenset()))

    def chosen(self) -> list[str]:
        """The marked keys in display order, or the row under the cursor when none is."""
        if self.marked:
            return [k for k in self.row_keys if k in self.marked]
        key = self.current_key
        return [key] if key is not None else []
