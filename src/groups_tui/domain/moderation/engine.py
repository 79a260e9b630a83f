"""The moderation engine: incremental, bounded, deterministic evaluation of the rules."""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .blocklist import parse_blocklist
from .config import ModerationConfig
from .rules import Flag, RuleAction, RuleName, describe, format_span
from .text import contains_link, normalize_text
from .tracking import (
    ActiveFlag,
    Entry,
    PairTrack,
    SenderTrack,
    TextEntry,
    best_group_window,
    best_window,
    insert,
    prune,
    sweep,
    touch,
)

__all__ = ["EngineStats", "ModerationEngine"]


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
        self._blocklist = parse_blocklist(self._config.blocklist)
        self._windows = {rule: self._config.window_for(rule) for rule in RuleName}
        self._now: int | None = None
        self._pairs: OrderedDict[tuple[str, str], PairTrack] = OrderedDict()
        self._senders: OrderedDict[str, SenderTrack] = OrderedDict()
        self._active: dict[RuleName, OrderedDict[tuple[str, str], ActiveFlag]] = {
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
        track = self._pairs.get((group_id, participant_key)) or PairTrack()
        cap = cfg.max_entries_per_sender
        # Entries are kept for twice a rule's window so that every window around a fresh
        # event (at >= now - W) is still complete, however late that event arrived.
        prune(track.messages, self._cutoff(2 * cfg.burst_window))
        prune(track.links, self._cutoff(2 * cfg.link_flood_window))
        if self._fresh(at, cfg.burst_window):
            new_message = insert(track.messages, Entry(at, message_id), cap)
        if has_link and self._fresh(at, cfg.link_flood_window):
            new_link = insert(track.links, Entry(at, message_id), cap)
        if track.messages or track.links:
            touch(self._pairs, (group_id, participant_key), track, at, cfg.max_tracked_keys)
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
        who = describe(wa_id, participant_key)
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
            touch(table, key, active, at, cfg.max_tracked_keys)
            return []
        who = describe(wa_id, participant_key)
        flag = Flag(
            rule=RuleName.BLOCKLIST,
            action=self._member_blocklist_action(),
            group_id=group_id,
            participant_key=participant_key,
            wa_id=wa_id,
            at=at,
            reason=f'{who} joined and matches blocklist entry "{entry}"',
        )
        touch(table, key, ActiveFlag(flag, at, deque()), at, cfg.max_tracked_keys)
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
        sweep(self._pairs, self._cutoff(2 * max(cfg.burst_window, cfg.link_flood_window)))
        sweep(self._senders, self._cutoff(2 * cfg.duplicate_window))
        for rule, table in self._active.items():
            # An active flag matters while a fresh event (at >= now - W) could still fall
            # in its suppression span (at <= fired_at + W).
            sweep(table, self._cutoff(2 * self._windows[rule]))
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
            touch(table, key, active, at, cfg.max_tracked_keys)
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
        touch(table, key, ActiveFlag(flag, at, deque(flag.evidence)), at, cfg.max_tracked_keys)
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

    def _link_flood(self, who: _Who, track: PairTrack, message_id: str, at: int) -> list[Flag]:
        cfg = self._config
        if not self._fresh(at, cfg.link_flood_window):
            return []
        run = best_window(track.links, at, cfg.link_flood_window)
        if len(run) < cfg.link_flood_count:
            return []
        reason = f"{len(run)} links in {format_span(cfg.link_flood_window)} from {who.label}"
        ids = [e.message_id for e in run]
        return self._fire_or_grow(RuleName.LINK_FLOOD, who, message_id, at, ids, reason)

    def _burst(self, who: _Who, track: PairTrack, message_id: str, at: int) -> list[Flag]:
        cfg = self._config
        if not self._fresh(at, cfg.burst_window):
            return []
        run = best_window(track.messages, at, cfg.burst_window)
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
        track = self._senders.get(who.participant_key) or SenderTrack()
        prune(track.texts, self._cutoff(2 * cfg.duplicate_window))
        entry = TextEntry(at, message_id, who.group_id, digest)
        inserted = insert(track.texts, entry, cfg.max_entries_per_sender)
        touch(self._senders, who.participant_key, track, at, cfg.max_tracked_keys)
        if not inserted:
            return []
        same = [e for e in track.texts if e.digest == digest]
        run, groups = best_group_window(same, at, cfg.duplicate_window)
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
        return describe(self.wa_id, self.participant_key)
