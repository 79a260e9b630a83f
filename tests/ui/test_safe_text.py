"""safe(): untrusted text is shown literally, with control characters made visible."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from groups_tui.ui.widgets.safe_text import clip, fit, safe, visible
from tests.ui.fake_service import HOSTILE


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


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31m", "␛[31m"),
        ("\x00", "␀"),
        ("\x7f", "␡"),
        ("\x9b", "<U+009B>"),
        ("\u202e", "<U+202E>"),
        ("\u2066\u2069", "<U+2066><U+2069>"),
        ("\u200e\u200f\u061c", "<U+200E><U+200F><U+061C>"),
        ("a\nb\tc", "a\nb\tc"),
    ],
)
def test_controls_become_visible_escapes(raw: str, shown: str) -> None:
    assert visible(raw) == shown


@given(st.text())
def test_visible_never_leaves_a_control_character(s: str) -> None:
    out = visible(s)
    for char in out:
        code = ord(char)
        assert char in "\n\t" or not (code < 0x20 or 0x7F <= code < 0xA0)
        assert code not in (
            0x202A,
            0x202B,
            0x202C,
            0x202D,
            0x202E,
            0x2066,
            0x2067,
            0x2068,
            0x2069,
            0x200E,
            0x200F,
            0x061C,
        )


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
