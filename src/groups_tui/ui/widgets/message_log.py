"""The conversation view: the loaded pages of one group's history, drawn line by line.

A group may hold 100,000 messages or more, so the log only ever holds the pages the
operator has scrolled through, fetched by keyset (``older`` cursor) from the service. It
is a Line API :class:`~textual.scroll_view.ScrollView`: messages are laid out into
:class:`~textual.strip.Strip` lines once per width, and :meth:`MessageLog.render_line`
returns the strip at the requested line.

What happened in the group over each page's stretch of time (joins, leaves, removals,
requests, changes of subject...) comes with the page and is drawn as event lines
between the messages, at the time it happened.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from groups_tui.domain.media import MEDIA_KINDS
from groups_tui.domain.models import Direction, MessageKind
from groups_tui.domain.timeline import TimelineEvent, describe
from groups_tui.service.types import MessageView
from groups_tui.ui.cell_widths import drawn_line, fold_drawn, without_spacing_marks_filter
from groups_tui.ui.formatting import local_date, money, size_label, stamp
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.scrolling import set_virtual_height

__all__ = ["LogItem", "MessageLog", "event_line", "message_lines"]

LogItem = MessageView | TimelineEvent
"""What the log draws: a message, or an event of the group."""


def event_line(event: TimelineEvent, now: float, styles: dict[str, Style]) -> Text:
    """One event of the group as a line of the conversation (``12:05 · Ana left``).

    Args:
        event: The event (names and texts in it are untrusted, shown literally).
        now: Current epoch seconds, for the time label.
        styles: Component styles (``system`` is used).

    Returns:
        The line.
    """
    line = Text(f"{stamp(event.at, now)} · ", style=styles["system"])
    line.append_text(safe(describe(event), styles["system"]))
    return line


def _item_id(item: LogItem) -> str:
    return item.id if isinstance(item, TimelineEvent) else item.message.id


def _order(item: LogItem) -> tuple[int, int, str]:
    """Time order; at the same second an event comes before the messages."""
    if isinstance(item, TimelineEvent):
        return (item.at, 0, item.id)
    return (item.message.at, 1, item.message.id)


def message_lines(view: MessageView, now: float, styles: dict[str, Style]) -> list[Text]:
    """Lay out one message as unwrapped text lines (the log wraps them).

    Args:
        view: The message and its delivery/cost details.
        now: Current epoch seconds, for the time label.
        styles: Component styles by short name (``header``, ``system``, ``status``,
            ``failed``, ``outbound``).

    Returns:
        A header line, then the body, media and delivery lines.
    """
    msg = view.message
    when = stamp(msg.at, now)
    if msg.kind is MessageKind.SYSTEM:
        line = Text(f"{when} · ", style=styles["system"])
        line.append_text(safe(msg.system_event or msg.text or "system event", styles["system"]))
        return [line]
    header = Text(f"{when} ", style=styles["header"])
    if msg.direction is Direction.OUTBOUND:
        header.append("You", style=styles["outbound"])
    else:
        header.append_text(safe(fit(msg.sender_name or "unknown", 40), styles["header"]))
        number = msg.sender_wa_id or msg.sender_key
        if number:
            header.append(" ")
            header.append_text(safe(fit(f"+{number.lstrip('+')}", 24), styles["system"]))
    lines = [header]
    if msg.kind is MessageKind.TEMPLATE:
        lines.append(Text("  template ").append_text(safe(fit(msg.template_name or "?", 60))))
    media = msg.media
    if media is not None or msg.kind in MEDIA_KINDS:
        kind = media.kind.value if media is not None else msg.kind.value
        desc = Text(f"  ‹{kind}›", style=styles["outbound"])
        if media is not None:
            if media.filename:
                desc.append(" ").append_text(safe(fit(media.filename, 60)))
            if media.size is not None:  # webhooks do not state it; our own sends do
                desc.append(f" · {size_label(media.size)}")
            if media.mime_type:
                desc.append(" · ").append_text(safe(fit(media.mime_type, 60)))
        lines.append(desc)
        caption = media.caption if media is not None else None
        if caption:
            lines.extend(_indented(caption))
        elif msg.text and msg.text != caption:
            lines.extend(_indented(msg.text))
    elif msg.kind not in (MessageKind.TEXT, MessageKind.TEMPLATE):
        lines.append(Text(f"  ‹{msg.kind.value}›", style=styles["system"]))
        if msg.text:
            lines.extend(_indented(msg.text))
    elif msg.text:
        lines.extend(_indented(msg.text))
    if msg.direction is Direction.OUTBOUND:
        lines.append(_status_line(view, styles))
    return lines


def _indented(body: str) -> list[Text]:
    return [Text("  ").append_text(safe(part)) for part in body.split("\n")]


def _status_line(view: MessageView, styles: dict[str, Style]) -> Text:
    state = view.outbox_state
    line = Text("  ", style=styles["status"])
    if state == "failed" or (view.delivery is None and view.error):
        line.append("✗ failed", style=styles["failed"])
        if view.error:
            line.append(": ", style=styles["failed"]).append_text(
                safe(fit(view.error, 200), styles["failed"])
            )
        return line
    if view.delivery is not None and view.delivery.total:
        line.append("✓ " + view.delivery.label())
        if view.delivery.failed and view.error:
            line.append(" — ").append_text(safe(fit(view.error, 120), styles["failed"]))
    elif state == "unknown":
        line.append("? state unknown after a restart; check before resending")
    else:
        line.append(state or "queued")
    if view.cost is not None or view.cost_unknown:
        line.append(f" · cost {money(view.cost) if view.cost is not None else '$0.0000'}")
        if view.cost_unknown:
            line.append(" + unknown")
    return line


class MessageLog(ScrollView, can_focus=True):
    """The loaded part of a conversation, oldest first, paged upward by keyset.

    Reaching the top (``PgUp`` or ``Home`` there, or scrolling to line 0) posts
    :class:`OlderRequested` once per cursor; the screen fetches the page and calls
    :meth:`prepend`, which keeps the visible messages where they were.
    """

    DEFAULT_CSS = """
    MessageLog {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        & > .message-log--header { text-style: bold; }
        & > .message-log--outbound { color: $primary; text-style: bold; }
        & > .message-log--system { color: $text-muted; }
        & > .message-log--status { color: $text-muted; }
        & > .message-log--failed { color: $error; text-style: bold; }
        & > .message-log--highlight { background: $accent 40%; }
        & > .message-log--more { color: $text-muted; text-style: italic; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "message-log--header",
        "message-log--outbound",
        "message-log--system",
        "message-log--status",
        "message-log--failed",
        "message-log--highlight",
        "message-log--more",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "scroll_up", "Up", show=False, id="log.up"),
        Binding("down,j", "scroll_down", "Down", show=False, id="log.down"),
        Binding("pageup", "older_or_page_up", "Older", show=False, id="log.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="log.page_down"),
        Binding("home,g", "top", "Top", show=False, id="log.top"),
        Binding("end,G", "bottom", "Bottom", show=False, id="log.bottom"),
    ]
    """Scrolling keys; ``PgUp`` at the top loads older messages."""

    class OlderRequested(Message):
        """The operator reached the top and older messages exist.

        Attributes:
            message_log: The log that posted it.
            cursor: The keyset cursor to pass as ``older``.
        """

        def __init__(self, message_log: MessageLog, cursor: tuple[int, str]) -> None:
            super().__init__()
            self.message_log = message_log
            self.cursor = cursor

        @property
        def control(self) -> MessageLog:
            """The log that posted the message."""
            return self.message_log

    def __init__(
        self, *, now: float = 0.0, id: str | None = None, classes: str | None = None
    ) -> None:
        """Create an empty log.

        Args:
            now: Current epoch seconds (for time labels).
            id: Widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._views: list[MessageView] = []
        self._older: tuple[int, str] | None = None
        self._requested: tuple[int, str] | None = None
        self._events: dict[str, TimelineEvent] = {}
        self._lines: list[Strip] = []
        self._starts: dict[str, int] = {}
        self._laid_out_width = -1
        self._highlight: str | None = None
        self._strip_cache: dict[str, tuple[LogItem, bool, list[Strip]]] = {}
        self._cache_key: tuple[int, str] = (-1, "")
        self._now = now
        self.loaded = False
        """True once the first page arrived."""

    # ------------------------------------------------------------------ data

    @property
    def views(self) -> Sequence[MessageView]:
        """The loaded messages, oldest first."""
        return self._views

    @property
    def events(self) -> list[TimelineEvent]:
        """The loaded events of the group, oldest first."""
        return sorted(self._events.values(), key=_order)

    def _add_events(self, events: Iterable[TimelineEvent]) -> None:
        for event in events:
            self._events[event.id] = event

    @property
    def older(self) -> tuple[int, str] | None:
        """The cursor for the next older page, ``None`` at the beginning of history."""
        return self._older

    def set_page(
        self,
        views: Iterable[MessageView],
        older: tuple[int, str] | None,
        events: Iterable[TimelineEvent] = (),
    ) -> None:
        """Show the newest page (replacing anything loaded) and scroll to the end."""
        self._views = list(views)
        self._events = {}
        self._add_events(events)
        self._older = older
        self._requested = None
        self.loaded = True
        self._relayout()
        if self.scrollable_content_region.height > 0:
            self._scroll_to_end()  # the size is known: no need to wait for a frame
        else:
            self.call_after_refresh(self._scroll_to_end)

    def follow_end(self) -> None:
        """Scroll to the newest message once the next layout is done."""
        self.call_after_refresh(self._scroll_to_end)

    def _scroll_to_end(self) -> None:
        self.scroll_to(
            y=max(len(self._lines) - self.scrollable_content_region.height, 0),
            animate=False,
            immediate=True,
        )

    def prepend(
        self,
        views: Iterable[MessageView],
        older: tuple[int, str] | None,
        events: Iterable[TimelineEvent] = (),
    ) -> None:
        """Add an older page (and its events) above, keeping what is on screen in place."""
        shown = self._ids()
        new = [v for v in views if v.message.id not in shown]
        self._older = older
        self._requested = None
        before = len(self._lines)
        self._views[:0] = new
        self._add_events(events)
        target = self.scroll_y
        self._relayout()
        target += len(self._lines) - before
        # In the frame that draws the older page: the new height is known at once
        # (``set_virtual_height``), so the view need not be drawn at the old offset first.
        self.scroll_to(y=target, animate=False, immediate=True)
        if self.scroll_y != target:  # the height waits for a layout after all
            self.call_after_refresh(self.scroll_to, y=target, animate=False, immediate=True)

    def upsert(
        self,
        views: Iterable[MessageView],
        *,
        append: bool = True,
        events: Iterable[TimelineEvent] = (),
    ) -> None:
        """Replace messages already shown (delivery updates) and append newer ones.

        Args:
            views: The newest page.
            append: False while showing an older stretch of history (a search jump), so
                the newest page (and its events) is not appended after a gap.
            events: The newest page's events.
        """
        if append:
            self._add_events(events)
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        positions = {v.message.id: i for i, v in enumerate(self._views)}
        # A send is one row from queued to delivered: its id changes from the local one
        # to Meta's wamid when the API accepts it, its outbox item does not.
        sends = {v.outbox_id: i for i, v in enumerate(self._views) if v.outbox_id is not None}
        appended = False
        for view in views:
            i = positions.get(view.message.id)
            if i is None and view.outbox_id is not None:
                i = sends.get(view.outbox_id)
                if i is not None:
                    del positions[self._views[i].message.id]
                    positions[view.message.id] = i
            if i is None:
                if not append:
                    continue
                self._views.append(view)
                positions[view.message.id] = len(self._views) - 1
                appended = True
            else:
                self._views[i] = view
        if appended:
            self._views.sort(key=lambda v: (v.message.at, v.message.id))
        self._relayout()
        if at_end:
            self.call_after_refresh(self._scroll_to_end)

    def highlight(self, message_id: str | None, *, keep_in_view: bool = False) -> bool:
        """Mark a message (a search hit, a selection) and scroll it into view.

        Args:
            message_id: The message, or ``None`` to mark none.
            keep_in_view: Scroll only when the message is not on screen (a selection
                moving step by step), rather than bringing it to the top (a search hit).

        Returns:
            True if the message is loaded.
        """
        self._highlight = message_id
        self._relayout()
        start = self._starts.get(message_id or "")
        if start is None:
            return False
        top = max(start - 1, 0)
        height = self.scrollable_content_region.height
        if keep_in_view and self.scroll_y <= top and start < self.scroll_y + height - 1:
            return True
        self.call_after_refresh(self.scroll_to, y=top, animate=False, immediate=True)
        return True

    def member_message(self, message_id: str | None, step: int = 0) -> MessageView | None:
        """A message a member wrote (what moderation acts on; not a system notice).

        Args:
            message_id: The message to start from; the newest member message when it is
                ``None`` or not shown.
            step: How many member messages to move from it (negative: older), stopping
                at the first and the last.

        Returns:
            The message, or ``None`` when no member message is shown.
        """
        return self.message_at(message_id, step, members_only=True)

    def message_at(
        self, message_id: str | None, step: int = 0, *, members_only: bool = False
    ) -> MessageView | None:
        """A message shown, the business's own included (what ``[`` and ``]`` select).

        Args:
            message_id: The message to start from; the newest one when it is ``None``
                or not shown.
            step: How many messages to move from it (negative: older), stopping at the
                first and the last.
            members_only: Only messages a member wrote (not ours, not system notices).

        Returns:
            The message, or ``None`` when none is shown.
        """
        views = [
            v
            for v in self._views
            if v.message.kind is not MessageKind.SYSTEM
            and (
                not members_only
                or (v.message.direction is Direction.INBOUND and v.message.sender_key)
            )
        ]
        if not views:
            return None
        ids = [v.message.id for v in views]
        index = ids.index(message_id) if message_id in ids else len(views) - 1
        return views[max(0, min(len(views) - 1, index + step))]

    def _ids(self) -> set[str]:
        return {v.message.id for v in self._views}

    def tick(self, now: float) -> None:
        """Advance the clock; labels only change at midnight, so this repaints rarely."""
        old_day = local_date(self._now)
        self._now = now
        if local_date(now) != old_day:
            self._relayout()

    # ------------------------------------------------------------------ layout

    def _styles(self) -> dict[str, Style]:
        def get(name: str) -> Style:
            return self.get_component_rich_style(f"message-log--{name}", partial=True)

        return {
            name: get(name)
            for name in ("header", "outbound", "system", "status", "failed", "highlight", "more")
        }

    def _layout_message(
        self,
        view: LogItem,
        marked: bool,
        width: int,
        console: Console,
        styles: dict[str, Style],
        base: Style,
    ) -> list[Strip]:
        strips: list[Strip] = []
        if isinstance(view, TimelineEvent):
            texts = [event_line(view, self._now, styles)]
        else:
            texts = message_lines(view, self._now, styles)
        for text in texts:
            for wrapped in text.wrap(console, width, overflow="fold"):
                for piece in fold_drawn(wrapped, width):
                    piece.end = ""
                    strip = Strip(piece.render(console)).crop_extend(0, width, base)
                    if marked:
                        strip = strip.apply_style(styles["highlight"])
                    strips.append(strip)
        return strips

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        self._laid_out_width = width
        if self._cache_key != (width, local_date(self._now)):
            self._strip_cache = {}
        if width <= 0 or not self.is_mounted:
            self._lines, self._starts = [], {}
            set_virtual_height(self, 0)
            self.refresh()
            return
        console: Console = self.app.console
        styles = self._styles()
        base = self.rich_style
        lines: list[Strip] = []
        starts: dict[str, int] = {}
        top = Text(
            "── older messages: PgUp ──" if self._older else "── beginning of the conversation ──",
            style=styles["more"],
        )
        lines.append(Strip(top.render(console)).crop_extend(0, width, base))
        cache = self._strip_cache
        fresh: dict[str, tuple[LogItem, bool, list[Strip]]] = {}
        day = local_date(self._now)
        items: list[LogItem] = [*self._views, *self._events.values()]
        if self._events:
            items.sort(key=_order)
        for item in items:
            item_id = _item_id(item)
            starts[item_id] = len(lines)
            marked = item_id == self._highlight
            cached = cache.get(item_id)
            if cached is not None and cached[0] == item and cached[1] == marked:
                strips = cached[2]
            else:
                strips = self._layout_message(item, marked, width, console, styles, base)
            fresh[item_id] = (item, marked, strips)
            lines.extend(strips)
        # The cache only holds what is loaded, laid out for the current width and day.
        self._strip_cache = fresh
        self._cache_key = (width, day)
        self._lines, self._starts = lines, starts
        set_virtual_height(self, len(lines))
        self.refresh()

    def on_resize(self) -> None:
        """Lay out again when the width changed."""
        if self.scrollable_content_region.width != self._laid_out_width:
            at_end = self.is_vertical_scroll_end
            self._relayout()
            if at_end:
                self.call_after_refresh(self._scroll_to_end)

    def on_mount(self) -> None:
        """First layout once the size is known."""
        self.call_after_refresh(self._first_layout)

    def _first_layout(self) -> None:
        if self.scrollable_content_region.width != self._laid_out_width:
            self._relayout()
            self._scroll_to_end()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """The app's filters; spacing marks are compensated in :meth:`render_line`."""
        return without_spacing_marks_filter(super().get_line_filters())

    def render_line(self, y: int) -> Strip:
        """The strip at line ``scroll_y + y``."""
        index = int(self.scroll_y) + y
        if 0 <= index < len(self._lines):
            return drawn_line(self._lines[index], self)
        return Strip.blank(self.scrollable_content_region.width, self.rich_style)

    # ------------------------------------------------------------------ paging

    def _request_older(self) -> bool:
        if self._older is None or self._requested == self._older:
            return False
        self._requested = self._older
        self.post_message(self.OlderRequested(self, self._older))
        return True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Ask for older messages when the view reaches the top."""
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 and old_value > 0 and self.loaded:
            self._request_older()

    def action_older_or_page_up(self) -> None:
        """Page up; at the top, load the next older page."""
        if self.scroll_y <= 0:
            self._request_older()
        else:
            self.scroll_page_up(animate=False)

    def action_top(self) -> None:
        """Go to the top of what is loaded (and ask for more)."""
        self.scroll_home(animate=False)
        self._request_older()

    def action_bottom(self) -> None:
        """Go to the newest message."""
        self.scroll_end(animate=False)

    def action_scroll_up(self) -> None:
        """Scroll one line up."""
        self.scroll_relative(y=-1, animate=False)

    def action_scroll_down(self) -> None:
        """Scroll one line down."""
        self.scroll_relative(y=1, animate=False)

    def action_page_down(self) -> None:
        """Scroll one screen down."""
        self.scroll_page_down(animate=False)
