"""The command palette (``:`` or Ctrl+P): every action of the screen and the app, by name.

The entries are the screen's named palette actions, the app's, and then every key of
the screen read from its bindings (see :mod:`groups_tui.ui.keys`), so an action reachable
by a key is also found by its name. Each action is listed once. Typing also finds groups
by subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen

from groups_tui.domain.roles import required_role
from groups_tui.domain.text import folded
from groups_tui.ui.host import HostApp
from groups_tui.ui.keys import Scope, screen_keys
from groups_tui.ui.screen_roles import OffersPaletteActions, PaletteAction
from groups_tui.ui.screens._base import permitted, role_needed
from groups_tui.ui.widgets.safe_text import fit

__all__ = ["APP_ACTIONS", "GroupsCommands", "PaletteEntry"]

APP_ACTIONS: tuple[PaletteAction, ...] = (
    ("Sort by last activity", "inbox_sort('activity')", "Most recent first"),
    ("Sort by window closing soonest", "inbox_sort('closing')", "Open windows first"),
    ("Sort by unread", "inbox_sort('unread')", "Most unread first"),
    ("Filter: window open", "inbox_filter('open')", "Toggle the quick filter"),
    ("Filter: closing within 1 h", "inbox_filter('closing')", "Toggle"),
    ("Filter: has join requests", "inbox_filter('requests')", "Toggle"),
    ("Filter: unread", "inbox_filter('unread')", "Toggle"),
    ("Filter: flagged", "inbox_filter('flagged')", "Toggle"),
    ("Clear filters", "inbox_filter('')", "Show every group"),
    ("Search messages", "search", "Full-text search across every group (Ctrl+F)"),
    ("New group…", "new_group", "Create a group (n in the inbox)"),
    (
        "Group settings…",
        "group_settings",
        "Subject, description, picture of the open or highlighted group",
    ),
    ("Moderation queue", "moderation_queue", "What the rules flagged (M)"),
    ("Audit log", "audit_log", "Every operator action (A)"),
    ("Automations", "automations", "Invite rules and forwarding targets (Ctrl+O)"),
    ("Help: keys", "help", "Every key of this screen (?)"),
    ("Toggle bell on new messages", "toggle_bell", "Terminal bell"),
)
"""The app's own palette entries (run on the app)."""

APP_OPERATIONS: dict[str, str] = {"new_group": "admin.create_group"}
"""The app's palette actions that are service operations (for roles)."""


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    """One command of the palette.

    Attributes:
        title: What is searched and shown.
        help: A line under the title (what it does, its key).
        run: Runs the action.
    """

    title: str
    help: str
    run: Callable[[], object]


def _role_refused(app: HostApp, target: DOMNode, action: str) -> str | None:
    """The role an action needs when the operator's role does not allow it (team mode)."""
    if target is app:
        operation = APP_OPERATIONS.get(action)
        if operation is None or app.service.permits(operation):
            return None
        role = required_role(operation, {})
        return role.label if role is not None else None
    if isinstance(target, Screen) and not permitted(target, action):
        return role_needed(target, action)
    return None


class GroupsCommands(Provider):
    """Every action of the screen the palette was opened from and of the app.

    Groups are found by subject as well.
    """

    def entries(self) -> list[PaletteEntry]:
        """The commands, each action once: the screen's named ones, the app's, then
        every key of the screen not named yet."""
        app = self.app
        assert isinstance(app, HostApp)
        screen = self.screen
        out: list[PaletteEntry] = []
        actions: set[tuple[int, str]] = set()
        titles: set[str] = set()

        def add(title: str, help_text: str, action: str, node: DOMNode) -> None:
            target, name = node, action
            if action.startswith("app."):
                target, name = app, action.removeprefix("app.")
            elif action.startswith("screen."):
                target, name = screen, action.removeprefix("screen.")
            key = (id(target), name)
            if key in actions or title.lower() in titles:
                return
            actions.add(key)
            titles.add(title.lower())
            role = _role_refused(app, target, name)
            if role is not None:  # listed, but says why it will not run
                title, help_text = f"{title} (needs the {role} role)", "Not allowed"
            out.append(PaletteEntry(title, help_text, partial(app.run_action, name, target)))

        if isinstance(screen, OffersPaletteActions):
            for title, action, help_text in screen.PALETTE_ACTIONS:
                add(title, help_text, action, screen)
        for title, action, help_text in APP_ACTIONS:
            add(title, help_text, action, app)
        if app.sandbox_resettable:
            add(
                "Reset the sandbox (start afresh)…",
                "Forget the kept sandbox world and database; start again from the seed",
                "app.reset_sandbox",
                app,
            )
        numbers = app.service.numbers
        if len(numbers) > 1:
            # Filters by number, the number column and spend by number.
            for position, number in enumerate(numbers, start=1):
                toggle = f"Toggle ({position})" if position <= 9 else "Toggle"
                title = f"Filter: number {fit(number.label, 20)}"
                add(title, toggle, f"app.inbox_number({position})", app)
            add("Show or hide the number column", "(L)", "app.inbox_number_column", app)
            add("Spend by number", "Today and the allowance (N)", "app.spend_by_number", app)
        for entry in screen_keys(screen):
            if entry.scope == Scope.NAVIGATION or not entry.enabled:
                continue
            title = entry.description
            if entry.tooltip and entry.tooltip != entry.description:
                title += f": {entry.tooltip}"
            add(title, "key " + " ".join(entry.keys), entry.action, entry.node)
        return out

    async def discover(self) -> Hits:
        """Everything, when nothing is typed yet."""
        for entry in self.entries():
            yield DiscoveryHit(Content(entry.title), entry.run, help=entry.help)

    async def search(self, query: str) -> Hits:
        """Commands whose title (or help line) matches ``query``, then groups by subject."""
        matcher = self.matcher(query)
        for entry in self.entries():
            score = max(matcher.match(entry.title), matcher.match(entry.help) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.title), entry.run, help=entry.help)
        app = self.app
        assert isinstance(app, HostApp)
        needle = folded(query.strip())
        if not needle:
            return
        # A substring pass over the in-memory haystacks first: fuzzy-scoring 10,000
        # subjects per keystroke would cost more than the whole inbox filter.
        shown = 0
        for row in app.inbox_rows_snapshot(needle):
            # Subjects are untrusted: a Content built from a plain string is never
            # parsed as markup (a str hit would be).
            label = Content("Open group: " + fit(row.subject or "(no subject)", 60))
            yield Hit(
                0.5,
                label,
                partial(app.navigation.open_group, row.group_id),
                help=f"{row.participant_count}/8 members",
            )
            shown += 1
            if shown >= 30:
                break
