"""A live countdown of a group's 24-hour customer service window."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from groups_tui.domain.window import format_countdown, is_closing_soon, window_state
from groups_tui.ui.formatting import stamp
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["WindowCountdown"]


class WindowCountdown(Widget):
    """Shows who last opened the group's window, and when it closes.

    The widget holds no timer: the app's single one-second timer calls :meth:`tick`. The
    state classes ``-window-open``, ``-closing`` and ``-closed`` are set by the watchers so
    the stylesheet decides the colours (a warning under an hour).
    """

    DEFAULT_CSS = """
    WindowCountdown {
        height: 1;
        width: 1fr;
        padding: 0 1;
        &.-window-open { color: $success; }
        &.-closing { color: $warning; text-style: bold; }
        &.-closed { color: $error; }
    }
    """

    last_inbound_at: reactive[int | None] = reactive(None)
    """Epoch seconds of the latest inbound member message (``None``: never)."""

    opened_by: reactive[str | None] = reactive(None)
    """Display name of that message's sender (untrusted)."""

    now: reactive[int] = reactive(0)
    """Current epoch seconds from the app clock."""

    def __init__(
        self,
        last_inbound_at: int | None = None,
        opened_by: str | None = None,
        *,
        now: float = 0,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create the countdown.

        Args:
            last_inbound_at: Latest inbound member message time, if any.
            opened_by: Its sender's name.
            now: Current epoch seconds.
            id: Widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.set_reactive(WindowCountdown.last_inbound_at, last_inbound_at)
        self.set_reactive(WindowCountdown.opened_by, opened_by)
        self.set_reactive(WindowCountdown.now, int(now))
        self._update_classes()

    @property
    def is_open(self) -> bool:
        """True while free-form messages may be sent."""
        return window_state(self.last_inbound_at, self.now).open

    def tick(self, now: float) -> None:
        """Advance the clock (called by the app timer)."""
        self.now = int(now)

    def _watch_last_inbound_at(self) -> None:
        self._update_classes()

    def _watch_now(self) -> None:
        self._update_classes()

    def _update_classes(self) -> None:
        state = window_state(self.last_inbound_at, self.now)
        closing = is_closing_soon(state)
        self.set_class(state.open and not closing, "-window-open")
        self.set_class(closing, "-closing")
        self.set_class(not state.open, "-closed")

    def render(self) -> Text:
        """The countdown line."""
        state = window_state(self.last_inbound_at, self.now, self.opened_by)
        text = Text()
        if self.last_inbound_at is None:
            text.append("Window closed · no member has written yet · templates only")
            return text
        if state.open:
            label = "closing soon" if is_closing_soon(state) else "open"
            text.append(f"Window {label} · {format_countdown(state.remaining)} left")
            text.append(" · opened by ")
        else:
            text.append("Window closed · templates only · last member message by ")
        text.append_text(safe(fit(self.opened_by or "unknown", 40)))
        text.append(f" at {stamp(self.last_inbound_at, self.now)}")
        return text
