"""The ``[automations]`` section of the TOML config file, checked as it is read.

Example::

    [automations.pacing]
    group_ops_per_second = 2      # bulk creation, pruning
    messages_per_second = 10      # invites, announcements

    [[automations.invite_rules]]
    name = "join-keyword"
    keywords = ["join", "invite"]
    group_id = "Y2FwaV9ncm91cDox..."
    repeat_after_hours = 168

    [[automations.forward]]
    name = "crm"
    url = "http://127.0.0.1:9000/groups-events"
    secret_env = "CRM_HOOK_SECRET"

    [[automations.prune_rules]]
    name = "old-orders"
    tag = "order-*"
    idle_days = 30

A forwarding secret may sit in the file itself (``secret = "..."``) only when the file is
readable by its owner alone; ``secret_env`` names an environment variable instead.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from groups_tui import config_values as values
from groups_tui.config import ConfigError, config_path
from groups_tui.config_values import Check, CheckedTable, Invalid, Secret
from groups_tui.service.types import AutomationSetup, ConfiguredRule, ConfiguredTarget

__all__ = [
    "AutomationsConfig",
    "ForwardTarget",
    "InviteRule",
    "Pacing",
    "PruneRule",
    "load_automations",
    "parse_automations",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _check_name(value: str) -> None:
    if not _NAME.match(value):
        raise Invalid("names use letters, digits, '.', '_' or '-' (at most 64)")


@dataclass(frozen=True)
class Pacing(CheckedTable):
    """How fast automations call the Cloud API (per business number)."""

    group_ops_per_second: float = 2.0
    """Group operations (create, delete) per second."""
    messages_per_second: float = 10.0
    """Messages (invites, announcements) per second."""
    burst: float = 1.0
    """Calls that may go out back to back before the rate applies."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {
        "group_ops_per_second": values.number(gt=0, le=100),
        "messages_per_second": values.number(gt=0, le=1000),
        "burst": values.number(ge=1, le=100),
    }


@dataclass(frozen=True)
class InviteRule(CheckedTable):
    """When a 1:1 message matches, send the invite-link template of a group.

    A message matches when it contains one of ``keywords`` (case-insensitive, whole words)
    or comes from a number in ``numbers``.
    """

    name: str
    """Unique name (shown in status, used to pause)."""
    keywords: tuple[str, ...] = ()
    """Words that trigger the rule."""
    numbers: tuple[str, ...] = ()
    """Numbers (digits, optional ``+``) whose every message triggers the rule."""
    group_id: str | None = None
    """The group whose invite is sent."""
    new_group_subject: str | None = None
    """Create a new group per person instead; ``{name}`` and ``{wa_id}`` are filled in."""
    template: str = "group_invite_upon_request"
    """The invite-link template (Template Library copy)."""
    language: str = "en"
    """The template's language."""
    repeat_after_hours: float = 168.0
    """The same person gets the same invite from this rule at most once in this period."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {
        "name": values.text,
        "keywords": values.tuple_of(values.text),
        "numbers": values.tuple_of(values.text),
        "group_id": values.optional(values.text),
        "new_group_subject": values.optional(values.text),
        "template": values.text,
        "language": values.text,
        "repeat_after_hours": values.number(ge=0),
    }

    def _check(self) -> None:
        _check_name(self.name)
        if not self.keywords and not self.numbers:
            raise Invalid(f"invite rule {self.name!r} needs keywords or numbers")
        if (self.group_id is None) == (self.new_group_subject is None):
            raise Invalid(
                f"invite rule {self.name!r} needs exactly one of group_id or new_group_subject"
            )

    @property
    def group_key(self) -> str:
        """What "the same invite" means for the repeat period."""
        return self.group_id if self.group_id is not None else "new-group"

    @property
    def digits(self) -> frozenset[str]:
        """The numbers as bare digits."""
        return frozenset("".join(c for c in n if c.isdigit()) for n in self.numbers)


@dataclass(frozen=True)
class ForwardTarget(CheckedTable):
    """Where applied group events are forwarded: an HTTP endpoint or a local command."""

    name: str
    """Unique name (shown in status, used to pause)."""
    url: str | None = None
    """HTTP(S) endpoint receiving one POST per event."""
    command: tuple[str, ...] | None = None
    """Program and arguments; receives one event as JSON on stdin per run."""
    secret: Secret | None = None
    """HMAC key of the ``X-Groups-Tui-Signature`` header (text given here is kept as a
    secret)."""
    secret_env: str | None = None
    """Environment variable holding the HMAC key (instead of ``secret``)."""
    kinds: tuple[str, ...] = ()
    """Event kinds to forward (``fnmatch`` patterns such as ``message.*``); empty = all."""
    timeout: float = 10.0
    """Seconds per delivery attempt."""
    backoff_initial: float = 1.0
    """Seconds before the first retry; doubles per failure."""
    backoff_max: float = 300.0
    """Cap of the retry delay."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {
        "name": values.text,
        "url": values.optional(values.text),
        "command": values.optional(values.tuple_of(values.text)),
        "secret": values.optional(values.secret),
        "secret_env": values.optional(values.text),
        "kinds": values.tuple_of(values.text),
        "timeout": values.number(gt=0, le=300),
        "backoff_initial": values.number(gt=0),
        "backoff_max": values.number(gt=0),
    }

    def _check(self) -> None:
        _check_name(self.name)
        if (self.url is None) == (self.command is None):
            raise Invalid(f"forward target {self.name!r} needs exactly one of url or command")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise Invalid(f"forward target {self.name!r}: url must be http:// or https://")
        if self.command is not None and not self.command:
            raise Invalid(f"forward target {self.name!r}: command is empty")

    def signing_key(self) -> bytes | None:
        """The HMAC key, from the file or the environment (``None`` when unsigned)."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        if self.secret_env:
            value = os.environ.get(self.secret_env)
            if not value:
                raise ConfigError(
                    f"forward target {self.name!r}: environment variable {self.secret_env} "
                    "is not set"
                )
            return value.encode()
        return None


@dataclass(frozen=True)
class PruneRule(CheckedTable):
    """A named retirement rule (``groups-tui groups prune --rule NAME``, e.g. from cron)."""

    name: str
    """Unique name."""
    idle_days: float | None = None
    """No inbound message for this many days."""
    subject: str | None = None
    """Regular expression the subject must match."""
    tag: str | None = None
    """``fnmatch`` pattern the group's tag must match."""
    created_before: date | None = None
    """Created before this day (UTC)."""
    empty: bool = False
    """Only groups with no member besides the business."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {
        "name": values.text,
        "idle_days": values.optional(values.number(gt=0)),
        "subject": values.optional(values.text),
        "tag": values.optional(values.text),
        "created_before": values.optional(values.day),
        "empty": values.flag,
    }

    def _check(self) -> None:
        _check_name(self.name)
        if self.subject is not None:
            try:
                re.compile(self.subject)
            except re.error as exc:
                raise Invalid(f"prune rule {self.name!r}: bad subject pattern: {exc}") from None


@dataclass(frozen=True)
class AutomationsConfig(CheckedTable):
    """Every automation rule and target."""

    pacing: Pacing = field(default_factory=Pacing)
    """Throughput limits."""
    invite_rules: tuple[InviteRule, ...] = ()
    """Invite flows evaluated on inbound 1:1 messages."""
    forward: tuple[ForwardTarget, ...] = ()
    """Event forwarding targets."""
    prune_rules: tuple[PruneRule, ...] = ()
    """Named retirement rules."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {
        "pacing": Pacing.checked,
        "invite_rules": values.tuple_of(InviteRule.checked),
        "forward": values.tuple_of(ForwardTarget.checked),
        "prune_rules": values.tuple_of(PruneRule.checked),
    }

    def _check(self) -> None:
        seen: set[str] = set()
        for name in [r.name for r in self.invite_rules] + [t.name for t in self.forward]:
            if name in seen:
                raise Invalid(f"the name {name!r} is used twice")
            seen.add(name)

    def setup(self) -> AutomationSetup:
        """The invite rules and forwarding targets, as the service lists their status."""
        return AutomationSetup(
            rules=tuple(
                ConfiguredRule(
                    rule.name,
                    ", ".join([*(repr(k) for k in rule.keywords), *rule.numbers]),
                    rule.group_id or f"new: {rule.new_group_subject}",
                )
                for rule in self.invite_rules
            ),
            targets=tuple(
                ConfiguredTarget(target.name, target.url or " ".join(target.command or ()))
                for target in self.forward
            ),
        )

    def prune_rule(self, name: str) -> PruneRule:
        """The prune rule called ``name``.

        Raises:
            ConfigError: No such rule.
        """
        for rule in self.prune_rules:
            if rule.name == name:
                return rule
        known = ", ".join(r.name for r in self.prune_rules) or "none configured"
        raise ConfigError(f"no prune rule named {name!r} (known: {known})")


def parse_automations(data: dict[str, Any], *, source: str = "config") -> AutomationsConfig:
    """Validate the ``[automations]`` table.

    Raises:
        ConfigError: One line naming the first bad field.
    """
    try:
        return AutomationsConfig.from_table(data)
    except Invalid as exc:
        where = "".join(f".{part}" for part in exc.where)
        raise ConfigError(f"{source}: automations{where}: {exc.message}") from None


def load_automations(path: Path | None = None) -> AutomationsConfig:
    """Read ``[automations]`` from the config file (defaults when absent).

    Args:
        path: The TOML file; the user's config file when ``None``.

    Raises:
        ConfigError: Unreadable file, bad value, or a secret in a file others can read.
    """
    path = path or config_path()
    if not path.is_file():
        return AutomationsConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    section = raw.get("automations", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [automations] must be a table")
    has_secret = any(
        isinstance(t, dict) and t.get("secret") for t in section.get("forward", []) or []
    )
    if has_secret and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} holds forwarding secrets but is readable by others; run: chmod 600 {path}"
        )
    return parse_automations(section, source=str(path))
