"""What every screen shares: the typed app accessor and the worker-error handler.

Screens see the app as :class:`~groups_tui.ui.host.HostApp` and never import the app
module (which imports the screens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from textual import getters
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from groups_tui.domain.roles import required_role
from groups_tui.ui.host import HostApp, report_worker_error

__all__ = ["AppModal", "AppScreen", "Needs", "permitted", "role_needed"]

ResultType = TypeVar("ResultType")

Needs = str | tuple[str, Mapping[str, Any]]
"""The service operation a screen action runs (``sub_api.method``), with the arguments
that change the role it needs (``("admin.invite_link", {"reset": True})``)."""


def _split(needs: Needs) -> tuple[str, Mapping[str, Any]]:
    return (needs, {}) if isinstance(needs, str) else needs


def permitted(node: Screen[Any], action: str) -> bool:
    """Whether the operator's role allows the screen's `action` (team mode; always in
    single-user mode). A refused action is greyed out in the footer, the help and the
    palette; the daemon refuses it anyway."""
    needs = getattr(node, "ACTION_OPERATIONS", {}).get(action)
    app = node.app
    if needs is None or not isinstance(app, HostApp):
        return True
    operation, arguments = _split(needs)
    group_id = getattr(node, "group_id", None)
    return app.service.permits(
        operation, group_id if isinstance(group_id, str) else None, arguments=arguments
    )


def role_needed(node: Screen[Any], action: str) -> str | None:
    """The role the screen's `action` needs, when it is a service action."""
    needs = getattr(node, "ACTION_OPERATIONS", {}).get(action)
    if needs is None:
        return None
    operation, arguments = _split(needs)
    role = required_role(operation, arguments)
    return role.label if role is not None else None


class AppScreen(Screen[None]):
    """A full screen of groups-tui.

    Failed workers on the screen are reported through the app's single error path
    (:func:`~groups_tui.ui.host.report_worker_error`).
    """

    app = getters.app(HostApp)
    """The running app, typed."""

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {}
    """The screen's actions that are service actions, and which (for roles)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out (``None``) what the operator's role does not allow."""
        return True if permitted(self, action) else None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed service call into a notification."""
        report_worker_error(self, event)


class AppModal(ModalScreen[ResultType]):
    """A modal screen of groups-tui that dismisses with a typed result."""

    app = getters.app(HostApp)
    """The running app, typed."""

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {}
    """The modal's actions that are service actions, and which (for roles)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out (``None``) what the operator's role does not allow."""
        return True if permitted(self, action) else None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed service call into a notification."""
        report_worker_error(self, event)
