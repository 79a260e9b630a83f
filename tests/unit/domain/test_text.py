"""The one rule for untrusted text on a terminal: which code points, and how they show."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups_tui.domain.text import UNSAFE_CODE_POINTS, folded, one_line, visible

BIDI = (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F)


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


def test_the_unsafe_set_is_c0_del_c1_and_bidi_controls() -> None:
    expected = (
        {c for c in range(0x20) if c not in (0x09, 0x0A)}
        | {0x7F}
        | set(range(0x80, 0xA0))
        | set(BIDI)
        | {0x061C}
    )
    assert expected == UNSAFE_CODE_POINTS


@given(st.text())
def test_visible_never_leaves_an_unsafe_code_point(s: str) -> None:
    out = visible(s)
    assert not any(ord(c) in UNSAFE_CODE_POINTS for c in out)
    for char in out:
        code = ord(char)
        assert char in "\n\t" or not (code < 0x20 or 0x7F <= code < 0xA0)
        assert code not in (*BIDI, 0x061C)


@given(st.text())
def test_one_line_is_visible_without_line_breaks_or_tabs(s: str) -> None:
    out = one_line(s)
    assert "\n" not in out and "\t" not in out
    assert out == visible(s).replace("\n", " ").replace("\t", " ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sofía Castro", "sofia castro"),
        ("Björn Åkesson", "bjorn akesson"),
        ("KRAKÓW", "krakow"),
        ("Łódź Ørsted", "lodz orsted"),
        ("Straße", "strasse"),
        ("प्रिया शर्मा", "प्रिया शर्मा"),  # other scripts keep their marks
        ("한국어 Ünal", "한국어 unal"),
        ("plain ASCII 123", "plain ascii 123"),
    ],
)
def test_folded_drops_latin_accents_and_case(text: str, expected: str) -> None:
    assert folded(text) == expected
    assert folded(folded(text)) == expected, "folding is idempotent"
