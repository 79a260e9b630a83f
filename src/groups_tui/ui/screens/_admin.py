"""What the group administration screens share: loading the group, the banner, the
status line, and disabling the levers while a group is suspended or not active."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.events import Resize
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from groups_tui.domain.models import GroupState
from groups_tui.service import ServiceError
from groups_tui.service.types import GroupDetail
from groups_tui.ui.screen_roles import FollowsChanges, ShowsGroup, Ticking
from groups_tui.ui.screens._base import AppScreen
from groups_tui.ui.widgets.group_banner import GroupBanner
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["ActionDone", "GroupScreen", "blocked_reason"]


def blocked_reason(detail: GroupDetail | None) -> str | None:
    """Why the group's levers (remove, approve, settings...) are unavailable, or ``None``.

    Args:
        detail: The group, ``None`` while loading.

    Returns:
        A sentence for the status line.
    """
    if detail is None:
        return "loading the group"
    group = detail.group
    if group.suspended:
        return f"the group is suspended: {group.suspended_reason or 'no reason given'}"
    if group.state is GroupState.PENDING:
        return "the group is still being created"
    if group.state is GroupState.DELETED:
        return "the group was deleted"
    if group.state is GroupState.FAILED:
        return "the group could not be created"
    return None


@dataclass
class ActionDone(Message):
    """A service call made from an administration screen finished.

    Attributes:
        text: What happened, for the status line.
        ok: False when the service refused or failed.
    """

    text: str
    ok: bool = True


class GroupScreen(AppScreen, FollowsChanges, Ticking, ShowsGroup):
    """Base of the screens about one group (members, join requests).

    Subclasses set :attr:`SCREEN_NAME`, list their group levers in :attr:`GUARDED`
    (disabled, and shown greyed in the key bar, while :func:`blocked_reason` says so),
    and implement :meth:`reload`.
    """

    SCREEN_NAME: ClassVar[str] = ""
    """Shown in the banner before the subject."""

    GUARDED: ClassVar[frozenset[str]] = frozenset()
    """Actions that need an active, unsuspended group."""

    @dataclass
    class DetailLoaded(Message):
        """The group's detail arrived.

        Attributes:
            detail: The group with members and pending operations.
        """

        detail: GroupDetail

    def __init__(self, group_id: str) -> None:
        """Open the screen on a group.

        Args:
            group_id: The group's id.
        """
        super().__init__()
        self.group_id = group_id
        self.detail: GroupDetail | None = None

    @property
    def banner(self) -> GroupBanner:
        """The group banner."""
        return self.query_one(GroupBanner)

    def on_mount(self) -> None:
        """Fill the header and load."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.reload()

    def reload(self) -> None:
        """Load the group (subclasses add their own data)."""
        self._load_detail()

    @work(exclusive=True, group="admin-detail", exit_on_error=False)
    async def _load_detail(self) -> None:
        detail = await self.app.service.reading.group_detail(self.group_id)
        self.post_message(self.DetailLoaded(detail))

    @on(DetailLoaded)
    def _detail_loaded(self, event: DetailLoaded) -> None:
        self.detail = event.detail
        self.banner.show(event.detail, self.SCREEN_NAME)
        self.refresh_bindings()

    def apply_changes(self, group_ids: Iterable[str], reset: bool) -> None:
        """Reload when this group changed (called by the app once per burst)."""
        if reset or self.group_id in set(group_ids):
            self.reload()

    def on_resize(self, event: Resize) -> None:
        """Toggle the narrow layout under 100 columns."""
        self.set_class(event.size.width < 100, "-narrow")

    def tick(self, now: float) -> None:
        """Advance the header clock (once it is mounted)."""
        for header in self.query(StatusHeader):
            header.tick(now)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable (grey out) the group levers while the group cannot be changed, and
        what the operator's role does not allow."""
        if action in self.GUARDED and blocked_reason(self.detail) is not None:
            return None
        return super().check_action(action, parameters)

    def status(self, text: str, *, ok: bool = True) -> None:
        """Show one line of outcome under the table."""
        line = self.query_one("#status", Static)
        line.update(safe(fit(text, 300)))
        line.set_class(not ok, "-error")

    def status_text(self, text: Text) -> None:
        """Show prepared text in the status line."""
        line = self.query_one("#status", Static)
        line.update(text)
        line.remove_class("-error")

    @on(ActionDone)
    def _action_done(self, event: ActionDone) -> None:
        self.status(event.text, ok=event.ok)
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed call also says why in the status line.

        (Textual also runs :class:`AppScreen`'s handler, which notifies.)
        """
        error = event.worker.error
        if event.state is WorkerState.ERROR and error is not None:
            text = error.message if isinstance(error, ServiceError) else f"failed: {error}"
            self.status(text, ok=False)
