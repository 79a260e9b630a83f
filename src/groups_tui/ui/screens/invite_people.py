"""Invite people: send a group's invite-link template 1:1 to chosen numbers.

A picker over people the account already knows (members of recently active groups) plus
numbers typed in and checked with :mod:`phonenumbers`. The cost of the 1:1 template
sends is previewed as you choose, and a warning shows when the invites would outnumber
the free seats (eight minus the current members).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import phonenumbers
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from groups_tui.domain.limits import MAX_PARTICIPANTS
from groups_tui.domain.models import Template
from groups_tui.service.types import GroupDetail, InviteOutcome, KnownPerson
from groups_tui.ui.formatting import money
from groups_tui.ui.key_order import after_keys_in_flight
from groups_tui.ui.screens._base import AppModal
from groups_tui.ui.screens._group_texts import failure_reason
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["InvitePeopleModal", "InvitesSent", "parse_number"]


def parse_number(raw: str) -> str | None:
    """A typed phone number as WhatsApp digits, or ``None`` if it is not valid.

    Args:
        raw: What the operator typed: ``+44 7911 123456``, ``447911123456``…

    Returns:
        The E.164 digits without ``+``, when :mod:`phonenumbers` says the number is valid.
    """
    text = raw.strip()
    if not text:
        return None
    if not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


@dataclass(frozen=True, slots=True)
class InvitesSent:
    """What the modal did: one outcome per number."""

    outcomes: tuple[InviteOutcome, ...]

    def summary(self) -> str:
        """``"3 invites sent, 1 failed (…)"``."""
        ok = [o for o in self.outcomes if o.state == "accepted"]
        failed = [o for o in self.outcomes if o.state != "accepted"]
        text = f"{len(ok)} invite(s) sent"
        if failed:
            text += f", {len(failed)} failed (+{failed[0].number}: {failed[0].error})"
        return text


class InvitePeopleModal(AppModal[InvitesSent | None]):
    """Choose people, see the cost, send the invite-link template to each (Ctrl+S)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send invites", id="invite.send", priority=True, tooltip="Send"),
        Binding("escape", "cancel", "Cancel", id="invite.cancel", tooltip="Close without sending"),
    ]
    """Modal keys; Space ticks a person, Enter in the number box adds it."""

    @dataclass
    class PickerLoaded(Message):
        """The known people and the invite template arrived.

        Attributes:
            people: People to offer.
            template: The approved invite template, if the account has one.
        """

        people: list[KnownPerson]
        template: Template | None

    def __init__(self, detail: GroupDetail) -> None:
        """Create the modal.

        Args:
            detail: The group to invite people to.
        """
        super().__init__()
        self.detail = detail
        self.template: Template | None = None
        self._members = {m.wa_id for m in detail.members if m.wa_id}
        self._offered: set[str] = set()

    def compose(self) -> ComposeResult:
        """Title, number box, picker, cost, status and buttons."""
        with Vertical(id="invite-people", classes="admin-modal"):
            title = Text("Invite people to ", style="bold")
            title.append_text(safe(fit(self.detail.group.subject, 50), "bold"))
            yield Static(title, classes="modal-title")
            yield Label("Add a number (Enter adds it, ticked)")
            yield Input(placeholder="+44 7911 123456", id="number")
            yield SelectionList[str](id="people")
            yield Static("", id="invite-cost")
            yield Static("", id="invite-status")
            with Horizontal(classes="modal-buttons"):
                yield Button("Send (Ctrl+S)", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        """Load the people and the template."""
        self.query_one("#number", Input).focus()
        self._update_cost()
        self._load()

    @work(exclusive=True, group="invite-load", exit_on_error=False)
    async def _load(self) -> None:
        service = self.app.service
        people = await service.admin.known_people()
        number = self.detail.group.phone_number_id
        if number and len(service.numbers) > 1:
            # The invite template of the group's own number's business account.
            template = await service.sending.invite_template(number)
        else:
            template = await service.sending.invite_template()
        self.post_message(self.PickerLoaded(people, template))

    @on(PickerLoaded)
    def _loaded(self, event: PickerLoaded) -> None:
        self.template = event.template
        picker = self.query_one("#people", SelectionList)
        for person in event.people:
            if person.wa_id in self._members or person.wa_id in self._offered:
                continue
            self._offered.add(person.wa_id)
            label = safe(fit(person.name, 30))
            label.append(f"  +{person.wa_id}")
            if person.groups:
                label.append(f"  in {person.groups} group(s)", style="dim")
            picker.add_option(Selection(label, person.wa_id))
        if self.template is None:
            self._say("No approved invite-link template (group_invite_upon_request)")
        self._update_cost()

    @property
    def chosen(self) -> list[str]:
        """The ticked numbers, in list order."""
        return list(self.query_one("#people", SelectionList).selected)

    @on(Input.Submitted, "#number")
    def _add_number(self, event: Input.Submitted) -> None:
        digits = parse_number(event.value)
        if digits is None:
            self._say(
                f"Not a valid phone number: {event.value.strip()!r} (include the country code)"
            )
            return
        if digits in self._members:
            self._say(f"+{digits} is already a member")
            return
        picker = self.query_one("#people", SelectionList)
        if digits in self._offered:
            picker.select(digits)
        else:
            self._offered.add(digits)
            picker.add_option(Selection(Text(f"+{digits}  (typed)"), digits, True))
        event.input.value = ""
        self._say(f"Added +{digits}", error=False)
        self._update_cost()

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self) -> None:
        self._update_cost()

    def _update_cost(self) -> None:
        chosen = self.chosen
        free = max(MAX_PARTICIPANTS - len(self.detail.members), 0)
        text = Text(f"{len(chosen)} chosen · {free} free seat(s)")
        if self.template is not None and chosen:
            preview = self.app.service.sending.invite_preview(chosen, self.template)
            text.append(f" · 1:1 {self.template.category.value} template, ")
            text.append(money(preview.total), style="bold")
            if preview.unknown:
                text.append(f" + {len(preview.unknown)} unknown rate(s)")
        if len(chosen) > free:
            text.append(
                f"\n⚠ {len(chosen)} invites for {free} free seat(s): "
                "the group fills up before everyone can join",
                style="bold",
            )
        cost = self.query_one("#invite-cost", Static)
        cost.update(text)
        cost.set_class(len(chosen) > free, "-warning")

    def _say(self, text: str, *, error: bool = True) -> None:
        status = self.query_one("#invite-status", Static)
        status.update(safe(fit(text, 300)))
        status.set_class(error, "-error")

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_send(self) -> None:
        """Send the template to every ticked number.

        Run once the keys read before it are in the boxes (see
        :func:`~groups_tui.ui.key_order.after_keys_in_flight`).
        """
        after_keys_in_flight(self.app, self._send_now)

    def _send_now(self) -> None:
        chosen = self.chosen
        if not chosen:
            self._say("Tick someone or type a number first")
            return
        if self.template is None:
            self._say("No approved invite-link template to send")
            return
        self._say(f"Sending {len(chosen)} invite(s)…", error=False)
        self._send(chosen, self.template)

    @work(exclusive=True, group="invite-send", exit_on_error=False)
    async def _send(self, numbers: list[str], template: Template) -> None:
        group_id = self.detail.group.id or ""
        outcomes = await self.app.service.sending.send_invites(group_id, numbers, template)
        self.dismiss(InvitesSent(tuple(outcomes)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Keep a refusal in the modal."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self._say(f"Not sent: {failure_reason(event.worker.error)}")

    def action_cancel(self) -> None:
        """Close without sending."""
        self.dismiss(None)
