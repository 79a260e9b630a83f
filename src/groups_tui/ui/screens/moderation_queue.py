"""The moderation queue: what the rules flagged, one entry per person, one key to act.

Open flags are grouped by person across groups (a spammer who posted in three groups is
one entry naming the three groups and the rules that fired), read newest first by keyset
(``id < last``), a page at a time, as the cursor nears the end; nothing loads the whole
queue. ``x`` removes the person everywhere (from every group they are in, rejecting
their flagged join requests), after confirming; ``d`` dismisses their flags; ``b`` puts
them on the blocklist and offers to remove them now; Enter opens the newest flag's
conversation. ``a`` shows every flag, one per row, with what became of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Static

from groups_tui.service.types import FlaggedPerson, StoredFlag
from groups_tui.ui.formatting import ago
from groups_tui.ui.screen_roles import FollowsChanges, OffersPaletteActions
from groups_tui.ui.screens._admin import ActionDone
from groups_tui.ui.screens._base import Needs
from groups_tui.ui.screens._keyset import KeysetTableScreen
from groups_tui.ui.screens.confirm import ConfirmModal
from groups_tui.ui.widgets.key_bar import KeyBar
from groups_tui.ui.widgets.mark_table import MarkTable
from groups_tui.ui.widgets.safe_text import fit, safe
from groups_tui.ui.widgets.status_header import StatusHeader

__all__ = ["ModerationQueueScreen", "flag_cells"]

PAGE = 50
"""Flags per keyset page."""

OPEN_STATES: tuple[str, ...] = ("open",)
ALL_STATES: tuple[str, ...] = ("open", "acted", "dismissed", "auto_acted", "auto_failed")

COLUMNS: tuple[tuple[str, str], ...] = (
    ("age", "Age"),
    ("rule", "Rule"),
    ("group", "Group"),
    ("who", "Who"),
    ("reason", "Reason"),
    ("state", "State"),
)

NUMBER_COLUMNS: tuple[tuple[str, str], ...] = (COLUMNS[0], ("number", "Number"), *COLUMNS[1:])
"""The columns when the account has several business numbers: which number's group."""


def flag_cells(
    flag: StoredFlag, subject: str | None, now: float, number: str | None = None
) -> list[Text]:
    """The cells of one flag row (untrusted text through ``safe``); ``number`` is the
    label of the flag's number, shown when the account has several."""
    who = f"+{flag.wa_id}" if flag.wa_id else (flag.participant_key or "?")
    state = flag.state if flag.action == "notify" else f"{flag.state} ({flag.action})"
    shown = [] if number is None else [safe(fit(number, 10))]
    return [
        Text(ago(flag.at, now)),
        *shown,
        Text(flag.rule),
        safe(fit(subject or flag.group_id or "—", 24)),
        safe(fit(who, 18)),
        safe(fit(flag.reason, 60)),
        Text(state, style="bold" if flag.state == "open" else "dim"),
    ]


def person_cells(
    person: FlaggedPerson, subject: str | None, now: float, number: str | None = None
) -> list[Text]:
    """The cells of one person's entry: their groups and rules, the newest reason (and the
    newest flag's number, as :func:`flag_cells`)."""
    who = f"+{person.wa_id}" if person.wa_id else person.who
    groups = fit(subject or person.group_id or "—", 24)
    if len(person.group_ids) > 1:
        groups = fit(subject or person.group_id or "—", 16) + f" +{len(person.group_ids) - 1}"
    flags = f"{person.flags} flag{'s' if person.flags != 1 else ''}"
    shown = [] if number is None else [safe(fit(number, 10))]
    return [
        Text(ago(person.at, now)),
        *shown,
        Text(fit(",".join(person.rules), 24)),
        safe(groups),
        safe(fit(who, 18)),
        safe(fit(person.reason, 60)),
        Text(flags, style="bold"),
    ]


QueueRecord = StoredFlag | FlaggedPerson
"""An entry of the queue: a person (open view) or one flag (every flag)."""


class ModerationQueueScreen(KeysetTableScreen[QueueRecord], FollowsChanges, OffersPaletteActions):
    """Open flags, one entry per person across groups, newest first; or every flag.

    ``x`` removes the person from every group (or rejects their join requests), ``d``
    dismisses, ``b`` blocklists them and offers to remove them now, ``a`` toggles
    between open flags and every flag, Enter opens the group.
    """

    ACTION_OPERATIONS: ClassVar[Mapping[str, Needs]] = {
        "act": "moderation.act_on_flag",
        "dismiss_flag": "moderation.dismiss_flag",
        "block": "moderation.block",
    }
    """Its service actions, for roles (greyed when the operator's role falls short)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="queue.back", tooltip="Back"),
        Binding(
            "x",
            "act",
            "Remove everywhere",
            id="queue.act",
            tooltip="Remove the person from every group / reject the request",
        ),
        Binding("d", "dismiss_flag", "Dismiss", id="queue.dismiss", tooltip="Close without acting"),
        Binding("b", "block", "Blocklist", id="queue.block", tooltip="Blocklist the sender"),
        Binding(
            "a", "toggle_all", "All/open", id="queue.all", tooltip="Show every flag or open ones"
        ),
        Binding("enter", "open_group", "Open", id="queue.open", tooltip="Open the conversation"),
    ]
    """Queue keys."""

    PAGE: ClassVar[int] = PAGE

    PALETTE_ACTIONS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("Remove everywhere…", "act", "Remove the flagged person from every group (x)"),
        ("Dismiss flag", "dismiss_flag", "Close without acting (d)"),
        ("Blocklist sender…", "block", "Add the sender to the blocklist (b)"),
    )
    """Entries this screen adds to the command palette."""

    def __init__(self) -> None:
        """Open the queue on open flags."""
        super().__init__()
        self.states: tuple[str, ...] = OPEN_STATES

    def compose(self) -> ComposeResult:
        """Header, title, table, status line and key bar."""
        yield StatusHeader()
        yield Static("", id="queue-title")
        several = len(self.app.service.numbers) > 1
        yield MarkTable(NUMBER_COLUMNS if several else COLUMNS, markable=False, id="flags")
        yield Static("", id="status")
        yield KeyBar()

    def on_mount(self) -> None:
        """Load the newest page."""
        self.app.apply_header(self.query_one(StatusHeader))
        self.table.focus()
        self._title()
        self.load()

    def _title(self) -> None:
        which = "open flags, by person" if self.states == OPEN_STATES else "every flag"
        count = len(self.records)
        shown = "nothing flagged" if not count else f"{count}{'' if self.exhausted else '+'}"
        self.query_one("#queue-title", Static).update(
            Text(f"Moderation queue · {which} · {shown}", style="bold")
        )

    async def fetch_page(self, before_id: int | None, limit: int) -> list[QueueRecord]:
        """A page of people with open flags, or of every flag."""
        moderation = self.app.service.moderation
        if self.states == OPEN_STATES:
            return list(await moderation.people_page(before_id=before_id, limit=limit))
        return list(await moderation.flags_page(self.states, before_id=before_id, limit=limit))

    def cells(self, record: QueueRecord, subject: str | None, now: float) -> list[Text]:
        """One person's entry, or one flag row (with its number's label when the account
        has several)."""
        service = self.app.service
        label = service.label(record.phone_number_id) if len(service.numbers) > 1 else None
        if isinstance(record, FlaggedPerson):
            return person_cells(record, subject, now, label)
        return flag_cells(record, subject, now, label)

    def page_view(self) -> object:
        """Pages read for the other view (open or every flag) are dropped."""
        return self.states

    def page_shown(self) -> None:
        """Count the flags in the title."""
        self._title()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        """Enter on a row (the table handles Enter before the screen's binding)."""
        self.action_open_group()

    def apply_changes(self, group_ids: Iterable[str], reset: bool) -> None:
        """New flags or settled ones: reload the first page."""
        self.load()

    def status(self, text: str, *, ok: bool = True) -> None:
        """Show one line of outcome."""
        line = self.query_one("#status", Static)
        line.update(safe(fit(text, 300)))
        line.set_class(not ok, "-error")

    @on(ActionDone)
    def _done(self, event: ActionDone) -> None:
        self.status(event.text, ok=event.ok)
        self.load()

    def _who(self, flag: QueueRecord) -> Text:
        who = f"+{flag.wa_id}" if flag.wa_id else (flag.participant_key or "?")
        text = safe(fit(who, 30), "bold")
        if isinstance(flag, FlaggedPerson) and len(flag.group_ids) > 1:
            text.append(f" from {len(flag.group_ids)} groups")
            return text
        subject = self.subjects.get(flag.group_id or "")
        if subject:
            text.append(" in ").append_text(safe(fit(subject, 40), "bold"))
        return text

    def action_act(self) -> None:
        """Remove the person everywhere (or do what the one flag calls for), after
        confirming."""
        flag = self.current
        if flag is None:
            return
        if isinstance(flag, FlaggedPerson):
            self._confirm_person(flag)
            return
        if flag.state != "open":
            self.status(f"This flag is already {flag.state}", ok=False)
            return
        verb = "Reject the join request of " if flag.join_request_id else "Remove "
        question = Text(verb).append_text(self._who(flag))
        question.append("? ").append_text(safe(fit(flag.reason, 120)))

        def answered(yes: bool | None) -> None:
            if yes:
                self.status("Acting…")
                self._act(flag.id)

        yes = "Reject" if flag.join_request_id else "Remove"
        self.app.push_screen(ConfirmModal(question, yes=yes), answered)

    def _confirm_person(self, person: FlaggedPerson) -> None:
        if person.join_requests_only:
            requests = "requests" if person.flags != 1 else "request"
            question = Text(f"Reject the join {requests} of ").append_text(self._who(person))
            yes = "Reject"
        else:
            who = f"+{person.wa_id}" if person.wa_id else person.who
            question = Text("Remove ").append_text(safe(fit(who, 30), "bold"))
            question.append(" from every group they are in")
            yes = "Remove everywhere"
        rules = ", ".join(person.rules)
        groups = len(person.group_ids)
        question.append(f"? {person.flags} open flag{'s' if person.flags != 1 else ''} ")
        question.append(f"in {groups} group{'s' if groups != 1 else ''} ({rules}): ")
        question.append_text(safe(fit(person.reason, 120)))

        def answered(yes: bool | None) -> None:
            if yes:
                self.status("Removing…")
                self._act_person(person.who)

        self.app.push_screen(ConfirmModal(question, yes=yes), answered)

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _act_person(self, who: str) -> None:
        label = f"+{who}" if who.isdigit() else who
        outcome = await self.app.service.moderation.act_on_person(who)
        self.post_message(ActionDone(f"{label}: {outcome}"))

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _act(self, flag_id: int) -> None:
        flag = await self.app.service.moderation.act_on_flag(flag_id)
        self.post_message(ActionDone(f"Flag {flag_id}: {flag.outcome or flag.state}"))

    def action_dismiss_flag(self) -> None:
        """Close the flag (every open flag of the person) without acting."""
        flag = self.current
        if isinstance(flag, FlaggedPerson):
            self._dismiss_person(flag.who)
        elif flag is not None and flag.state == "open":
            self._dismiss(flag.id)

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _dismiss_person(self, who: str) -> None:
        closed = await self.app.service.moderation.dismiss_person(who)
        self.post_message(ActionDone(f"{closed} flag{'s' if closed != 1 else ''} dismissed"))

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _dismiss(self, flag_id: int) -> None:
        await self.app.service.moderation.dismiss_flag(flag_id)
        self.post_message(ActionDone(f"Flag {flag_id} dismissed"))

    def action_block(self) -> None:
        """Put the flagged person on the blocklist, after confirming; then offer to remove
        them now from the groups they are in."""
        flag = self.current
        if flag is None or not (flag.wa_id or flag.participant_key):
            return
        key = flag.wa_id or flag.participant_key or ""
        rule = ",".join(flag.rules) if isinstance(flag, FlaggedPerson) else flag.rule
        question = Text("Blocklist ").append_text(self._who(flag))
        question.append("? Their join requests and messages will be flagged in every group.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._block(key, rule)

        self.app.push_screen(ConfirmModal(question, yes="Blocklist"), answered)

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _block(self, key: str, rule: str) -> None:
        moderation = self.app.service.moderation
        await moderation.block(key, f"flagged by {rule}")
        label = f"+{key.lstrip('+')}" if key.lstrip("+").isdigit() else key
        self.post_message(ActionDone(f"{label} is on the blocklist"))
        groups = await moderation.groups_of(key)
        if groups:
            self.post_message(self.OfferRemoval(key, label, len(groups)))

    class OfferRemoval(Message):
        """A person just blocklisted is still in some groups: offer to remove them now."""

        def __init__(self, key: str, label: str, groups: int) -> None:
            super().__init__()
            self.key = key
            self.label = label
            self.groups = groups

    @on(OfferRemoval)
    def _offer_removal(self, event: OfferRemoval) -> None:
        n = event.groups
        question = Text("Remove ").append_text(safe(fit(event.label, 30), "bold"))
        question.append(f" now from the {n} group{'s' if n != 1 else ''} they are in?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.status("Removing…")
                self._act_person(event.key)

        self.app.push_screen(ConfirmModal(question, yes="Remove now"), answered)

    def action_toggle_all(self) -> None:
        """Show every flag, or only open ones."""
        self.states = ALL_STATES if self.states == OPEN_STATES else OPEN_STATES
        self._title()
        self.load()

    def action_open_group(self) -> None:
        """Open the flagged group's conversation at the flagged message."""
        flag = self.current
        if flag is not None and flag.group_id:
            self.app.navigation.open_group_over(
                flag.group_id, flag.message_id, flag.at if flag.message_id else None
            )

    def action_back(self) -> None:
        """Back to the inbox."""
        self.dismiss()
