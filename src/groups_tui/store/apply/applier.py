"""The applier: hands each domain event to the component that applies it.

:class:`Applier` composes one :class:`~.context.ApplyContext` and the components over it
(:class:`~.groups.GroupApplier`, :class:`~.members.MemberApplier`,
:class:`~.joins.JoinRequestApplier`, :class:`~.messages.MessageApplier`,
:class:`~.statuses.StatusApplier`, with :class:`~.joins.JoinSettler`,
:class:`~.costs.CostCharger` and :class:`~.operations.OperationSettler` that they share).

With isolation each event runs in its own savepoint: one that raises is rolled back
alone (its writes, its change-feed rows and the context's caches), recorded in
:attr:`Applier.failures` with an ``event.failed`` change-feed row, and the next event is
applied.

Every event is routed first (:class:`~groups_tui.store.numbers.Routing`): by the number
its webhook names, else the number of the group it is about, else the first number
served. An event of a number the database does not serve is skipped whole: nothing of it
reaches the groups, the ledger or the change feed (its raw row is marked
``other_number`` when none of its events was for a number served here).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
    GroupRead,
    GroupSuspendCleared,
    GroupSuspended,
    InboundMessage,
    JoinRequestCreated,
    JoinRequestRevoked,
    MessageStatus,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
    SettingsChanged,
    SettingsChangeFailed,
    UnknownEvent,
)
from groups_tui.store.apply.context import ApplyContext
from groups_tui.store.apply.costs import CostCharger
from groups_tui.store.apply.groups import GroupApplier
from groups_tui.store.apply.joins import JoinRequestApplier, JoinSettler
from groups_tui.store.apply.members import MemberApplier
from groups_tui.store.apply.messages import MessageApplier
from groups_tui.store.apply.operations import OperationSettler
from groups_tui.store.apply.statuses import StatusApplier
from groups_tui.store.numbers import Routing
from groups_tui.store.records import CostFn, EventFailure, MarketFn

__all__ = ["Applier", "event_key"]


def event_key(event: object) -> str | None:
    """The event's dedupe key, or ``None`` for something that is not an event."""
    try:
        key = getattr(event, "dedupe_key", None)
    except Exception:  # a malformed event must not hide the original failure
        return None
    return key if isinstance(key, str) else None


def _event_group(event: object) -> str | None:
    group_id = getattr(event, "group_id", None)
    return group_id if isinstance(group_id, str) else None


def _event_at(event: object) -> int | None:
    at = getattr(event, "at", None)
    return at if isinstance(at, int) else None


class Applier:
    """Applies events inside a transaction the caller owns, synchronously.

    Call :meth:`flush` before committing: change-feed rows and the ``applied_at`` marks
    are buffered until then.

    Args:
        conn: Writer ``sqlite3`` connection with an open transaction (used only from the
            thread that owns it).
        cost_fn: Prices ledger lines (``None`` → amounts unknown).
        market_fn: Maps ``wa_id`` to a market name.
        now: Bookkeeping time for ``raw_events.applied_at``.
        routing: The numbers the database serves (the default serves every number).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        cost_fn: CostFn | None,
        market_fn: MarketFn | None,
        now: float,
        routing: Routing | None = None,
    ) -> None:
        ctx = ApplyContext(conn, now=now)
        self._routing = routing or Routing()
        operations = OperationSettler(ctx)
        joins = JoinSettler(ctx)
        self._ctx = ctx
        self._groups = GroupApplier(ctx, operations)
        self._members = MemberApplier(ctx, joins, operations)
        self._join_requests = JoinRequestApplier(ctx, joins)
        self._messages = MessageApplier(ctx)
        self._statuses = StatusApplier(ctx, CostCharger(ctx, cost_fn=cost_fn, market_fn=market_fn))
        groups, members = self._groups, self._members

        def read(event: GroupRead) -> None:
            groups.read(event)
            members.read(event)

        # Bound methods of the components only: one of the applier itself would make a
        # reference cycle, keeping the applier (and its cursor's last statement, open on
        # the connection) alive until the garbage collector runs.
        self._handlers: dict[type, Callable[[Any], None]] = {
            GroupCreated: self._groups.created,
            GroupCreateFailed: self._groups.create_failed,
            GroupDeleted: self._groups.deleted,
            GroupDeleteFailed: self._groups.delete_failed,
            ParticipantsJoined: self._members.joined,
            ParticipantsLeft: self._members.left,
            ParticipantsRemoved: self._members.removed,
            ParticipantsRemoveFailed: self._members.remove_failed,
            JoinRequestCreated: self._join_requests.created,
            JoinRequestRevoked: self._join_requests.revoked,
            SettingsChanged: self._groups.settings_changed,
            SettingsChangeFailed: self._groups.settings_failed,
            GroupSuspended: self._groups.suspended,
            GroupSuspendCleared: self._groups.suspend_cleared,
            GroupRead: read,
        }
        """Every event but messages and statuses, by its exact type."""
        self.failures: list[EventFailure] = []
        """Events that :meth:`apply` with ``isolate`` could not apply, in order."""
        self.other_number_rows: set[int] = set()
        """Raw rows whose events were all another number's (nothing of them applied)."""

    @property
    def changes(self) -> int:
        """Change-feed rows appended so far (those of undone events not counted)."""
        return self._ctx.changes

    def flush(self) -> None:
        """Write the deferred messages and statuses, the buffered change-feed rows and
        ``applied_at`` marks."""
        self._flush_pending()
        self._ctx.flush()

    def prefetch(self, events: Iterable[DomainEvent]) -> None:
        """Read ahead, in a few queries, what applying ``events`` without isolation
        looks up one by one: the members of their groups, which messages are stored.

        Used until the first event other than a message or a status (see
        :meth:`~.context.ApplyContext.prefetch`).
        """
        groups: set[str] = set()
        wamids: list[str] = []
        for event in events:
            if isinstance(event, InboundMessage):
                wamids.append(event.wamid)
            elif not isinstance(event, MessageStatus):
                continue
            if event.group_id is not None:
                groups.add(event.group_id)
        self._ctx.prefetch(groups, wamids)

    def _flush_pending(self) -> None:
        """Write the deferred messages and statuses (see :mod:`.messages`, :mod:`.statuses`),
        and forget what :meth:`prefetch` read: what runs next may change it."""
        self._ctx.forget_prefetched()
        self._messages.flush_pending()
        self._statuses.flush_pending()

    def apply(
        self,
        raw_id: int | None,
        events: Sequence[DomainEvent],
        *,
        mark: bool = True,
        isolate: bool = False,
        only: Collection[str] = (),
    ) -> bool:
        """Apply one raw event's domain events and mark the raw row applied (on flush).

        Args:
            raw_id: The raw row the events came from (recorded in the change feed).
            events: Its domain events.
            mark: Set the row's ``applied_at`` and parse state on flush; a caller that
                wrote the row already marked passes False.
            isolate: Apply each event in its own savepoint: an event that raises is
                rolled back alone, recorded in :attr:`failures`, and the next one is
                applied. Without it the first failure propagates (the caller rolls back).
            only: Apply only the events with these dedupe keys (re-applying the failed
                events of a body); empty applies every event.

        Returns:
            True when the events included a shape this version does not know (the row's
            parse state is then ``unparsed``).
        """
        ctx = self._ctx
        ctx.raw_id = raw_id
        unparsed = False
        routed = others = 0
        for index, event in enumerate(events):
            if isinstance(event, UnknownEvent):
                unparsed = True
                continue
            if only and event_key(event) not in only:
                continue
            named = getattr(event, "phone_number_id", None)
            number = self._routing.route(named, None if named else self._known_number(event))
            if number is None:
                others += 1
                continue
            routed += 1
            ctx.number = number
            if isolate:
                self._isolated(raw_id, index, event)
            else:
                self._dispatch(event, defer=True)
        if raw_id is not None and others and not routed:
            self.other_number_rows.add(raw_id)
        if raw_id is not None and mark:
            self._ctx.mark_applied(raw_id, "unparsed" if unparsed else "ok")
        return unparsed

    def _known_number(self, event: DomainEvent) -> str | None:
        """The number of the group the event is about, when the store knows the group.

        Only looked up for an event whose webhook named no number (a test fixture, an
        older payload), or while the database serves no number.
        """
        return self._ctx.group_number(_event_group(event), getattr(event, "request_id", None))

    def _isolated(self, raw_id: int | None, index: int, event: DomainEvent) -> None:
        """Apply one event in a savepoint; on failure undo it alone and record why."""
        ctx = self._ctx
        self._flush_pending()  # what was deferred is not this event's to undo
        mark = ctx.begin_event()
        try:
            self._dispatch(event, defer=False)
        except Exception as exc:
            # Whatever the event did is undone: its writes, its feed rows, and the
            # caches that may name rows it inserted.
            ctx.undo_event(mark)
            failure = EventFailure(
                raw_id=raw_id or 0,
                index=index,
                kind=str(getattr(event, "event_kind", type(event).__name__)),
                group_id=_event_group(event),
                event_key=event_key(event),
                at=_event_at(event),
                reason=f"apply: {type(exc).__name__}: {exc}"[:500],
                failed_at=ctx.now,
            )
            self.failures.append(failure)
            ctx.change(
                "event.failed",
                None,
                failure.at,
                failure.kind,
                {"raw_id": failure.raw_id, "index": index, "reason": failure.reason},
            )
            return
        ctx.end_event()

    def _dispatch(self, event: DomainEvent, *, defer: bool) -> None:
        """Hand the event to its component.

        With ``defer``, messages and statuses wait for the next event that is neither a
        message nor a status, or for :meth:`flush` (see :mod:`.messages`, :mod:`.statuses`).
        """
        if isinstance(event, MessageStatus):
            self._statuses.status(event, defer=defer)
            return
        if isinstance(event, InboundMessage):
            self._messages.inbound(event, defer=defer)
            return
        self._flush_pending()
        handler = self._handlers.get(type(event))
        if handler is None:  # a subclass of an event, or not an event
            for base, found in self._handlers.items():
                if isinstance(event, base):
                    handler = found
                    break
            else:
                raise TypeError(f"not a domain event: {type(event).__name__}")
        handler(event)
