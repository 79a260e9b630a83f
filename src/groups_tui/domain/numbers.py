"""The business phone numbers of an account: one record, and how a number is named.

A business rarely has one WhatsApp number: a brand per country, support and sales, a test
number. Every fact the store keeps belongs to one of them, named by Meta's
``phone_number_id`` (the path segment of every send and the ``metadata.phone_number_id``
of every webhook); people name it by a short label. :class:`BusinessNumber` is the one
record of a configured number that the configuration, the runtime, the service, the UI
and the command line share (its access token stays in the configuration).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "UNASSIGNED",
    "BusinessNumber",
    "NumberChoiceError",
    "choose_number",
    "label_of",
]

UNASSIGNED = ""
"""The number of a fact stored before the database knew its numbers (schema v9 fills
existing rows with it); the first open with a configured number adopts them."""


@dataclass(frozen=True, slots=True)
class BusinessNumber:
    """One business phone number of the account.

    Attributes:
        phone_number_id: Meta's id of the number (what the API and webhooks name).
        label: The short name people use for it ("US", "Support"...); unique in an account.
        business_account_id: The WhatsApp Business Account (WABA) it belongs to: its
            message templates are the WABA's.
        display_phone_number: The number as people dial it, when known.
    """

    phone_number_id: str
    label: str
    business_account_id: str | None = None
    display_phone_number: str | None = None

    def __post_init__(self) -> None:
        if not self.phone_number_id.strip():
            raise ValueError("a business number needs its phone_number_id")
        if not self.label.strip():
            raise ValueError(f"number {self.phone_number_id} needs a label")

    @property
    def title(self) -> str:
        """``label (display number)`` when both are known and differ, else the label."""
        shown = self.display_phone_number
        return f"{self.label} ({shown})" if shown and shown != self.label else self.label


class NumberChoiceError(ValueError):
    """A number could not be chosen: unknown, or several and none named.

    The message names the choices (labels and ids), one line, as the CLI prints it.
    """


def _choices(numbers: Sequence[BusinessNumber]) -> str:
    return ", ".join(f"{n.label} ({n.phone_number_id})" for n in numbers) or "none configured"


def choose_number(numbers: Sequence[BusinessNumber], wanted: str | None) -> BusinessNumber:
    """The number named by ``wanted`` (a label or a phone number id, any case for labels).

    Without ``wanted``, the only number; with several, an error naming the choices.

    Args:
        numbers: The account's numbers, in configuration order.
        wanted: A label or an id, or ``None``.

    Returns:
        The chosen number.

    Raises:
        NumberChoiceError: No number, an unknown name, or several numbers and no name.
    """
    if wanted is None or not wanted.strip():
        if len(numbers) == 1:
            return numbers[0]
        if not numbers:
            raise NumberChoiceError("no business number is configured")
        raise NumberChoiceError(
            f"this account has {len(numbers)} numbers; choose one with --number: "
            + _choices(numbers)
        )
    name = wanted.strip()
    for number in numbers:
        if number.phone_number_id == name:
            return number
    folded = name.casefold()
    for number in numbers:
        if number.label.casefold() == folded:
            return number
    raise NumberChoiceError(f"no number {name!r}; the numbers are: {_choices(numbers)}")


def label_of(numbers: Sequence[BusinessNumber], phone_number_id: str) -> str:
    """The label of a number by id; an unknown id is shown as itself (``?`` when empty)."""
    for number in numbers:
        if number.phone_number_id == phone_number_id:
            return number.label
    return phone_number_id or "?"
