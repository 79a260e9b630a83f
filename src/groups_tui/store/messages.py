"""Group timelines, delivery states, full-text search and the template cache."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from groups_tui.domain.models import (
    DeliveryState,
    DeliverySummary,
    Message,
    RecipientStatus,
    Template,
    TemplateCategory,
)
from groups_tui.store.codec import MESSAGE_COLUMNS, dumps, enum_or, loads, message_from_row
from groups_tui.store.fts import DEFAULT_MARKS, Span, fts_query, marks_absent_from, split_snippet
from groups_tui.store.records import MessageCursor, SearchHit, TimelinePage
from groups_tui.store.repository import Repository, chunks, marks

__all__ = ["Messages"]

_SNIPPET_TOKENS = 12  # words of context FTS5's snippet() shows around the matches


def _snippet_with_other_marks(
    conn: sqlite3.Connection, pk: int, match: str
) -> tuple[str, tuple[Span, ...]]:
    """The snippet of a message whose text holds a default mark, made with marks it
    does not hold (so none of its characters is taken for a mark)."""
    row = conn.execute("SELECT text FROM messages WHERE pk = ?", (pk,)).fetchone()
    text = (row[0] if row else None) or ""
    other = marks_absent_from(text)
    if other is None:
        return text, ()
    row = conn.execute(
        f"SELECT snippet(messages_fts, 0, ?, ?, ?, {_SNIPPET_TOKENS}) FROM messages_fts "
        "WHERE messages_fts MATCH ? AND rowid = ?",
        (*other, match, pk),
    ).fetchone()
    if row is None:
        return text, ()
    return split_snippet(row[0], other)


def _snippets(conn: sqlite3.Connection, match: str, pks: Sequence[int]) -> dict[int, str]:
    """The snippets (default marks) of the messages ``pks``, all of which ``match``.

    One pass over the matches between the lowest and the highest of them, the snippet
    made only for those asked for (a lookup by rowid would read the query's doclists
    again for each one).
    """
    out: dict[int, str] = {}
    for chunk in chunks(sorted(pks)):
        rows = conn.execute(
            f"SELECT rowid, CASE WHEN rowid IN ({marks(len(chunk))}) THEN "
            f"snippet(messages_fts, 0, ?, ?, ?, {_SNIPPET_TOKENS}) END FROM messages_fts "
            "WHERE messages_fts MATCH ? AND rowid BETWEEN ? AND ?",
            [*chunk, *DEFAULT_MARKS, match, chunk[0], chunk[-1]],
        ).fetchall()
        out.update((pk, marked) for pk, marked in rows if marked is not None)
    return out


class Messages(Repository):
    """Messages of every group, their delivery states, search and templates."""

    async def get(self, message_id: str) -> Message | None:
        """One message by wamid or local id."""
        row = await self._one(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,))
        return message_from_row(row) if row else None

    async def page(
        self, group_id: str, before: MessageCursor | None = None, limit: int = 50
    ) -> TimelinePage:
        """A page of a group's timeline, newest first (keyset on ``(at, id)``).

        Args:
            group_id: The group.
            before: ``(at, id)`` of the oldest message already shown, or ``None``.
            limit: Page size.

        Returns:
            The page; pass ``page.next_before`` to get the following (older) one.
        """
        if before is None:
            sql = (
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = ? "
                "ORDER BY at DESC, id DESC LIMIT ?"
            )
            params: list[Any] = [group_id, limit]
        else:
            sql = (
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE group_id = ? AND (at, id) < (?, ?) "
                "ORDER BY at DESC, id DESC LIMIT ?"
            )
            params = [group_id, before[0], before[1], limit]
        items = [message_from_row(r) for r in await self._all(sql, params)]
        cursor = (items[-1].at, items[-1].id) if len(items) == limit else None
        return TimelinePage(items=items, next_before=cursor)

    async def recent_senders(
        self, group_id: str, limit: int
    ) -> list[tuple[str, str | None, str | None, int, str | None]]:
        """Who wrote the group's newest ``limit`` messages, newest first (the order of
        :meth:`page`): ``(direction, sender_key, sender_name, at, text)`` of each, read in
        one statement without building the messages."""
        rows = await self._all(
            "SELECT direction, sender_key, sender_name, at, text FROM messages "
            "WHERE group_id = ? ORDER BY at DESC, id DESC LIMIT ?",
            (group_id, limit),
        )
        return [tuple(r) for r in rows]

    async def recipient_statuses(self, message_id: str) -> list[RecipientStatus]:
        """Per-participant delivery states of one message."""
        rows = await self._all(
            "SELECT message_id, participant_key, state, at, error_code, error_title, "
            "delivered_at, read_at FROM recipient_status WHERE message_id = ? "
            "ORDER BY participant_key",
            (message_id,),
        )
        return [
            RecipientStatus(
                r[0],
                r[1],
                enum_or(DeliveryState, r[2], DeliveryState.SENT),
                r[3],
                r[4],
                r[5],
                delivered_at=r[6],
                read_at=r[7],
            )
            for r in rows
        ]

    async def state(self, message_id: str) -> DeliveryState | None:
        """Overall delivery state of an outbound message (best of all reports)."""
        row = await self._one(
            "SELECT state FROM (SELECT state, rank FROM message_delivery WHERE message_id = ?1 "
            "UNION ALL SELECT state, rank FROM recipient_status WHERE message_id = ?1) "
            "ORDER BY rank DESC LIMIT 1",
            (message_id,),
        )
        return enum_or(DeliveryState, row[0], DeliveryState.SENT) if row else None

    async def statuses(
        self, message_ids: Sequence[str], totals: Mapping[str, int] | None = None
    ) -> dict[str, DeliverySummary]:
        """Delivery tallies per message.

        Args:
            message_ids: Wamids to summarise.
            totals: Known recipient counts per message (defaults to the states seen).

        Returns:
            A summary for every requested id (zero counts when nothing is known).
        """
        states: dict[str, list[DeliveryState]] = {m: [] for m in message_ids}
        for chunk in chunks(list(states)):
            rows = await self._all(
                "SELECT message_id, state FROM recipient_status "
                f"WHERE message_id IN ({marks(len(chunk))})",
                chunk,
            )
            for mid, state in rows:
                states[mid].append(enum_or(DeliveryState, state, DeliveryState.SENT))
        totals = totals or {}
        return {mid: DeliverySummary.from_states(s, totals.get(mid)) for mid, s in states.items()}

    async def failure_reasons(self, message_ids: Sequence[str]) -> dict[str, str]:
        """Why copies of each message failed, as Meta said, for messages with failures.

        Args:
            message_ids: Wamids to look at.

        Returns:
            Per message with at least one failed copy: its most frequent reason
            (``"131026 Message undeliverable"``; the code alone when Meta gave no title),
            followed by ``" (+N other reasons)"`` when copies failed for other reasons too.
            The texts are Meta's (untrusted).
        """
        reasons: dict[str, list[tuple[int, str]]] = {}
        for chunk in chunks(list(dict.fromkeys(message_ids))):
            rows = await self._all(
                "SELECT message_id, error_code, error_title, count(*) FROM recipient_status "
                f"WHERE state = 'failed' AND message_id IN ({marks(len(chunk))}) "
                "GROUP BY message_id, error_code, error_title",
                chunk,
            )
            for mid, code, title, count in rows:
                text = " ".join(str(p) for p in (code, title) if p not in (None, "")) or "failed"
                reasons.setdefault(mid, []).append((count, text))
        out: dict[str, str] = {}
        for mid, found in reasons.items():
            found.sort(key=lambda r: (-r[0], r[1]))
            others = len(found) - 1
            out[mid] = found[0][1] + (f" (+{others} other reasons)" if others else "")
        return out

    async def search(
        self, query: str, limit: int = 50, after: MessageCursor | None = None
    ) -> list[SearchHit]:
        """Full-text search over message text, newest first.

        User input is tokenised and every token quoted, so no input can produce an FTS
        syntax error; the last token also matches as a prefix.

        Args:
            query: Free text typed by the user.
            limit: Maximum hits.
            after: ``(hit.at, hit.message_id)`` of the last hit of the previous page, or
                ``None`` for the first page.

        Returns:
            Hits with group id, message id, the group's subject, time, sender, a snippet as
            plain text (a message's own brackets and any other character kept as they
            are) and the offsets of the matches in it.
        """
        match = fts_query(query)
        if match is None:
            return []
        default = DEFAULT_MARKS
        cond = ""
        params: list[Any] = [match]
        if after is not None:
            cond = "AND (m.at, m.id) < (?, ?)"
            params += [after[0], after[1]]
        # The hits first, sorted on what the sort needs; the group's subject, the clash
        # check and the snippet only for the hits kept (made for every match, they cost
        # more than the search itself once a word is common).
        top = (
            "WITH top AS (SELECT m.pk FROM messages_fts JOIN messages m "
            f"ON m.pk = messages_fts.rowid WHERE messages_fts MATCH ? {cond} "
            "ORDER BY m.at DESC, m.id DESC LIMIT ?) "
            "SELECT m.pk, m.group_id, m.id, m.at, "
            "instr(m.text, ?) + instr(m.text, ?) + instr(m.text, ?), "
            "coalesce(g.subject, m.group_id), m.sender_name "
            "FROM top JOIN messages m ON m.pk = top.pk LEFT JOIN groups g ON g.id = m.group_id "
            "ORDER BY m.at DESC, m.id DESC"
        )

        def read(conn: sqlite3.Connection) -> list[SearchHit]:
            rows = conn.execute(top, [*params, limit, *default]).fetchall()
            snippets = _snippets(conn, match, [r[0] for r in rows if not r[4]])
            hits = []
            for pk, group_id, message_id, at, clash, subject, sender in rows:
                marked = snippets.get(pk)
                if clash or marked is None:
                    snippet, spans = _snippet_with_other_marks(conn, pk, match)
                else:
                    snippet, spans = split_snippet(marked, default)
                hits.append(SearchHit(group_id, message_id, subject, snippet, at, sender, spans))
            return hits

        return await self.db.execute_fn(read)

    # ------------------------------------------------------------------ templates

    async def save_templates(
        self, templates: Sequence[Template], business_account_id: str = ""
    ) -> None:
        """Replace the template cache of one business account (WABA)."""
        now = self._clock()
        rows = [
            (
                business_account_id,
                t.name,
                t.language,
                str(t.category),
                t.status,
                t.body_params,
                t.header_format,
                dumps(list(t.components)),
                now,
            )
            for t in templates
        ]

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM templates WHERE business_account_id = ?", (business_account_id,)
            )
            conn.executemany(
                "INSERT INTO templates(business_account_id, name, language, category, status, "
                "body_params, header_format, components, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

        await self.db.execute_write_fn(write)

    async def templates(self, business_account_id: str = "") -> list[Template]:
        """Cached templates of one business account (WABA), by name and language."""
        rows = await self._all(
            "SELECT name, language, category, status, body_params, header_format, components "
            "FROM templates WHERE business_account_id = ? ORDER BY name, language",
            (business_account_id,),
        )
        return [
            Template(
                name=r[0],
                language=r[1],
                category=enum_or(TemplateCategory, r[2], TemplateCategory.MARKETING),
                status=r[3],
                body_params=r[4],
                header_format=r[5],
                components=tuple(loads(r[6], [])),
            )
            for r in rows
        ]
