"""What the business may send to a group, decided before any API call.

Every refusal names the Groups-specific rule and the Meta error code it avoids, so the UI
can explain itself instead of waiting for the API to fail.

Which kinds are allowed (reference: cloud-api-groups.md sections 0, 2.12, 4.2 and 8):

* Allowed: text, image, video, audio, document and templates (text- or media-based, any
  category except authentication). Templates may be sent with the window closed.
* Unsupported by Meta in groups: interactive, commerce (product, catalog), view-once,
  disappearing, calling, editing and deleting messages, and authentication templates.
  Reactions are refused too: the reference's implementation checklist lists
  "reaction/edit/delete actions" among those to refuse before calling the API.
* Unverified: sticker, location and contacts are neither listed as allowed nor excluded,
  and the reference says to test them before offering them. They are refused with
  ``unverified_in_groups`` until tested against the live API; opening one up is a
  one-line change to :data:`UNVERIFIED_KINDS`.

What may be tried is a :class:`~groups_tui.domain.models.MessageKind` (the one enum of
message kinds, stored and sent) or a :class:`SendAction`, for what is not a kind of
message (view-once, editing, calling...).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from groups_tui.domain.models import Group, GroupState, MessageKind, TemplateCategory
from groups_tui.domain.window import window_state

__all__ = [
    "FREE_FORM_KINDS",
    "NOT_SENDABLE_KINDS",
    "UNSUPPORTED_KINDS",
    "UNVERIFIED_KINDS",
    "Refusal",
    "SendAction",
    "SendKind",
    "can_send",
    "kind_refusal",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an action is not allowed.

    Attributes:
        code: Stable machine id, e.g. ``"window_closed"``.
        reason: A sentence naming the rule, suitable for the UI.
        api_code: The Meta error code this check avoids, if there is one.
    """

    code: str
    reason: str
    api_code: int | None = None


class SendAction(StrEnum):
    """What an operator might try that is not a kind of message; none exists in groups."""

    PRODUCT = "product"
    CATALOG = "catalog"
    VIEW_ONCE = "view_once"
    DISAPPEARING = "disappearing"
    CALL = "call"
    EDIT = "edit"
    DELETE = "delete"


SendKind: TypeAlias = MessageKind | SendAction
"""Everything an operator might try to send; many are not allowed in groups."""

UNSUPPORTED_KINDS: dict[SendKind, str] = {
    MessageKind.INTERACTIVE: (
        "Interactive messages (buttons, lists, flows) are not supported in WhatsApp groups"
    ),
    SendAction.PRODUCT: "Commerce messages (products) are not supported in WhatsApp groups",
    SendAction.CATALOG: "Commerce messages (catalogs) are not supported in WhatsApp groups",
    SendAction.VIEW_ONCE: "View-once media is not supported in WhatsApp groups",
    SendAction.DISAPPEARING: "Disappearing messages are not supported in WhatsApp groups",
    SendAction.CALL: "Calling is not supported in WhatsApp groups",
    MessageKind.REACTION: "Reactions are not offered in WhatsApp groups through the Cloud API",
    SendAction.EDIT: "Editing a sent message is not supported in WhatsApp groups",
    SendAction.DELETE: "Deleting a sent message is not supported in WhatsApp groups",
}
"""Kinds Meta does not support in groups, with the reason shown to the operator."""

UNVERIFIED_KINDS: dict[SendKind, str] = {
    MessageKind.STICKER: "Stickers are not documented as supported in WhatsApp groups",
    MessageKind.LOCATION: "Location messages are not documented as supported in WhatsApp groups",
    MessageKind.CONTACTS: "Contact cards are not documented as supported in WhatsApp groups",
}
"""Kinds Meta neither allows nor excludes for groups; refused until tested."""

NOT_SENDABLE_KINDS: dict[SendKind, str] = {
    MessageKind.SYSTEM: "System notices are written by WhatsApp; they cannot be sent",
    MessageKind.UNSUPPORTED: "Messages of a type WhatsApp does not support cannot be sent",
}
"""Kinds that only arrive (stored messages of these kinds were never sent)."""

FREE_FORM_KINDS: frozenset[SendKind] = frozenset(
    {
        MessageKind.TEXT,
        MessageKind.IMAGE,
        MessageKind.VIDEO,
        MessageKind.AUDIO,
        MessageKind.DOCUMENT,
    }
)
"""Allowed non-template kinds; they need an open window and are priced as service."""

_UNSUPPORTED_API_CODE = 131051


def kind_refusal(
    kind: SendKind, *, template_category: TemplateCategory | None = None
) -> Refusal | None:
    """Refuse a kind regardless of the group's state (for greying out menu entries).

    Args:
        kind: What the operator wants to send.
        template_category: The template's current category, for a template.

    Returns:
        A refusal, or ``None`` if the kind can be sent to some group.
    """
    if kind in NOT_SENDABLE_KINDS:
        return Refusal("not_sendable", NOT_SENDABLE_KINDS[kind], None)
    if kind in UNSUPPORTED_KINDS:
        return Refusal("unsupported_in_groups", UNSUPPORTED_KINDS[kind], _UNSUPPORTED_API_CODE)
    if kind in UNVERIFIED_KINDS:
        return Refusal("unverified_in_groups", UNVERIFIED_KINDS[kind], _UNSUPPORTED_API_CODE)
    if kind is MessageKind.TEMPLATE and template_category is TemplateCategory.AUTHENTICATION:
        return Refusal(
            "authentication_template",
            "Authentication templates cannot be sent to WhatsApp groups",
            _UNSUPPORTED_API_CODE,
        )
    return None


def _group_refusal(group: Group) -> Refusal | None:
    if group.state is GroupState.PENDING or group.id is None:
        return Refusal(
            "group_pending",
            "The group is still being created; Meta has not confirmed it yet",
            None,
        )
    if group.state is GroupState.FAILED:
        return Refusal("group_failed", "Creating this group failed; it does not exist", 131041)
    if group.state is GroupState.DELETED:
        return Refusal("group_deleted", "This group has been deleted", 131041)
    if group.suspended:
        reason = "WhatsApp has suspended this group for a policy violation"
        if group.suspended_reason:
            reason += f" ({group.suspended_reason})"
        return Refusal("group_suspended", reason, 131207)
    if group.participant_count <= 0:
        return Refusal(
            "no_members",
            "A group whose only member is the business cannot be messaged; "
            "wait until someone joins",
            131020,
        )
    return None


def can_send(
    kind: SendKind,
    group: Group,
    now: int,
    *,
    template_category: TemplateCategory | None = None,
) -> Refusal | None:
    """Decide whether ``kind`` may be sent to ``group`` at ``now``.

    Checks run from the most permanent reason to the most transient: the kind itself,
    then the group's lifecycle, suspension and membership, then the 24-hour window (which
    only free-form kinds need; templates may be sent at any time).

    Args:
        kind: What the operator wants to send.
        group: The target group.
        now: Current epoch seconds.
        template_category: The template's current category, for a template.

    Returns:
        The first refusal that applies, or ``None`` if the send is allowed.
    """
    refusal = kind_refusal(kind, template_category=template_category)
    if refusal is None:
        refusal = _group_refusal(group)
    if refusal is None and kind in FREE_FORM_KINDS:
        if not window_state(group.last_inbound_at, now).open:
            refusal = Refusal(
                "window_closed",
                "The group's 24-hour window is closed: no member has written in the last "
                "24 hours, so only templates can be sent",
                131047,
            )
    return refusal
