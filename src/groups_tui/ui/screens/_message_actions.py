"""What the conversation does with the message selected with ``[`` and ``]``.

Any message can be selected, the business's own too. On one of ours, Enter opens who got
it (:class:`~groups_tui.ui.screens.message_state.MessageStateScreen`); on a member's, ``X``
removes its sender after confirming. With nothing selected, ``X`` acts on the newest
member message.
"""

from __future__ import annotations

from rich.text import Text
from textual import work

from groups_tui.domain.models import Direction
from groups_tui.service.types import GroupDetail, MessageView
from groups_tui.ui.screens._base import AppScreen
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.message_state import MessageStateScreen
from groups_tui.ui.widgets.composer import Composer
from groups_tui.ui.widgets.message_log import MessageLog
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["MessageActions"]


class MessageActions(AppScreen):
    """The conversation's selection of a message and what acts on it."""

    group_id: str
    detail: GroupDetail | None
    _selected: str | None = None
    """The message chosen with ``[``/``]`` (or the search hit shown), if one is."""

    @property
    def log_view(self) -> MessageLog:
        """The message log."""
        return self.query_one(MessageLog)

    def _status(self, text: str) -> None:
        """One line of outcome under the composer."""
        self.query_one(Composer).status(text)

    def selected_message(self) -> MessageView | None:
        """The selected member message: chosen with ``[``/``]``, else the newest one."""
        return self.log_view.member_message(self._selected)

    def selected_view(self) -> MessageView | None:
        """The message chosen with ``[``/``]`` (any direction), if one is."""
        if self._selected is None:
            return None
        return next((v for v in self.log_view.views if v.message.id == self._selected), None)

    def _select(self, message_id: str | None) -> None:
        self._selected = message_id
        self.log_view.highlight(message_id, keep_in_view=True)
        self.refresh_bindings()
        if message_id is None:
            self.query_one(Composer).show_hint()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enter shows who got a message only while one the business sent is selected
        and the log, not an input, has the focus (otherwise Enter writes)."""
        if action == "message_state":
            view = self.selected_view()
            return (
                view is not None
                and view.message.direction is Direction.OUTBOUND
                and self.focused in (None, self.log_view)
            )
        return True

    def action_select_message(self, step: int) -> None:
        """Select the previous (-1) or next (+1) message, ours too, and highlight it.

        With nothing selected yet, either key selects the newest message first.
        """
        chosen = self.log_view.message_at(self._selected, step if self._selected else 0)
        if chosen is None:
            return
        self._select(chosen.message.id)
        message = chosen.message
        text = fit(message.text or (message.media.filename if message.media else "") or "", 50)
        if message.direction is Direction.OUTBOUND:
            self._status(f"Selected your message: {text} · Enter: who got it · Esc: unselect")
        else:
            who = message.sender_name or message.sender_wa_id or "unknown"
            self._status(f"Selected {who}: {text} · X removes the sender · Esc: unselect")

    def action_message_state(self) -> None:
        """Show, member by member, what became of the selected message we sent."""
        view = self.selected_view()
        if view is None or view.message.direction is not Direction.OUTBOUND:
            self._status("Select a message you sent first ([ and ])")
            return
        self.app.push_screen(MessageStateScreen(view))

    def action_remove_sender(self) -> None:
        """Remove the sender of the selected message from the group, after confirming."""
        chosen = self.selected_view()
        if chosen is not None and chosen.message.direction is Direction.OUTBOUND:
            self._status("That message is yours: X removes the sender of a member's message")
            return
        view = self.selected_message()
        if view is None:
            self._status("No member message to act on")
            return
        group = self.detail.group if self.detail else None
        if group is not None and group.suspended:
            self._status(f"Not available: the group is suspended ({group.suspended_reason or '?'})")
            return
        message = view.message
        question = Text("Remove ")
        question.append_text(safe(fit(message.sender_name or "unknown", 40), "bold"))
        if message.sender_wa_id:
            question.append(f" (+{message.sender_wa_id})")
        question.append(" from ").append_text(
            safe(fit(group.subject if group else self.group_id, 48), "bold")
        )
        question.append("? They wrote: ").append_text(safe(fit(message.text or "", 80)))

        def answered(yes: bool | None) -> None:
            if yes:
                self._status("Removing the sender… (pending until Meta confirms)")
                self._remove_sender(message.id)

        self.app.push_screen(ConfirmModal(question, yes="Remove"), answered)

    @work(exclusive=True, group="conv-moderate", exit_on_error=False)
    async def _remove_sender(self, message_id: str) -> None:
        op = await self.app.service.moderation.remove_sender(message_id)
        self._status(f"Removal requested ({op.state}); the member list updates when Meta confirms")
