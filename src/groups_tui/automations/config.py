"""The ``[automations]`` section of the TOML config file, as pydantic models.

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
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from groups_tui.config import ConfigError, config_path
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


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("names use letters, digits, '.', '_' or '-' (at most 64)")
    return value


class _Model(BaseModel):
    # The fields' docstrings are for readers: nothing shows them, and pydantic's
    # ``use_attribute_docstrings`` would read and parse this module's source at import
    # (~10 ms of every start with an [automations] table).
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pacing(_Model):
    """How fast automations call the Cloud API (per business number)."""

    group_ops_per_second: float = Field(default=2.0, gt=0, le=100)
    """Group operations (create, delete) per second."""
    messages_per_second: float = Field(default=10.0, gt=0, le=1000)
    """Messages (invites, announcements) per second."""
    burst: float = Field(default=1.0, ge=1, le=100)
    """Calls that may go out back to back before the rate applies."""


class InviteRule(_Model):
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
    repeat_after_hours: float = Field(default=168.0, ge=0)
    """The same person gets the same invite from this rule at most once in this period."""

    @model_validator(mode="after")
    def _check(self) -> InviteRule:
        _check_name(self.name)
        if not self.keywords and not self.numbers:
            raise ValueError(f"invite rule {self.name!r} needs keywords or numbers")
        if (self.group_id is None) == (self.new_group_subject is None):
            raise ValueError(
                f"invite rule {self.name!r} needs exactly one of group_id or new_group_subject"
            )
        return self

    @property
    def group_key(self) -> str:
        """What "the same invite" means for the repeat period."""
        return self.group_id if self.group_id is not None else "new-group"

    @property
    def digits(self) -> frozenset[str]:
        """The numbers as bare digits."""
        return frozenset("".join(c for c in n if c.isdigit()) for n in self.numbers)


class ForwardTarget(_Model):
    """Where applied group events are forwarded: an HTTP endpoint or a local command."""

    name: str
    """Unique name (shown in status, used to pause)."""
    url: str | None = None
    """HTTP(S) endpoint receiving one POST per event."""
    command: tuple[str, ...] | None = None
    """Program and arguments; receives one event as JSON on stdin per run."""
    secret: SecretStr | None = None
    """HMAC key of the ``X-Groups-Tui-Signature`` header."""
    secret_env: str | None = None
    """Environment variable holding the HMAC key (instead of ``secret``)."""
    kinds: tuple[str, ...] = ()
    """Event kinds to forward (``fnmatch`` patterns such as ``message.*``); empty = all."""
    timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds per delivery attempt."""
    backoff_initial: float = Field(default=1.0, gt=0)
    """Seconds before the first retry; doubles per failure."""
    backoff_max: float = Field(default=300.0, gt=0)
    """Cap of the retry delay."""

    @model_validator(mode="after")
    def _check(self) -> ForwardTarget:
        _check_name(self.name)
        if (self.url is None) == (self.command is None):
            raise ValueError(f"forward target {self.name!r} needs exactly one of url or command")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"forward target {self.name!r}: url must be http:// or https://")
        if self.command is not None and not self.command:
            raise ValueError(f"forward target {self.name!r}: command is empty")
        return self

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


class PruneRule(_Model):
    """A named retirement rule (``groups-tui groups prune --rule NAME``, e.g. from cron)."""

    name: str
    """Unique name."""
    idle_days: float | None = Field(default=None, gt=0)
    """No inbound message for this many days."""
    subject: str | None = None
    """Regular expression the subject must match."""
    tag: str | None = None
    """``fnmatch`` pattern the group's tag must match."""
    created_before: date | None = None
    """Created before this day (UTC)."""
    empty: bool = False
    """Only groups with no member besides the business."""

    @model_validator(mode="after")
    def _check(self) -> PruneRule:
        _check_name(self.name)
        if self.subject is not None:
            try:
                re.compile(self.subject)
            except re.error as exc:
                raise ValueError(f"prune rule {self.name!r}: bad subject pattern: {exc}") from None
        return self


class AutomationsConfig(_Model):
    """Every automation rule and target."""

    pacing: Pacing = Pacing()
    """Throughput limits."""
    invite_rules: tuple[InviteRule, ...] = ()
    """Invite flows evaluated on inbound 1:1 messages."""
    forward: tuple[ForwardTarget, ...] = ()
    """Event forwarding targets."""
    prune_rules: tuple[PruneRule, ...] = ()
    """Named retirement rules."""

    @model_validator(mode="after")
    def _unique(self) -> AutomationsConfig:
        seen: set[str] = set()
        for name in [r.name for r in self.invite_rules] + [t.name for t in self.forward]:
            if name in seen:
                raise ValueError(f"the name {name!r} is used twice")
            seen.add(name)
        return self

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
        return AutomationsConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", "bad value")).removeprefix("Value error, ")
        raise ConfigError(f"{source}: automations{'.' + where if where else ''}: {msg}") from None


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
