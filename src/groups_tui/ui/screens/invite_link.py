"""A group's invite link: shown, copied (OSC 52), drawn as a QR code, or reset.

Opened right after creating a group, it waits for the lifecycle webhook: the group shows
as pending until Meta answers with the group id and its invite link, or with the reason
the creation failed. Copying writes an OSC 52 sequence through the app's driver, which
terminals honour over SSH too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from groups_tui.domain.models import GroupState
from groups_tui.service import PENDING_PREFIX
from groups_tui.service.types import GroupDetail
from groups_tui.ui.screen_roles import FollowsChanges, OffersPaletteActions, ShowsGroup, Ticking
from groups_tui.ui.screens._admin import blocked_reason
from groups_tui.ui.screens._base import AppScreen, Needs
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.widgets.group_banner import GroupBanner
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.qr_code import QRCode
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["InviteLinkScreen"]


class InviteLinkScreen(AppScreen, FollowsChanges, Ticking, ShowsGroup, OffersPaletteActions):
    """The invite link of one group, with copy (``c``), QR code and reset (``R``).

    While the group is being created the screen says so and follows the change feed;
    once the lifecycle webhook arrives it switches to the new group id.
    """

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {
        "reset": ("admin.invite_link", {"reset": True}),
        "invite_people": "sending.send_invites",
    }
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="link.back", tooltip="Back"),
        Binding(
            "c", "copy", "Copy", id="link.copy", tooltip="Copy the link (OSC 52, works over SSH)"
        ),
        Binding("R", "reset", "Reset", id="link.reset", tooltip="Revoke this link, make a new one"),
        Binding("p", "invite_people", "Invite", id="link.invite", tooltip="Send the link 1:1"),
        Binding("m", "members", "Members", id="link.members", tooltip="The group's members"),
    ]
    """Link keys."""

    PALETTE_ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Copy invite link", "copy", "To the clipboard over OSC 52 (c)"),
        ("Reset invite link…", "reset", "Revoke the current link (R)"),
        ("Invite people…", "invite_people", "Send the link 1:1 (p)"),
    )
    """Entries this screen adds to the command palette."""

    _NEEDS_LINK = frozenset({"copy", "reset", "invite_people", "members"})

    @dataclass
    class LinkLoaded(Message):
        """The group and its link (or its failure) arrived.

        Attributes:
            detail: The group.
            link: The invite link, when the group is active.
            failure: Meta's reason when the creation failed.
            was_reset: The link was just reset.
        """

        detail: GroupDetail
        link: str | None
        failure: str | None = None
        was_reset: bool = False

    def __init__(self, group_id: str) -> None:
        """Open the link of a group (``pending:<request id>`` while it is being created).

        Args:
            group_id: The group.
        """
        super().__init__()
        self.group_id = group_id
        self.detail: GroupDetail | None = None
        self.link: str | None = None

    def compose(self) -> ComposeResult:
        """Header, banner, link, QR code, status and key bar."""
        yield StatusHeader()
        yield GroupBanner(id="banner")
        with VerticalScroll(id="link-body"):
            yield Static("Loading…", id="link")
            with Center():
                yield QRCode(id="qr")
        yield Static("", id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Load the group and its link."""
        self.app.apply_header(self.query_one(StatusHeader))
        self._load(reset=False)

    @work(exclusive=True, group="link-load", exit_on_error=False)
    async def _load(self, reset: bool) -> None:
        service = self.app.service
        detail = await service.reading.group_detail(self.group_id)
        group = detail.group
        if group.state is GroupState.FAILED or (
            group.state is GroupState.PENDING and group.request_id
        ):
            failure = None
            if group.request_id:
                op = await service.reading.operation(group.request_id)
                failure = op.error if op is not None and op.state == "failed" else None
            if group.state is GroupState.FAILED and failure is None:
                failure = "Meta gave no reason"
            self.post_message(self.LinkLoaded(detail, None, failure))
            return
        link = group.invite_link
        if group.id and blocked_reason(detail) is None and (reset or not link):
            link = await service.admin.invite_link(group.id, reset=reset)
        self.post_message(self.LinkLoaded(detail, link, was_reset=reset))

    @on(LinkLoaded)
    def _loaded(self, event: LinkLoaded) -> None:
        detail = event.detail
        self.detail = detail
        if detail.group.id and self.group_id.startswith(PENDING_PREFIX):
            self.group_id = detail.group.id
        self.query_one(GroupBanner).show(detail, "Invite link")
        self.link = event.link
        link_line = self.query_one("#link", Static)
        qr = self.query_one(QRCode)
        if event.failure is not None:
            link_line.update(
                Text("Meta did not create the group: ", style="bold").append_text(
                    safe(fit(event.failure, 200))
                )
            )
            qr.data = ""
        elif detail.group.state is GroupState.PENDING:
            link_line.update(Text("… Pending: waiting for Meta to create the group and its link"))
            qr.data = ""
        elif event.link:
            line = Text("Invite link  ", style="bold")
            line.append_text(safe(event.link))
            link_line.update(line)
            qr.data = event.link
        else:
            reason = blocked_reason(detail) or "no invite link"
            link_line.update(Text("No link: ").append_text(safe(fit(reason, 120))))
            qr.data = ""
        if event.was_reset and event.link:
            self._status("New link made: the old one no longer works")
        self.set_class(detail.group.state is GroupState.PENDING, "-pending")
        self.refresh_bindings()

    def apply_changes(self, group_ids: Iterable[str], reset: bool) -> None:
        """Reload on changes to this group; while pending, on any change.

        A pending group has no id yet, so the lifecycle webhook's change names an id
        this screen cannot know in advance.
        """
        pending = self.group_id.startswith(PENDING_PREFIX)
        if reset or pending or self.group_id in set(group_ids):
            self._load(reset=False)

    def tick(self, now: float) -> None:
        """Advance the header clock (once it is mounted)."""
        for header in self.query(StatusHeader):
            header.tick(now)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Link actions need the link (and, for reset and invites, an active group)."""
        if action in self._NEEDS_LINK and (self.link is None or blocked_reason(self.detail)):
            return None
        return super().check_action(action, parameters)

    def _status(self, text: str) -> None:
        self.query_one("#status", Static).update(safe(fit(text, 300)))

    def action_copy(self) -> None:
        """Copy the link to the clipboard with OSC 52 and say so."""
        if self.link:
            self.app.copy_to_clipboard(self.link)
            self._status("Copied the invite link to the clipboard (OSC 52)")
            self.app.notify("Invite link copied", markup=False, timeout=3)

    def action_reset(self) -> None:
        """Revoke the current link and make a new one, after confirming."""
        question = Text("Reset the invite link of ")
        subject = self.detail.group.subject if self.detail else ""
        question.append_text(safe(fit(subject, 48), "bold"))
        question.append("? The current link stops working for everyone who has it.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._status("Resetting the link…")
                self._load(reset=True)

        self.app.push_screen(ConfirmModal(question, yes="Reset link"), answered)

    def action_invite_people(self) -> None:
        """Send the link 1:1 to chosen people."""
        if self.detail is not None:
            self.app.navigation.open_invite_people(self.detail)

    def action_members(self) -> None:
        """Open the group's members."""
        self.app.navigation.open_members(self.group_id)

    def action_back(self) -> None:
        """Back to where the screen was opened from."""
        self.dismiss()
