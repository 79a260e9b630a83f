"""The only way text from members, Meta or the database reaches the screen.

Subjects, profile names and message bodies are untrusted: they may contain Rich/Textual
markup (``[bold]``, ``[@click=app.quit]``, ``[link=...]``), unbalanced brackets, terminal
escape sequences, other control characters, or bidi overrides that reorder what the
operator reads. :func:`safe` builds a :class:`rich.text.Text` with ``Text(s)`` — never
markup parsing — after :func:`groups_tui.domain.text.visible` replaced every such
character with a visible escape (the rule the CLI shares), so the string is shown
literally, fires no action and cannot raise a markup error.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from groups_tui.domain.text import one_line, visible
from groups_tui.ui.cell_widths import drawn_len, narrow_emoji

__all__ = ["clip", "fit", "safe"]


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
    is too wide is cut with ``…``. East Asian wide characters count as two cells, and
    spacing combining marks one when the terminal draws them so; an emoji whose width
    terminals disagree on (``❤️``) is drawn in its one-cell text form
    (:mod:`groups_tui.ui.cell_widths`).

    Args:
        s: Untrusted text.
        width: Cells available.

    Returns:
        A plain string at most ``width`` cells wide (not padded).
    """
    if not s or width <= 0:
        return ""
    return clip(narrow_emoji(one_line(s)), width)


def clip(line: str, width: int) -> str:
    """Cut a single-line string to ``width`` drawn cells, ending in ``…`` when cut.

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
    if drawn_len(line) <= width:
        return line
    out: list[str] = []
    used = 0
    for char in line:
        w = drawn_len(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"
