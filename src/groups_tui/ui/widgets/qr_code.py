"""A QR code drawn in the terminal with half-block characters.

Each terminal cell shows two modules stacked vertically (``▀``, ``▄``, ``█`` or a space),
so a version-3 code (29 modules plus a two-module quiet zone) takes 33 columns and 17
lines. The matrix comes from :mod:`segno`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

import segno
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["QRCode", "qr_lines"]

_QUIET = 2
"""Quiet-zone modules around the code (scanners need light space around it)."""

_HALVES = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


@lru_cache(maxsize=8)
def _lines(data: str, border: int) -> tuple[str, ...]:
    return tuple(qr_lines(data, border))


def qr_lines(data: str, border: int = _QUIET) -> list[str]:
    """The QR code of ``data`` as lines of half-block characters (dark = drawn).

    Args:
        data: What the code encodes (an invite link).
        border: Quiet-zone width in modules.

    Returns:
        ``ceil(size / 2)`` lines of ``size`` characters, ``size`` being the symbol size
        including the quiet zone.
    """
    qr = segno.make(data, error="m", micro=False)
    rows = [[bool(v) for v in row] for row in qr.matrix_iter(scale=1, border=border)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return [
        "".join(_HALVES[(top, bottom)] for top, bottom in zip(upper, lower, strict=True))
        for upper, lower in zip(rows[0::2], rows[1::2], strict=True)
    ]


class QRCode(Widget):
    """Shows :attr:`data` as a scannable QR code, or nothing while it is empty.

    The code is drawn dark-on-light whatever the theme: a phone camera needs the
    contrast, and an inverted code does not scan with every reader. This is the one
    place the UI uses literal colours instead of theme variables.
    """

    DEFAULT_CSS = """
    QRCode {
        width: auto;
        height: auto;
        & > .qr-code--modules { color: #000000; background: #ffffff; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"qr-code--modules"}

    data: reactive[str] = reactive("", layout=True)
    """The text encoded (an invite link); empty draws nothing."""

    def render(self) -> Text:
        """The code's lines, styled dark-on-light."""
        if not self.data:
            return Text("")
        style: Style = self.get_component_rich_style("qr-code--modules")
        return Text("\n".join(_lines(self.data, _QUIET)), style=style, no_wrap=True, end="")

    def get_content_width(self, container: object, viewport: object) -> int:
        """As wide as the symbol."""
        lines = _lines(self.data, _QUIET) if self.data else ()
        return len(lines[0]) if lines else 0

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """Half as tall as the symbol."""
        return len(_lines(self.data, _QUIET)) if self.data else 0
