"""Refusals for group sends, checked before any API call."""

from __future__ import annotations

import dataclasses

import pytest

from groups_tui.domain.models import Group, GroupState, MessageKind, TemplateCategory
from groups_tui.domain.sending import (
    FREE_FORM_KINDS,
    NOT_SENDABLE_KINDS,
    UNSUPPORTED_KINDS,
    UNVERIFIED_KINDS,
    SendAction,
    SendKind,
    can_send,
    kind_refusal,
)
from groups_tui.domain.window import WINDOW_SECONDS

NOW = 1_790_000_000
OPEN = Group(id="g1", subject="Order 1042", participant_count=3, last_inbound_at=NOW - 60)


def test_free_form_allowed_with_open_window() -> None:
    for kind in FREE_FORM_KINDS:
        assert can_send(kind, OPEN, NOW) is None


@pytest.mark.parametrize(
    "kind",
    [
        MessageKind.INTERACTIVE,
        SendAction.PRODUCT,
        SendAction.CATALOG,
        SendAction.VIEW_ONCE,
        SendAction.DISAPPEARING,
        SendAction.CALL,
        MessageKind.REACTION,
        SendAction.EDIT,
        SendAction.DELETE,
    ],
)
def test_unsupported_kinds(kind: SendKind) -> None:
    refusal = can_send(kind, OPEN, NOW)
    assert refusal is not None
    assert refusal.code == "unsupported_in_groups"
    assert refusal.api_code == 131051
    assert "group" in refusal.reason


def test_interactive_reason_names_the_rule() -> None:
    refusal = can_send(MessageKind.INTERACTIVE, OPEN, NOW)
    assert refusal is not None
    assert refusal.reason.startswith("Interactive messages")
    assert "not supported in WhatsApp groups" in refusal.reason


@pytest.mark.parametrize("kind", [MessageKind.STICKER, MessageKind.LOCATION, MessageKind.CONTACTS])
def test_unverified_kinds(kind: SendKind) -> None:
    refusal = can_send(kind, OPEN, NOW)
    assert refusal is not None and refusal.code == "unverified_in_groups"


def test_every_kind_is_classified() -> None:
    classified = (
        set(UNSUPPORTED_KINDS) | set(UNVERIFIED_KINDS) | set(NOT_SENDABLE_KINDS) | FREE_FORM_KINDS
    )
    assert classified | {MessageKind.TEMPLATE} == set(MessageKind) | set(SendAction)
    assert not set(UNSUPPORTED_KINDS) & FREE_FORM_KINDS


@pytest.mark.parametrize("kind", sorted(NOT_SENDABLE_KINDS))
def test_kinds_that_only_arrive_are_not_sendable(kind: MessageKind) -> None:
    refusal = can_send(kind, OPEN, NOW)
    assert refusal is not None and refusal.code == "not_sendable"


def test_one_enum_of_message_kinds() -> None:
    # A send action is never a message kind too: the two enums share no value.
    assert not {k.value for k in MessageKind} & {a.value for a in SendAction}


def test_authentication_template_refused() -> None:
    refusal = can_send(
        MessageKind.TEMPLATE, OPEN, NOW, template_category=TemplateCategory.AUTHENTICATION
    )
    assert refusal is not None and refusal.code == "authentication_template"
    assert kind_refusal(MessageKind.TEMPLATE, template_category=TemplateCategory.AUTHENTICATION)


def test_free_form_outside_window_refused() -> None:
    closed = dataclasses.replace(OPEN, last_inbound_at=NOW - WINDOW_SECONDS)
    refusal = can_send(MessageKind.TEXT, closed, NOW)
    assert refusal is not None
    assert (refusal.code, refusal.api_code) == ("window_closed", 131047)
    never = dataclasses.replace(OPEN, last_inbound_at=None)
    refusal = can_send(MessageKind.IMAGE, never, NOW)
    assert refusal is not None and refusal.code == "window_closed"


@pytest.mark.parametrize("category", [TemplateCategory.MARKETING, TemplateCategory.UTILITY, None])
def test_templates_allowed_outside_window(category: TemplateCategory | None) -> None:
    closed = dataclasses.replace(OPEN, last_inbound_at=NOW - 10 * WINDOW_SECONDS)
    assert can_send(MessageKind.TEMPLATE, closed, NOW, template_category=category) is None


def test_business_alone_refused() -> None:
    alone = dataclasses.replace(OPEN, participant_count=0)
    refusal = can_send(MessageKind.TEMPLATE, alone, NOW, template_category=TemplateCategory.UTILITY)
    assert refusal is not None
    assert (refusal.code, refusal.api_code) == ("no_members", 131020)


def test_suspended_refused() -> None:
    suspended = dataclasses.replace(OPEN, suspended=True, suspended_reason="spam reports")
    refusal = can_send(MessageKind.TEXT, suspended, NOW)
    assert refusal is not None
    assert (refusal.code, refusal.api_code) == ("group_suspended", 131207)
    assert "spam reports" in refusal.reason


@pytest.mark.parametrize(
    ("group", "code"),
    [
        (dataclasses.replace(OPEN, id=None, state=GroupState.PENDING), "group_pending"),
        (dataclasses.replace(OPEN, state=GroupState.FAILED), "group_failed"),
        (dataclasses.replace(OPEN, state=GroupState.DELETED), "group_deleted"),
    ],
)
def test_lifecycle_refusals(group: Group, code: str) -> None:
    refusal = can_send(MessageKind.TEMPLATE, group, NOW, template_category=TemplateCategory.UTILITY)
    assert refusal is not None and refusal.code == code


def test_kind_is_checked_before_group_state() -> None:
    deleted = dataclasses.replace(OPEN, state=GroupState.DELETED)
    refusal = can_send(MessageKind.INTERACTIVE, deleted, NOW)
    assert refusal is not None and refusal.code == "unsupported_in_groups"
