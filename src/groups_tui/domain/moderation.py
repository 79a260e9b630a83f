"""Moderation rules over incoming group messages, joins and join requests.

A business cannot mute, ban or delete messages in a WhatsApp group: removing a participant
and rejecting a join request are its only levers. So every rule here produces a
:class:`Flag` whose :class:`RuleAction` is one of those levers, or ``notify`` (the
default for every rule), which only puts the flag in the moderation queue.

Rules:

* ``link_flood``: at least ``link_flood_count`` messages containing links from one sender
  in one group within ``link_flood_window`` seconds.
* ``cross_group_duplicate``: the same normalised text (see :func:`normalize_text`) from one
  sender in at least ``duplicate_groups`` distinct groups within ``duplicate_window``
  seconds. It flags every group involved, so an automatic removal clears all of them.
* ``burst``: at least ``burst_count`` messages from one sender in one group within
  ``burst_window`` seconds.
* ``new_member_link``: a link from a member within ``new_member_window`` seconds of
  joining.
* ``blocklist``: a join request, join or message from a number matching a blocklist entry
  (see :func:`is_blocklisted`).

"Within W seconds" is inclusive: events at ``t`` and ``t + W`` are in the same window.

:class:`ModerationEngine` evaluates them incrementally. It is pure and deterministic: it
never reads the clock and orders everything by each event's own ``at``. Its notion of
"now" is the newest ``at`` it has seen. A rule ignores events more than its window behind
now (their windows have closed); anything less late is judged exactly as if it had arrived
in order. Memory is bounded three ways: entries more than twice a rule's window behind now
are pruned, each sender keeps at most ``max_entries_per_sender`` entries, and each internal
table keeps at most ``max_tracked_keys`` keys (least recently active first out).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple, Protocol, TypeVar

import phonenumbers

from groups_tui.domain.events import normalize_input

__all__ = [
    "LINK_RE",
    "MESSAGE_RULES",
    "EngineStats",
    "Flag",
    "ModerationConfig",
    "ModerationEngine",
    "RuleAction",
    "RuleName",
    "blocklist_match",
    "contains_link",
    "find_links",
    "format_span",
    "is_blocklisted",
    "normalize_text",
]


class RuleAction(StrEnum):
    """What happens when a rule fires."""

    NOTIFY = "notify"
    """Only list the flag in the moderation queue for an operator to act on."""
    AUTO_REMOVE = "auto_remove"
    """Remove the participant from the group without asking."""
    AUTO_REJECT = "auto_reject"
    """Reject the join request without asking (join requests only)."""


class RuleName(StrEnum):
    """The moderation rules."""

    LINK_FLOOD = "link_flood"
    CROSS_GROUP_DUPLICATE = "cross_group_duplicate"
    BURST = "burst"
    NEW_MEMBER_LINK = "new_member_link"
    BLOCKLIST = "blocklist"


MESSAGE_RULES: frozenset[RuleName] = frozenset(
    {
        RuleName.LINK_FLOOD,
        RuleName.CROSS_GROUP_DUPLICATE,
        RuleName.BURST,
        RuleName.NEW_MEMBER_LINK,
    }
)
"""Rules that only see messages from members; ``auto_reject`` makes no sense for them."""


# --- links --------------------------------------------------------------------------------

_BARE_TLDS = (
    "com", "net", "org", "info", "biz", "io", "co", "xyz", "top", "site", "online", "app",
    "dev", "shop", "store", "club", "live", "link", "click", "ly", "gg", "cc", "tv", "ws",
    "pw", "tk", "ml", "ga", "cf", "gq", "icu", "vip", "win", "bid", "loan", "work", "fun",
    "space", "website", "tech", "pro", "news", "buzz", "monster", "cyou", "sbs", "cfd",
    "uk", "de", "fr", "eu", "es", "nl", "pl", "ru", "cn", "br", "mx", "ar", "za", "ng",
    "gh", "ke", "au", "ca", "tr", "pk", "ph", "vn", "ir", "ua",
)  # fmt: skip
# Deliberately absent: TLDs that are everyday words or abbreviations ("in", "me", "it",
# "to", "at", "be", "us", "so", "do", "am", "no", "is", "my", "go"), which would turn
# "hello.it" or "10.am" into links. Full URLs with those TLDs still match via the scheme
# or www branches.

LINK_RE: re.Pattern[str] = re.compile(
    r"""
    (?:
        \bhttps?://\S+
      | \bwww\.[^\W_](?:[\w-]*)(?:\.[\w-]+)+\S*
      | (?<![\w@./-])(?:chat\.whatsapp\.com|wa\.me|(?:t|telegram)\.me)/\S*
      | (?<![\w@./-])
        (?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+
        (?:"""
    + "|".join(_BARE_TLDS)
    + r""")
        (?![\w-])
        (?::\d{1,5})?
        (?:/\S*)?
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
"""Matches http(s) URLs, ``www.`` hosts, bare domains with common TLDs, WhatsApp group
invites (``chat.whatsapp.com/…``), ``wa.me/…`` and Telegram (``t.me/…``) links.

Decimal numbers ("3.50"), abbreviations ("e.g.", "a.m.") and e-mail addresses do not
match: a bare domain needs a listed TLD and must not follow ``@``, a word character, a dot,
a slash or a hyphen."""

_TRAILING_PUNCTUATION = ".,;:!?)]}>'\"…"


def find_links(text: str) -> list[str]:
    """Every link in ``text``, in order, without trailing sentence punctuation.

    Args:
        text: Message text or caption.

    Returns:
        The matched links as written (``"bit.ly/x"``, ``"https://example.com/a"``...).
    """
    return [m.group(0).rstrip(_TRAILING_PUNCTUATION) for m in LINK_RE.finditer(text)]


def contains_link(text: str | None) -> bool:
    """Whether ``text`` contains at least one link (see :data:`LINK_RE`).

    Args:
        text: Message text or caption; ``None`` has no link.

    Returns:
        True if a link was found.
    """
    return text is not None and LINK_RE.search(text) is not None


_WHITESPACE_RE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Reduce a message text to what the cross-group rule compares.

    NFKC-normalised, invisible format characters (zero-width spaces and joiners, bidi
    marks) dropped, case-folded, whitespace runs collapsed to one space and trimmed. URLs
    are kept: the same pitch pointing at two different links is two different texts.

    Args:
        text: Message text or caption.

    Returns:
        The normalised text.
    """
    if not text.isascii():  # ASCII is already NFKC and has no format characters
        text = unicodedata.normalize("NFKC", text)
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _WHITESPACE_RE.sub(" ", text.casefold()).strip()


# --- blocklist ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Blocklist:
    """A parsed blocklist: digit prefixes for numbers, exact strings for user ids."""

    prefixes: tuple[tuple[str, str], ...]
    keys: Mapping[str, str]

    def match(self, number_or_key: str | None) -> str | None:
        if not number_or_key:
            return None
        value = normalize_input(number_or_key)
        if value.isdigit():
            for digits, entry in self.prefixes:
                if value.startswith(digits):
                    return entry
            return None
        return self.keys.get(value)


def _blocklist_entry_kind(entry: str) -> str | None:
    """``"digits"`` or ``"key"`` for a valid entry, ``None`` for an invalid one."""
    stripped = entry.strip()
    if not stripped:
        return None
    value = normalize_input(stripped)
    if value.isdigit():
        return "digits"
    # A phone-looking entry with stray characters is a typo, not a user id (BSUIDs start
    # with a country code in letters, e.g. "US.13491208655302741918").
    if stripped[0] in "+0123456789" or any(ch.isspace() for ch in stripped):
        return None
    return "key"


def _parse_blocklist(entries: Iterable[str]) -> _Blocklist:
    prefixes: list[tuple[str, str]] = []
    keys: dict[str, str] = {}
    for entry in entries:
        kind = _blocklist_entry_kind(entry)
        if kind == "digits":
            prefixes.append((normalize_input(entry), entry.strip()))
        elif kind == "key":
            keys[entry.strip()] = entry.strip()
    return _Blocklist(tuple(prefixes), keys)


def blocklist_match(number_or_key: str | None, blocklist: Iterable[str]) -> str | None:
    """The blocklist entry that ``number_or_key`` matches, if any.

    Phone-shaped entries (``"+234"``, ``"2348"``, ``"+44 7700 900123"``) are matched on
    digits as prefixes, so ``"+234"`` covers every Nigerian number and a complete number
    covers exactly that number. Other entries are user ids (BSUIDs) and match exactly.

    Args:
        number_or_key: A ``wa_id``, a phone number in any punctuation, or a member key.
        blocklist: The configured entries.

    Returns:
        The matching entry as configured, or ``None``.
    """
    return _parse_blocklist(blocklist).match(number_or_key)


def is_blocklisted(number_or_key: str | None, blocklist: Iterable[str]) -> bool:
    """Whether ``number_or_key`` matches an entry of ``blocklist``.

    Args:
        number_or_key: A ``wa_id``, a phone number in any punctuation, or a member key.
        blocklist: The configured entries (see :func:`blocklist_match`).

    Returns:
        True if some entry matches.
    """
    return blocklist_match(number_or_key, blocklist) is not None


# --- configuration ------------------------------------------------------------------------

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
            if not isinstance(entry, str) or _blocklist_entry_kind(entry) is None:
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
            if not isinstance(entry, str) or _blocklist_entry_kind(entry) is None:
                raise ValueError(
                    f"{self._name(key)}[{index}] must be a phone number, a +prefix such "
                    f"as '+234', or a user id, got {entry!r}"
                )
            entries.append(entry.strip())
        return tuple(entries)


# --- flags --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """Something a rule found, for the moderation queue (and for automatic action).

    Attributes:
        rule: The rule that fired.
        action: What to do: ``notify`` (queue only), ``auto_remove`` (remove the
            participant) or ``auto_reject`` (reject the join request).
        group_id: The group.
        participant_key: The sender's or requester's member key.
        wa_id: Their ``wa_id``, if known.
        message_id: The message that made the rule fire, for message rules.
        join_request_id: The join request, for a blocklisted join request.
        at: Epoch seconds of the event that made the rule fire.
        reason: A sentence for the operator, e.g. "4 links in 10 min from +44 7700 900123".
        evidence: Ids of the messages behind the flag, oldest first.
    """

    rule: RuleName
    action: RuleAction
    group_id: str
    participant_key: str
    wa_id: str | None
    message_id: str | None = None
    join_request_id: str | None = None
    at: int
    reason: str
    evidence: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[RuleName, str, str]:
        """``(rule, group_id, participant_key)``: what de-duplication is keyed on."""
        return (self.rule, self.group_id, self.participant_key)

    @property
    def automatic(self) -> bool:
        """True if the flag asks for a removal or rejection without an operator."""
        return self.action is not RuleAction.NOTIFY


def format_span(seconds: int) -> str:
    """A short duration for reasons: ``"45 s"``, ``"10 min"``, ``"6 h"``, ``"1 h 30 min"``.

    Args:
        seconds: A non-negative duration.

    Returns:
        The label.
    """
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


@lru_cache(maxsize=4_096)
def _describe(wa_id: str | None, participant_key: str) -> str:
    """The sender as a reason names them: an international number when possible."""
    number = normalize_input(wa_id) if wa_id else ""
    if number.isdigit():
        try:
            parsed = phonenumbers.parse("+" + number)
        except phonenumbers.NumberParseException:
            return "+" + number
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return participant_key or "an unknown sender"


# --- engine -------------------------------------------------------------------------------


class _Timed(Protocol):
    @property
    def at(self) -> int: ...

    @property
    def message_id(self) -> str: ...


_E = TypeVar("_E", bound=_Timed)


class _Entry(NamedTuple):
    at: int
    message_id: str


class _TextEntry(NamedTuple):
    at: int
    message_id: str
    group_id: str
    digest: bytes


@dataclass(slots=True)
class _PairTrack:
    """Recent messages of one sender in one group."""

    messages: deque[_Entry] = field(default_factory=deque)
    links: deque[_Entry] = field(default_factory=deque)
    last_at: int = 0


@dataclass(slots=True)
class _SenderTrack:
    """Recent long-enough texts of one sender across groups."""

    texts: deque[_TextEntry] = field(default_factory=deque)
    last_at: int = 0


@dataclass(slots=True)
class _Active:
    """A flag that fired and still suppresses repeats of its (rule, group, sender)."""

    flag: Flag
    fired_at: int
    evidence: deque[str]
    last_at: int = 0


@dataclass(frozen=True, slots=True)
class EngineStats:
    """How much the engine holds, for tests and diagnostics.

    Attributes:
        pairs: Tracked (group, sender) pairs.
        senders: Tracked senders (cross-group texts).
        active_flags: Flags still suppressing repeats.
        join_requests: Recently flagged join request ids.
        entries: Stored window entries and evidence ids, all tables together.
    """

    pairs: int
    senders: int
    active_flags: int
    join_requests: int
    entries: int

    @property
    def keys(self) -> int:
        """All tracked keys together."""
        return self.pairs + self.senders + self.active_flags + self.join_requests


def _insert(entries: deque[_E], entry: _E, cap: int) -> bool:
    """Insert keeping ``entries`` sorted by time; False if the message is already there."""
    if any(e.message_id == entry.message_id for e in entries):
        return False
    if not entries or entries[-1].at <= entry.at:
        entries.append(entry)
    else:
        # Late arrival: walk back from the newest (events are at most slightly late).
        index = len(entries)
        while index > 0 and entries[index - 1].at > entry.at:
            index -= 1
        entries.insert(index, entry)
    while len(entries) > cap:
        entries.popleft()
    return True


def _prune(entries: deque[_E], cutoff: int) -> None:
    while entries and entries[0].at < cutoff:
        entries.popleft()


def _best_window(entries: Iterable[_E], at: int, window: int) -> list[_E]:
    """The largest run of entries spanning at most ``window`` seconds that includes ``at``.

    ``entries`` must be sorted by time. Only windows containing the new event are
    considered: any other full window was already complete, and judged, when its own
    last event arrived.
    """
    items = [e for e in entries if at - window <= e.at <= at + window]
    best: list[_E] = []
    end = 0
    for start, first in enumerate(items):
        if first.at > at:
            break
        end = max(end, start)
        while end < len(items) and items[end].at <= first.at + window:
            end += 1
        if end - start > len(best):
            best = items[start:end]
    return best


def _best_group_window(
    entries: Sequence[_TextEntry], at: int, window: int
) -> tuple[list[_TextEntry], set[str]]:
    """Like :func:`_best_window`, maximising the number of distinct groups."""
    best: list[_TextEntry] = []
    best_groups: set[str] = set()
    for first in entries:
        if first.at < at - window:
            continue
        if first.at > at:
            break
        run = [e for e in entries if first.at <= e.at <= first.at + window]
        groups = {e.group_id for e in run}
        if len(groups) > len(best_groups):
            best, best_groups = run, groups
    return best, best_groups


_K = TypeVar("_K")
_V = TypeVar("_V", _PairTrack, _SenderTrack, _Active)


def _touch(table: OrderedDict[_K, _V], key: _K, value: _V, at: int, cap: int) -> None:
    """Mark ``key`` as recently active, and evict the least recently active past ``cap``."""
    value.last_at = max(value.last_at, at)
    table[key] = value
    table.move_to_end(key)
    while len(table) > cap:
        table.popitem(last=False)


def _sweep(table: OrderedDict[_K, _V], cutoff: int) -> None:
    """Drop keys from the least recently touched end while they are older than ``cutoff``.

    Touch order follows event time closely (events are at most slightly out of order), so
    this stops at the first fresh key and costs O(1) amortised per event.
    """
    while table:
        key, value = next(iter(table.items()))
        if value.last_at >= cutoff:
            return
        del table[key]


class ModerationEngine:
    """Incremental, bounded evaluation of the moderation rules.

    Feed it every inbound group message, join request and join, in roughly the order they
    happened; each call returns the flags that fired. A flag for a (rule, group, sender)
    does not fire again until that rule's window has passed since it fired; meanwhile
    new evidence is added to it (see :meth:`current_flag`). Feeding an event twice never
    fires anything new: message and join request ids are remembered for as long as they
    can matter, and events further behind the newest one seen than a rule's window are
    ignored by that rule.

    Args:
        config: Thresholds and actions; the defaults if omitted.
    """

    def __init__(self, config: ModerationConfig | None = None) -> None:
        self._config = config or ModerationConfig()
        self._blocklist = _parse_blocklist(self._config.blocklist)
        self._windows = {rule: self._config.window_for(rule) for rule in RuleName}
        self._now: int | None = None
        self._pairs: OrderedDict[tuple[str, str], _PairTrack] = OrderedDict()
        self._senders: OrderedDict[str, _SenderTrack] = OrderedDict()
        self._active: dict[RuleName, OrderedDict[tuple[str, str], _Active]] = {
            rule: OrderedDict() for rule in RuleName
        }
        self._join_requests: OrderedDict[str, int] = OrderedDict()

    @property
    def config(self) -> ModerationConfig:
        """The configuration the engine was built with."""
        return self._config

    @property
    def now(self) -> int | None:
        """The newest event time seen (the engine's notion of now), or ``None``."""
        return self._now

    # -- public observation API ----------------------------------------------------------

    def observe_message(
        self,
        group_id: str,
        participant_key: str,
        wa_id: str | None,
        message_id: str,
        text: str | None,
        at: int,
        joined_at: int | None,
    ) -> list[Flag]:
        """Evaluate an inbound member message.

        Args:
            group_id: The group.
            participant_key: The sender's member key (``user_id`` else ``wa_id``); a
                message without one is ignored.
            wa_id: The sender's ``wa_id``, if known.
            message_id: The wamid; a message seen before is not counted again.
            text: Text body or caption (``None`` for media without caption).
            at: The webhook's epoch seconds.
            joined_at: When the sender joined the group, if known (``new_member_link``).

        Returns:
            Flags that fired, in :class:`RuleName` order (cross-group flags by group).
        """
        self._advance(at)
        if not participant_key:
            return []
        cfg = self._config
        flags: list[Flag] = []
        who = _Who(group_id, participant_key, wa_id)
        has_link = contains_link(text)
        new_message = new_link = False
        track = self._pairs.get((group_id, participant_key)) or _PairTrack()
        cap = cfg.max_entries_per_sender
        # Entries are kept for twice a rule's window so that every window around a fresh
        # event (at >= now - W) is still complete, however late that event arrived.
        _prune(track.messages, self._cutoff(2 * cfg.burst_window))
        _prune(track.links, self._cutoff(2 * cfg.link_flood_window))
        if self._fresh(at, cfg.burst_window):
            new_message = _insert(track.messages, _Entry(at, message_id), cap)
        if has_link and self._fresh(at, cfg.link_flood_window):
            new_link = _insert(track.links, _Entry(at, message_id), cap)
        if track.messages or track.links:
            _touch(self._pairs, (group_id, participant_key), track, at, cfg.max_tracked_keys)
        if self._enabled(RuleName.BLOCKLIST):
            flags.extend(self._blocklist_on_member(who, message_id, at))
        if self._enabled(RuleName.LINK_FLOOD) and new_link:
            flags.extend(self._link_flood(who, track, message_id, at))
        if self._enabled(RuleName.BURST) and new_message:
            flags.extend(self._burst(who, track, message_id, at))
        if self._enabled(RuleName.NEW_MEMBER_LINK) and has_link and joined_at is not None:
            flags.extend(self._new_member_link(who, message_id, at, joined_at))
        if self._enabled(RuleName.CROSS_GROUP_DUPLICATE) and text:
            flags.extend(self._cross_group(who, message_id, text, at))
        return flags

    def observe_join_request(
        self,
        group_id: str,
        join_request_id: str,
        participant_key: str,
        wa_id: str | None,
        at: int,
    ) -> list[Flag]:
        """Evaluate a new join request (only the blocklist applies).

        Args:
            group_id: The group asked to join.
            join_request_id: Meta's id for the request; each request is flagged once.
            participant_key: The requester's key.
            wa_id: The requester's ``wa_id``, if known.
            at: The webhook's epoch seconds.

        Returns:
            At most one ``blocklist`` flag, with action ``auto_reject`` when the blocklist
            action is ``auto_reject`` or ``auto_remove``, else ``notify``.
        """
        self._advance(at)
        cfg = self._config
        if not self._enabled(RuleName.BLOCKLIST) or not self._fresh(at, cfg.horizon):
            return []
        entry = self._blocklisted(participant_key, wa_id)
        if entry is None or join_request_id in self._join_requests:
            return []
        self._join_requests[join_request_id] = at
        while len(self._join_requests) > cfg.max_tracked_keys:
            self._join_requests.popitem(last=False)
        action = (
            RuleAction.AUTO_REJECT
            if cfg.blocklist_action is not RuleAction.NOTIFY
            else RuleAction.NOTIFY
        )
        who = _describe(wa_id, participant_key)
        return [
            Flag(
                rule=RuleName.BLOCKLIST,
                action=action,
                group_id=group_id,
                participant_key=participant_key,
                wa_id=wa_id,
                join_request_id=join_request_id,
                at=at,
                reason=f'Join request from {who}, who matches blocklist entry "{entry}"',
            )
        ]

    def observe_join(
        self, group_id: str, participant_key: str, wa_id: str | None, at: int
    ) -> list[Flag]:
        """Evaluate a participant joining (only the blocklist applies).

        Args:
            group_id: The group joined.
            participant_key: The new member's key.
            wa_id: Their ``wa_id``, if known.
            at: The webhook's epoch seconds.

        Returns:
            At most one ``blocklist`` flag, with action ``auto_remove`` when so configured,
            else ``notify``. A join flags again even soon after an earlier flag for the
            same member (they were removed and are back), but not for a join no newer
            than that flag (a redelivery).
        """
        self._advance(at)
        cfg = self._config
        if not self._enabled(RuleName.BLOCKLIST) or not self._fresh(at, cfg.horizon):
            return []
        entry = self._blocklisted(participant_key, wa_id)
        if entry is None:
            return []
        table = self._active[RuleName.BLOCKLIST]
        key = (group_id, participant_key or wa_id or "")
        active = table.get(key)
        if active is not None and at <= active.fired_at:
            _touch(table, key, active, at, cfg.max_tracked_keys)
            return []
        who = _describe(wa_id, participant_key)
        flag = Flag(
            rule=RuleName.BLOCKLIST,
            action=self._member_blocklist_action(),
            group_id=group_id,
            participant_key=participant_key,
            wa_id=wa_id,
            at=at,
            reason=f'{who} joined and matches blocklist entry "{entry}"',
        )
        _touch(table, key, _Active(flag, at, deque()), at, cfg.max_tracked_keys)
        return [flag]

    def current_flag(self, rule: RuleName, group_id: str, participant_key: str) -> Flag | None:
        """The flag still suppressing repeats for this (rule, group, sender), if any.

        Args:
            rule: The rule.
            group_id: The group.
            participant_key: The sender's key.

        Returns:
            The flag as it fired, with its evidence grown by every qualifying message
            since (up to ``max_entries_per_sender`` ids), or ``None``.
        """
        active = self._active[rule].get((group_id, participant_key))
        if active is None:
            return None
        return replace(active.flag, evidence=tuple(active.evidence))

    def stats(self) -> EngineStats:
        """Sizes of the internal tables.

        Returns:
            Counts of keys and stored entries.
        """
        entries = sum(len(t.messages) + len(t.links) for t in self._pairs.values())
        entries += sum(len(t.texts) for t in self._senders.values())
        active = 0
        for table in self._active.values():
            active += len(table)
            entries += sum(len(a.evidence) for a in table.values())
        return EngineStats(
            pairs=len(self._pairs),
            senders=len(self._senders),
            active_flags=active,
            join_requests=len(self._join_requests),
            entries=entries,
        )

    # -- time and bookkeeping -------------------------------------------------------------

    def _advance(self, at: int) -> None:
        if self._now is not None and at <= self._now:
            return
        self._now = at
        cfg = self._config
        _sweep(self._pairs, self._cutoff(2 * max(cfg.burst_window, cfg.link_flood_window)))
        _sweep(self._senders, self._cutoff(2 * cfg.duplicate_window))
        for rule, table in self._active.items():
            # An active flag matters while a fresh event (at >= now - W) could still fall
            # in its suppression span (at <= fired_at + W).
            _sweep(table, self._cutoff(2 * self._windows[rule]))
        cutoff = self._cutoff(cfg.horizon)
        while self._join_requests and next(iter(self._join_requests.values())) < cutoff:
            self._join_requests.popitem(last=False)

    def _cutoff(self, window: int) -> int:
        return (self._now or 0) - window

    def _fresh(self, at: int, window: int) -> bool:
        """Whether an event is recent enough for a rule with this window to consider."""
        return at >= self._cutoff(window)

    def _enabled(self, rule: RuleName) -> bool:
        return self._config.enabled(rule)

    def _blocklisted(self, participant_key: str, wa_id: str | None) -> str | None:
        return self._blocklist.match(wa_id) or self._blocklist.match(participant_key)

    def _member_blocklist_action(self) -> RuleAction:
        if self._config.blocklist_action is RuleAction.AUTO_REMOVE:
            return RuleAction.AUTO_REMOVE
        return RuleAction.NOTIFY

    def _fire_or_grow(
        self,
        rule: RuleName,
        who: _Who,
        message_id: str,
        at: int,
        evidence: Sequence[str],
        reason: str,
        action: RuleAction | None = None,
    ) -> list[Flag]:
        """Fire a flag, or add ``evidence`` to the one still suppressing repeats."""
        cfg = self._config
        table = self._active[rule]
        key = (who.group_id, who.participant_key)
        active = table.get(key)
        if active is not None and at <= active.fired_at + self._windows[rule]:
            for item in evidence:
                if item not in active.evidence:
                    active.evidence.append(item)
            while len(active.evidence) > cfg.max_entries_per_sender:
                active.evidence.popleft()
            _touch(table, key, active, at, cfg.max_tracked_keys)
            return []
        flag = Flag(
            rule=rule,
            action=action or cfg.action_for(rule),
            group_id=who.group_id,
            participant_key=who.participant_key,
            wa_id=who.wa_id,
            message_id=message_id,
            at=at,
            reason=reason,
            evidence=tuple(evidence[-cfg.max_entries_per_sender :]),
        )
        _touch(table, key, _Active(flag, at, deque(flag.evidence)), at, cfg.max_tracked_keys)
        return [flag]

    # -- rules ---------------------------------------------------------------------------

    def _blocklist_on_member(self, who: _Who, message_id: str, at: int) -> list[Flag]:
        if not self._fresh(at, self._config.horizon):
            return []
        entry = self._blocklisted(who.participant_key, who.wa_id)
        if entry is None:
            return []
        reason = f'Message from {who.label}, who matches blocklist entry "{entry}"'
        return self._fire_or_grow(
            RuleName.BLOCKLIST,
            who,
            message_id,
            at,
            [message_id],
            reason,
            self._member_blocklist_action(),
        )

    def _link_flood(self, who: _Who, track: _PairTrack, message_id: str, at: int) -> list[Flag]:
        cfg = self._config
        if not self._fresh(at, cfg.link_flood_window):
            return []
        run = _best_window(track.links, at, cfg.link_flood_window)
        if len(run) < cfg.link_flood_count:
            return []
        reason = f"{len(run)} links in {format_span(cfg.link_flood_window)} from {who.label}"
        ids = [e.message_id for e in run]
        return self._fire_or_grow(RuleName.LINK_FLOOD, who, message_id, at, ids, reason)

    def _burst(self, who: _Who, track: _PairTrack, message_id: str, at: int) -> list[Flag]:
        cfg = self._config
        if not self._fresh(at, cfg.burst_window):
            return []
        run = _best_window(track.messages, at, cfg.burst_window)
        if len(run) < cfg.burst_count:
            return []
        reason = f"{len(run)} messages in {format_span(cfg.burst_window)} from {who.label}"
        ids = [e.message_id for e in run]
        return self._fire_or_grow(RuleName.BURST, who, message_id, at, ids, reason)

    def _new_member_link(self, who: _Who, message_id: str, at: int, joined_at: int) -> list[Flag]:
        cfg = self._config
        elapsed = at - joined_at
        if not 0 <= elapsed <= cfg.new_member_window or not self._fresh(at, cfg.new_member_window):
            return []
        reason = f"Link from {who.label} {format_span(elapsed)} after joining"
        return self._fire_or_grow(
            RuleName.NEW_MEMBER_LINK, who, message_id, at, [message_id], reason
        )

    def _cross_group(self, who: _Who, message_id: str, text: str, at: int) -> list[Flag]:
        cfg = self._config
        if not self._fresh(at, cfg.duplicate_window):
            return []
        normalized = normalize_text(text)
        if len(normalized) < cfg.duplicate_min_length:
            return []
        digest = hashlib.blake2b(normalized.encode("utf-8"), digest_size=8).digest()
        track = self._senders.get(who.participant_key) or _SenderTrack()
        _prune(track.texts, self._cutoff(2 * cfg.duplicate_window))
        entry = _TextEntry(at, message_id, who.group_id, digest)
        inserted = _insert(track.texts, entry, cfg.max_entries_per_sender)
        _touch(self._senders, who.participant_key, track, at, cfg.max_tracked_keys)
        if not inserted:
            return []
        same = [e for e in track.texts if e.digest == digest]
        run, groups = _best_group_window(same, at, cfg.duplicate_window)
        if len(groups) < cfg.duplicate_groups:
            return []
        reason = (
            f"The same text in {len(groups)} groups within "
            f"{format_span(cfg.duplicate_window)} from {who.label}"
        )
        ids = [e.message_id for e in run]
        latest = {e.group_id: e.message_id for e in run}  # run is sorted: the last one wins
        flags: list[Flag] = []
        for group_id in sorted(groups):
            # Each group gets its own flag, pointing at that group's latest copy of the
            # text, so an automatic removal clears the sender from every group involved.
            flags.extend(
                self._fire_or_grow(
                    RuleName.CROSS_GROUP_DUPLICATE,
                    _Who(group_id, who.participant_key, who.wa_id),
                    latest[group_id],
                    at,
                    ids,
                    reason,
                )
            )
        return flags


@dataclass(frozen=True, slots=True)
class _Who:
    """The sender of the event being evaluated."""

    group_id: str
    participant_key: str
    wa_id: str | None

    @property
    def label(self) -> str:
        return _describe(self.wa_id, self.participant_key)
