"""One group's conversation, its window countdown and the composer.

History is paged upward by keyset (``PgUp`` at the top), never loaded whole. Sends go
through the service's outbox in workers; the change feed updates their state live.
Free-form sending is disabled, with the reason, whenever the service refuses it (window
closed, group suspended or pending, no members). Kinds groups do not support are refused
before any API call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static, TextArea
from textual.worker import Worker, WorkerState

from groups_tui.domain.media import media_for_file
from groups_tui.domain.models import Direction, GroupState, MessageKind
from groups_tui.domain.sending import Refusal
from groups_tui.service.types import GroupDetail, MessagePage, OutboxItem
from groups_tui.ui.key_order import after_keys_in_flight
from groups_tui.ui.screen_roles import FollowsChanges, OffersPaletteActions, ShowsGroup, Ticking
from groups_tui.ui.screens._base import Needs
from groups_tui.ui.screens._message_actions import MessageActions
from groups_tui.ui.screens.template_picker import TemplateChoice, TemplatePicker
from groups_tui.ui.widgets.composer import Composer
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.message_log import MessageLog
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader
from groups_tui.ui.widgets.window_countdown import WindowCountdown

__all__ = ["ConversationScreen"]

PAGE_SIZE = 50
"""Messages per keyset page."""


class ConversationScreen(MessageActions, FollowsChanges, Ticking, ShowsGroup, OffersPaletteActions):
    """A group's messages, newest at the bottom, with a composer below.

    Keys: ``i`` or Enter writes, Ctrl+S sends, ``t`` picks a template, ``a`` attaches a
    file by path, ``PgUp`` at the top loads older messages, Escape goes back. ``[`` and
    ``]`` select a message (the business's own too); on a message we sent, Enter shows
    who got it, and Escape clears the selection first.
    """

    FOLLOWS_READ_MARKS: ClassVar[bool] = False
    """Its own read mark must not reload the page it was set from."""

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {
        "send": "sending.send_text",
        "template": "sending.send_template",
        "attach": "sending.send_media",
        "remove_sender": "moderation.remove_sender",
    }
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="conv.back", tooltip="Back to the inbox"),
        Binding("i,enter", "compose", "Write", id="conv.write", tooltip="Focus the composer"),
        # Before the composer's Enter (priority) while one of our messages is selected in
        # the log; hidden otherwise, so Enter writes as before.
        Binding(
            "enter",
            "message_state",
            "Who got it",
            id="conv.message_state",
            priority=True,
            tooltip="Per member: delivered, read, failed and why, the charge (a sent message)",
        ),
        Binding(
            "ctrl+s",
            "send",
            "Send",
            id="conv.send",
            priority=True,
            tooltip="Send the composer's text",
        ),
        Binding(
            "t",
            "template",
            "Template",
            id="conv.template",
            tooltip="Pick an approved template, see its cost, send it",
        ),
        Binding("a", "attach", "Attach", id="conv.attach", tooltip="Attach a file by path"),
        Binding(
            "X",
            "remove_sender",
            "Remove sender",
            id="conv.remove_sender",
            tooltip="Remove the sender of the selected message from the group",
        ),
        Binding(
            "left_square_bracket",
            "select_message(-1)",
            "Prev msg",
            id="conv.select_prev",
            show=False,
            tooltip="Select the previous message (yours too: Enter shows who got it)",
        ),
        Binding(
            "right_square_bracket",
            "select_message(1)",
            "Next msg",
            id="conv.select_next",
            show=False,
            tooltip="Select the next message (yours too: Enter shows who got it)",
        ),
        Binding("m", "members", "Members", id="conv.members", show=False, tooltip="Members"),
        Binding(
            "R",
            "reload",
            "Latest",
            id="conv.reload",
            show=False,
            tooltip="Reload the newest messages",
        ),
    ]
    """Conversation keys."""

    PALETTE_ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Send message", "send", "Send the composer's text (Ctrl+S)"),
        ("Send a template…", "template", "Pick an approved template and see its cost"),
        ("Attach a file…", "attach", "Send media by file path"),
        ("Remove sender of the selected message…", "remove_sender", "Confirm first (X)"),
        (
            "Who got the selected message: delivery per member",
            "message_state",
            "Delivered, read, failed and why, the charge ([ ] select, Enter)",
        ),
        ("Members of this group", "members", "Remove, mark, history (m)"),
        ("Back to the inbox", "back", "Close this conversation"),
    )
    """Entries this screen adds to the command palette."""

    @dataclass
    class DetailLoaded(Message):
        """The group's detail arrived from the service.

        Attributes:
            detail: The group, members and window.
        """

        detail: GroupDetail

    @dataclass
    class PageLoaded(Message):
        """A page of messages arrived.

        Attributes:
            page: The page, oldest first.
            mode: ``"latest"`` (replace), ``"older"`` (prepend), ``"update"`` (merge) or
                ``"sent"`` (merge after our own send, then show the newest).
        """

        page: MessagePage
        mode: str

    @dataclass
    class SendFinished(Message):
        """A send went through the outbox.

        Attributes:
            item: The outbox item with its state.
            what: What was sent, for the status line.
            draft: The composer's text when a message was sent (taken out of the
                composer once sent, leaving what was typed after it).
        """

        item: OutboxItem
        what: str
        draft: str = ""

    def __init__(
        self, group_id: str, *, focus_message: str | None = None, focus_at: int | None = None
    ) -> None:
        """Open a group.

        Args:
            group_id: The group to show.
            focus_message: A message to highlight (a search hit).
            focus_at: That message's time (for the keyset jump).
        """
        super().__init__()
        self.group_id = group_id
        self.detail: GroupDetail | None = None
        self.refusal: Refusal | None = None
        self._refusal_checked = False
        self._focus_message = focus_message
        self._focus_at = focus_at
        self._selected = focus_message

    def compose(self) -> ComposeResult:
        """Header, title, countdown, log, composer and footer."""
        now = self.app.now()
        yield StatusHeader()
        yield Static("", id="title")
        yield WindowCountdown(now=now, id="countdown")
        yield MessageLog(now=now, id="log")
        # Writing is disabled until the group's window is known (see _update_refusal).
        yield Composer(id="composer")
        yield KeyBar()

    @property
    def composer(self) -> TextArea:
        """The composer's text area."""
        return self.query_one(Composer).text_area

    def on_mount(self) -> None:
        """Load the group and its newest page; mark it read."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.log_view.focus()
        self._load_first()
        self._mark_read()

    # ------------------------------------------------------------------ loading

    @work(exclusive=True, group="conv-detail", exit_on_error=False)
    async def _load_first(self) -> None:
        """The detail and the newest page together, so that they are drawn in one frame."""
        detail, page = await asyncio.gather(
            self.app.service.reading.group_detail(self.group_id), self._fetch_page(None, "latest")
        )
        with self.app.batch_update():
            self._detail_loaded(self.DetailLoaded(detail))
            self._page_loaded(self.PageLoaded(page, "latest"))

    @work(exclusive=True, group="conv-detail", exit_on_error=False)
    async def _load_detail(self) -> None:
        detail = await self.app.service.reading.group_detail(self.group_id)
        self.post_message(self.DetailLoaded(detail))

    @work(exclusive=True, group="conv-read", exit_on_error=False)
    async def _mark_read(self) -> None:
        await self.app.service.reading.mark_read(self.group_id)

    @work(group="conv-page", exit_on_error=False)
    async def _load_page(self, older: tuple[int, str] | None, mode: str) -> None:
        self.post_message(self.PageLoaded(await self._fetch_page(older, mode), mode))

    async def _fetch_page(self, older: tuple[int, str] | None, mode: str) -> MessagePage:
        service = self.app.service
        if mode == "latest" and self._focus_message and self._focus_at is not None:
            # Jump to a search hit: the page that ends with it. The keyset is strict, so
            # a cursor just above the hit's id includes the hit itself.
            return await service.reading.messages_page(
                self.group_id,
                older=(self._focus_at, self._focus_message + "\uffff"),
                limit=PAGE_SIZE,
            )
        return await service.reading.messages_page(self.group_id, older=older, limit=PAGE_SIZE)

    @on(DetailLoaded)
    def _detail_loaded(self, event: DetailLoaded) -> None:
        detail = event.detail
        self.detail = detail
        group = detail.group
        title = Text()
        title.append_text(safe(fit(group.subject or "(no subject)", 60), "bold"))
        title.append(f"  {len(detail.members)}/8 members")
        if group.suspended:
            title.append("  ⊘ suspended", style="bold")
            if group.suspended_reason:
                title.append(": ").append_text(safe(fit(group.suspended_reason, 60)))
        if group.state is GroupState.PENDING:
            title.append("  … pending creation", style="bold")
        for op in detail.pending_operations:
            title.append(f"  … {op.kind} pending")
        self.query_one("#title", Static).update(title, layout=False)  # one line, 1fr wide
        countdown = self.query_one(WindowCountdown)
        countdown.opened_by = detail.window.opened_by or group.last_inbound_by
        countdown.last_inbound_at = group.last_inbound_at
        self._update_refusal()

    @on(PageLoaded)
    def _page_loaded(self, event: PageLoaded) -> None:
        log = self.log_view
        page = event.page
        if event.mode == "older":
            log.prepend(page.messages, page.older, page.events)
        elif event.mode in ("update", "sent"):
            shown = {v.message.id for v in log.views}
            log.upsert(page.messages, append=self._focus_message is None, events=page.events)
            if event.mode == "sent":
                log.follow_end()
            if any(
                v.message.id not in shown and v.message.direction is Direction.INBOUND
                for v in page.messages
            ):
                # Members wrote while the operator is looking: they are read, not unread.
                self._mark_read()
        else:
            log.set_page(page.messages, page.older, page.events)
            if self._focus_message:
                log.highlight(self._focus_message)
                self._status("Showing a search hit · R shows the newest messages")

    @on(MessageLog.OlderRequested)
    def _older(self, event: MessageLog.OlderRequested) -> None:
        self._load_page(event.cursor, "older")

    def apply_changes(self, group_ids: Iterable[str], reset: bool) -> None:
        """Refresh the newest page and the detail when this group changed."""
        if reset or self.group_id in set(group_ids):
            self._load_page(None, "update" if not reset else "latest")
            self._load_detail()

    def tick(self, now: float) -> None:
        """Advance the countdown; re-check sending when the window closes."""
        self.query_one(StatusHeader).tick(now)
        countdown = self.query_one(WindowCountdown)
        was_open = countdown.is_open
        countdown.tick(now)
        self.log_view.tick(now)
        if was_open != countdown.is_open:
            self._update_refusal()

    # ------------------------------------------------------------------ refusal

    def _update_refusal(self) -> None:
        """Enable or disable free-form sending, showing the service's reason.

        The status line only changes when the refusal itself changes, so a reload of
        the detail (after any change) never hides the last send's outcome.
        """
        if self.detail is None:
            return
        refusal = self.app.service.sending.refusal(MessageKind.TEXT, self.detail)
        changed = not self._refusal_checked or refusal != self.refusal
        self._refusal_checked = True
        self.refusal = refusal
        composer = self.query_one(Composer)
        composer.allow(refusal is None)
        self.set_class(refusal is not None, "-refused")
        if refusal is not None and composer.text_area.has_focus:
            self.log_view.focus()
        if not changed:
            return
        if refusal is not None:
            self._status(f"Free-form sending disabled: {refusal.reason}")
        else:
            composer.show_hint()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed send also says so in the composer's status line.

        (Textual also runs :class:`AppScreen`'s handler, which notifies.)
        """
        error = event.worker.error
        if event.state is WorkerState.ERROR and event.worker.group == "conv-send" and error:
            self._status(f"Not sent: {error}")

    # ------------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Leave the composer, the attach box, the selection, or the screen."""
        if self.query_one(Composer).close_attach():
            self.log_view.focus()
        elif self.composer.has_focus:
            self.log_view.focus()
        elif self._selected is not None and self._selected != self._focus_message:
            self._select(None)
        else:
            self.dismiss()

    def action_compose(self) -> None:
        """Focus the composer, or say why it is disabled."""
        if self.refusal is not None:
            self._status(f"Free-form sending disabled: {self.refusal.reason}")
            return
        # At once, not deferred as ``focus()`` is: letters read with the "i" (one read
        # from the terminal) are then the composer's text, not the log's keys.
        self.set_focus(self.composer)

    def action_reload(self) -> None:
        """Show the newest messages again (after a search jump)."""
        self._focus_message = None
        self._load_page(None, "latest")

    def action_send(self) -> None:
        """Send the composer's text through the outbox, once every key read before
        Ctrl+S is in it, and none read after it.

        Ctrl+S is a priority binding: the app runs it the moment it reads it, while
        letters read just before it (one read from the terminal: a fast typist, a
        paste, SSH) may still be on their way to the composer. The text is read once
        they are in (see :func:`~groups_tui.ui.key_order.after_keys_in_flight`).
        """
        after_keys_in_flight(self.app, self._send_composed)

    def _send_composed(self) -> None:
        if self.detail is None:
            return
        draft = self.composer.text
        text = draft.strip()
        refusal = self.app.service.sending.refusal(MessageKind.TEXT, self.detail)
        if refusal is not None:
            self._status(f"Not sent: {refusal.reason}")
            return
        if not text:
            self._status("Nothing to send: the composer is empty")
            return
        self._status("Sending… (queued)")
        self._send_text(text, draft)

    @work(exclusive=True, group="conv-send", exit_on_error=False)
    async def _send_text(self, text: str, draft: str) -> None:
        item = await self.app.service.sending.send_text(self.group_id, text)
        self.post_message(self.SendFinished(item, "message", draft))

    @work(exclusive=True, group="conv-send", exit_on_error=False)
    async def _send_media(self, path: Path, caption: str | None) -> None:
        item = await self.app.service.sending.send_media(self.group_id, path, caption)
        self.post_message(self.SendFinished(item, path.name))

    @work(exclusive=True, group="conv-send", exit_on_error=False)
    async def _send_template(self, choice: TemplateChoice) -> None:
        item = await self.app.service.sending.send_template(
            self.group_id, choice.template, choice.params
        )
        self.post_message(self.SendFinished(item, f"template {choice.template.name}"))

    @on(SendFinished)
    def _sent(self, event: SendFinished) -> None:
        item = event.item
        if item.state == "failed":
            reason = item.error or "no reason given"
            code = f" ({item.error_code})" if item.error_code else ""
            self._status(f"Failed{code}: {reason}")
            return
        self._status(f"{event.what}: {item.state}")
        if event.what == "message":
            self._take_out(event.draft)
        self._load_page(None, "sent")

    def _take_out(self, draft: str) -> None:
        """Remove a sent draft from the composer, keeping what was typed after it."""
        composer = self.composer
        if not draft or not composer.text.startswith(draft):
            return  # edited meanwhile: the operator's text stays as it is
        lines = draft.split("\n")
        composer.delete((0, 0), (len(lines) - 1, len(lines[-1])))

    def action_template(self) -> None:
        """Pick a template, see its cost, send it."""
        if self.detail is None:
            return

        def chosen(choice: TemplateChoice | None) -> None:
            if choice is not None:
                self._status(f"Sending template {choice.template.name}… (queued)")
                self._send_template(choice)

        self.app.push_screen(TemplatePicker(self.group_id, self.detail), chosen)

    def action_attach(self) -> None:
        """Ask for a file path to send as media."""
        self.query_one(Composer).open_attach()

    @on(Composer.PathSubmitted)
    def _attach_submitted(self, event: Composer.PathSubmitted) -> None:
        self.log_view.focus()
        if event.path is not None and self.detail is not None:
            self.try_send_file(event.path)

    def try_send_file(self, path: Path) -> bool:
        """Check a file against the Groups rules and the Cloud API limits, then send it.

        Every check happens before any API call, in the service's order: the file (its
        kind, as stickers are refused in groups until verified, then type and size; see
        :func:`~groups_tui.domain.media.media_for_file`), then the group's state and window.

        Args:
            path: The file to send.

        Returns:
            True if the send was started.
        """
        assert self.detail is not None
        try:
            size = path.stat().st_size
        except OSError as error:
            self._status(f"Cannot read {path}: {error.strerror or error}")
            return False
        media = media_for_file(path.name, size)
        if isinstance(media, Refusal):
            refusal: Refusal | None = media
        else:
            refusal = self.app.service.sending.refusal(media.kind, self.detail)
        if refusal is not None:
            self._status(f"Not sent: {refusal.reason}")
            return False
        caption = self.composer.text.strip() or None
        self._status(f"Uploading {path.name}…")
        self._send_media(path, caption)
        return True

    def action_members(self) -> None:
        """Open the group's members."""
        self.app.navigation.open_members(self.group_id)
