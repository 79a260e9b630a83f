"""The moderation queue: what the rules flagged, one key to act on each.

Flags are read newest first by keyset (``id < last``), a page at a time, as the cursor
nears the end; nothing loads the whole queue. ``x`` does what the flag calls for (remove
the member, or reject the join request), after confirming; ``d`` dismisses it; ``b``
puts the sender on the blocklist; Enter opens the group's conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from groups_tui.service.types import StoredFlag
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


class ModerationQueueScreen(KeysetTableScreen[StoredFlag], FollowsChanges, OffersPaletteActions):
    """Flags raised by the moderation rules, newest first.

    ``x`` acts (remove the member or reject the request), ``d`` dismisses, ``b``
    blocklists the sender, ``a`` toggles between open flags and every flag, Enter opens
    the group.
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
            "x", "act", "Act", id="queue.act", tooltip="Remove the member / reject the request"
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
        ("Act on flag…", "act", "Remove the member or reject the request (x)"),
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
        which = "open flags" if self.states == OPEN_STATES else "every flag"
        count = len(self.records)
        shown = "nothing flagged" if not count else f"{count}{'' if self.exhausted else '+'}"
        self.query_one("#queue-title", Static).update(
            Text(f"Moderation queue · {which} · {shown}", style="bold")
        )

    async def fetch_page(self, before_id: int | None, limit: int) -> list[StoredFlag]:
        """A page of the flags in the states shown."""
        return await self.app.service.moderation.flags_page(
            self.states, before_id=before_id, limit=limit
        )

    def cells(self, record: StoredFlag, subject: str | None, now: float) -> list[Text]:
        """One flag row (with its number's label when the account has several)."""
        service = self.app.service
        label = service.label(record.phone_number_id) if len(service.numbers) > 1 else None
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

    def _who(self, flag: StoredFlag) -> Text:
        who = f"+{flag.wa_id}" if flag.wa_id else (flag.participant_key or "?")
        text = safe(fit(who, 30), "bold")
        subject = self.subjects.get(flag.group_id or "")
        if subject:
            text.append(" in ").append_text(safe(fit(subject, 40), "bold"))
        return text

    def action_act(self) -> None:
        """Do what the flag calls for, after confirming."""
        flag = self.current
        if flag is None:
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

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _act(self, flag_id: int) -> None:
        flag = await self.app.service.moderation.act_on_flag(flag_id)
        self.post_message(ActionDone(f"Flag {flag_id}: {flag.outcome or flag.state}"))

    def action_dismiss_flag(self) -> None:
        """Close the flag without acting."""
        flag = self.current
        if flag is not None and flag.state == "open":
            self._dismiss(flag.id)

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _dismiss(self, flag_id: int) -> None:
        await self.app.service.moderation.dismiss_flag(flag_id)
        self.post_message(ActionDone(f"Flag {flag_id} dismissed"))

    def action_block(self) -> None:
        """Put the flag's sender on the blocklist, after confirming."""
        flag = self.current
        if flag is None or not (flag.wa_id or flag.participant_key):
            return
        key = flag.wa_id or flag.participant_key or ""
        question = Text("Blocklist ").append_text(self._who(flag))
        question.append("? Their join requests and messages will be flagged in every group.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._block(key, flag.rule)

        self.app.push_screen(ConfirmModal(question, yes="Blocklist"), answered)

    @work(exclusive=True, group="queue-act", exit_on_error=False)
    async def _block(self, key: str, rule: str) -> None:
        await self.app.service.moderation.block(key, f"flagged by {rule}")
        self.post_message(ActionDone(f"+{key.lstrip('+')} is on the blocklist"))

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
