"""Applying domain events to derived state, idempotently and order-safely.

Event time is the webhook's ``at``, never the receipt time. Every "latest" value has an
ordering rule with a deterministic tie-break, so that any arrival order of the same
events (and any repeat of them) ends in the same state; ``events replay`` relies on it.
Each rule is written next to the code that keeps it:

* :mod:`.groups`: subject, description, invite link, join-approval mode, picture,
  creation, suspension and deletion of a group (and the group a read shows).
* :mod:`.members`: membership (the newest event wins, exits win ties), ``joined_at``,
  participant history, and what a read of the group (:class:`GroupRead`) records as
  observed joins and leaves, replaced by their webhooks; the known limit of identity
  fields.
* :mod:`.joins`: join requests (approved by a later join, closed at the earliest revoke,
  a local decision wins) and how each join came about (``via``).
* :mod:`.messages`: inbound messages, unread counts and the window (last inbound
  message); outside isolation a batch's messages are stored in multi-row inserts.
* :mod:`.statuses`: delivery states (they only rise in rank).
* :mod:`.costs`: the cost ledger (one line per message and participant, from the
  earliest priced status).
* :mod:`.operations`: pending operations settled by webhooks, and ``early_outcomes`` for
  the ones not yet recorded.

:class:`Applier` (:mod:`.applier`) hands each event to its component; the components
share one :class:`~.context.ApplyContext` (the writer's cursor, the buffered change feed,
the per-batch caches) and nothing else.

An event that raises is rolled back alone when the caller asks for isolation (the
listener's write path, see ``raw_log.apply_isolated``): it is recorded in
``event_failures`` and the rest of its body is applied.

Every change appends one change-feed row in the same transaction.

The applier is synchronous and runs inside a write function on the database's writer
thread (see ``RawLog.apply_batch``), so a whole batch costs one hop to that thread.
Change-feed rows and ``raw_events`` bookkeeping are buffered and written with
``executemany`` by :meth:`Applier.flush`; nothing in here reads those tables back.
"""

from __future__ import annotations

from groups_tui.store.apply.applier import Applier, event_key
from groups_tui.store.apply.operations import EARLY_OUTCOME_KINDS

__all__ = ["EARLY_OUTCOME_KINDS", "Applier", "event_key"]
