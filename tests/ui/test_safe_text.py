"""safe(): untrusted text is shown literally, with control characters made visible."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from groups_tui.domain.text import visible
from groups_tui.ui.widgets.safe_text import clip, fit, safe
from tests.ui.seed import HOSTILE


@pytest.mark.parametrize("s", HOSTILE)
def test_hostile_strings_render_literally_without_markup(s: str) -> None:
    # GIVEN a hostile string WHEN it is made safe
    text = safe(s)
    # THEN no span was parsed from it, and the plain text is the visible form
    assert text.spans == []
    assert text.plain == visible(s)
    console = Console(width=200, color_system=None, file=None, record=True)
    console.print(text)
    assert console.export_text().rstrip("\n") == visible(s)


@given(st.text(), st.integers(min_value=1, max_value=60))
def test_fit_respects_the_cell_width(s: str, width: int) -> None:
    out = fit(s, width)
    assert cell_len(out) <= width
    assert "\n" not in out


def test_clip_counts_wide_characters_as_two_cells() -> None:
    assert clip("読書クラブ", 6) == "読書…"
    assert cell_len(clip("読書クラブ", 6)) <= 6
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab…"
