"""The group's 24-hour customer service window.

A message from **any** member opens or refreshes one window for the whole group; it closes
24 hours after the latest inbound member message. Only inbound member messages renew it:
messages the business sends (free-form or template) never do, and neither do system events
such as joins or subject changes. Free-form messages may only be sent while it is open.

All times are UTC epoch seconds and "now" is always passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from groups_tui.domain.models import Message

__all__ = [
    "CLOSING_SOON",
    "WINDOW_SECONDS",
    "WindowState",
    "format_countdown",
    "is_closing_soon",
    "last_inbound_after",
    "renewed_window",
    "window_closes_at",
    "window_state",
]

WINDOW_SECONDS = 86_400
"""Length of the customer service window."""

CLOSING_SOON = 3_600
"""An open window with at most this many seconds left counts as closing soon."""


@dataclass(frozen=True, slots=True)
class WindowState:
    """The window as seen at one instant.

    Attributes:
        open: True if free-form messages may be sent now.
        closes_at: Epoch seconds when the window closes (or closed); ``None`` if no member
            has ever written.
        remaining: Seconds left while open, otherwise 0.
        opened_by: Name of the member whose message opened or last refreshed it.
    """

    open: bool
    closes_at: int | None
    remaining: int
    opened_by: str | None


def window_closes_at(last_inbound_at: int | None) -> int | None:
    """When the window closes.

    Args:
        last_inbound_at: Epoch seconds of the latest inbound member message, or ``None``.

    Returns:
        ``last_inbound_at + WINDOW_SECONDS``, or ``None`` if no member has written.
    """
    if last_inbound_at is None:
        return None
    return last_inbound_at + WINDOW_SECONDS


def window_state(
    last_inbound_at: int | None, now: int, opened_by: str | None = None
) -> WindowState:
    """Evaluate the window at ``now``.

    The window is open iff ``now < closes_at``: at exactly 24 hours after the last inbound
    message it is already closed.

    Args:
        last_inbound_at: Epoch seconds of the latest inbound member message, or ``None``.
        now: Current epoch seconds.
        opened_by: Name of the member who sent that message, passed through for display.

    Returns:
        The window state.
    """
    closes_at = window_closes_at(last_inbound_at)
    if closes_at is None or now >= closes_at:
        return WindowState(open=False, closes_at=closes_at, remaining=0, opened_by=opened_by)
    return WindowState(
        open=True, closes_at=closes_at, remaining=closes_at - now, opened_by=opened_by
    )


def format_countdown(remaining: int) -> str:
    """Render the time left in an open window.

    Minutes are rounded down so the label never promises more time than is left.

    Args:
        remaining: Seconds left; 0 or less means closed.

    Returns:
        ``"23h 12m"``, ``"59m"``, ``"<1m"`` (open, under a minute) or ``"closed"``.
    """
    if remaining <= 0:
        return "closed"
    if remaining < 60:
        return "<1m"
    hours, rest = divmod(remaining, 3_600)
    minutes = rest // 60
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def is_closing_soon(state: WindowState) -> bool:
    """True if the window is open with at most :data:`CLOSING_SOON` seconds left."""
    return state.open and state.remaining <= CLOSING_SOON


def renewed_window(prev_last_inbound_at: int | None, message_at: int) -> int:
    """The latest inbound time after a new inbound member message.

    Webhooks can arrive out of order, so an older message never shortens the window.

    Args:
        prev_last_inbound_at: The stored latest inbound time, or ``None``.
        message_at: The new inbound message's own timestamp.

    Returns:
        The later of the two.
    """
    if prev_last_inbound_at is None:
        return message_at
    return max(prev_last_inbound_at, message_at)


def last_inbound_after(prev_last_inbound_at: int | None, message: Message) -> int | None:
    """Apply one message of any direction to the stored latest inbound time.

    Args:
        prev_last_inbound_at: The stored latest inbound time, or ``None``.
        message: A message just stored for the group.

    Returns:
        The renewed time for an inbound member message; otherwise the previous value
        unchanged (outbound messages and system events never renew the window).
    """
    if not message.renews_window:
        return prev_last_inbound_at
    return renewed_window(prev_last_inbound_at, message.at)
