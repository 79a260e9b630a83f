"""Untrusted text made safe for a terminal: the one rule, shared by the TUI and the CLI.

Subjects, profile names, message bodies and the Cloud API's error texts come from
strangers. Written raw to a terminal, their control characters act: ``ESC ] 52`` sets the
clipboard, ``ESC ] 2`` the window title, ``ESC [ 2 J`` clears the screen, and bidi
overrides reorder what the operator reads. :data:`UNSAFE_CODE_POINTS` names every such
character once; :func:`visible` shows each as a visible escape (the TUI draws the result,
the CLI prints it), and the JSON encoder of ``--json`` output writes each as ``\\uXXXX``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["UNSAFE_CODE_POINTS", "folded", "one_line", "visible"]

# C0 controls get the Unicode "control pictures" (U+2400 block): ESC becomes "␛".
# Newline and tab are layout, not control, and are kept.
_CONTROL_PICTURES: Final[dict[int, str]] = {
    code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)
}
_CONTROL_PICTURES[0x7F] = "␡"

# C1 controls (U+0080–U+009F; U+009B is a one-byte CSI on some terminals) and the
# characters that change the visual order of text (bidi embeddings, overrides, isolates,
# marks) are shown by code point.
_BY_CODEPOINT: Final[tuple[int, ...]] = (
    *range(0x80, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0x061C,
)

_TABLE: Final[dict[int, str]] = {
    **_CONTROL_PICTURES,
    **{code: f"<U+{code:04X}>" for code in _BY_CODEPOINT},
}

UNSAFE_CODE_POINTS: Final[frozenset[int]] = frozenset(_TABLE)
"""Code points never written raw to a terminal: C0 controls except newline and tab, DEL,
C1 controls, and the bidi embeddings, overrides, isolates and marks."""

_ONE_LINE: Final[dict[int, str]] = {**_TABLE, 0x09: " ", 0x0A: " "}


def visible(s: str) -> str:
    """Replace control and bidi-override characters with visible escapes.

    Newline and tab are kept (callers that need one line use :func:`one_line`).

    Args:
        s: Untrusted text.

    Returns:
        The same text with every code point of :data:`UNSAFE_CODE_POINTS` replaced:
        ``"\\x1b"`` becomes ``"␛"``, ``"\\x7f"`` ``"␡"``, ``"\\u202e"`` ``"<U+202E>"``.
    """
    return s.translate(_TABLE)


def one_line(s: str) -> str:
    """:func:`visible`, with newlines and tabs as spaces (for one line of a table).

    Args:
        s: Untrusted text.

    Returns:
        Text without line breaks, tabs or unsafe code points.
    """
    return s.translate(_ONE_LINE)


# The combining diacritical marks (U+0300-U+036F) that NFKD splits off Latin, Greek and
# Cyrillic letters; marks of other scripts (Devanagari vowel signs...) are letters there
# and stay. Letters with a stroke have no decomposition and are mapped by hand.
_DIACRITICS = re.compile("[\u0300-\u036f]+")
_STROKES: Final[dict[int, str]] = {ord(a): b for a, b in zip("øłđħŧ", "oldht", strict=True)}


def folded(s: str) -> str:
    """``s`` for matching as the search does: any case, any accent (``Sofía`` -> ``sofia``).

    Like SQLite's ``unicode61 remove_diacritics 2`` tokenizer that message search uses,
    Latin letters lose their diacritics (``ö``, ``í``, ``ç``, ``ø``, ``ł``); other scripts
    are only case-folded. Applied to both the text searched and what is typed.

    Args:
        s: Any text.

    Returns:
        The case-folded text without Latin diacritics (NFC).
    """
    if s.isascii():
        return s.lower()
    bare = _DIACRITICS.sub("", unicodedata.normalize("NFKD", s))
    return unicodedata.normalize("NFC", bare.casefold().translate(_STROKES))
