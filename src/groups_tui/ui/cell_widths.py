"""Lines as wide as the operator's terminal draws them, when it counts differently from Rich.

Rich (and so Textual) counts spacing combining marks -- Unicode category Mc, such as the
Devanagari vowel signs in "प्रिया" -- as zero cells, as terminals that measure whole
graphemes draw them. Terminals that measure code points with ``wcwidth`` (tmux, for one)
draw each as one cell, so a row of Hindi, Bengali or Tamil text is pushed right and its
last column cut.

Neither Rich nor Textual offers a public way to measure those marks differently, so with
``GROUPS_TUI_SPACING_MARKS=one`` (the default inside tmux) the project compensates in its
own rendering and leaves Rich's measurement alone:

- text is cut to the width the terminal draws (:func:`drawn_len`, used by
  :func:`groups_tui.ui.widgets.safe_text.clip` and :func:`fold_drawn`), and table cells
  are padded to it (:func:`pad_to_drawn`), so columns are laid out wide enough;
- every line then gives back, from the padding after each mark, the cell the terminal
  adds for it (:func:`compensate`): the columns after the mark stay where they belong and
  the line is drawn exactly as wide as Textual laid it out. A line with no padding left
  to give is cut at its end instead: the terminal never draws a line wider than the
  screen. :class:`SpacingMarksFilter` does this for every widget as a Textual line
  filter; the Line API widgets that have a scrollbar do it in ``render_line``
  (:func:`drawn_line`), where the strip can be told to cover the scrollbar's gutter --
  Textual cuts a widget's line at the gutter by Rich's measure, which would otherwise
  draw the gutter's first cells after the line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter
from textual.strip import Strip
from textual.widget import Widget

__all__ = [
    "SpacingMarksFilter",
    "compensate",
    "count_spacing_marks_as_one_cell",
    "drawn_len",
    "drawn_line",
    "extra_cells",
    "fold_drawn",
    "narrow_emoji",
    "pad_to_drawn",
    "spacing_marks_counted",
    "without_spacing_marks_filter",
]

_VS16 = "\ufe0f"
"""The emoji presentation selector."""


def narrow_emoji(line: str) -> str:
    """Drop the emoji presentation selector (U+FE0F) after a one-cell character.

    ``❤️`` is ``❤`` (text presentation, one cell) and U+FE0F (draw it as an emoji).
    Rich counts the pair as two cells; tmux and ``wcwidth`` terminals draw one; the
    terminal under tmux may draw two again. Nobody agrees, so a column after such a name
    moves and the line's end is cut (the Window column read ``23h 5``). Without the
    selector every one of them draws ``❤`` in one cell. Emoji that are wide on their own
    (``😀``, ``🇧🇷``, ``✅``) are left alone.

    Args:
        line: Text already made visible.

    Returns:
        The text without those selectors.
    """
    if _VS16 not in line:
        return line
    out: list[str] = []
    previous = ""
    for char in line:
        if char == _VS16 and previous and cell_len(previous) == 1:
            continue
        out.append(char)
        previous = char
    return "".join(out)


_counting = False
"""Whether the terminal draws each spacing mark as one cell (set once at start-up)."""


def count_spacing_marks_as_one_cell(enabled: bool = True) -> None:
    """Measure spacing combining marks as one cell (or, with ``False``, as Rich does).

    Only this module's measurements and filter change; Rich's own widths never do.
    """
    global _counting
    _counting = enabled


def spacing_marks_counted() -> bool:
    """True when spacing combining marks are measured as one cell."""
    return _counting


@cache
def _is_extra(char: str) -> bool:
    """A spacing mark Rich counts as zero cells (the terminal draws one)."""
    return unicodedata.category(char) == "Mc" and cell_len(char) == 0


def _marks(text: str) -> int:
    if text.isascii():
        return 0
    return sum(1 for char in text if _is_extra(char))


def extra_cells(text: str) -> int:
    """Cells the terminal draws beyond what Rich measures for ``text`` (0 unless counting)."""
    return _marks(text) if _counting else 0


def drawn_len(text: str) -> int:
    """How many cells the terminal draws ``text`` in."""
    return cell_len(text) + extra_cells(text)


def _cut_before_mark(text: str, offset: int) -> int:
    """Move a cut back so that no combining mark starts a piece (graphemes stay whole)."""
    start = offset
    while offset > 0 and unicodedata.category(text[offset])[0] == "M":
        offset -= 1
    return offset if offset > 0 else start


def fold_drawn(line: Text, width: int) -> list[Text]:
    """Split one already wrapped line further where the terminal would draw it too wide.

    Args:
        line: One line (no newline), as :meth:`rich.text.Text.wrap` made it.
        width: Cells available.

    Returns:
        ``[line]`` when it fits, otherwise pieces each drawn at most ``width`` cells wide
        (a piece never starts with a combining mark unless it cannot be helped).
    """
    plain = line.plain
    if width <= 0 or not _counting or drawn_len(plain) <= width:
        return [line]
    cuts: list[int] = []
    used = 0
    start = 0
    for index, char in enumerate(plain):
        size = cell_len(char) + (1 if _is_extra(char) else 0)
        if used + size > width and index > start:
            cut = _cut_before_mark(plain, index)
            if cut <= start:
                cut = index
            cuts.append(cut)
            used = drawn_len(plain[cut : index + 1])
            start = cut
        else:
            used += size
    return list(line.divide(cuts))


def pad_to_drawn(text: Text) -> Text:
    """``text`` followed by one space per spacing mark, so Rich lays it out as wide as drawn.

    The spaces are taken back by :func:`compensate` when the line is drawn.
    """
    extra = extra_cells(text.plain)
    if not extra:
        return text
    padded = text.copy()
    padded.append(" " * extra)
    return padded


def _has_marks(segments: list[Segment]) -> bool:
    return any(_marks(s.text) for s in segments if not s.control)


def drawn_line(strip: Strip, widget: Widget) -> Strip:
    """One line of a Line API widget with a scrollbar, compensated (see the module doc).

    Args:
        strip: The line, as wide as the widget's scrollable content region.
        widget: The widget (its scrollbar gutter is added to the strip's length).

    Returns:
        ``strip`` itself when nothing needs compensating.
    """
    if not _counting:
        return strip
    segments = list(strip)
    if not _has_marks(segments):
        return strip
    gutter = widget.content_region.width - widget.scrollable_content_region.width
    return Strip(compensate(segments), strip.cell_length + max(gutter, 0))


def without_spacing_marks_filter(filters: Sequence[LineFilter]) -> list[LineFilter]:
    """``filters`` less :class:`SpacingMarksFilter` (for widgets using :func:`drawn_line`)."""
    return [f for f in filters if not isinstance(f, SpacingMarksFilter)]


class SpacingMarksFilter(LineFilter):
    """Gives back, from a line's padding, the cell the terminal adds for each spacing mark.

    For each mark, one space is taken from the first run of two or more spaces after it
    (the padding of its column), else from the trailing spaces, else from the nearest
    such run before it; whatever cannot be given back is cut from the line's end. Runs
    inside text keep one space, so words never merge. The strip keeps the width Textual
    gave it, which is now the width the terminal draws.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        """Compensate one line (unchanged when it holds no spacing mark)."""
        if not _counting or not _has_marks(segments):
            return segments
        return compensate(segments)


def _space_runs(line: str) -> list[list[int]]:
    """``[start, end, capacity]`` of each run of spaces (``end`` exclusive)."""
    runs: list[list[int]] = []
    index = 0
    size = len(line)
    while index < size:
        if line[index] != " ":
            index += 1
            continue
        start = index
        while index < size and line[index] == " ":
            index += 1
        length = index - start
        capacity = length if index == size else length - 1
        if capacity > 0:
            runs.append([start, index, capacity])
    return runs


def compensate(segments: list[Segment]) -> list[Segment]:
    """Take one space out of the padding after each spacing mark (see the module doc).

    Args:
        segments: One line.

    Returns:
        The line drawn as wide as Rich measures ``segments`` (cut at its end when there
        is not enough padding to give back).
    """
    chars: list[str] = []
    owner: list[int] = []
    for number, segment in enumerate(segments):
        if segment.control:
            continue
        chars.extend(segment.text)
        owner.extend([number] * len(segment.text))
    line = "".join(chars)
    runs = _space_runs(line)
    removed: set[int] = set()
    uncovered = 0
    for position, char in enumerate(line):
        if not _is_extra(char):
            continue
        run = next((r for r in runs if r[0] > position and r[2] > 0), None)
        if run is None:
            run = next((r for r in reversed(runs) if r[2] > 0), None)
        if run is None:
            uncovered += 1
            continue
        run[2] -= 1
        run[1] -= 1  # take the run's last space
        removed.add(run[1])
    keep = [i for i in range(len(line)) if i not in removed]
    while uncovered > 0 and keep:
        # Cut the line's end: the terminal must never draw it wider than Textual laid out.
        last = keep.pop()
        uncovered -= cell_len(line[last]) + (1 if _is_extra(line[last]) else 0)
    pad = -uncovered  # a wide character cut in half leaves a cell to fill
    pieces: dict[int, list[str]] = {}
    for index in keep:
        pieces.setdefault(owner[index], []).append(line[index])
    out: list[Segment] = []
    last_style = None
    for number, segment in enumerate(segments):
        if segment.control:
            out.append(segment)
            continue
        text = "".join(pieces.get(number, ()))
        if text:
            out.append(Segment(text, segment.style))
        last_style = segment.style
    if pad:
        out.append(Segment(" " * pad, last_style))
    return out
