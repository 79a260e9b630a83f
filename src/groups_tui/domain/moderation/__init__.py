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

Modules:

* :mod:`.rules`: rule names and actions, and the :class:`~.rules.Flag` a rule reports.
* :mod:`.text`: how rules read message text (links, normalised text).
* :mod:`.blocklist`: blocklist entries and matching.
* :mod:`.config`: thresholds and actions, validated, and read from TOML.
* :mod:`.tracking`: the engine's bounded memory (time-sorted windows, LRU tables).
* :mod:`.engine`: :class:`~.engine.ModerationEngine`, which applies the rules.
"""
