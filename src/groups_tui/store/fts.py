"""Turning user-typed search text into a safe FTS5 MATCH expression, and FTS5 snippets
into plain text with the offsets of their matches."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "DEFAULT_MARKS",
    "SnippetMarks",
    "Span",
    "fts_query",
    "marks_absent_from",
    "split_snippet",
]

# A token is a run of letters, digits or underscores (what the unicode61 tokenizer keeps);
# everything else, including FTS5 operators and quotes, is a separator.
_TOKEN = re.compile(r"\w+", re.UNICODE)

_MAX_TOKENS = 16


def fts_query(text: str) -> str | None:
    """Build a MATCH expression that matches messages containing every word typed.

    Each token becomes a double-quoted string (so ``OR``, ``NEAR``, ``*``, ``:``, ``^``,
    parentheses and stray quotes lose any special meaning) and the last token is a
    prefix query, for search-as-you-type.

    Args:
        text: Raw user input.

    Returns:
        The expression, or ``None`` when the input has no searchable word.
    """
    tokens = _TOKEN.findall(text)[:_MAX_TOKENS]
    if not tokens:
        return None
    quoted = [f'"{t}"' for t in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)


# --- snippets --------------------------------------------------------------------------

Span = tuple[int, int]
"""``(start, end)`` offsets of a match in a snippet's plain text."""

ELLIPSIS = "…"


class SnippetMarks(NamedTuple):
    """The three strings FTS5's ``snippet()`` inserts: before a match, after it, and
    where text was left out.

    Message text is untrusted and may hold any character, so marks are only trusted on a
    text that does not contain them (:meth:`occur_in`); :func:`marks_absent_from` picks
    others for a text that does.
    """

    open: str
    close: str
    ellipsis: str

    def occur_in(self, text: str) -> bool:
        """True if `text` holds any of the three marks (then they would be ambiguous)."""
        return self.open in text or self.close in text or self.ellipsis in text


DEFAULT_MARKS = SnippetMarks("\x02", "\x03", "\x1e")
"""STX, ETX and RS: controls no message needs (a text holding one gets other marks)."""

# Where other marks are looked for: the C0 controls, then the private-use areas. A text
# holding all of them (over 137,000 distinct characters) gets a snippet without spans.
_CANDIDATES = (range(0x01, 0x20), range(0xE000, 0xF900), range(0xF0000, 0x10FFFE))


def marks_absent_from(text: str) -> SnippetMarks | None:
    """Three marks none of which occurs in `text`, or ``None`` if there are none.

    Args:
        text: The message text the snippet is taken from.

    Returns:
        The marks.
    """
    present = set(text)
    free: list[str] = []
    for block in _CANDIDATES:
        for code in block:
            char = chr(code)
            if char not in present:
                free.append(char)
                if len(free) == 3:
                    return SnippetMarks(*free)
    return None


def split_snippet(marked: str, marks: SnippetMarks) -> tuple[str, tuple[Span, ...]]:
    """Turn a ``snippet()`` result into plain text and the offsets of its matches.

    Args:
        marked: The snippet, with `marks` inserted by FTS5 (the marks must not occur in
            the message text itself).
        marks: The marks it was made with.

    Returns:
        The snippet as plain text (``…`` where text was left out) and the ``(start, end)``
        of each match in it, in order.
    """
    out: list[str] = []
    length = 0
    start: int | None = None
    spans: list[Span] = []
    for char in marked:
        if char == marks.open:
            start = length
        elif char == marks.close:
            if start is not None and length > start:
                spans.append((start, length))
            start = None
        else:
            piece = ELLIPSIS if char == marks.ellipsis else char
            out.append(piece)
            length += len(piece)
    return "".join(out), tuple(spans)
