"""The only way text from members, Meta or the database reaches the screen.

Subjects, profile names and message bodies are untrusted: they may contain Rich/Textual
markup (``[bold]``, ``[@click=app.quit]``, ``[link=...]``), unbalanced brackets, terminal
escape sequences, other control characters, or bidi overrides that reorder what the
operator reads. :func:`safe` builds a :class:`rich.text.Text` with ``Text(s)`` — never
markup parsing — after replacing every such character with a visible escape, so the
string is shown literally, fires no action and cannot raise a markup error.
"""

from __future__ import annotations

from typing import Final

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

__all__ = ["clip", "fit", "safe", "visible"]

# C0 controls get the Unicode "control pictures" (U+2400 block): ESC becomes "␛".
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


def visible(s: str) -> str:
    """Replace control and bidi-override characters with visible escapes.

    Newline and tab are kept (callers that need one line replace them themselves).

    Args:
        s: Untrusted text.

    Returns:
        The same text with C0 controls (except ``\\n``/``\\t``), DEL, C1 controls and bidi
        controls replaced: ``"\\x1b"`` becomes ``"␛"``, ``"\\u202e"`` becomes ``"<U+202E>"``.
    """
    return s.translate(_TABLE)


def safe(s: str | None, style: str | Style = "") -> Text:
    """Build display text from an untrusted string.

    Args:
        s: Untrusted text (``None`` is shown as nothing).
        style: A style applied to the whole text (a style, never markup).

    Returns:
        A ``Text`` holding the string literally, control characters made visible.
    """
    if not s:
        return Text("", style=style)
    return Text(visible(s), style=style, end="")


def fit(s: str | None, width: int) -> str:
    """Make untrusted text fit one line of ``width`` terminal cells.

    Control characters are made visible, newlines and tabs become spaces, and text that
    is too wide is cut with ``…``. East Asian wide characters count as two cells.

    Args:
        s: Untrusted text.
        width: Cells available.

    Returns:
        A plain string at most ``width`` cells wide (not padded).
    """
    if not s or width <= 0:
        return ""
    line = visible(s).replace("\n", " ").replace("\t", " ")
    return clip(line, width)


def clip(line: str, width: int) -> str:
    """Cut a single-line string to ``width`` cells, ending in ``…`` when cut.

    Args:
        line: Text without newlines (already made visible).
        width: Cells available.

    Returns:
        The string, or its longest prefix that fits with the ellipsis.
    """
    if width <= 0:
        return ""
    # Fast path: ASCII-only strings are one cell per character.
    if line.isascii():
        if len(line) <= width:
            return line
        return line[: width - 1] + "…"
    if cell_len(line) <= width:
        return line
    out: list[str] = []
    used = 0
    for char in line:
        w = cell_len(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"
