"""What the appliers of one batch share: the writer's cursor, the change feed, the caches.

:class:`ApplyContext` is the one piece of state of an :class:`~.applier.Applier`; every
component (groups, members, join requests, messages, statuses, costs, operations) holds
the same context and nothing else that changes while events are applied.

* Statements run on one cursor of the writer's connection, inside the transaction the
  caller owns (:meth:`ApplyContext.exec`, :meth:`~ApplyContext.row`,
  :meth:`~ApplyContext.rows`).
* Change-feed rows (:meth:`~ApplyContext.change`) and the ``raw_events`` marks
  (:meth:`~ApplyContext.mark_applied`) are buffered and written with ``executemany`` by
  :meth:`~ApplyContext.flush`; nothing that applies events reads those tables back.
* Two caches save lookups across the events of a batch: the groups known to exist
  (:meth:`~ApplyContext.ensure_group`) and the member key a participant reference
  resolves to (:meth:`~ApplyContext.member_key`, forgotten whenever a participant row is
  inserted). Both may name rows an event inserted, so undoing one event
  (:meth:`~ApplyContext.undo_event`) clears them along with its feed rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from groups_tui.domain.events import EventError, ParticipantRef, normalize_input
from groups_tui.domain.numbers import UNASSIGNED
from groups_tui.store.codec import dumps
from groups_tui.store.repository import MAX_PARAMS, chunks, marks

__all__ = ["MESSAGE_NAME_SQL", "ApplyContext", "EventMark", "error_text", "first_error"]

MESSAGE_NAME_SQL = (
    "(SELECT m.sender_name FROM messages m WHERE m.group_id = {g} AND m.sender_key = {k} "
    "AND m.direction = 'inbound' AND m.kind != 'system' AND m.sender_name != m.sender_key "
    "ORDER BY m.at DESC, m.id DESC LIMIT 1)"
)
"""The name a member's newest message carried (``{g}`` group id, ``{k}`` member key).

Participant webhooks carry numbers; a member's profile name arrives with their
messages. The newest message's name wins over what participant events said, on every
path that writes ``participants.profile_name``, so any arrival order ends with it."""

_CHANGE_SQL = (
    "INSERT INTO change_feed(kind, group_id, entity, at, raw_id, payload) VALUES (?, ?, ?, ?, ?, ?)"
)
_APPLIED_SQL = "UPDATE raw_events SET applied_at = ?, parse_state = ?, error = NULL WHERE id = ?"
_EMPTY_PAYLOAD = dumps({})

_FeedRow = tuple[str, str | None, str | None, int | None, int | None, str]


def error_text(errors: Sequence[EventError]) -> str | None:
    """The errors of an event as one line (``code: title; ...``), ``None`` without any."""
    if not errors:
        return None
    return "; ".join(
        f"{e.code if e.code is not None else '?'}: {e.title or e.message or 'error'}"
        for e in errors
    )


def first_error(errors: Sequence[EventError]) -> tuple[int | None, str | None]:
    """The code and title (or message) of the first error, ``(None, None)`` without any."""
    if not errors:
        return None, None
    e = errors[0]
    return e.code, e.title or e.message


@dataclass(frozen=True, slots=True)
class EventMark:
    """Where the buffers stood when one event began (see :meth:`ApplyContext.begin_event`)."""

    feed: int
    changes: int


class ApplyContext:
    """The cursor, the buffered change feed and the per-batch caches of one applier.

    Args:
        conn: Writer ``sqlite3`` connection with an open transaction (used only from the
            thread that owns it).
        now: Bookkeeping time for ``raw_events.applied_at``.
    """

    def __init__(self, conn: sqlite3.Connection, *, now: float) -> None:
        self._cur = conn.cursor()
        self.now = now
        """Bookkeeping time of the marks and failures."""
        self.raw_id: int | None = None
        """The raw row whose events are being applied (named by each change-feed row)."""
        self.number: str = UNASSIGNED
        """The business number the event being applied belongs to (set by the router):
        a group it creates and a ledger line it writes are that number's."""
        self.changes = 0
        """Change-feed rows appended so far (undone ones not counted)."""
        self._feed: list[_FeedRow | None] = []
        self._applied: list[tuple[float, str, int]] = []
        self._groups: set[str] = set()
        self._group_numbers: dict[tuple[str | None, str | None], str] = {}
        self._keys: dict[tuple[str, str | None, str | None, str | None], str] = {}
        self._members: dict[str, list[tuple[str, str | None]]] = {}
        self._payloads: dict[tuple[tuple[str, ...], tuple[Any, ...]], str] = {}
        self._messages: frozenset[str] = frozenset()
        self._stored_messages: frozenset[str] = frozenset()

    # ------------------------------------------------------------------ statements

    def exec(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        return self._cur.execute(sql, params).rowcount

    def exec_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement over every parameter row."""
        self._cur.executemany(sql, rows)

    def row(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one query; its first row, or ``None``."""
        return self._cur.execute(sql, params).fetchone()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query; all its rows."""
        return self._cur.execute(sql, params).fetchall()

    def rows_in(self, sql: str, keys: Sequence[Any]) -> list[Any]:
        """The rows ``sql`` (ending in ``IN ``) gives for ``keys``, a few queries at most."""
        rows: list[Any] = []
        for chunk in chunks(keys):
            rows += self.rows(f"{sql}({marks(len(chunk))})", chunk)
        return rows

    def insert_rows(
        self,
        head: str,
        row: str,
        values: Sequence[Sequence[Any]],
        *,
        tail: str = "",
        per: int | None = None,
        what: str = "rows",
    ) -> None:
        """Insert ``values`` in multi-row statements (``head``, ``row`` once per value,
        ``tail``), ``per`` at most in each (as many as the parameter bound allows
        otherwise): every one of them, or it raises.

        Raises:
            RuntimeError: A row read as absent earlier in the batch was stored meanwhile
                (the caller's fallback applies the batch again event by event).
        """
        if not values:
            return
        size = per or max(1, MAX_PARAMS // len(values[0]))
        for chunk in chunks(values, size):
            sql = head + ", ".join([row] * len(chunk)) + tail
            stored = self.exec(sql, [value for one in chunk for value in one])
            if stored != len(chunk):
                raise RuntimeError(f"{len(chunk) - stored} deferred {what} already stored")

    # ------------------------------------------------------------------ buffers

    def change(
        self,
        kind: str,
        group_id: str | None,
        at: int | None,
        entity: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Append one change-feed row (written by :meth:`flush`)."""
        self._feed.append(
            (
                kind,
                group_id,
                entity,
                at,
                self.raw_id,
                self._json(payload) if payload else _EMPTY_PAYLOAD,
            )
        )
        self.changes += 1

    def reserve(self) -> int:
        """Keep the next change-feed place for a row decided later (:meth:`fill`).

        A place left unfilled writes nothing. Every reserved place is filled or left
        before the next :meth:`begin_event` (the deferred writes run first).
        """
        self._feed.append(None)
        return len(self._feed) - 1

    def fill(
        self,
        place: int,
        raw_id: int | None,
        kind: str,
        group_id: str | None,
        at: int | None,
        entity: str | None,
        payload: dict[str, Any],
    ) -> None:
        """Write the change-feed row of a place :meth:`reserve` kept (of raw row ``raw_id``)."""
        self._feed[place] = (kind, group_id, entity, at, raw_id, self._json(payload))
        self.changes += 1

    def _json(self, payload: dict[str, Any]) -> str:
        """The payload's JSON; remembered for payloads of text values (a batch's status
        and message rows repeat a few of them: member and state)."""
        values = tuple(payload.values())
        for value in values:  # a loop: cheaper than all() over a generator, per row
            if value is not None and type(value) is not str:
                return dumps(payload)
        memo = (tuple(payload), values)
        text = self._payloads.get(memo)
        if text is None:
            text = self._payloads[memo] = dumps(payload)
        return text

    def mark_applied(self, raw_id: int, parse_state: str) -> None:
        """Set the raw row's ``applied_at`` and parse state (written by :meth:`flush`)."""
        self._applied.append((self.now, parse_state, raw_id))

    def flush(self) -> None:
        """Write the buffered change-feed rows and ``applied_at`` marks."""
        if self._feed:
            self._cur.executemany(_CHANGE_SQL, [row for row in self._feed if row is not None])
            self._feed.clear()
        if self._applied:
            self._cur.executemany(_APPLIED_SQL, self._applied)
            self._applied.clear()

    # ------------------------------------------------------------------ one event

    def begin_event(self) -> EventMark:
        """Open a savepoint for one event; what :meth:`undo_event` returns to."""
        mark = EventMark(feed=len(self._feed), changes=self.changes)
        self._cur.execute("SAVEPOINT apply_event")
        return mark

    def end_event(self) -> None:
        """Keep what the event since :meth:`begin_event` did."""
        self._cur.execute("RELEASE apply_event")

    def undo_event(self, mark: EventMark) -> None:
        """Undo the event since :meth:`begin_event`: its writes, its feed rows, the caches.

        The caches are cleared, not rolled back: they may name rows the event inserted.
        """
        self._cur.execute("ROLLBACK TO apply_event")
        self._cur.execute("RELEASE apply_event")
        del self._feed[mark.feed :]
        self.changes = mark.changes
        self._groups.clear()
        self._group_numbers.clear()
        self._keys.clear()
        self.forget_prefetched()

    # ------------------------------------------------------------------ shared rows

    def ensure_group(self, group_id: str) -> None:
        """Make sure the group's row exists (a placeholder until its create arrives)."""
        # Events can reach a group before its create webhook; a placeholder keeps the
        # foreign keys satisfied and is filled in when the create arrives.
        if group_id in self._groups:
            return
        self.exec(
            "INSERT INTO groups(id, phone_number_id) VALUES (?, ?) ON CONFLICT(id) DO NOTHING",
            (group_id, self.number),
        )
        self._groups.add(group_id)

    def group_number(self, group_id: str | None, request_id: str | None = None) -> str | None:
        """The number of a stored group (by id, else by its create's request id)."""
        memo = (group_id, request_id)
        if memo in self._group_numbers:
            return self._group_numbers[memo]
        row = None
        if group_id:
            row = self.row("SELECT phone_number_id FROM groups WHERE id = ?", (group_id,))
        if row is None and request_id:
            row = self.row("SELECT phone_number_id FROM groups WHERE request_id = ?", (request_id,))
        number = str(row[0]) if row and row[0] else None
        if number is not None:
            # A group's number never changes once known; an unknown one may appear.
            self._group_numbers[memo] = number
        return number

    def touch(self, group_id: str, at: int) -> None:
        """Move the group's ``last_activity_at`` forward to ``at``."""
        self.exec(
            "UPDATE groups SET last_activity_at = max(coalesce(last_activity_at, 0), ?) "
            "WHERE id = ?",
            (at, group_id),
        )

    def member_key(self, group_id: str | None, ref: ParticipantRef) -> str:
        """The key of an existing row for this person, else the reference's own key."""
        if group_id is None:
            return ref.key
        memo = (group_id, ref.user_id, ref.wa_id, ref.input)
        known = self._keys.get(memo)
        if known is not None:
            return known
        phones = [v for v in (ref.wa_id, normalize_input(ref.input) if ref.input else None) if v]
        keys = [v for v in (ref.user_id, *phones) if v]
        if not keys:
            return ref.key
        members = self._members.get(group_id)
        if members is not None:
            # Read ahead: the query's answer, unless several rows match and none is the
            # reference's user id (then the query decides, as it always did).
            found = [k for k, w in members if k in keys or (w is not None and w in phones)]
            if len(found) <= 1 or (ref.user_id and ref.user_id in found):
                if not found:
                    key = ref.key
                elif len(found) == 1:
                    key = found[0]
                else:
                    key = ref.user_id or ""
                self._keys[memo] = key
                return key
        row = self.row(
            "SELECT participant_key FROM participants WHERE group_id = ? AND "
            f"(participant_key IN ({marks(len(keys))}) "
            f"OR wa_id IN ({marks(len(phones)) or 'NULL'})) "
            "ORDER BY participant_key = ? DESC LIMIT 1",
            (group_id, *keys, *phones, ref.user_id or ""),
        )
        key = str(row[0]) if row else ref.key
        # Valid until a participant row is inserted (forget_keys).
        self._keys[memo] = key
        return key

    def forget_keys(self) -> None:
        """Drop the resolved member keys: a new participant row can change them."""
        self._keys.clear()
        self.forget_prefetched()

    # ------------------------------------------------------------------ read ahead

    def prefetch(self, group_ids: Collection[str], wamids: Collection[str]) -> None:
        """Read the participants of ``group_ids`` and which of ``wamids`` are stored.

        Valid while only messages and statuses are applied (they write neither the
        participants' keys nor numbers, and the messages they store are the deferred
        ones): the applier calls :meth:`forget_prefetched` before anything else runs.
        """
        members: dict[str, list[tuple[str, str | None]]] = {g: [] for g in group_ids}
        for group_id, key, wa_id in self.rows_in(
            "SELECT group_id, participant_key, wa_id FROM participants WHERE group_id IN ",
            list(members),
        ):
            members[group_id].append((key, wa_id))
        ids = list(dict.fromkeys(wamids))
        stored = self.rows_in("SELECT id FROM messages WHERE id IN ", ids)
        self._members = members
        self._messages = frozenset(ids)
        self._stored_messages = frozenset(row[0] for row in stored)

    def forget_prefetched(self) -> None:
        """Drop what :meth:`prefetch` read (something else may change it now)."""
        self._members = {}
        self._messages = self._stored_messages = frozenset()

    def message_stored(self, wamid: str) -> bool:
        """Whether an inbound message ``wamid`` is stored already."""
        if wamid in self._messages:
            return wamid in self._stored_messages
        return self.row("SELECT 1 FROM messages WHERE id = ?", (wamid,)) is not None
