"""Group settings: subject, description and picture.

Each field is checked against the Groups API rules before any call: the subject and
description lengths, and for the picture a readable, square JPEG larger than 192 px and
at most 5 MB (read from the file, in a thread). A change is pending until its webhook
confirms or reports the failure; the banner of the group's screens shows it meanwhile.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from groups_tui.domain.limits import (
    check_description,
    check_picture_data,
    check_subject,
)
from groups_tui.service.types import GroupDetail
from groups_tui.ui.key_order import after_keys_in_flight
from groups_tui.ui.screens._group_texts import GroupTextsModal, failure_reason
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["GroupSettingsModal", "check_picture_file"]


def check_picture_file(path: Path) -> str | None:
    """Why a file cannot be a group picture, or ``None`` when it can (reads the file).

    Args:
        path: The picture's path (``~`` expanded).

    Returns:
        The reason, worded for the operator.
    """
    try:
        data = path.expanduser().read_bytes()
    except OSError as error:
        return f"Cannot read {path}: {error.strerror or error}"
    refusal = check_picture_data(data)
    return refusal.reason if refusal is not None else None


class GroupSettingsModal(GroupTextsModal[str | None]):
    """Edit subject, description and picture; dismisses with what was requested."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Apply", id="settings.save", priority=True, tooltip="Apply"),
        Binding("escape", "cancel", "Cancel", id="settings.cancel", tooltip="Discard"),
    ]
    """Modal keys (Tab moves between fields)."""

    def __init__(self, detail: GroupDetail) -> None:
        """Create the modal.

        Args:
            detail: The group, with its current settings.
        """
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        """Subject, description, picture path, status and buttons."""
        group = self.detail.group
        with Vertical(id="group-settings", classes="admin-modal"):
            title = Text("Settings of ", style="bold")
            title.append_text(safe(fit(group.subject, 50), "bold"))
            yield Static(title, classes="modal-title")
            yield from self.compose_texts(
                "Subject", "Description", subject=group.subject, description=group.description
            )
            yield Label("Picture: path of a square JPEG, over 192x192, at most 5 MB")
            yield Input(placeholder="~/pictures/group.jpg (empty: keep)", id="picture")
            yield Static("", id="settings-status")
            with Horizontal(classes="modal-buttons"):
                yield Button("Apply (Ctrl+S)", id="apply", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def _say(self, text: str, *, error: bool = True) -> None:
        status = self.query_one("#settings-status", Static)
        status.update(safe(fit(text, 300)))
        status.set_class(error, "-error")

    def action_save(self) -> None:
        """Check what changed and request it.

        Run once the keys read before it are in the boxes (see
        :func:`~groups_tui.ui.key_order.after_keys_in_flight`).
        """
        after_keys_in_flight(self.app, self._save_now)

    def _save_now(self) -> None:
        group = self.detail.group
        subject = self.query_one("#subject", Input).value.strip()
        description = self.query_one("#description", TextArea).text
        picture = self.query_one("#picture", Input).value.strip()
        new_subject = subject if subject != group.subject else None
        new_description = description if description != group.description else None
        refusal = (check_subject(new_subject) if new_subject is not None else None) or (
            check_description(new_description) if new_description is not None else None
        )
        if refusal is not None:
            self._say(refusal.reason)
            return
        if new_subject is None and new_description is None and not picture:
            self._say("Nothing changed")
            return
        self._say("Checking and sending…", error=False)
        self._apply(new_subject, new_description, Path(picture).expanduser() if picture else None)

    @work(exclusive=True, group="settings-apply", exit_on_error=False)
    async def _apply(
        self, subject: str | None, description: str | None, picture: Path | None
    ) -> None:
        if picture is not None:
            reason = await asyncio.to_thread(check_picture_file, picture)
            if reason is not None:
                self._say(f"Picture refused: {reason}")
                return
        group_id = self.detail.group.id or ""
        op = await self.app.service.admin.update_settings(
            group_id, subject=subject, description=description, picture=picture
        )
        changed = [
            name
            for name, value in (
                ("subject", subject),
                ("description", description),
                ("picture", picture),
            )
            if value is not None
        ]
        self.dismiss(f"Requested: {', '.join(changed)} ({op.state} until Meta confirms)")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Keep a refusal or API error in the modal."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._say(f"Not changed: {failure_reason(event.worker.error)}")

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
