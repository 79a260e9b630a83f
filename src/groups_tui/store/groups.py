"""Groups and their members, join requests, and the operator's annotations.

State here is derived from webhooks (``apply/``) except for a few local facts: the row
of a group whose creation is pending, decisions on join requests made through the API,
the invite link read through the API, and the operator's flag, tag, note and read mark.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from sys import intern
from typing import Any, TypeVar

from groups_tui.domain.models import Group, JoinApproval, JoinRequest, Participant
from groups_tui.domain.numbers import UNASSIGNED
from groups_tui.domain.text import folded
from groups_tui.domain.timeline import EventKind, TimelineEvent
from groups_tui.store import digest as digest_mod
from groups_tui.store.codec import (
    ACTIVITY,
    GROUP_COLUMNS,
    GROUP_FROM,
    PARTICIPANT_COLUMNS,
    dumps,
    group_from_row,
    join_request_from_row,
    participant_from_row,
)
from groups_tui.store.feed import append_change
from groups_tui.store.inbox_table import RowTable
from groups_tui.store.operations import settle_overtaken
from groups_tui.store.records import (
    PENDING_PREFIX,
    GroupAnnotations,
    HistoryEntry,
    InboxRow,
    MemberSignals,
)
from groups_tui.store.repository import Repository

__all__ = ["Groups"]


def _inbox_sql(where: str = "") -> str:
    # The order is served by the groups_inbox_order index (groups_number_order for one
    # number): no temporary sort, whatever the number of groups (schema v9).
    return f"""
        SELECT g.id, g.request_id, g.subject, g.member_count, g.unread,
               g.pending_requests,
               g.last_msg_sender, g.last_msg_preview, nullif({ACTIVITY}, 0),
               g.last_inbound_at, g.suspended, g.state,
               coalesce(l.flagged, 0), l.tag, g.last_inbound_by, g.member_text,
               g.last_msg_outbound, g.phone_number_id
          FROM {GROUP_FROM} LEFT JOIN group_local l ON l.group_id = g.id
          {where}
         ORDER BY {ACTIVITY} DESC, g.pk DESC
    """


_INBOX_SQL = _inbox_sql()
_INBOX_NUMBER_SQL = _inbox_sql("WHERE g.phone_number_id = ?")
_INBOX_ONE_SQL = _inbox_sql("WHERE g.id = ?1 OR (g.id IS NULL AND g.request_id = ?1)")
_INBOX_FIRST_SQL = _inbox_sql() + " LIMIT ?"
_INBOX_AFTER_SQL = _inbox_sql(f"WHERE ({ACTIVITY}, g.pk) < (?, ?)")
_INBOX_CURSOR_SQL = (
    f"SELECT {ACTIVITY}, g.pk FROM {GROUP_FROM} WHERE g.id = ?1 OR g.request_id = ?1"
)

InboxCursor = tuple[int, int]
"""Where a page of the inbox ended: the last row's ``(activity, pk)``."""

_CONVERT_BATCH = 2000
"""Rows fetched and converted at a time (the fetched rows are freed batch by batch)."""


def _inbox_columns(batch: Sequence[Any], counts: Mapping[str, int]) -> list[Sequence[Any]]:
    """The inbox fields of fetched rows, column by column in :class:`InboxRow`'s order
    (``counts``: open moderation flags by group id).

    Columns fetched 0-17: id, request_id, subject, member_count, unread,
    pending_requests, sender, preview, activity, last_inbound_at, suspended, state,
    flagged, tag, last_inbound_by, member_text, last_outbound, number. A pending group
    goes by its request id. The state and the number are shared by thousands of rows:
    interned, each is held once.
    """
    c = list(zip(*batch, strict=True))
    ids = [g or f"{PENDING_PREFIX}{request}" for g, request in zip(c[0], c[1], strict=True)]
    hays = [folded(f"{s}\n{m or ''}") for s, m in zip(c[2], c[15], strict=True)]
    # Equal values share one object: the newest activity is often the newest inbound
    # message, and its sender the newest message's sender.
    activity = c[8]
    inbound = [a if i == a else i for i, a in zip(c[9], activity, strict=True)]
    by = [s if b is not None and b == s else b for b, s in zip(c[14], c[6], strict=True)]
    flags = [counts.get(g, 0) for g in ids] if counts else [0] * len(ids)
    return [
        *(ids, *c[2:8], activity, inbound, by, list(map(bool, c[10])), list(map(intern, c[11]))),
        *(list(map(bool, c[12])), hays, list(map(bool, c[16])), c[1], c[13]),
        *(list(map(intern, c[17])), flags),
    ]


def _inbox_row(r: Any) -> InboxRow:
    """One fetched row as an inbox row (its open flags not counted)."""
    return InboxRow._make(column[0] for column in _inbox_columns([r], {}))


_OPEN_FLAGS_SQL = (
    "SELECT group_id, count(*) FROM moderation_flags WHERE state = 'open' "
    "AND group_id IS NOT NULL GROUP BY group_id"
)
"""Open moderation flags by group: a few rows, read beside the inbox's index-ordered scan
(joined into it, the grouping would cost the scan its index order)."""


def _inbox_batches(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> Iterator[list[Sequence[Any]]]:
    """The inbox fields of one query's rows (:func:`_inbox_columns`), fetched and
    converted batch by batch on the reader's thread."""
    counts: dict[str, int] = dict(conn.execute(_OPEN_FLAGS_SQL).fetchall())
    cursor = conn.execute(sql, params)
    while batch := cursor.fetchmany(_CONVERT_BATCH):
        yield _inbox_columns(batch, counts)


def _converted(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[InboxRow]:
    """Inbox rows of one query."""
    out: list[InboxRow] = []
    for columns in _inbox_batches(conn, sql, params):
        out += map(InboxRow._make, zip(*columns, strict=True))
    return out


def _tabled(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> RowTable:
    """:func:`_converted`, kept compactly (no record is built)."""
    table = RowTable()
    for columns in _inbox_batches(conn, sql, params):
        table.extend_columns(dict(zip(InboxRow._fields, columns, strict=True)))
    return table


_Page = TypeVar("_Page", list[InboxRow], RowTable)


def _paged(
    conn: sqlite3.Connection,
    after: InboxCursor | None,
    limit: int | None,
    convert: Callable[[sqlite3.Connection, str, Sequence[Any]], _Page],
) -> tuple[_Page, InboxCursor | None]:
    """A page of the inbox (see :meth:`Groups.inbox_page`), converted by ``convert``."""
    if after is None:
        rows = convert(conn, _INBOX_FIRST_SQL, (-1 if limit is None else limit,))
    else:
        sql = _INBOX_AFTER_SQL + ("" if limit is None else " LIMIT ?")
        params = after if limit is None else (after[0], after[1], limit)
        rows = convert(conn, sql, params)
    if not len(rows) or limit is None or len(rows) < limit:
        return rows, None
    last = rows[-1] if isinstance(rows, list) else rows.row(len(rows) - 1)
    key = last.request_id if last.is_pending else last.group_id
    found = conn.execute(_INBOX_CURSOR_SQL, (key,)).fetchone()
    return rows, (int(found[0]), int(found[1])) if found else None


class Groups(Repository):
    """Groups, participants, membership history, join requests and annotations."""

    async def create_pending(
        self,
        request_id: str,
        subject: str,
        *,
        description: str = "",
        join_approval: JoinApproval = JoinApproval.AUTO_APPROVE,
        phone_number_id: str = UNASSIGNED,
    ) -> None:
        """Record a create request the API accepted; the webhook completes it.

        Also records the matching ``create`` pending operation, from which a reset
        restores the pending row. Both are the number's the request was sent through.
        """
        now = self._clock()
        payload = {
            "subject": subject,
            "description": description,
            "join_approval": str(join_approval),
        }

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO pending_operations(request_id, kind, payload, created_at, "
                "phone_number_id) VALUES (?, 'create', ?, ?, ?) "
                "ON CONFLICT(request_id) DO NOTHING",
                (request_id, dumps(payload), now, phone_number_id),
            )
            digest_mod.seed_pending_group(
                conn, request_id, payload, phone_number_id=phone_number_id
            )
            append_change(conn, "group.pending", entity=request_id, payload=payload)
            # The lifecycle webhook may have overtaken the API's answer: it found no
            # pending operation then, so settle it now from what it left on the group row.
            settle_overtaken(
                conn,
                "UPDATE pending_operations SET "
                "state = CASE WHEN g.state = 'failed' THEN 'failed' ELSE 'done' END, "
                "error = CASE WHEN g.state = 'failed' THEN g.error_message END, "
                "resolved_at = coalesce(g.state_at, g.created_at, ?2), resolved_by = 'webhook', "
                "group_id = g.id FROM groups g WHERE pending_operations.request_id = ?1 "
                "AND pending_operations.state = 'pending' AND g.request_id = ?1 "
                "AND (g.id IS NOT NULL OR g.state = 'failed') "
                "RETURNING pending_operations.group_id, pending_operations.state, "
                "pending_operations.error",
                (request_id, int(now)),
                request_id,
            )

        await self.db.execute_write_fn(write)

    async def page(
        self, after: tuple[int, int] | None = None, limit: int = 200
    ) -> tuple[list[Group], tuple[int, int] | None]:
        """A page of groups, most recent activity first.

        Args:
            after: Cursor returned with the previous page, or ``None`` for the first.
            limit: Page size.

        Returns:
            The groups and the cursor of the next page (``None`` after the last).
        """
        where, params = "", []
        if after is not None:
            where = f"WHERE ({ACTIVITY}, g.pk) < (?, ?)"
            params = [after[0], after[1]]
        rows = await self._all(
            f"SELECT {GROUP_COLUMNS}, {ACTIVITY}, g.pk FROM {GROUP_FROM} {where} "
            f"ORDER BY {ACTIVITY} DESC, g.pk DESC LIMIT ?",
            [*params, limit],
        )
        groups = [group_from_row(r) for r in rows]
        cursor = (rows[-1][-2], rows[-1][-1]) if len(rows) == limit else None
        return groups, cursor

    async def inbox_rows(self, batch: int = 2000) -> AsyncIterator[InboxRow]:
        """Stream compact rows of every group, most recent activity first.

        One statement, read ``batch`` rows at a time; at most ``batch`` rows are
        buffered. ``member_text`` carries the present members' names, numbers and
        usernames for filter-as-you-type.
        """
        counts = dict(await self._all(_OPEN_FLAGS_SQL))
        async for rows in self.db.iterate(_INBOX_SQL, batch=batch):
            for r in rows:
                row = _inbox_row(r)
                n = counts.get(row.group_id)
                yield row._replace(open_flags=n) if n else row

    async def inbox_row_list(self, phone_number_id: str | None = None) -> list[InboxRow]:
        """Every group's inbox row (of one number, if given) in one round trip.

        Faster than iterating :meth:`inbox_rows` when the caller wants them all anyway:
        the rows are fetched and converted on the reader's thread in one hop. Sorted by
        the database, most recent activity first.
        """
        sql, params = (
            (_INBOX_SQL, ()) if phone_number_id is None else (_INBOX_NUMBER_SQL, (phone_number_id,))
        )
        return await self.db.execute_fn(lambda conn: _converted(conn, sql, params))

    async def inbox_page(
        self, after: InboxCursor | None = None, limit: int | None = None
    ) -> tuple[list[InboxRow], InboxCursor | None]:
        """A page of the inbox, most recent activity first (every number's groups).

        The inbox loads its first screen this way, then the rest after that screen is
        drawn: ``inbox_page(limit=200)``, then ``inbox_page(after=cursor)``.

        Args:
            after: Where the previous page ended, or ``None`` for the first.
            limit: Most rows; ``None`` for every row after ``after``.

        Returns:
            The rows, and where they end (``None`` when no row is left after them).
        """

        return await self.db.execute_fn(lambda conn: _paged(conn, after, limit, _converted))

    async def inbox_table(
        self, after: InboxCursor | None = None, limit: int | None = None
    ) -> tuple[RowTable, InboxCursor | None]:
        """:meth:`inbox_page`'s rows kept compactly (the inbox list holds them so: no
        record is built for them)."""
        return await self.db.execute_fn(lambda conn: _paged(conn, after, limit, _tabled))

    async def count_of_number(self, phone_number_id: str) -> int:
        """Groups of a number that count against its limit (active or being created)."""
        row = await self._one(
            "SELECT count(*) FROM groups WHERE phone_number_id = ? "
            "AND state IN ('active', 'pending')",
            (phone_number_id,),
        )
        return int(row[0])

    async def number_of(self, group_id: str) -> str | None:
        """The business number of a group (by Meta id, or ``pending:<request id>``)."""
        if group_id.startswith(PENDING_PREFIX):
            sql, key = (
                "SELECT phone_number_id FROM groups WHERE request_id = ?",
                group_id[len(PENDING_PREFIX) :],
            )
        else:
            sql, key = "SELECT phone_number_id FROM groups WHERE id = ?", group_id
        row = await self._one(sql, (key,))
        return None if row is None else str(row[0])

    async def inbox_row(self, group_id: str) -> InboxRow | None:
        """One group's inbox row by Meta id (or by request id while pending)."""
        row = await self._one(_INBOX_ONE_SQL, (group_id,))
        if not row:
            return None
        inbox = _inbox_row(row)
        flags = await self._one(
            "SELECT count(*) FROM moderation_flags WHERE state = 'open' AND group_id = ?",
            (inbox.group_id,),
        )
        return inbox._replace(open_flags=flags[0]) if flags and flags[0] else inbox

    async def set_invite_link(self, group_id: str, link: str) -> None:
        """Remember the group's current invite link (read or reset through the API)."""

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE groups SET invite_link = ? WHERE id = ?", (link, group_id))
            append_change(conn, "group.updated", group_id=group_id, entity="invite_link")

        await self.db.execute_write_fn(write)

    async def of_member(self, key_or_wa_id: str) -> list[str]:
        """Ids of the active groups where the member (key or wa_id) is present."""
        rows = await self._all(
            "SELECT DISTINCT p.group_id FROM participants p JOIN groups g ON g.id = p.group_id "
            "WHERE p.state = 'present' AND g.state = 'active' "
            "AND (p.participant_key = ?1 OR p.wa_id = ?1) ORDER BY p.group_id",
            (key_or_wa_id,),
        )
        return [r[0] for r in rows]

    async def member_signals(
        self, key_or_wa_id: str, *, exclude_group: str | None = None
    ) -> MemberSignals:
        """How a person appears elsewhere on this account (for join-request decisions)."""
        row = await self._one(
            "SELECT "
            "(SELECT count(DISTINCT group_id) FROM participants WHERE state = 'present' "
            " AND (participant_key = ?1 OR wa_id = ?1) AND group_id IS NOT ?2), "
            "(SELECT count(*) FROM participant_history WHERE action = 'remove' "
            " AND participant_key = ?1)",
            (key_or_wa_id, exclude_group),
        )
        return MemberSignals(groups=int(row[0]), removed_before=bool(row[1]))

    async def get(self, group_id: str) -> Group | None:
        """One group by Meta id."""
        row = await self._one(
            f"SELECT {GROUP_COLUMNS} FROM {GROUP_FROM} WHERE g.id = ?", (group_id,)
        )
        return group_from_row(row) if row else None

    async def get_by_request(self, request_id: str) -> Group | None:
        """One group by the request id of its create call."""
        row = await self._one(
            f"SELECT {GROUP_COLUMNS} FROM {GROUP_FROM} WHERE g.request_id = ?", (request_id,)
        )
        return group_from_row(row) if row else None

    async def members(self, group_id: str) -> list[Participant]:
        """Present members of a group, in join order."""
        rows = await self._all(
            f"SELECT {PARTICIPANT_COLUMNS} FROM participants "
            "WHERE group_id = ? AND state = 'present' "
            "ORDER BY coalesce(joined_at, 0), participant_key",
            (group_id,),
        )
        return [participant_from_row(r) for r in rows]

    async def people(self, group_id: str) -> dict[str, Participant]:
        """Everyone the group has had as a member (present or not), by member key."""
        rows = await self._all(
            f"SELECT participant_key, {PARTICIPANT_COLUMNS} FROM participants WHERE group_id = ?",
            (group_id,),
        )
        return {r[0]: participant_from_row(r[1:]) for r in rows}

    async def timeline(
        self,
        group_id: str,
        *,
        since: int | None = None,
        until: int | None = None,
        limit: int = 500,
    ) -> list[TimelineEvent]:
        """The group's events with ``since <= at < until``, oldest first.

        Joins, leaves, removals and failed removals (membership history), join requests
        asked and rejected, and the group's own events (creation, subject, description,
        picture, suspension). Each part is read through an index on ``(group_id, at)``,
        so a page of a long conversation costs its own stretch of time only.

        Args:
            group_id: The group.
            since: Earliest time included (``None``: from the beginning).
            until: Time excluded and after (``None``: up to now).
            limit: At most this many events, the newest ones.

        Returns:
            The events; names are WhatsApp's profile names, else numbers (untrusted).
        """
        low = -(2**62) if since is None else since
        high = 2**62 if until is None else until
        who = "coalesce(nullif({p}.profile_name, ''), {p}.username, '+' || {p}.wa_id, {k})"
        rows = await self._all(
            f"""
            SELECT kind, at, person_key, who, via, by, value, observed FROM (
              SELECT CASE h.action WHEN 'join' THEN 'joined' WHEN 'leave' THEN 'left'
                     WHEN 'remove' THEN 'removed' ELSE 'remove_failed' END AS kind,
                     h.at AS at, h.participant_key AS person_key,
                     {who.format(p="p", k="h.participant_key")} AS who, h.via AS via,
                     h.initiated_by AS by, h.error_message AS value, h.observed AS observed
                FROM participant_history h
                LEFT JOIN participants p
                  ON p.group_id = h.group_id AND p.participant_key = h.participant_key
               WHERE h.group_id = ?1 AND h.at >= ?2 AND h.at < ?3
              UNION ALL
              SELECT 'asked_to_join', r.created_at, r.participant_key,
                     {who.format(p="r", k="r.participant_key")}, NULL, NULL, NULL, 0
                FROM join_requests r
               WHERE r.group_id = ?1 AND r.created_at >= ?2 AND r.created_at < ?3
              UNION ALL
              SELECT 'request_rejected', r.state_at, r.participant_key,
                     {who.format(p="r", k="r.participant_key")}, NULL, NULL, NULL, 0
                FROM join_requests r
               WHERE r.group_id = ?1 AND r.state = 'rejected'
                 AND r.state_at >= ?2 AND r.state_at < ?3
              UNION ALL
              SELECT e.kind, e.at, NULL, NULL, NULL, NULL, e.value, 0
                FROM group_events e
               WHERE e.group_id = ?1 AND e.at >= ?2 AND e.at < ?3
            ) ORDER BY at DESC, kind DESC, coalesce(person_key, '') DESC LIMIT ?4
            """,
            (group_id, low, high, limit),
        )
        events = [
            TimelineEvent(
                group_id=group_id,
                kind=EventKind(r[0]),
                at=r[1],
                person_key=r[2],
                who=r[3],
                via=r[4],
                by=r[5],
                value=r[6] or None,
                observed=bool(r[7]),
            )
            for r in rows
        ]
        events.reverse()
        return events

    async def member_history(
        self, group_id: str, *, after_id: int = 0, limit: int = 500
    ) -> list[HistoryEntry]:
        """Membership events of a group in event-time order."""
        rows = await self._all(
            "SELECT participant_key, action, at, initiated_by, via, request_id, error_code, "
            "error_message, observed FROM participant_history WHERE group_id = ? AND id > ? "
            "ORDER BY at, id LIMIT ?",
            (group_id, after_id, limit),
        )
        return [
            HistoryEntry(
                participant_key=r[0],
                action=r[1],
                at=r[2],
                initiated_by=r[3],
                via=r[4],
                request_id=r[5],
                error_code=r[6],
                error_message=r[7],
                observed=bool(r[8]),
            )
            for r in rows
        ]

    async def join_requests(self, group_id: str, state: str = "pending") -> list[JoinRequest]:
        """Join requests of a group in a given state, oldest first."""
        rows = await self._all(
            "SELECT id, group_id, wa_id, user_id, profile_name, created_at FROM join_requests "
            "WHERE group_id = ? AND state = ? ORDER BY coalesce(created_at, 0), id",
            (group_id, state),
        )
        return [join_request_from_row(r) for r in rows]

    async def decide_join_requests(
        self, request_ids: Sequence[str], decision: str, at: int
    ) -> None:
        """Record approvals or rejections made through the API.

        A decision is local state (no webhook reports a rejection) and survives a reset;
        applying the request's webhook again re-applies it.

        Args:
            request_ids: Join request ids.
            decision: ``approved`` or ``rejected``.
            at: Epoch seconds of the decision.
        """
        if decision not in ("approved", "rejected"):
            raise ValueError(f"bad decision {decision!r}")
        ids = list(request_ids)

        def write(conn: sqlite3.Connection) -> None:
            for rid in ids:
                conn.execute(
                    "INSERT INTO join_request_decisions(id, decision, at) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET decision = excluded.decision, at = excluded.at",
                    (rid, decision, at),
                )
                row = conn.execute(
                    "UPDATE join_requests SET state = ?, state_at = ? "
                    "WHERE id = ? AND state = 'pending' RETURNING group_id",
                    (decision, at, rid),
                ).fetchone()
                if row:
                    append_change(
                        conn,
                        "join_request.decided",
                        group_id=row[0],
                        entity=rid,
                        at=at,
                        payload={"decision": decision},
                    )

        await self.db.execute_write_fn(write)

    # ------------------------------------------------------------------ annotations

    async def annotate(
        self,
        group_id: str,
        *,
        flagged: bool | None = None,
        tag: str | None = None,
        note: str | None = None,
        clear_tag: bool = False,
    ) -> GroupAnnotations:
        """Set operator annotations (only the given fields change)."""
        now = self._clock()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO group_local(group_id, updated_at) VALUES (?, ?) "
                "ON CONFLICT(group_id) DO UPDATE SET updated_at = excluded.updated_at",
                (group_id, now),
            )
            if flagged is not None:
                conn.execute(
                    "UPDATE group_local SET flagged = ? WHERE group_id = ?",
                    (int(flagged), group_id),
                )
            if tag is not None or clear_tag:
                conn.execute("UPDATE group_local SET tag = ? WHERE group_id = ?", (tag, group_id))
            if note is not None:
                conn.execute("UPDATE group_local SET note = ? WHERE group_id = ?", (note, group_id))
            append_change(conn, "group.local", group_id=group_id)

        await self.db.execute_write_fn(write)
        return await self.annotations(group_id)

    async def annotations(self, group_id: str) -> GroupAnnotations:
        """Operator annotations of a group (defaults when none)."""
        row = await self._one(
            "SELECT flagged, tag, note, read_through FROM group_local WHERE group_id = ?",
            (group_id,),
        )
        if not row:
            return GroupAnnotations(group_id)
        return GroupAnnotations(group_id, bool(row[0]), row[1], row[2], row[3])

    async def mark_read(self, group_id: str, through_at: int | None = None) -> None:
        """Clear the unread count of a group.

        Args:
            group_id: The group.
            through_at: Messages at or before this time count as read; defaults to the
                group's latest message. Replaying the raw log honours it.
        """
        now = self._clock()

        def write(conn: sqlite3.Connection) -> None:
            through = through_at
            if through is None:
                row = conn.execute(
                    "SELECT coalesce(max(at), 0) FROM messages WHERE group_id = ?", (group_id,)
                ).fetchone()
                through = int(row[0]) if row else 0
            conn.execute(
                "INSERT INTO group_local(group_id, read_through, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(group_id) DO UPDATE SET "
                "read_through = max(coalesce(read_through, 0), excluded.read_through), "
                "updated_at = excluded.updated_at",
                (group_id, through, now),
            )
            conn.execute(
                "UPDATE groups SET unread = (SELECT count(*) FROM messages m "
                "WHERE m.group_id = groups.id AND m.direction = 'inbound' AND m.at > ?) "
                "WHERE id = ?",
                (through, group_id),
            )
            append_change(conn, "group.read", group_id=group_id, at=through)

        await self.db.execute_write_fn(write)
