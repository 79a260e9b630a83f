"""The one-line banner of a group on the administration screens."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from groups_tui.domain.models import GroupState
from groups_tui.service.types import GroupDetail
from groups_tui.ui.widgets.safe_text import fit, safe

__all__ = ["GroupBanner", "banner_text"]

_OP_LABEL = {
    "remove": "removal",
    "settings": "settings change",
    "delete": "deletion",
    "create": "creation",
}


def banner_text(detail: GroupDetail, screen_name: str) -> Text:
    """Subject, members, approval mode, state and pending operations of a group.

    Args:
        detail: The group.
        screen_name: What the screen shows (``Members``, ``Join requests``...).

    Returns:
        One line of text; untrusted parts went through ``safe``.
    """
    group = detail.group
    text = Text(f"{screen_name} · ", style="bold")
    text.append_text(safe(fit(group.subject or "(no subject)", 48), "bold"))
    text.append(f"  {len(detail.members)}/8")
    # An unknown mode carries the webhook's text: untrusted.
    text.append("  ").append_text(safe(fit(group.join_approval.label, 40)))
    if group.suspended:
        text.append("  ⊘ suspended", style="bold")
        text.append(": ").append_text(safe(fit(group.suspended_reason or "no reason given", 60)))
    if group.state is GroupState.PENDING:
        text.append("  … pending creation", style="bold")
    elif group.state is GroupState.DELETED:
        text.append("  ✗ deleted", style="bold")
    elif group.state is GroupState.FAILED:
        text.append("  ✗ creation failed", style="bold")
    for op in detail.pending_operations:
        text.append(f"  … {_OP_LABEL.get(op.kind, op.kind)} pending", style="italic")
    return text


class GroupBanner(Static):
    """Shows :func:`banner_text`; ``-suspended`` and ``-pending`` classes colour it."""

    DEFAULT_CSS = """
    GroupBanner {
        height: 1;
        padding: 0 1;
        background: $boost;
        &.-suspended { background: $error 30%; }
        &.-pending { color: $warning; }
    }
    """

    def show(self, detail: GroupDetail, screen_name: str) -> None:
        """Show a group.

        Args:
            detail: The group.
            screen_name: What the screen shows.
        """
        self.update(banner_text(detail, screen_name))
        self.set_class(detail.group.suspended, "-suspended")
        pending = bool(detail.pending_operations) or detail.group.state is GroupState.PENDING
        self.set_class(pending, "-pending")
