"""A group's members: who they are, how they joined, what they said, and the levers.

Removing a participant is one of the only three levers a business has in a WhatsApp
group, so it is one key (``x``) away, always confirmed, batched for marked members (Meta
takes up to eight per call; the service splits larger sets) and pending until the
participants webhook confirms it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from groups_tui.domain.models import JoinVia
from groups_tui.service.types import HistoryEntry, MemberRow
from groups_tui.ui.formatting import ago, stamp
from groups_tui.ui.screen_roles import OffersPaletteActions
from groups_tui.ui.screens._admin import ActionDone, GroupScreen
from groups_tui.ui.screens._base import Needs
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.screens.member_details import MemberDetails, MemberDetailsModal
from groups_tui.ui.widgets.group_banner import GroupBanner
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["MembersScreen", "member_cells"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    # Beside the name: a column at the far right leaves the screen at 80 columns, or
    # when "removing…" widens the names.
    ("flags", "Flags"),
    ("number", "Number"),
    ("country", "Cty"),
    ("joined", "Joined"),
    ("via", "Via"),
    ("msgs", "Msgs"),
    ("last", "Last message"),
)

_VIA = {JoinVia.INVITE_LINK: "link", JoinVia.APPROVAL: "approval", JoinVia.UNKNOWN: "?"}


def member_name(row: MemberRow) -> str:
    """The operator's name for a member: local name first, then their profile."""
    return row.contact_name or row.member.display_name or row.member.key


def member_cells(row: MemberRow, now: float) -> list[Text]:
    """The cells of one member row (untrusted text through ``safe``).

    Args:
        row: The member.
        now: The app clock, for the ages.

    Returns:
        Cells in :data:`COLUMNS` order.
    """
    m = row.member
    name = safe(fit(member_name(row), 28))
    if row.removing:
        name.append(" removing…", style="italic")
    if row.blocklisted:
        name.append(" ⛔")
    last = Text(ago(row.last_message_at, now) + " ") if row.last_message_at else Text("—")
    if row.last_message:
        last.append_text(safe(fit(row.last_message, 40)))
    count = f"{row.message_count}{'+' if row.count_is_partial else ''}"
    return [
        name,
        safe(fit(",".join(row.flags), 24), "bold") if row.flags else Text(""),
        Text(f"+{m.wa_id}" if m.wa_id else "(no number)"),
        Text(row.country or "—"),
        Text(stamp(m.joined_at, now) if m.joined_at else "—"),
        Text(_VIA[m.joined_via]),
        Text(count, justify="right"),
        last,
    ]


def history_text(entries: list[HistoryEntry], names: dict[str, str], now: float) -> Text:
    """The membership history as lines, newest last."""
    text = Text("History of joins, leaves and removals\n", style="bold")
    if not entries:
        text.append("nothing recorded yet")
        return text
    for entry in entries:
        who = names.get(entry.participant_key, entry.participant_key)
        line = Text(f"{stamp(entry.at, now)}  {entry.action:<7} ")
        line.append_text(safe(fit(who, 30)))
        if entry.via:
            line.append(f" via {entry.via}")
        if entry.initiated_by:
            line.append(f" by {entry.initiated_by}")
        if entry.observed:
            line.append(" (seen by a read of the group: time approximate)", style="dim")
        if entry.error_message:
            line.append(" — ").append_text(safe(fit(entry.error_message, 60)))
        text.append_text(line).append("\n")
    text.rstrip()
    return text


class MembersScreen(GroupScreen, OffersPaletteActions):
    """Members of one group, with removal (one, marked, or from every group).

    ``x`` removes the highlighted member, ``space`` marks and ``X`` removes every marked
    member in one call, ``E`` removes a number from every group on this account, ``e``
    edits local details, ``h`` shows the history of joins, leaves and removals.
    """

    SCREEN_NAME = "Members"
    GUARDED = frozenset({"remove", "remove_marked", "settings", "invite_people"})

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {
        "remove": "admin.remove_participants",
        "remove_marked": "admin.remove_participants",
        "remove_everywhere": "admin.remove_everywhere",
        "edit": "admin.set_contact",
        "settings": "admin.update_settings",
        "invite_people": "sending.send_invites",
    }
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="members.back", tooltip="Back"),
        Binding("x", "remove", "Remove", id="members.remove", tooltip="Remove this member"),
        Binding(
            "X",
            "remove_marked",
            "Remove marked",
            id="members.remove_marked",
            tooltip="Remove every marked member in one call",
        ),
        Binding(
            "E",
            "remove_everywhere",
            "Everywhere",
            id="members.everywhere",
            tooltip="Remove this number from every group on this account",
        ),
        Binding("e", "edit", "Details", id="members.edit", tooltip="Local name and note"),
        Binding("h", "history", "History", id="members.history", tooltip="Joins, leaves, removals"),
        Binding("s", "settings", "Settings", id="members.settings", tooltip="Subject, picture…"),
        Binding("i", "invite_link", "Link", id="members.link", tooltip="Invite link and QR"),
        Binding(
            "p",
            "invite_people",
            "Invite",
            id="members.invite",
            show=False,
            tooltip="Send the invite link 1:1 to contacts",
        ),
        Binding(
            "J", "requests", "Requests", id="members.requests", show=False, tooltip="Join requests"
        ),
    ]
    """Member keys; list navigation lives on the table."""

    PALETTE_ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Remove member…", "remove", "Remove the highlighted member (x)"),
        ("Remove marked members…", "remove_marked", "Remove every marked member (X)"),
        ("Remove from every group…", "remove_everywhere", "This number, everywhere (E)"),
        ("Edit member details…", "edit", "Local display name and note (e)"),
        ("Group settings…", "settings", "Subject, description, picture (s)"),
        ("Invite link and QR", "invite_link", "Copy, show as QR, reset (i)"),
        ("Invite people…", "invite_people", "Send the invite link 1:1 (p)"),
    )
    """Entries this screen adds to the command palette."""

    @dataclass
    class MembersLoaded(Message):
        """The member rows arrived.

        Attributes:
            group_id: The group they belong to.
            rows: One per member.
        """

        group_id: str
        rows: list[MemberRow]

    @dataclass
    class HistoryLoaded(Message):
        """The membership history arrived.

        Attributes:
            entries: Joins, leaves and removals, oldest first.
        """

        entries: list[HistoryEntry]

    def __init__(self, group_id: str) -> None:
        """Open a group's members.

        Args:
            group_id: The group.
        """
        super().__init__(group_id)
        self.member_rows: dict[str, MemberRow] = {}

    def compose(self) -> ComposeResult:
        """Header, banner, table, history, status line and key bar."""
        yield StatusHeader()
        yield GroupBanner(id="banner")
        yield MarkTable(COLUMNS, id="members")
        yield Static(id="history")
        yield Static("", id="status")
        yield KeyBar()

    @property
    def table(self) -> MarkTable:
        """The member table."""
        return self.query_one(MarkTable)

    def on_mount(self) -> None:
        """Load and focus the table."""
        self.query_one("#history", Static).display = False
        self.table.focus()
        super().on_mount()

    def reload(self) -> None:
        """Load the group, its members and (when shown) the history."""
        super().reload()
        self._load_members()
        if self.query_one("#history", Static).display:
            self._load_history()

    @work(exclusive=True, group="members-load", exit_on_error=False)
    async def _load_members(self) -> None:
        rows = await self.app.service.admin.member_rows(self.group_id)
        self.post_message(self.MembersLoaded(self.group_id, rows))

    @work(exclusive=True, group="members-history", exit_on_error=False)
    async def _load_history(self) -> None:
        entries = await self.app.service.admin.member_history(self.group_id)
        self.post_message(self.HistoryLoaded(entries))

    @on(MembersLoaded)
    def _members_loaded(self, event: MembersLoaded) -> None:
        if event.group_id != self.group_id:
            return
        now = self.app.now()
        self.member_rows = {r.member.key: r for r in event.rows}
        self.table.set_rows((r.member.key, member_cells(r, now)) for r in event.rows)
        if not event.rows:
            self.status("No members yet: share the invite link (i)")

    @on(HistoryLoaded)
    def _history_loaded(self, event: HistoryLoaded) -> None:
        names = {k: member_name(r) for k, r in self.member_rows.items()}
        self.query_one("#history", Static).update(
            history_text(event.entries, names, self.app.now())
        )

    @on(MarkTable.MarksChanged)
    def _marks(self, event: MarkTable.MarksChanged) -> None:
        if event.marked:
            self.status(f"{len(event.marked)} marked · X removes them in one call")

    # ------------------------------------------------------------------ removal

    def _label(self, keys: list[str]) -> Text:
        text = Text()
        for i, key in enumerate(keys[:8]):
            row = self.member_rows.get(key)
            if i:
                text.append(", ")
            text.append_text(safe(fit(member_name(row) if row else key, 30), "bold"))
        if len(keys) > 8:
            text.append(f" and {len(keys) - 8} more")
        return text

    def _subject(self) -> Text:
        subject = self.detail.group.subject if self.detail else ""
        return safe(fit(subject or "(no subject)", 48), "bold")

    def action_remove(self) -> None:
        """Remove the highlighted member, after confirming."""
        key = self.table.current_key
        if key is not None:
            self._confirm_remove([key])

    def action_remove_marked(self) -> None:
        """Remove every marked member in one call, after confirming."""
        keys = [k for k in self.table.row_keys if k in self.table.marked]
        if not keys:
            self.status("Mark members with space first", ok=False)
            return
        self._confirm_remove(keys)

    def _confirm_remove(self, keys: list[str]) -> None:
        question = Text("Remove ")
        question.append_text(self._label(keys))
        question.append(" from ").append_text(self._subject())
        question.append("? They can rejoin with the invite link unless it is reset.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.status(f"Removing {len(keys)}… (pending until Meta confirms)")
                self._remove(keys)

        self.app.push_screen(ConfirmModal(question, yes="Remove"), answered)

    @work(exclusive=True, group="members-act", exit_on_error=False)
    async def _remove(self, keys: list[str]) -> None:
        op = await self.app.service.admin.remove_participants(self.group_id, keys)
        self.table.clear_marks()
        self.post_message(
            ActionDone(f"Removal of {len(keys)} requested ({op.state}); waiting for the webhook")
        )

    def action_remove_everywhere(self) -> None:
        """Remove the highlighted member's number from every group, after confirming."""
        key = self.table.current_key
        row = self.member_rows.get(key or "")
        if row is None:
            return
        target = row.member.wa_id or row.member.key
        question = Text("Remove ")
        question.append_text(self._label([row.member.key]))
        question.append(f" (+{target.lstrip('+')}) from EVERY group on this account?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.status("Removing from every group… (pending until Meta confirms)")
                self._remove_everywhere(target)

        self.app.push_screen(ConfirmModal(question, yes="Remove everywhere"), answered)

    @work(exclusive=True, group="members-act", exit_on_error=False)
    async def _remove_everywhere(self, target: str) -> None:
        ops = await self.app.service.admin.remove_everywhere(target)
        self.post_message(ActionDone(f"Removal requested in {len(ops)} group(s)"))

    # ------------------------------------------------------------------ other levers

    def action_edit(self) -> None:
        """Edit the highlighted member's local name and note."""
        row = self.member_rows.get(self.table.current_key or "")
        if row is None:
            return

        def saved(details: MemberDetails | None) -> None:
            if details is not None:
                self._save_contact(row.member.key, details)

        self.app.push_screen(MemberDetailsModal(row), saved)

    @work(exclusive=True, group="members-act", exit_on_error=False)
    async def _save_contact(self, key: str, details: MemberDetails) -> None:
        await self.app.service.admin.set_contact(
            key, display_name=details.display_name, note=details.note
        )
        self.post_message(ActionDone("Local details saved"))

    def action_history(self) -> None:
        """Show or hide the history of joins, leaves and removals."""
        history = self.query_one("#history", Static)
        history.display = not history.display
        if history.display:
            self._load_history()

    def action_settings(self) -> None:
        """Change subject, description or picture."""
        if self.detail is None:
            return
        from groups_tui.ui.screens.group_settings import GroupSettingsModal

        def done(text: str | None) -> None:
            if text:
                self.post_message(ActionDone(text))

        self.app.push_screen(GroupSettingsModal(self.detail), done)

    def action_invite_link(self) -> None:
        """Show the invite link, its QR code, copy or reset it."""
        self.app.navigation.open_invite_link(self.group_id)

    def action_invite_people(self) -> None:
        """Send the invite link 1:1 to chosen people."""
        if self.detail is not None:
            self.app.navigation.open_invite_people(self.detail)

    def action_requests(self) -> None:
        """Open the group's join requests."""
        self.app.navigation.open_join_requests(self.group_id)

    def action_back(self) -> None:
        """Back to where the screen was opened from."""
        self.dismiss()
