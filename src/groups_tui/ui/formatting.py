"""Small, pure formatting helpers shared by screens and widgets.

Times are UTC epoch seconds everywhere below the UI; they are shown in local time here.
"Now" is always passed in (from the app's injected clock), never read from ``time``.
"""

from __future__ import annotations

import time
from decimal import Decimal

__all__ = ["ago", "local_date", "money", "size_label", "stamp"]


def ago(at: float | None, now: float) -> str:
    """A compact age such as ``now``, ``12m``, ``3h``, ``2d`` or ``5w``.

    Args:
        at: Epoch seconds of the event, or ``None``.
        now: Current epoch seconds.

    Returns:
        The age, ``"—"`` when unknown.
    """
    if at is None:
        return "—"
    delta = int(now - at)
    if delta < 60:
        return "now"
    if delta < 3_600:
        return f"{delta // 60}m"
    if delta < 86_400:
        return f"{delta // 3_600}h"
    if delta < 14 * 86_400:
        return f"{delta // 86_400}d"
    return f"{delta // (7 * 86_400)}w"


def stamp(at: float, now: float) -> str:
    """Local time of a message: ``14:05`` today, ``Mar 03 14:05`` on another day.

    Args:
        at: Epoch seconds of the message.
        now: Current epoch seconds.

    Returns:
        The label.
    """
    when = time.localtime(at)
    today = time.localtime(now)
    if (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M", when)
    if when.tm_year == today.tm_year:
        return time.strftime("%b %d %H:%M", when)
    return time.strftime("%Y-%m-%d %H:%M", when)


def local_date(at: float) -> str:
    """The local calendar date, ``2026-10-01``."""
    return time.strftime("%Y-%m-%d", time.localtime(at))


def size_label(size: int | None) -> str:
    """A file size in decimal units (``2.4 MB``), as Meta states its limits.

    Args:
        size: Bytes, or ``None``.

    Returns:
        The label, ``"? B"`` when unknown.
    """
    if size is None:
        return "? B"
    if size < 1_000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1_000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def money(amount: Decimal | None) -> str:
    """USD with four decimals (rates are quoted to the hundredth of a cent).

    Args:
        amount: The amount, ``None`` when unknown.

    Returns:
        ``"$0.0250"``, or ``"unknown"``.
    """
    if amount is None:
        return "unknown"
    return f"${amount:.4f}"
