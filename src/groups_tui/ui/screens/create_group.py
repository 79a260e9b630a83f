"""Create a group: its number, subject, description and how people get in.

The modal checks the subject and description against the Groups API limits as you type
(live counters), calls the service in a worker, and dismisses with the pending
operation. The group then shows as pending until the lifecycle webhook brings its id
and invite link (see :mod:`~groups_tui.ui.screens.invite_link`). An account with several
business numbers is asked which one the group belongs to (the inbox's number filter,
when one is on, is chosen already).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioButton, RadioSet, Select, Static, TextArea
from textual.worker import Worker, WorkerState

from groups_tui.domain.limits import (
    check_description,
    check_subject,
)
from groups_tui.service.types import PendingOperation
from groups_tui.ui.key_order import after_keys_in_flight
from groups_tui.ui.screens._group_texts import GroupTextsModal, failure_reason
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["CreateGroupModal"]


class CreateGroupModal(GroupTextsModal[PendingOperation | None]):
    """Ask for a new group's subject, description and join mode; create it.

    Dismisses with the pending create operation, or ``None`` when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create", id="create.submit", priority=True, tooltip="Create"),
        Binding("escape", "cancel", "Cancel", id="create.cancel", tooltip="Discard"),
    ]
    """Modal keys (Tab moves between fields)."""

    def __init__(self, number: str | None = None) -> None:
        """Ask for a new group.

        Args:
            number: The number (id) chosen already, when the account has several.
        """
        super().__init__()
        self._number = number

    def compose(self) -> ComposeResult:
        """Number (with several), subject, description, join mode, status and buttons."""
        numbers = self.app.service.numbers
        self.set_class(len(numbers) > 1, "-numbers")
        with Vertical(id="create-group", classes="admin-modal"):
            yield Static(Text("New group", style="bold"), classes="modal-title")
            if len(numbers) > 1:
                ids = {n.phone_number_id for n in numbers}
                chosen = self._number
                yield Select[str](
                    [(fit(n.title, 40), n.phone_number_id) for n in numbers],
                    prompt="Number: choose which one the group belongs to",
                    value=chosen if chosen is not None and chosen in ids else Select.NULL,
                    id="number",
                )
            yield from self.compose_texts(
                "Subject (required)",
                "Description (optional)",
                subject_placeholder="e.g. Order 3003 support",
            )
            with RadioSet(id="join-mode"):
                yield RadioButton(
                    "Invitation only: anyone with the link joins", value=True, id="mode-link"
                )
                yield RadioButton(
                    "Join requests required: you approve each person", id="mode-approval"
                )
            yield Static("", id="create-status")
            with Horizontal(classes="modal-buttons"):
                yield Button("Create (Ctrl+S)", id="create", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#subject")
    def _subject_submitted(self) -> None:
        self.query_one("#description", TextArea).focus()

    @on(Button.Pressed, "#create")
    def _create_pressed(self) -> None:
        self.action_create()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _say(self, text: str, *, error: bool = True) -> None:
        status = self.query_one("#create-status", Static)
        status.update(safe(fit(text, 300)))
        status.set_class(error, "-error")

    def action_create(self) -> None:
        """Check the fields and ask Meta to create the group.

        Run once the keys read before it are in the boxes (see
        :func:`~groups_tui.ui.key_order.after_keys_in_flight`).
        """
        after_keys_in_flight(self.app, self._create_now)

    def _create_now(self) -> None:
        subject = self.query_one("#subject", Input).value.strip()
        description = self.query_one("#description", TextArea).text
        refusal = check_subject(subject) or check_description(description)
        if refusal is not None:
            self._say(refusal.reason)
            return
        number: str | None = None
        choices = self.query("#number")
        if choices:
            chosen = choices.first(Select).value
            if not isinstance(chosen, str):
                self._say("Choose the number the group belongs to.")
                return
            number = chosen
        approval = self.query_one("#mode-approval", RadioButton).value
        self._say("Creating…", error=False)
        self._create(subject, description.strip() or None, approval, number)

    @work(exclusive=True, group="create-group", exit_on_error=False)
    async def _create(
        self, subject: str, description: str | None, approval: bool, number: str | None
    ) -> None:
        admin = self.app.service.admin
        if number is None:
            op = await admin.create_group(subject, description, approval)
        else:
            op = await admin.create_group(subject, description, approval, number=number)
        self.dismiss(op)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Keep a refusal or API error in the modal, next to the fields."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._say(f"Not created: {failure_reason(event.worker.error)}")

    def action_cancel(self) -> None:
        """Close without creating."""
        self.dismiss(None)
