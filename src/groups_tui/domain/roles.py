"""Team roles: who may do what, on which groups, up to what spend a day.

Meta's API has no notion of an operator's role, so the product provides it. The daemon
(``groups-tui serve``) identifies each caller by its socket's peer credentials and checks
every action against :data:`OPERATIONS`, the one table of the service's actions and the
role each needs. The roles file (TOML) maps users and Unix groups to roles, optionally
scoped to groups (by tag or id), with daily template spend caps per role and per user.

Pure: the caller reads the file and resolves Unix group membership.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any, Final

from groups_tui.domain.sending import Refusal

__all__ = [
    "OPERATIONS",
    "SPENDING_OPERATIONS",
    "Grant",
    "Role",
    "RolesConfig",
    "check",
    "required_role",
    "spend_refusal",
]


class Role(IntEnum):
    """An operator's role; each includes every lower one."""

    VIEWER = 1
    """Read everything, send nothing."""
    AGENT = 2
    """Send text and media inside the window, and templates up to a daily spend cap."""
    MODERATOR = 3
    """Agent, plus remove members, decide join requests, act on flags, the blocklist."""
    ADMIN = 4
    """Everything: groups, settings, invite-link reset, announcements, automations."""

    @property
    def label(self) -> str:
        """The role's name as the roles file and messages spell it."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role called `text` (``viewer``, ``agent``, ``moderator``, ``admin``).

        Raises:
            ValueError: Not a role.
        """
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown role {text!r} (one of {names})") from None


OPERATIONS: Final[Mapping[str, Role]] = {
    # reading: refreshing the store from the API writes it, but changes nothing at Meta
    "reading.mark_read": Role.VIEWER,
    "reading.templates": Role.VIEWER,
    "reading.sync_group": Role.VIEWER,
    "reading.sync_groups": Role.VIEWER,
    "reading.sync_join_requests": Role.VIEWER,
    # sending
    "sending.send_text": Role.AGENT,
    "sending.send_media": Role.AGENT,
    "sending.send_template": Role.AGENT,
    "sending.send_invites": Role.AGENT,
    "sending.send_invite": Role.ADMIN,  # an automation's send
    # admin
    "admin.set_contact": Role.AGENT,
    "admin.invite_link": Role.AGENT,  # reading it; resetting needs admin (below)
    "admin.remove_participants": Role.MODERATOR,
    "admin.remove_everywhere": Role.MODERATOR,
    "admin.approve_join_requests": Role.MODERATOR,
    "admin.reject_join_requests": Role.MODERATOR,
    "admin.create_group": Role.ADMIN,
    "admin.delete_group": Role.ADMIN,
    "admin.update_settings": Role.ADMIN,
    "admin.set_tag": Role.ADMIN,
    # moderation
    "moderation.act_on_flag": Role.MODERATOR,
    "moderation.dismiss_flag": Role.MODERATOR,
    "moderation.remove_sender": Role.MODERATOR,
    "moderation.record": Role.MODERATOR,
    "moderation.block": Role.MODERATOR,
    # automations: switches and the rows of batch jobs (announce, bulk create, prune)
    **{
        f"automations.{name}": Role.ADMIN
        for name in (
            "set_paused",
            "add_run",
            "audit",
            "invite_flow_begin",
            "invite_flow_update",
            "forward_enqueue",
            "forward_delivered",
            "forward_failed",
            "create_job",
            "set_job_state",
            "bulk_rows_insert",
            "bulk_row_update",
            "bulk_invite_begin",
            "bulk_invite_update",
            "announce_rows_insert",
            "announce_row_update",
        )
    },
    # changes: a follower's saved position
    "changes.set_position": Role.ADMIN,
}
"""Every action of the service (``sub_api.method``) and the role it needs. Methods not
named here only read the database and run wherever the caller is."""

_ARGUMENT_ROLES: Final[Mapping[tuple[str, str], Role]] = {
    ("admin.invite_link", "reset"): Role.ADMIN,
}
"""Arguments that, when true, raise the role an operation needs."""

SPENDING_OPERATIONS: Final[frozenset[str]] = frozenset(
    {"sending.send_template", "sending.send_invites"}
)
"""Operations whose cost preview counts against the daily spend caps."""


def required_role(operation: str, arguments: Mapping[str, Any]) -> Role | None:
    """The role `operation` called with `arguments` needs (``None``: not an action)."""
    role = OPERATIONS.get(operation)
    if role is None:
        return None
    for (name, argument), raised in _ARGUMENT_ROLES.items():
        if name == operation and arguments.get(argument):
            role = max(role, raised)
    return role


@dataclass(frozen=True, slots=True)
class Grant:
    """One line of the roles file: a role for some users and Unix groups, maybe scoped.

    Attributes:
        role: The role granted.
        users: User names it applies to.
        unix_groups: Unix groups whose members it applies to.
        tags: Group tags it is limited to (with `group_ids`; both empty: every group).
        group_ids: Group ids it is limited to.
    """

    role: Role
    users: frozenset[str] = frozenset()
    unix_groups: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    group_ids: frozenset[str] = frozenset()

    @property
    def scoped(self) -> bool:
        """True when the grant covers only some groups."""
        return bool(self.tags or self.group_ids)

    def applies_to(self, user: str, unix_groups: Iterable[str]) -> bool:
        """True when `user` (a member of `unix_groups`) holds this grant."""
        return user in self.users or not self.unix_groups.isdisjoint(unix_groups)

    def covers(self, group_id: str | None, tag: str | None) -> bool:
        """True when the grant reaches the group (``None``: an action on no one group)."""
        if not self.scoped:
            return True
        if group_id is None:
            return False
        return group_id in self.group_ids or (tag is not None and tag in self.tags)

    def scope_text(self) -> str:
        """The scope as one phrase (``all groups``, ``tags emea; groups 123``)."""
        if not self.scoped:
            return "all groups"
        parts = []
        if self.tags:
            parts.append("tags " + ", ".join(sorted(self.tags)))
        if self.group_ids:
            parts.append("groups " + ", ".join(sorted(self.group_ids)))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class RolesConfig:
    """The roles file: grants and daily spend caps.

    Attributes:
        grants: Every grant, in file order.
        role_caps: Each user's daily template spend cap, by role (no entry: no cap).
        user_caps: A user's own daily cap (the lower of it and the role's applies).
    """

    grants: tuple[Grant, ...] = ()
    role_caps: Mapping[Role, Decimal] = field(default_factory=dict)
    user_caps: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> RolesConfig:
        """Read the roles file's parsed TOML.

        The shape::

            [caps]                  # daily template spend (USD) per user, by role
            agent = "5.00"
            [[grant]]
            role = "agent"
            users = ["alice"]
            unix_groups = ["support"]
            tags = ["emea"]         # optional scope: group tags and/or group ids
            group_ids = []
            [users.alice]
            daily_cap = "2.00"

        Raises:
            ValueError: An unknown key, role or a bad amount, named.
        """
        unknown = set(raw) - {"caps", "grant", "users"}
        if unknown:
            raise ValueError(f"roles file: unknown table(s) {', '.join(sorted(unknown))}")
        grants = tuple(_grant(i, g) for i, g in enumerate(_list(raw.get("grant", []), "grant")))
        caps_raw = raw.get("caps", {})
        if not isinstance(caps_raw, Mapping):
            raise ValueError("roles file: [caps] must be a table of role = amount")
        role_caps = {Role.parse(k): _amount(v, f"caps.{k}") for k, v in caps_raw.items()}
        users_raw = raw.get("users", {})
        if not isinstance(users_raw, Mapping):
            raise ValueError("roles file: [users] must be a table of user tables")
        user_caps: dict[str, Decimal] = {}
        for name, table in users_raw.items():
            if not isinstance(table, Mapping) or set(table) - {"daily_cap"}:
                raise ValueError(f"roles file: [users.{name}] takes only daily_cap")
            if "daily_cap" in table:
                user_caps[str(name)] = _amount(table["daily_cap"], f"users.{name}.daily_cap")
        return cls(grants=grants, role_caps=role_caps, user_caps=user_caps)

    def grants_of(self, user: str, unix_groups: Iterable[str]) -> list[Grant]:
        """The grants `user` holds."""
        groups = list(unix_groups)
        return [g for g in self.grants if g.applies_to(user, groups)]

    def role_for(
        self, user: str, unix_groups: Iterable[str], group_id: str | None, tag: str | None
    ) -> Role | None:
        """The highest role `user` holds for the group (``None``: no role at all)."""
        roles = [g.role for g in self.grants_of(user, unix_groups) if g.covers(group_id, tag)]
        return max(roles) if roles else None

    def highest_role(self, user: str, unix_groups: Iterable[str]) -> Role | None:
        """The highest role `user` holds anywhere (scoped or not)."""
        roles = [g.role for g in self.grants_of(user, unix_groups)]
        return max(roles) if roles else None

    def daily_cap(self, user: str, role: Role) -> Decimal | None:
        """The user's daily template spend cap in `role` (``None``: no cap)."""
        caps = [c for c in (self.role_caps.get(role), self.user_caps.get(user)) if c is not None]
        return min(caps) if caps else None


def check(
    operation: str,
    needed: Role,
    held: Role | None,
    user: str,
    group_id: str | None,
) -> Refusal | None:
    """The refusal when `held` falls short of `needed` (``None``: allowed)."""
    if held is not None and held >= needed:
        return None
    where = f" on group {group_id}" if group_id else ""
    has = f"{user} is {held.label}{where}" if held else f"{user} has no role{where}"
    return Refusal(
        "role",
        f"{operation} needs the {needed.label} role ({has})",
    )


def spend_refusal(
    user: str, cap: Decimal, spent: Decimal, preview: Decimal, role: Role
) -> Refusal | None:
    """The refusal when a send previewed at `preview` would take `user` over `cap`."""
    if spent + preview <= cap:
        return None
    left = max(cap - spent, Decimal(0))
    return Refusal(
        "spend_cap",
        f"this send would cost ${preview} (cost preview) but {user} has ${left} left of "
        f"the {role.label} daily cap of ${cap}",
    )


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise ValueError(f"roles file: {where} must be an array of tables ([[{where}]])")
    return value


def _names(table: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"roles file: {where}.{key} must be a list of strings")
    return frozenset(value)


def _grant(index: int, table: Any) -> Grant:
    where = f"grant[{index}]"
    if not isinstance(table, Mapping):
        raise ValueError(f"roles file: {where} must be a table")
    unknown = set(table) - {"role", "users", "unix_groups", "tags", "group_ids"}
    if unknown:
        raise ValueError(f"roles file: {where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "role" not in table or not isinstance(table["role"], str):
        raise ValueError(f'roles file: {where} needs role = "viewer|agent|moderator|admin"')
    try:
        role = Role.parse(table["role"])
    except ValueError as exc:
        raise ValueError(f"roles file: {where}: {exc}") from None
    grant = Grant(
        role=role,
        users=_names(table, "users", where),
        unix_groups=_names(table, "unix_groups", where),
        tags=_names(table, "tags", where),
        group_ids=_names(table, "group_ids", where),
    )
    if not grant.users and not grant.unix_groups:
        raise ValueError(f"roles file: {where} names no users and no unix_groups")
    return grant


def _amount(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"roles file: {where} is not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"roles file: {where} must be a non-negative amount")
    return amount
