"""What every screen may use of the running app, without importing the app module.

Screens reach the app through ``getters.app(HostApp)``: :class:`HostApp` declares what
they need (the service, the clock, the header, the error path and :class:`Navigator`),
and :class:`~groups_tui.ui.app.GroupsApp` implements it. The app module imports the
screens (through :mod:`groups_tui.ui.navigation`); no screen imports the app module, so
the UI's imports form no cycle (the import-linter contracts in ``pyproject.toml`` keep
it so).

The abstract methods are checked by mypy (an app that leaves one out cannot be
instantiated, and every override must keep the signature). They are not enforced at run
time: Textual's metaclass cannot be combined with :class:`abc.ABCMeta`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from groups_tui.service import InboxService
from groups_tui.service.types import GroupDetail, InboxCursor, InboxRow, RowTable
from groups_tui.ui.preferences import Preferences
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["HostApp", "Navigator", "report_worker_error"]


class Navigator(ABC):
    """Which screen to show for which operator action (implemented in
    :mod:`groups_tui.ui.navigation`)."""

    @abstractmethod
    def open_group(
        self, group_id: str, message_id: str | None = None, at: int | None = None
    ) -> None:
        """Open a group's conversation on top of the inbox, optionally at a message.

        Args:
            group_id: The group.
            message_id: A message to jump to and highlight (a search hit).
            at: That message's time, for the keyset jump.
        """

    @abstractmethod
    def open_group_over(
        self, group_id: str, message_id: str | None = None, at: int | None = None
    ) -> None:
        """Open a group's conversation on top of the current screen (Escape comes back).

        Args:
            group_id: The group.
            message_id: A message to jump to and highlight.
            at: That message's time, for the keyset jump.
        """

    @abstractmethod
    def new_group(self, number: str | None = None) -> None:
        """Ask for a new group (on ``number`` by default, when several); then show its
        invite link screen."""

    @abstractmethod
    def open_members(self, group_id: str) -> None:
        """Show a group's members."""

    @abstractmethod
    def open_join_requests(self, group_id: str) -> None:
        """Show a group's pending join requests."""

    @abstractmethod
    def open_invite_link(self, group_id: str) -> None:
        """Show a group's invite link and QR code."""

    @abstractmethod
    def open_invite_people(self, detail: GroupDetail) -> None:
        """Send a group's invite link 1:1 to chosen people."""

    @abstractmethod
    def delete_group(self, group_id: str) -> None:
        """Ask for the typed subject, then delete the group."""

    @abstractmethod
    def open_group_settings(self, group_id: str) -> None:
        """Change a group's subject, description or picture."""

    @abstractmethod
    def open_moderation_queue(self) -> None:
        """Show the moderation queue."""

    @abstractmethod
    def open_audit_log(self) -> None:
        """Show the audit log."""

    @abstractmethod
    def open_spend(self) -> None:
        """Show daily spend (a sparkline of the last 30 days)."""

    @abstractmethod
    def open_search(self) -> None:
        """Open full-text search."""

    @abstractmethod
    def open_help(self) -> None:
        """Show the keys of the current screen."""

    @abstractmethod
    def open_automations(self) -> None:
        """Show the automations, or say that none are configured."""

    @abstractmethod
    def open_spend_by_number(self) -> None:
        """Show today's spend and this month's allowance, number by number."""


class HostApp(App[None]):
    """The app as screens see it: Textual's :class:`App` plus what groups-tui adds."""

    service: InboxService
    """The façade every screen calls."""

    navigation: Navigator
    """Opens the screen for an action (members, invite link, a conversation...)."""

    preferences: Preferences
    """The operator's choices kept across restarts (theme, inbox sort and columns)."""

    number_column: bool = True
    """Whether the inbox shows the number column (several numbers; kept for the
    session)."""

    sandbox_note: str | None
    """The header's sandbox notice; ``None`` on a live account."""

    sandbox_resettable: bool
    """Whether this process runs the embedded sandbox, which may be started afresh."""

    restart_sandbox_afresh: bool = False
    """Set when the operator asked to start the sandbox afresh: the app then exits and
    the runner forgets the kept world and database and opens it again."""

    @abstractmethod
    def now(self) -> float:
        """The injected clock's current time (epoch seconds)."""

    @abstractmethod
    def apply_header(self, header: StatusHeader) -> None:
        """Fill a screen's header from the app's latest account and listener data."""

    @abstractmethod
    async def initial_inbox_page(self) -> tuple[RowTable, InboxCursor | None]:
        """The inbox's first screen of rows read at start-up (once), else a fresh read;
        and where the rest begins (``None``: there is no more)."""

    @abstractmethod
    def inbox_complete(self) -> None:
        """Every inbox row is in memory (the rest arrived after the first screen)."""

    @abstractmethod
    def inbox_rows_snapshot(self, containing: str = "") -> Iterable[InboxRow]:
        """The inbox rows held whose haystack contains ``containing`` (folded), or none."""

    @abstractmethod
    def remember(self, **changes: Any) -> None:
        """Change some of :attr:`preferences` and keep them for the next run."""

    @abstractmethod
    def report_error(self, error: BaseException) -> None:
        """Show a failed service call to the operator (plain text, never markup)."""


def report_worker_error(node: App[None] | Screen[Any], event: Worker.StateChanged) -> None:
    """The one place a failed worker becomes a notification.

    Service refusals and Cloud API errors are expected and shown as one line; anything
    else is shown too rather than crashing the operator's session.

    Args:
        node: The app or screen that owns the worker.
        event: The state change.
    """
    if event.state is WorkerState.ERROR and event.worker.error is not None:
        app = node if isinstance(node, HostApp) else node.app
        if isinstance(app, HostApp):
            app.report_error(event.worker.error)
