"""A group's pending join requests, with the signals an operator decides on.

Rejecting a join request is one of a business's three levers in a group. ``a`` approves
and ``r`` rejects the highlighted request, or every marked one (``space``) in one call.
Approving into a full group is refused by the service with the reason, before any API
call. The list follows the change feed: requests appear and disappear (revoked,
decided elsewhere) as the webhooks arrive.
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

from groups_tui.domain.limits import MAX_PARTICIPANTS
from groups_tui.service import ServiceError
from groups_tui.service.types import DecisionResult, JoinRequestView
from groups_tui.ui.formatting import ago
from groups_tui.ui.screen_roles import OffersPaletteActions
from groups_tui.ui.screens._admin import ActionDone, GroupScreen
from groups_tui.ui.screens._base import Needs
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.widgets.group_banner import GroupBanner
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["JoinRequestsScreen", "request_cells"]

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("number", "Number"),
    ("country", "Cty"),
    ("age", "Age"),
    ("signals", "Signals"),
)


def signals_text(view: JoinRequestView) -> Text:
    """The warning signs of a requester, most serious first."""
    parts = Text()
    if view.blocklisted:
        parts.append("⛔ blocklisted ", style="bold")
    if view.removed_before:
        parts.append("removed before ", style="bold")
    if view.in_other_groups:
        parts.append(f"in {view.in_other_groups} of our groups ")
    if not parts:
        parts.append("—")
    parts.rstrip()
    return parts


def request_cells(view: JoinRequestView, now: float) -> list[Text]:
    """The cells of one request row (untrusted text through ``safe``)."""
    r = view.request
    return [
        safe(fit(r.profile_name or r.key or "(unknown)", 28)),
        Text(f"+{r.wa_id}" if r.wa_id else "(no number)"),
        Text(view.country or "—"),
        Text(ago(r.created_at, now)),
        signals_text(view),
    ]


class JoinRequestsScreen(GroupScreen, OffersPaletteActions):
    """Pending join requests of one group: approve (``a``) or reject (``r``).

    With rows marked (``space``), ``a`` and ``r`` act on every marked request in one
    call, after confirming.
    """

    SCREEN_NAME = "Join requests"
    GUARDED = frozenset({"approve", "reject"})

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {
        "approve": "admin.approve_join_requests",
        "reject": "admin.reject_join_requests",
    }
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="requests.back", tooltip="Back"),
        Binding(
            "a", "approve", "Approve", id="requests.approve", tooltip="Approve (marked or this)"
        ),
        Binding("r", "reject", "Reject", id="requests.reject", tooltip="Reject (marked or this)"),
        Binding("m", "members", "Members", id="requests.members", tooltip="The group's members"),
    ]
    """Decision keys; ``space`` (on the table) marks."""

    PALETTE_ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Approve join request(s)", "approve", "Approve the marked or highlighted (a)"),
        ("Reject join request(s)", "reject", "Reject the marked or highlighted (r)"),
    )
    """Entries this screen adds to the command palette."""

    @dataclass
    class RequestsLoaded(Message):
        """The pending requests arrived.

        Attributes:
            group_id: Their group.
            views: One per pending request, oldest first.
        """

        group_id: str
        views: list[JoinRequestView]

    @dataclass
    class RequestsDecided(Message):
        """Approve or reject finished.

        Attributes:
            verb: ``approved`` or ``rejected``.
            result: Ids done and (id, reason) failed.
        """

        verb: str
        result: DecisionResult

    def __init__(self, group_id: str) -> None:
        """Open a group's join requests.

        Args:
            group_id: The group.
        """
        super().__init__(group_id)
        self.views: dict[str, JoinRequestView] = {}

    def compose(self) -> ComposeResult:
        """Header, banner, table, status line and key bar."""
        yield StatusHeader()
        yield GroupBanner(id="banner")
        yield MarkTable(COLUMNS, id="requests")
        yield Static("", id="status")
        yield KeyBar()

    @property
    def table(self) -> MarkTable:
        """The request table."""
        return self.query_one(MarkTable)

    def on_mount(self) -> None:
        """Focus the table and load."""
        self.table.focus()
        super().on_mount()

    def reload(self) -> None:
        """Load the group and its pending requests."""
        super().reload()
        self._load_requests()

    @work(exclusive=True, group="requests-load", exit_on_error=False)
    async def _load_requests(self) -> None:
        views = await self.app.service.reading.join_requests(self.group_id)
        self.post_message(self.RequestsLoaded(self.group_id, views))

    @on(RequestsLoaded)
    def _loaded(self, event: RequestsLoaded) -> None:
        if event.group_id != self.group_id:
            return
        now = self.app.now()
        self.views = {v.request.join_request_id: v for v in event.views}
        self.table.set_rows((k, request_cells(v, now)) for k, v in self.views.items())
        if not event.views:
            self.status("No pending requests")

    @on(MarkTable.MarksChanged)
    def _marks(self, event: MarkTable.MarksChanged) -> None:
        if event.marked:
            self.status(f"{len(event.marked)} marked · a approves, r rejects them all")

    def _free_seats(self) -> int:
        members = len(self.detail.members) if self.detail else 0
        return max(MAX_PARTICIPANTS - members, 0)

    def _decide(self, approve: bool) -> None:
        ids = self.table.chosen()
        if not ids:
            return
        verb = "Approve" if approve else "Reject"
        if len(ids) == 1:
            self._run_decision(ids, approve)
            return
        question = Text(f"{verb} {len(ids)} join requests?")
        if approve:
            question.append(f" {self._free_seats()} seat(s) are free.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_decision(ids, approve)

        self.app.push_screen(ConfirmModal(question, yes=verb), answered)

    def _run_decision(self, ids: list[str], approve: bool) -> None:
        self.status(("Approving" if approve else "Rejecting") + f" {len(ids)}…")
        self._call_decision(ids, approve)

    @work(exclusive=True, group="requests-act", exit_on_error=False)
    async def _call_decision(self, ids: list[str], approve: bool) -> None:
        service = self.app.service
        try:
            if approve:
                result = await service.admin.approve_join_requests(self.group_id, ids)
            else:
                result = await service.admin.reject_join_requests(self.group_id, ids)
        except ServiceError as error:
            # A refusal (a full group) is an expected answer, not a crash: show it here.
            self.post_message(ActionDone(f"Refused: {error.message}", ok=False))
            return
        self.table.clear_marks()
        self.post_message(self.RequestsDecided("approved" if approve else "rejected", result))

    @on(RequestsDecided)
    def _decided(self, event: RequestsDecided) -> None:
        result = event.result
        text = f"{len(result.done)} {event.verb}"
        if result.failed:
            reasons = "; ".join(f"{rid}: {why}" for rid, why in result.failed[:3])
            text += f", {len(result.failed)} failed ({reasons})"
        self.status(text, ok=not result.failed)
        self.reload()

    def action_approve(self) -> None:
        """Approve the marked requests, or the highlighted one."""
        self._decide(True)

    def action_reject(self) -> None:
        """Reject the marked requests, or the highlighted one."""
        self._decide(False)

    def action_members(self) -> None:
        """Open the group's members."""
        self.app.navigation.open_members(self.group_id)

    def action_back(self) -> None:
        """Back to where the screen was opened from."""
        self.dismiss()
