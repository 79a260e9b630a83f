"""What the app asks of a screen: the roles a screen takes on by inheriting them.

The app's clock, change feed, bell and command palette talk to the screens through these
classes only (``isinstance`` checks), never by looking attributes up by name. A screen
that takes on a role says so in its bases; mypy then checks that it implements the
abstract methods with the same signatures (a screen missing one cannot be instantiated).

They are plain classes rather than :class:`typing.Protocol` or :class:`abc.ABC`: both
bring a metaclass that cannot be combined with Textual's, so a screen could not inherit
them. The abstract methods are checked by mypy, not at run time.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import ClassVar

__all__ = ["FollowsChanges", "OffersPaletteActions", "PaletteAction", "ShowsGroup", "Ticking"]

PaletteAction = tuple[str, str, str]
"""A command palette entry: title, the screen's action (``screen.`` is added), help."""


class Ticking:
    """A screen with countdowns or ages: the app's one-second clock reaches it while it
    is the active screen."""

    __slots__ = ()

    @abstractmethod
    def tick(self, now: float) -> None:
        """Advance what the screen shows to ``now`` (epoch seconds); only what changed
        is repainted."""


class FollowsChanges:
    """A screen that refreshes from the store's change feed.

    Every screen on the stack that follows changes is told once per burst of changes.
    """

    __slots__ = ()

    FOLLOWS_READ_MARKS: ClassVar[bool] = True
    """Whether a read mark alone (the operator opened a group) is a change for this
    screen. It only changes inbox counts; a conversation must not reload the page it was
    set from."""

    @abstractmethod
    def apply_changes(self, group_ids: Iterable[str], reset: bool) -> None:
        """Refresh for the groups that changed.

        Args:
            group_ids: Groups with changes since the last call.
            reset: The store was reset (everything may have changed).
        """


class ShowsGroup:
    """A screen about one group: new messages in it do not ring the bell."""

    __slots__ = ()

    group_id: str
    """The group shown."""


class OffersPaletteActions:
    """A screen that adds its own actions to the command palette."""

    __slots__ = ()

    PALETTE_ACTIONS: ClassVar[tuple[PaletteAction, ...]]
    """The screen's palette entries."""
