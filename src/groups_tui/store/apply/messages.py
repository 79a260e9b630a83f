"""Inbound group messages, the unread count and the customer service window.

Ordering rules (event time is the webhook's ``at``):

* A message is stored once (its wamid); a repeat changes nothing.
* Unread counts only messages newer than what the operator marked read
  (``group_local.read_through``).
* Last inbound message (the window, ``last_inbound_by``): the newest member message; at
  equal times the one with the greater message id. A system notice (``MessageKind.SYSTEM``)
  is stored and counted unread but never opens or renews the window
  (:attr:`~groups_tui.domain.models.Message.renews_window`). The newest message of either direction
  (``last_msg_*``, kept by the schema v4/v6 triggers) follows the same rule.

Messages outside groups (1:1) are outside this inbox and ignored.

Set-based storing: outside isolation (:meth:`MessageApplier.inbound` with ``defer``)
the rows are kept and written by :meth:`MessageApplier.flush_pending` in multi-row
``INSERT`` statements, each followed by the messages' updates of the group and the
sender, in arrival order. Every statement that writes ``messages`` makes the full-text
index (FTS5) write its pending terms to disk; one statement per message cost a segment
per message. Storing the rows first and then running their updates gives the same state
as one by one, because every rule above is order-independent given the same set of
messages: the window and the sender's name take the newest message, whichever updates
last, and unread counts each stored message once. The applier writes the pending rows
before any event other than a message or a status (which neither reads nor writes what
the messages' updates touch), and before it commits.
"""

from __future__ import annotations

from typing import Any

from groups_tui.domain.events import InboundMessage
from groups_tui.domain.models import Media, MessageKind
from groups_tui.store.apply.context import MESSAGE_NAME_SQL, ApplyContext, first_error
from groups_tui.store.codec import dumps, media_to_json

__all__ = ["MessageApplier"]

_COLUMNS = (
    "INSERT INTO messages(id, group_id, direction, kind, sender_key, sender_name, "
    "sender_wa_id, at, text, media, extras, reply_to, error_code, error_title, origin) VALUES "
)
_ROW = "(?, ?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'webhook')"
_INSERT_ONE = _COLUMNS + _ROW + " ON CONFLICT(id) DO NOTHING"
_ROWS_PER_INSERT = 64
"""Rows per multi-row insert (13 parameters each: within SQLite's oldest 999 limit)."""

_NAME_SQL = (
    "UPDATE participants SET profile_name = coalesce("
    + MESSAGE_NAME_SQL.format(g="?1", k="?2")
    + ", profile_name) WHERE group_id = ?1 AND participant_key = ?2"
)
_SYSTEM_SQL = (
    "UPDATE groups SET "
    "unread = unread + (?2 > coalesce((SELECT read_through FROM group_local "
    "WHERE group_id = ?1), -1)), "
    "last_activity_at = max(coalesce(last_activity_at, ?2), ?2) WHERE id = ?1"
)
_WINDOW_SQL = (
    "UPDATE groups SET "
    "unread = unread + (?2 > coalesce((SELECT read_through FROM group_local "
    "WHERE group_id = ?1), -1)), "
    "last_inbound_by = CASE WHEN last_inbound_at IS NULL OR ?2 > last_inbound_at "
    "OR (?2 = last_inbound_at AND ?4 = (SELECT max(m.id) FROM messages m "
    "WHERE m.group_id = ?1 AND m.at = ?2 AND m.direction = 'inbound' "
    "AND m.kind != 'system')) "
    "THEN ?3 ELSE last_inbound_by END, "
    "last_inbound_at = max(coalesce(last_inbound_at, ?2), ?2), "
    "last_activity_at = max(coalesce(last_activity_at, ?2), ?2) WHERE id = ?1"
)

_Row = tuple[Any, ...]
_After = tuple[str, tuple[Any, ...]]


class MessageApplier:
    """Applies inbound message webhooks.

    Args:
        ctx: The applier's shared context.
    """

    def __init__(self, ctx: ApplyContext) -> None:
        self._ctx = ctx
        self._rows: list[_Row] = []
        self._after: list[_After] = []
        self._ids: set[str] = set()

    def inbound(self, e: InboundMessage, *, defer: bool = False) -> None:
        """A member wrote to the group.

        With ``defer`` the row and its updates wait for :meth:`flush_pending`; the
        change-feed row is appended now, in arrival order.
        """
        if e.group_id is None:
            return  # 1:1 messages are outside this inbox
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        sender = e.sender
        key = ctx.member_key(e.group_id, sender)
        name = sender.profile_name or sender.username or key or None
        media = None
        if e.media is not None:
            media = Media(
                kind=e.kind,
                mime_type=e.media.mime_type,
                size=e.media.size,
                caption=e.media.caption,
                filename=e.media.filename,
                media_id=e.media.id,
                link=e.media.url,
            )
        text = e.text if e.text is not None else (e.media.caption if e.media else None)
        code, title = first_error(e.errors)
        row = (
            e.wamid,
            e.group_id,
            str(e.kind if isinstance(e.kind, MessageKind) else MessageKind.UNSUPPORTED),
            key or None,
            name,
            sender.wa_id,
            e.at,
            text,
            media_to_json(media),
            dumps(dict(e.extras)) if e.extras else None,
            e.reply_to,
            code,
            title,
        )
        after: list[_After] = []
        if sender.profile_name and e.kind is not MessageKind.SYSTEM:
            # Participant webhooks carry numbers only; a member's name arrives with their
            # messages (the inbox filter matches it through ``member_text``).
            after.append((_NAME_SQL, (e.group_id, key)))
        if e.kind is MessageKind.SYSTEM:
            # A notice of WhatsApp's, not a member writing: it never renews the window.
            after.append((_SYSTEM_SQL, (e.group_id, e.at)))
        else:
            # Unread counts only messages newer than what the operator marked read; the
            # window renews from the newest member message whatever the arrival order.
            after.append((_WINDOW_SQL, (e.group_id, e.at, name, e.wamid)))
        if defer:
            if e.wamid in self._ids or ctx.message_stored(e.wamid):
                return
            self._ids.add(e.wamid)
            self._rows.append(row)
            self._after += after
        else:
            if not ctx.exec(_INSERT_ONE, row):
                return
            for sql, params in after:
                ctx.exec(sql, params)
        ctx.change("message.received", e.group_id, e.at, e.wamid, {"sender": key})

    def flush_pending(self) -> None:
        """Store the deferred messages, then run their updates in arrival order."""
        if not self._rows:
            return
        ctx = self._ctx
        rows, after = self._rows, self._after
        self._rows, self._after = [], []
        self._ids.clear()
        # Checked absent when deferred: should one be stored meanwhile, this raises.
        ctx.insert_rows(
            _COLUMNS,
            _ROW,
            rows,
            tail=" ON CONFLICT(id) DO NOTHING",
            per=_ROWS_PER_INSERT,
            what="messages",
        )
        for sql, params in after:
            ctx.exec(sql, params)
