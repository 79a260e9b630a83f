"""Spacing combining marks drawn one cell wide (tmux): lines as wide as the terminal draws.

Rich counts a spacing mark (Unicode Mc) as zero cells; tmux draws it as one. With the
compensation on, every line the app draws must take exactly the screen's width as the
terminal draws it, and the columns after a mark must start where they do in a row
without marks. Rich's own measurement is never changed.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import ControlType, Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.color import Color
from textual.widgets import Static

from groups_tui.service.types import InboxRow
from groups_tui.ui.app import GroupsApp
from groups_tui.ui.cell_widths import (
    SpacingMarksFilter,
    count_spacing_marks_as_one_cell,
    drawn_len,
    fold_drawn,
    spacing_marks_counted,
)
from groups_tui.ui.widgets.group_list import GroupList
from groups_tui.ui.widgets.safe_text import fit
from tests.ui.conftest import screen_lines, settle

NAME = "प्रिया शर्मा"  # three spacing vowel signs (Mc), two viramas (Mn)
TAMIL = "தமிழ் செல்வி"  # ி (Mc, twice), ெ (Mc), ் (Mn, twice)
BLACK = Color(0, 0, 0)


@pytest.fixture
def one_cell_marks() -> Iterator[None]:
    count_spacing_marks_as_one_cell()
    try:
        yield
    finally:
        count_spacing_marks_as_one_cell(False)


def _drawn(segments: list[Segment]) -> int:
    """The width the terminal draws (marks counted, the compensation on)."""
    return sum(drawn_len(s.text) for s in segments if not s.control)


def _filter(segments: list[Segment]) -> list[Segment]:
    return SpacingMarksFilter().apply(segments, BLACK)


def test_rich_measures_as_before_and_the_drawn_width_counts_marks(one_cell_marks: None) -> None:
    assert cell_len(NAME) == 7  # Rich is left alone
    assert drawn_len(NAME) == 10
    assert drawn_len(TAMIL) == cell_len(TAMIL) + 3 == 10
    assert drawn_len("e\u0301") == 1  # a non-spacing accent still takes none
    assert drawn_len("漢字") == 4 and drawn_len("abc") == 3


def test_off_by_default_and_measured_as_rich_does() -> None:
    assert not spacing_marks_counted()
    assert drawn_len(NAME) == cell_len(NAME) == 7
    segments = [Segment(NAME + "   ")]
    assert _filter(segments) is segments


def test_fit_cuts_to_the_width_the_terminal_draws(one_cell_marks: None) -> None:
    cut = fit(NAME + " " + NAME, 12)
    assert cut.endswith("…")
    assert drawn_len(cut) <= 12
    assert fit(NAME, 10) == NAME  # exactly fits


def test_padding_after_a_mark_gives_back_its_cell(one_cell_marks: None) -> None:
    # GIVEN a 20-cell column (Rich-padded) followed by a right-aligned column
    style = Style(bold=True)
    row = [Segment(NAME + " " * 13, style), Segment(" 3/8", None), Segment("      ", None)]
    assert sum(cell_len(s.text) for s in row) == 30
    out = _filter(row)
    # THEN the terminal draws the row 30 cells wide and "3/8" at drawn column 20
    assert _drawn(out) == 30
    text = "".join(s.text for s in out)
    assert drawn_len(text[: text.index("3/8")]) == 21
    assert out[0].style == style  # styles stay on their text


def test_words_keep_their_single_spaces(one_cell_marks: None) -> None:
    out = _filter([Segment(f"{NAME}: नमस्ते दोस्तों कैसे हो" + " " * 6)])
    text = "".join(s.text for s in out)
    assert text.rstrip() == f"{NAME}: नमस्ते दोस्तों कैसे हो"
    assert drawn_len(text) == cell_len(f"{NAME}: नमस्ते दोस्तों कैसे हो" + " " * 6)


def test_a_line_without_room_is_cut_at_its_end(one_cell_marks: None) -> None:
    line = [Segment("ab" + NAME)]  # no spaces to give back but the one inside the name
    out = _filter(line)
    assert _drawn(out) <= cell_len("ab" + NAME)
    assert "".join(s.text for s in out).startswith("ab")


def test_control_segments_are_kept(one_cell_marks: None) -> None:
    control = Segment("", None, [(ControlType.BELL,)])
    out = _filter([Segment(NAME + "    "), control])
    assert out[-1] is control


_PIECES = st.sampled_from(["a", "漢", " ", "  ", "ि", "ा", "्", "प", "ர", "ி", "é", "x y"])


@settings(max_examples=300, derandomize=True)
@given(st.lists(st.lists(_PIECES, max_size=12).map("".join), min_size=1, max_size=5))
def test_filtered_lines_are_never_drawn_wider_than_laid_out(texts: list[str]) -> None:
    count_spacing_marks_as_one_cell()
    try:
        segments = [Segment(t, Style(bold=i % 2 == 0)) for i, t in enumerate(texts) if t]
        if not segments:
            return
        width = sum(cell_len(s.text) for s in segments)
        out = _filter(segments)
        assert _drawn(out) <= width
        before = "".join(s.text for s in segments).replace(" ", "")
        after = "".join(s.text for s in out).replace(" ", "")
        assert before.startswith(after)  # nothing reordered; only the end may be cut
        spaces = sum(s.text.count(" ") for s in segments)
        marks = sum(1 for c in "".join(texts) if unicodedata.category(c) == "Mc")
        if spaces >= marks + len(texts) * 2:
            assert _drawn(out) == width or before != after
    finally:
        count_spacing_marks_as_one_cell(False)


def test_fold_splits_a_wrapped_line_the_terminal_would_draw_too_wide(one_cell_marks: None) -> None:
    line = Text(" ".join([NAME] * 3))
    pieces = fold_drawn(line, 12)
    assert "".join(p.plain for p in pieces) == line.plain
    assert all(drawn_len(p.plain) <= 12 for p in pieces)
    # no piece starts with a combining mark (graphemes stay whole)
    assert all(unicodedata.category(p.plain[0])[0] != "M" for p in pieces)


def _row(group_id: str, subject: str, sender: str) -> InboxRow:
    return InboxRow(
        group_id, subject, 3, 1, 0, sender, "Kann jemand die Adresse schicken?",
        1_000, 1_000, None, False, "active", False, subject.lower(),
    )  # fmt: skip


async def test_inbox_rows_line_up_and_fill_the_screen_as_tmux_draws(
    app: GroupsApp, one_cell_marks: None
) -> None:
    seed = random.randrange(1 << 16)
    print(f"seed {seed}")
    rng = random.Random(seed)
    names = [NAME, TAMIL, "Björn Åkesson", "কাজল দাস", "राहुल वर्मा"]
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot)
        group_list = app.screen.query_one(GroupList)
        rows = [
            _row(f"g{i}", rng.choice(names) * rng.randint(1, 4), rng.choice(names))
            for i in range(8)
        ]
        group_list.set_rows(rows)
        await pilot.pause()
        texts = screen_lines(app)
        # every line is drawn exactly as wide as the screen
        assert [drawn_len(t) for t in texts] == [100] * len(texts)
        # and the members column ("3/8") starts at the same drawn column in every row
        starts = {drawn_len(t[: t.index(" 3/8 ")]) for t in texts if " 3/8 " in t}
        assert len(starts) == 1, starts
        ends = {drawn_len(t[: t.index("Kann")]) for t in texts if "Kann" in t}
        assert ends  # the last-message column is on screen


async def test_screen_lines_are_the_text_the_screen_draws() -> None:
    # GIVEN a screen with runs of spaces, markup-like text, wide characters and a
    # no-break space, over a painted background
    text = "a  [b]  ＷＩＤＥ  x\u00a0y &#160;"

    class Host(App[None]):
        CSS = "Screen { background: black; } Static { background: red; }"

        def compose(self) -> ComposeResult:
            yield Static(Text(text))

    host = Host()
    async with host.run_test(size=(30, 2)) as pilot:
        await pilot.pause()
        # WHEN its lines are read THEN they are what was drawn, cell for cell
        lines = screen_lines(host)
    assert lines == [text + " " * (30 - cell_len(text)), " " * 30]


def test_the_app_installs_the_filter_only_when_counting(app: GroupsApp) -> None:
    assert not any(isinstance(f, SpacingMarksFilter) for f in app.get_line_filters())
    count_spacing_marks_as_one_cell()
    try:
        assert any(isinstance(f, SpacingMarksFilter) for f in app.get_line_filters())
    finally:
        count_spacing_marks_as_one_cell(False)
