"""What the create-group and group-settings modals share: the subject and description
fields with their live length counters, and the wording of a failed call."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, TextArea

from groups_tui.domain.limits import DESCRIPTION_MAX, SUBJECT_MAX
from groups_tui.service import ServiceError
from groups_tui.ui.screens._base import AppModal, ResultType
from groups_tui.ui.widgets.length_counter import LengthCounter

__all__ = ["GroupTextsModal", "failure_reason"]


def failure_reason(error: BaseException) -> str:
    """The operator's sentence of a failed call (a ServiceError's message)."""
    if isinstance(error, ServiceError):
        return error.message
    return str(error.args[0]) if error.args else str(error)


class GroupTextsModal(AppModal[ResultType]):
    """A modal with a group's subject (``#subject``) and description (``#description``),
    each counted against the Groups API limit as it is typed; the subject has the focus
    first."""

    def compose_texts(
        self,
        subject_label: str,
        description_label: str,
        *,
        subject: str = "",
        description: str = "",
        subject_placeholder: str = "",
    ) -> ComposeResult:
        """The two fields, each under its label and counter."""
        with Horizontal(classes="field-title"):
            yield Label(subject_label)
            yield LengthCounter(SUBJECT_MAX, len(subject), id="subject-count")
        yield Input(subject, placeholder=subject_placeholder, id="subject")
        with Horizontal(classes="field-title"):
            yield Label(description_label)
            yield LengthCounter(DESCRIPTION_MAX, len(description), id="description-count")
        yield TextArea(description, id="description", soft_wrap=True, show_line_numbers=False)

    def on_mount(self) -> None:
        """Focus the subject."""
        self.query_one("#subject", Input).focus()

    @on(Input.Changed, "#subject")
    def _subject_changed(self, event: Input.Changed) -> None:
        self.query_one("#subject-count", LengthCounter).count(len(event.value.strip()))

    @on(TextArea.Changed, "#description")
    def _description_changed(self, event: TextArea.Changed) -> None:
        self.query_one("#description-count", LengthCounter).count(len(event.text_area.text))
