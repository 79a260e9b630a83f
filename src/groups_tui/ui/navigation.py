"""Which screen to show for which operator action.

Screens call these through ``self.app.navigation`` (typed as
:class:`~groups_tui.ui.host.Navigator`), the app's palette and key bindings through the
app. Screen modules are imported when first shown, not at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from groups_tui.service import PENDING_PREFIX
from groups_tui.service.types import GroupDetail, PendingOperation
from groups_tui.ui.host import HostApp, Navigator
from groups_tui.ui.widgets.safe_text import fit

if TYPE_CHECKING:
    from textual.worker import WorkType

    from groups_tui.ui.screens.automations import AutomationsPanel
    from groups_tui.ui.screens.inbox import InboxScreen
    from groups_tui.ui.screens.invite_people import InvitesSent

__all__ = ["Navigation"]


class Navigation(Navigator):
    """Pushes the screen for an action onto the app's screen stack."""

    def __init__(self, app: HostApp, automations: AutomationsPanel | None = None) -> None:
        """Navigate within ``app``.

        Args:
            app: The running app.
            automations: Status and pause switches of configured automations, if any.
        """
        self._app = app
        self._automations = automations

    def inbox(self) -> InboxScreen | None:
        """The inbox screen on the stack, if any."""
        from groups_tui.ui.screens.inbox import InboxScreen

        for screen in self._app.screen_stack:
            if isinstance(screen, InboxScreen):
                return screen
        return None

    def open_group(
        self, group_id: str, message_id: str | None = None, at: int | None = None
    ) -> None:
        """Open a group's conversation on top of the inbox, optionally at a message."""
        app = self._app
        inbox = self.inbox()
        while inbox is not None and app.screen is not inbox:
            app.pop_screen()
        self.open_group_over(group_id, message_id, at)

    def open_group_over(
        self, group_id: str, message_id: str | None = None, at: int | None = None
    ) -> None:
        """Open a group's conversation on top of the current screen."""
        from groups_tui.ui.screens.conversation import ConversationScreen

        self._app.push_screen(ConversationScreen(group_id, focus_message=message_id, focus_at=at))

    def new_group(self, number: str | None = None) -> None:
        """Ask for a new group (on ``number`` by default, when the account has several);
        then show its invite link screen (pending until Meta)."""
        from groups_tui.ui.screens.create_group import CreateGroupModal
        from groups_tui.ui.screens.invite_link import InviteLinkScreen

        app = self._app

        def created(op: PendingOperation | None) -> None:
            if op is not None:
                app.notify("Group requested: pending until Meta confirms", markup=False)
                app.push_screen(InviteLinkScreen(PENDING_PREFIX + op.request_id))

        app.push_screen(CreateGroupModal(number), created)

    def open_spend_by_number(self) -> None:
        """Show today's spend and this month's allowance, number by number."""
        from groups_tui.ui.screens.spend_by_number import SpendByNumberModal

        self._app.push_screen(SpendByNumberModal())

    def open_members(self, group_id: str) -> None:
        """Show a group's members."""
        from groups_tui.ui.screens.members import MembersScreen

        self._app.push_screen(MembersScreen(group_id))

    def open_join_requests(self, group_id: str) -> None:
        """Show a group's pending join requests."""
        from groups_tui.ui.screens.join_requests import JoinRequestsScreen

        self._app.push_screen(JoinRequestsScreen(group_id))

    def open_invite_link(self, group_id: str) -> None:
        """Show a group's invite link and QR code."""
        from groups_tui.ui.screens.invite_link import InviteLinkScreen

        self._app.push_screen(InviteLinkScreen(group_id))

    def open_invite_people(self, detail: GroupDetail) -> None:
        """Send a group's invite link 1:1 to chosen people."""
        from groups_tui.ui.screens.invite_people import InvitePeopleModal

        app = self._app

        def sent(result: InvitesSent | None) -> None:
            if result is not None:
                app.notify(fit(result.summary(), 200), markup=False)

        app.push_screen(InvitePeopleModal(detail), sent)

    def open_group_settings(self, group_id: str) -> None:
        """Change a group's subject, description or picture (its detail is read first)."""
        self._run(partial(self._settings, group_id), f"_settings({group_id!r})", "settings")

    async def _settings(self, group_id: str) -> None:
        from groups_tui.ui.screens.group_settings import GroupSettingsModal

        app = self._app
        detail = await app.service.reading.group_detail(group_id)

        def done(text: str | None) -> None:
            if text:
                app.notify(fit(text, 200), markup=False)

        app.push_screen(GroupSettingsModal(detail), done)

    def open_moderation_queue(self) -> None:
        """Show the moderation queue."""
        from groups_tui.ui.screens.moderation_queue import ModerationQueueScreen

        if not isinstance(self._app.screen, ModerationQueueScreen):
            self._app.push_screen(ModerationQueueScreen())

    def open_audit_log(self) -> None:
        """Show the audit log."""
        from groups_tui.ui.screens.audit_log import AuditLogScreen

        if not isinstance(self._app.screen, AuditLogScreen):
            self._app.push_screen(AuditLogScreen())

    def open_spend(self) -> None:
        """Show daily spend (a sparkline of the last 30 days)."""
        from groups_tui.ui.screens.spend import SpendScreen

        if not isinstance(self._app.screen, SpendScreen):
            self._app.push_screen(SpendScreen())

    def open_search(self) -> None:
        """Open full-text search."""
        from groups_tui.ui.screens.search import SearchScreen

        if not isinstance(self._app.screen, SearchScreen):
            self._app.push_screen(SearchScreen())

    def open_help(self) -> None:
        """Show the keys of the current screen."""
        from groups_tui.ui.screens.help import HelpScreen

        screen = self._app.screen
        if not isinstance(screen, HelpScreen):
            self._app.push_screen(HelpScreen(screen))

    def open_automations(self) -> None:
        """Show the automations (invite rules, forwarding targets, runs)."""
        from groups_tui.ui.screens.automations import AutomationsScreen

        if self._automations is None:
            self._app.notify(
                "No automations are configured ([automations] in the config file)", markup=False
            )
            return
        if not isinstance(self._app.screen, AutomationsScreen):
            self._app.push_screen(AutomationsScreen(self._automations))

    # ------------------------------------------------------------------ deleting a group

    def delete_group(self, group_id: str) -> None:
        """Ask for the typed subject, then delete the group (pending until the webhook).

        Args:
            group_id: The group to delete.
        """
        self._run(partial(self._prepare_delete, group_id), f"_prepare_delete({group_id!r})")

    def _run(
        self, work: Callable[[], Awaitable[None]], description: str, group: str = "delete-group"
    ) -> None:
        """Run a step as the app's worker (one at a time per ``group``), as ``@work``
        would on the app: a failure becomes a notification, not a crash."""
        self._app.run_worker(
            # Textual's WorkType union defeats inference for an async callable (its own
            # @work decorator casts too).
            cast("WorkType[None]", work),
            name=description.split("(", 1)[0],
            group=group,
            description=description,
            exclusive=True,
            exit_on_error=False,
        )

    async def _prepare_delete(self, group_id: str) -> None:
        from groups_tui.ui.screens.delete_group import DeleteGroupModal

        app = self._app
        detail = await app.service.reading.group_detail(group_id)
        group = detail.group
        if not group.id:
            app.notify("The group is still being created", markup=False)
            return
        target = group.id

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._run(partial(self._delete, target), f"_delete({target!r})")

        app.push_screen(DeleteGroupModal(group.subject, len(detail.members)), answered)

    async def _delete(self, group_id: str) -> None:
        op = await self._app.service.admin.delete_group(group_id)
        self._app.notify(f"Deletion requested ({op.state} until Meta confirms)", markup=False)
