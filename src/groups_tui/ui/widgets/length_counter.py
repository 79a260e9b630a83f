"""A field's length against its limit ("12/100"), marked ``-over`` past the limit."""

from __future__ import annotations

from textual.widgets import Static

__all__ = ["LengthCounter"]


class LengthCounter(Static):
    """Shows ``count/limit`` beside a field; the class ``-over`` marks a count past it.

    Args:
        limit: The most the field may hold.
        count: The length shown first.
        id: Widget id.
    """

    def __init__(self, limit: int, count: int = 0, *, id: str | None = None) -> None:
        super().__init__(f"{count}/{limit}", id=id, classes="counter")
        self.limit = limit

    def count(self, n: int) -> None:
        """Show a new length."""
        self.update(f"{n}/{self.limit}")
        self.set_class(n > self.limit, "-over")
