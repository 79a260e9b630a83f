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
from collections.abc import Collection, Sequence

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
        self.failures: list[EventFailure] = []
        """Events that :meth:`apply` with ``isolate`` could not apply, in order."""
        self.other_number_rows: set[int] = set()
        """Raw rows whose events were all another number's (nothing of them applied)."""

    @property
    def changes(self) -> int:
        """Change-feed rows appended so far (those of undone events not counted)."""
        return self._ctx.changes

    def flush(self) -> None:
        """Write the buffered change-feed rows and ``applied_at`` marks."""
        self._ctx.flush()

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
                self._dispatch(event)
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
        mark = ctx.begin_event()
        try:
            self._dispatch(event)
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

    def _dispatch(self, event: DomainEvent) -> None:
        match event:
            case GroupCreated():
                self._groups.created(event)
            case GroupCreateFailed():
                self._groups.create_failed(event)
            case GroupDeleted():
                self._groups.deleted(event)
            case GroupDeleteFailed():
                self._groups.delete_failed(event)
            case ParticipantsJoined():
                self._members.joined(event)
            case ParticipantsLeft():
                self._members.left(event)
            case ParticipantsRemoved():
                self._members.removed(event)
            case ParticipantsRemoveFailed():
                self._members.remove_failed(event)
            case JoinRequestCreated():
                self._join_requests.created(event)
            case JoinRequestRevoked():
                self._join_requests.revoked(event)
            case SettingsChanged():
                self._groups.settings_changed(event)
            case SettingsChangeFailed():
                self._groups.settings_failed(event)
            case GroupSuspended():
                self._groups.suspended(event)
            case GroupSuspendCleared():
                self._groups.suspend_cleared(event)
            case InboundMessage():
                self._messages.inbound(event)
            case MessageStatus():
                self._statuses.status(event)
            case GroupRead():
                self._groups.read(event)
                self._members.read(event)
            case _:
                raise TypeError(f"not a domain event: {type(event).__name__}")
