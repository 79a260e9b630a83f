"""Spacing combining marks measured as one cell, for wcwidth terminals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rich.cells import cell_len
from rich.text import Text

from groups_tui.service.types import InboxRow
from groups_tui.ui.cell_widths import count_spacing_marks_as_one_cell
from groups_tui.ui.widgets.group_list import Columns, row_columns

NAME = "प्रिया शर्मा"  # three spacing vowel signs (Mc), two viramas (Mn)


@pytest.fixture
def one_cell_marks() -> Iterator[None]:
    count_spacing_marks_as_one_cell()
    try:
        yield
    finally:
        count_spacing_marks_as_one_cell(False)


def test_rich_counts_spacing_marks_as_zero_by_default() -> None:
    assert cell_len(NAME) == 7


def test_spacing_marks_take_one_cell_and_non_spacing_marks_none(one_cell_marks: None) -> None:
    assert cell_len(NAME) == 10
    assert cell_len("e\u0301") == 1  # a non-spacing accent still takes none
    assert cell_len("漢字") == 4 and cell_len("abc") == 3


def test_inbox_columns_line_up_with_one_cell_marks(one_cell_marks: None) -> None:
    row = InboxRow(
        "g", "Order 1", 3, 1, 0, NAME, "Kann jemand die Adresse schicken?", 100, 100, None,
        False, "active", False, "order 1",
    )  # fmt: skip
    cols = Columns.for_width(100)
    cells = row_columns(row, 200, cols)
    assert cell_len(cells[5]) == cols.last  # the last-message column keeps its width
    assert Text(cells[5]).cell_len == cols.last


def test_switching_back_restores_rich_widths() -> None:
    count_spacing_marks_as_one_cell()
    count_spacing_marks_as_one_cell()  # twice is harmless
    count_spacing_marks_as_one_cell(False)
    assert cell_len(NAME) == 7
