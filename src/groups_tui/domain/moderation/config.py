"""Thresholds and actions of the moderation rules, validated, and read from a TOML table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .blocklist import blocklist_entry_kind
from .rules import MESSAGE_RULES, RuleAction, RuleName

__all__ = ["ModerationConfig"]

_MIN_ENTRIES_PER_SENDER = 8


@dataclass(frozen=True, slots=True)
class ModerationConfig:
    """Thresholds and actions of the moderation rules.

    Every rule notifies only, unless its action is switched. Message rules accept
    ``notify`` or ``auto_remove``. The blocklist accepts all three: ``auto_reject``
    rejects matching join requests, ``auto_remove`` also removes matching members who
    joined (or wrote) anyway, and rejects their join requests too.

    Attributes:
        link_flood_count: Messages with links that make a flood.
        link_flood_window: Seconds those messages must fall within.
        link_flood_action: Action of ``link_flood``.
        duplicate_groups: Distinct groups the same text must appear in.
        duplicate_window: Seconds those messages must fall within.
        duplicate_min_length: Normalised texts shorter than this are ignored ("hi", "ok").
        cross_group_duplicate_action: Action of ``cross_group_duplicate``.
        burst_count: Messages that make a burst.
        burst_window: Seconds those messages must fall within.
        burst_action: Action of ``burst``.
        new_member_window: Seconds after joining during which a link is flagged.
        new_member_link_action: Action of ``new_member_link``.
        blocklist: Numbers, ``+``-prefixes or user ids (see :func:`blocklist_match`).
        blocklist_action: Action of ``blocklist``.
        disabled: Rules that are switched off.
        max_entries_per_sender: Entries kept per sender and group (and per sender across
            groups); the oldest go first. At least the largest count threshold.
        max_tracked_keys: Keys (sender and group pairs, senders, active flags) kept per
            internal table; the least recently active go first.
    """

    link_flood_count: int = 3
    link_flood_window: int = 600
    link_flood_action: RuleAction = RuleAction.NOTIFY
    duplicate_groups: int = 3
    duplicate_window: int = 3_600
    duplicate_min_length: int = 12
    cross_group_duplicate_action: RuleAction = RuleAction.NOTIFY
    burst_count: int = 8
    burst_window: int = 60
    burst_action: RuleAction = RuleAction.NOTIFY
    new_member_window: int = 6 * 3_600
    new_member_link_action: RuleAction = RuleAction.NOTIFY
    blocklist: tuple[str, ...] = ()
    blocklist_action: RuleAction = RuleAction.NOTIFY
    disabled: frozenset[RuleName] = frozenset()
    max_entries_per_sender: int = 32
    max_tracked_keys: int = 200_000

    def __post_init__(self) -> None:
        _check_int("link_flood_count", self.link_flood_count, 1)
        _check_int("link_flood_window", self.link_flood_window, 1)
        _check_int("duplicate_groups", self.duplicate_groups, 2)
        _check_int("duplicate_window", self.duplicate_window, 1)
        _check_int("duplicate_min_length", self.duplicate_min_length, 0)
        _check_int("burst_count", self.burst_count, 2)
        _check_int("burst_window", self.burst_window, 1)
        _check_int("new_member_window", self.new_member_window, 1)
        _check_int("max_tracked_keys", self.max_tracked_keys, 1)
        needed = max(
            _MIN_ENTRIES_PER_SENDER,
            self.link_flood_count,
            self.burst_count,
            self.duplicate_groups,
        )
        _check_int("max_entries_per_sender", self.max_entries_per_sender, needed)
        for rule in RuleName:
            action = self.action_for(rule)
            if not isinstance(action, RuleAction):
                raise ValueError(f"{rule.value}_action must be a RuleAction, got {action!r}")
            if rule in MESSAGE_RULES and action is RuleAction.AUTO_REJECT:
                raise ValueError(
                    f"{rule.value}_action cannot be auto_reject: that rule only sees "
                    "messages from members, and only join requests can be rejected"
                )
        for entry in self.blocklist:
            if not isinstance(entry, str) or blocklist_entry_kind(entry) is None:
                raise ValueError(
                    f"blocklist entry {entry!r} is neither a phone number or prefix "
                    "(digits, optionally with +, spaces, dashes, dots or parentheses) "
                    "nor a user id"
                )
        for rule in self.disabled:
            if not isinstance(rule, RuleName):
                raise ValueError(f"disabled must hold RuleName values, got {rule!r}")

    def action_for(self, rule: RuleName) -> RuleAction:
        """The configured action of ``rule``.

        Args:
            rule: A rule.

        Returns:
            Its action (for the blocklist, before the join-request adjustment described
            on the class).
        """
        return {
            RuleName.LINK_FLOOD: self.link_flood_action,
            RuleName.CROSS_GROUP_DUPLICATE: self.cross_group_duplicate_action,
            RuleName.BURST: self.burst_action,
            RuleName.NEW_MEMBER_LINK: self.new_member_link_action,
            RuleName.BLOCKLIST: self.blocklist_action,
        }[rule]

    def window_for(self, rule: RuleName) -> int:
        """The window of ``rule`` in seconds; also how long a flag of it suppresses repeats.

        Args:
            rule: A rule.

        Returns:
            Seconds. The blocklist, which has no window of its own, uses :attr:`horizon`.
        """
        return {
            RuleName.LINK_FLOOD: self.link_flood_window,
            RuleName.CROSS_GROUP_DUPLICATE: self.duplicate_window,
            RuleName.BURST: self.burst_window,
            RuleName.NEW_MEMBER_LINK: self.new_member_window,
            RuleName.BLOCKLIST: self.horizon,
        }[rule]

    def enabled(self, rule: RuleName) -> bool:
        """Whether ``rule`` is switched on.

        Args:
            rule: A rule.

        Returns:
            False if the rule is listed in :attr:`disabled`.
        """
        return rule not in self.disabled

    @property
    def horizon(self) -> int:
        """The longest rule window: events older than this behind the newest are ignored."""
        return max(
            self.link_flood_window,
            self.duplicate_window,
            self.burst_window,
            self.new_member_window,
        )

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, object], *, prefix: str = "moderation"
    ) -> ModerationConfig:
        """Build a config from a parsed TOML table, validating every value.

        The expected shape (every key optional; defaults as on the class)::

            [moderation]
            max_entries_per_sender = 32
            max_tracked_keys = 200000

            [moderation.link_flood]
            enabled = true
            action = "notify"          # or "auto_remove"
            count = 3
            window_seconds = 600

            [moderation.cross_group_duplicate]
            groups = 3
            window_seconds = 3600
            min_length = 12

            [moderation.burst]
            count = 8
            window_seconds = 60

            [moderation.new_member_link]
            window_seconds = 21600

            [moderation.blocklist]
            action = "auto_reject"     # or "notify", "auto_remove"
            entries = ["+234", "447700900123"]

        Args:
            data: The ``[moderation]`` table.
            prefix: Name of that table, used in error messages.

        Returns:
            The validated config.

        Raises:
            ValueError: A key is unknown or a value has the wrong type or range; the
                message names the key, e.g. ``"moderation.burst.count must be ..."``.
        """
        reader = _Reader(data, prefix)
        kwargs: dict[str, object] = {}
        disabled: set[RuleName] = set()
        tables: dict[RuleName, dict[str, tuple[str, int]]] = {
            RuleName.LINK_FLOOD: {
                "count": ("link_flood_count", 1),
                "window_seconds": ("link_flood_window", 1),
            },
            RuleName.CROSS_GROUP_DUPLICATE: {
                "groups": ("duplicate_groups", 2),
                "window_seconds": ("duplicate_window", 1),
                "min_length": ("duplicate_min_length", 0),
            },
            RuleName.BURST: {
                "count": ("burst_count", 2),
                "window_seconds": ("burst_window", 1),
            },
            RuleName.NEW_MEMBER_LINK: {"window_seconds": ("new_member_window", 1)},
            RuleName.BLOCKLIST: {},
        }
        reader.allow(
            {rule.value for rule in RuleName} | {"max_entries_per_sender", "max_tracked_keys"}
        )
        for name in ("max_entries_per_sender", "max_tracked_keys"):
            if name in data:
                kwargs[name] = reader.integer(name, 1)
        for rule, ints in tables.items():
            table = reader.table(rule.value)
            if table is None:
                continue
            extra = {"entries"} if rule is RuleName.BLOCKLIST else set()
            table.allow(set(ints) | {"enabled", "action"} | extra)
            for key, (attr, minimum) in ints.items():
                if key in table.data:
                    kwargs[attr] = table.integer(key, minimum)
            if "enabled" in table.data and not table.boolean("enabled"):
                disabled.add(rule)
            if "action" in table.data:
                kwargs[f"{rule.value}_action"] = table.action("action", rule)
            if "entries" in table.data:
                kwargs["blocklist"] = table.blocklist("entries")
        kwargs["disabled"] = frozenset(disabled)
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except ValueError as exc:
            # Only cross-field checks can fail here (single values were checked above).
            raise ValueError(f"{prefix}: {exc}") from None


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


class _Reader:
    """Typed access to one TOML table with error messages that name the full key."""

    def __init__(self, data: Mapping[str, object], path: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{path} must be a table, got {type(data).__name__}")
        self.data = data
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def allow(self, keys: set[str]) -> None:
        unknown = sorted(str(k) for k in self.data if k not in keys)
        if unknown:
            raise ValueError(
                f"{self._name(unknown[0])} is not a known setting "
                f"(expected one of: {', '.join(sorted(keys))})"
            )

    def table(self, key: str) -> _Reader | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, Mapping):
            raise ValueError(f"{self._name(key)} must be a table, got {value!r}")
        return _Reader(value, self._name(key))

    def integer(self, key: str, minimum: int) -> int:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{self._name(key)} must be a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"{self._name(key)} must be at least {minimum}, got {value}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.data[key]
        if not isinstance(value, bool):
            raise ValueError(f"{self._name(key)} must be true or false, got {value!r}")
        return value

    def action(self, key: str, rule: RuleName) -> RuleAction:
        value = self.data[key]
        allowed = [RuleAction.NOTIFY.value, RuleAction.AUTO_REMOVE.value]
        if rule is RuleName.BLOCKLIST:
            allowed.append(RuleAction.AUTO_REJECT.value)
        if not isinstance(value, str) or value not in allowed:
            hint = ""
            if value == RuleAction.AUTO_REJECT.value:
                hint = " (only join requests can be rejected, and this rule sees messages)"
            raise ValueError(
                f"{self._name(key)} must be one of {', '.join(allowed)}, got {value!r}{hint}"
            )
        return RuleAction(value)

    def blocklist(self, key: str) -> tuple[str, ...]:
        value = self.data[key]
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ValueError(f"{self._name(key)} must be a list of strings, got {value!r}")
        entries: list[str] = []
        for index, entry in enumerate(value):
            if not isinstance(entry, str) or blocklist_entry_kind(entry) is None:
                raise ValueError(
                    f"{self._name(key)}[{index}] must be a phone number, a +prefix such "
                    f"as '+234', or a user id, got {entry!r}"
                )
            entries.append(entry.strip())
        return tuple(entries)
