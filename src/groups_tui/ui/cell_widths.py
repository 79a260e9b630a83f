"""How many cells a spacing combining mark takes on the operator's terminal.

Rich (and so Textual) counts spacing combining marks -- Unicode category Mc, such as the
Devanagari vowel signs in "प्रिया" -- as zero cells, as terminals that measure whole
graphemes draw them. Terminals that measure code points with ``wcwidth`` (tmux, for one)
draw each as one cell, so a row of Hindi, Bengali or Tamil text is pushed right and its
last column cut. ``GROUPS_TUI_SPACING_MARKS=one`` makes every measurement agree with them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import rich.cells
from rich.cells import CellTable

__all__ = ["count_spacing_marks_as_one_cell"]

_LOADER = "load_cell_table"
"""The name ``rich.cells`` looks its width table up by, on every measurement."""
_ORIGINAL = "_groups_tui_original_load"


def _with_spacing_marks_as_one(table: CellTable) -> CellTable:
    """The table with every Mc code point inside a zero-width span made one cell wide."""
    widths: list[tuple[int, int, int]] = []
    for start, end, width in table.widths:
        if width != 0:
            widths.append((start, end, width))
            continue
        run_start = start
        for code in range(start, end + 1):
            if unicodedata.category(chr(code)) == "Mc":
                if run_start < code:
                    widths.append((run_start, code - 1, 0))
                widths.append((code, code, 1))
                run_start = code + 1
        if run_start <= end:
            widths.append((run_start, end, 0))
    return CellTable(table.unicode_version, widths, table.narrow_to_wide)


def count_spacing_marks_as_one_cell(enabled: bool = True) -> None:
    """Measure spacing combining marks as one cell (or, with ``False``, as Rich does).

    Affects every width Rich and Textual compute in this process from now on.
    """
    original: Callable[[str], CellTable] = getattr(
        rich.cells, _ORIGINAL, getattr(rich.cells, _LOADER)
    )
    if enabled:
        patched: dict[str, CellTable] = {}

        def load(unicode_version: str = "auto") -> CellTable:
            table = patched.get(unicode_version)
            if table is None:
                table = patched[unicode_version] = _with_spacing_marks_as_one(
                    original(unicode_version)
                )
            return table

        setattr(rich.cells, _ORIGINAL, original)
        setattr(rich.cells, _LOADER, load)
    else:
        setattr(rich.cells, _LOADER, original)
    rich.cells.get_character_cell_size.cache_clear()
    rich.cells.cached_cell_len.cache_clear()
