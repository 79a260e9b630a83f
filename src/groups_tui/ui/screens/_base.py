"""What every screen shares: the typed app accessor and the worker-error handler.

Screens see the app as :class:`~groups_tui.ui.host.HostApp` and never import the app
module (which imports the screens).
"""

from __future__ import annotations

from typing import TypeVar

from textual import getters
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from groups_tui.ui.host import HostApp, report_worker_error

__all__ = ["AppModal", "AppScreen"]

ResultType = TypeVar("ResultType")


class AppScreen(Screen[None]):
    """A full screen of groups-tui.

    Failed workers on the screen are reported through the app's single error path
    (:func:`~groups_tui.ui.host.report_worker_error`).
    """

    app = getters.app(HostApp)
    """The running app, typed."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed service call into a notification."""
        report_worker_error(self, event)


class AppModal(ModalScreen[ResultType]):
    """A modal screen of groups-tui that dismisses with a typed result."""

    app = getters.app(HostApp)
    """The running app, typed."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a failed service call into a notification."""
        report_worker_error(self, event)
