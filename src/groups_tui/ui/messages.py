"""App-level messages: how the change feed and the clock enter the UI."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

__all__ = ["FeedChanged"]


@dataclass
class FeedChanged(Message):
    """New change-feed rows were accumulated by the follower worker.

    The rows themselves are merged into the app's pending set before this message is
    posted, so a queued ``FeedChanged`` can be replaced by a newer one without losing
    anything: a burst of webhooks is handled (and repainted) once.

    Attributes:
        count: Changes in the batch that posted this message.
    """

    count: int = 0

    def can_replace(self, message: Message) -> bool:
        """Any queued ``FeedChanged`` is superseded by this one (the data is shared)."""
        return isinstance(message, FeedChanged)
