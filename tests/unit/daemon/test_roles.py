"""The roles file and the table of operations: who may do what, where, for how much."""

from __future__ import annotations

from decimal import Decimal

import pytest

from groups_tui.domain.roles import (
    OPERATIONS,
    Role,
    RolesConfig,
    check,
    required_role,
    spend_refusal,
)
from groups_tui.service.admin import Admin
from groups_tui.service.automations import Automations
from groups_tui.service.changes import Changes
from groups_tui.service.moderation import Moderation
from groups_tui.service.reading import Reading
from groups_tui.service.sending import Sending

ROLES = RolesConfig.from_mapping(
    {
        "caps": {"agent": "5.00", "moderator": "20"},
        "grant": [
            {"role": "admin", "users": ["ann"]},
            {"role": "agent", "unix_groups": ["support"]},
            {"role": "moderator", "users": ["mo"], "tags": ["emea"], "group_ids": ["g-9"]},
            {"role": "viewer", "users": ["mo"]},
        ],
        "users": {"sam": {"daily_cap": "2.50"}},
    }
)


def test_every_operation_names_a_method_of_the_service() -> None:
    owners = {
        "reading": Reading,
        "sending": Sending,
        "admin": Admin,
        "moderation": Moderation,
        "automations": Automations,
        "changes": Changes,
    }
    for operation in OPERATIONS:
        sub_api, _, name = operation.partition(".")
        assert callable(getattr(owners[sub_api], name, None)), operation


def test_roles_follow_users_and_unix_groups() -> None:
    assert ROLES.role_for("ann", [], None, None) is Role.ADMIN
    assert ROLES.role_for("sam", ["staff", "support"], "g-1", None) is Role.AGENT
    assert ROLES.role_for("eve", ["staff"], "g-1", None) is None


def test_a_scoped_grant_reaches_only_its_groups() -> None:
    # mo moderates groups tagged emea and g-9, and only views the rest
    assert ROLES.role_for("mo", [], "g-1", "emea") is Role.MODERATOR
    assert ROLES.role_for("mo", [], "g-9", None) is Role.MODERATOR
    assert ROLES.role_for("mo", [], "g-2", "apac") is Role.VIEWER
    assert ROLES.role_for("mo", [], None, None) is Role.VIEWER
    assert ROLES.highest_role("mo", []) is Role.MODERATOR


def test_caps_are_per_role_and_per_user_the_lower_wins() -> None:
    assert ROLES.daily_cap("sam", Role.AGENT) == Decimal("2.50")
    assert ROLES.daily_cap("zoe", Role.AGENT) == Decimal("5.00")
    assert ROLES.daily_cap("ann", Role.ADMIN) is None


def test_resetting_the_invite_link_needs_an_admin() -> None:
    assert required_role("admin.invite_link", {"group_id": "g", "reset": False}) is Role.AGENT
    assert required_role("admin.invite_link", {"group_id": "g", "reset": True}) is Role.ADMIN
    assert required_role("reading.inbox_rows", {}) is None


def test_a_refusal_names_the_role_needed_and_the_one_held() -> None:
    refusal = check("admin.delete_group", Role.ADMIN, Role.AGENT, "sam", "g-1")
    assert refusal is not None and refusal.code == "role"
    assert refusal.reason == "admin.delete_group needs the admin role (sam is agent on group g-1)"
    assert check("sending.send_text", Role.AGENT, Role.MODERATOR, "mo", "g") is None


def test_the_spend_cap_quotes_the_preview() -> None:
    refusal = spend_refusal("sam", Decimal("2.50"), Decimal("2.00"), Decimal("0.75"), Role.AGENT)
    assert refusal is not None and refusal.code == "spend_cap"
    assert "$0.75 (cost preview)" in refusal.reason and "$0.50 left" in refusal.reason
    assert spend_refusal("sam", Decimal("2.50"), Decimal("2"), Decimal("0.5"), Role.AGENT) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"grant": [{"role": "boss", "users": ["a"]}]}, "unknown role 'boss'"),
        ({"grant": [{"role": "admin"}]}, "names no users and no unix_groups"),
        ({"grant": [{"role": "admin", "users": ["a"], "colour": "red"}]}, "unknown key(s) colour"),
        ({"caps": {"agent": "lots"}}, "caps.agent is not an amount"),
        ({"caps": {"agent": "-1"}}, "non-negative"),
        ({"users": {"a": {"cap": 1}}}, "takes only daily_cap"),
        ({"roles": {}}, "unknown table(s) roles"),
    ],
)
def test_a_bad_roles_file_is_refused_with_a_reason(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        RolesConfig.from_mapping(raw)
    assert message in str(caught.value)
