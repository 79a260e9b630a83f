"""A group's lifecycle and settings: creates, deletes, suspensions, texts and picture.

Ordering rules (event time is the webhook's ``at``):

* Subject, description, invite link and join-approval mode (from creates and settings
  changes): the newest event carrying a value wins (``<column>_at``); equal times fall
  back to comparing the text, the greater wins, so that arrival order does not matter.
  A join-approval mode this version does not know is stored as received.
* Picture: the newest wins; at equal times the greater hash.
* Creation: ``created_at`` is the earliest create of the group, and so is the
  ``state_at`` of an active group. A create may find the row the service recorded for
  its request (``id`` still unknown) and a placeholder made by an event that reached the
  group first: the two are folded into one.
* Suspension: the newest of suspend/clear wins; at equal times suspended wins.
* The group's timeline (``group_events``) keeps every creation, subject, description,
  picture and suspension event once (re-applying one is a no-op); of several creates of
  one group only the earliest stays (at equal times, the greater subject).
* Deletion is terminal: a late create never revives a deleted group.
* A read of the group (:class:`GroupRead`) creates a group the store has no create of,
  as a create at the group's creation time would; what it shows of the members is
  :mod:`.members`'s.

The operation each of these webhooks settles is settled by :mod:`.operations`.
"""

from __future__ import annotations

from groups_tui.domain.events import (
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
    GroupRead,
    GroupSuspendCleared,
    GroupSuspended,
    SettingsChanged,
    SettingsChangeFailed,
)
from groups_tui.domain.timeline import EventKind
from groups_tui.store.apply.context import ApplyContext, error_text, first_error
from groups_tui.store.apply.operations import OperationSettler

__all__ = ["GroupApplier"]


class GroupApplier:
    """Applies lifecycle and settings events to the ``groups`` row.

    Args:
        ctx: The applier's shared context.
        operations: Settles the operations these webhooks report on.
    """

    def __init__(self, ctx: ApplyContext, operations: OperationSettler) -> None:
        self._ctx = ctx
        self._operations = operations

    # ------------------------------------------------------------------ lifecycle

    def created(self, e: GroupCreated) -> None:
        """A group was created (a webhook, or a read or sync that saw it)."""
        ctx = self._ctx
        pending = None
        if e.request_id is not None:
            pending = ctx.row(
                "SELECT pk FROM groups WHERE request_id = ? AND id IS NULL", (e.request_id,)
            )
        existing = ctx.row("SELECT pk FROM groups WHERE id = ?", (e.group_id,))
        if pending and existing:
            # Another event created a placeholder first: fold the pending row into it.
            ctx.exec(
                "UPDATE groups SET subject = CASE WHEN subject_at IS NULL AND subject = '' "
                "THEN (SELECT subject FROM groups WHERE pk = ?1) ELSE subject END, "
                "description = CASE WHEN description_at IS NULL AND description = '' "
                "THEN (SELECT description FROM groups WHERE pk = ?1) ELSE description END, "
                "join_approval = (SELECT join_approval FROM groups WHERE pk = ?1) "
                "WHERE pk = ?2",
                (pending[0], existing[0]),
            )
            ctx.exec("DELETE FROM groups WHERE pk = ?", (pending[0],))
            ctx.exec("UPDATE groups SET request_id = ? WHERE pk = ?", (e.request_id, existing[0]))
        elif pending:
            ctx.exec("UPDATE groups SET id = ? WHERE pk = ?", (e.group_id, pending[0]))
        else:
            # A create we did not ask for, or a placeholder made by an earlier-applied
            # event: either way the group exists and takes the request id if it is free.
            ctx.ensure_group(e.group_id)
            ctx.exec(
                "UPDATE groups SET request_id = ?2 WHERE id = ?1 AND request_id IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM groups WHERE request_id = ?2)",
                (e.group_id, e.request_id),
            )
        # The group is its number's from its first row (the service's pending row, or a
        # placeholder); a row made before numbers were known takes the create's.
        ctx.exec(
            "UPDATE groups SET phone_number_id = ? WHERE id = ? AND phone_number_id = ''",
            (ctx.number, e.group_id),
        )
        # Several creates of one group (a webhook, then a sync) may come in any order:
        # the earliest gives the creation time, and each value comes from the newest
        # create that carries one (_set_texts).
        ctx.exec(
            "UPDATE groups SET state = CASE WHEN state = 'deleted' THEN state ELSE 'active' END, "
            "state_at = CASE WHEN state = 'deleted' THEN state_at "
            "WHEN state = 'active' AND state_at IS NOT NULL THEN min(state_at, ?2) ELSE ?2 END, "
            "created_at = min(coalesce(created_at, ?2), ?2), error_code = NULL, "
            "error_message = NULL WHERE id = ?1",
            (e.group_id, e.at),
        )
        self._set_texts(
            e.group_id,
            e.subject,
            e.description,
            e.at,
            invite_link=e.invite_link,
            join_approval=e.join_approval_mode,
        )
        self._created_event(e.group_id, e.at, e.subject or "", e.request_id)
        ctx.touch(e.group_id, e.at)
        ctx.change("group.created", e.group_id, e.at, e.request_id)
        self._operations.resolve(e.request_id, "done", e.at, group_id=e.group_id)

    def create_failed(self, e: GroupCreateFailed) -> None:
        """A create was refused: the service's row for its request shows why."""
        ctx = self._ctx
        code, _ = first_error(e.errors)
        text = error_text(e.errors)
        if e.request_id is not None:
            updated = ctx.exec(
                "UPDATE groups SET state = 'failed', state_at = ?, error_code = ?, "
                "error_message = ? WHERE request_id = ? AND id IS NULL",
                (e.at, code, text, e.request_id),
            )
            if not updated:
                ctx.exec(
                    "INSERT INTO groups(request_id, subject, description, state, state_at, "
                    "error_code, error_message, phone_number_id) "
                    "VALUES (?, ?, ?, 'failed', ?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING",
                    (
                        e.request_id,
                        e.subject or "",
                        e.description or "",
                        e.at,
                        code,
                        text,
                        ctx.number,
                    ),
                )
        ctx.change("group.create_failed", None, e.at, e.request_id, {"error": text, "code": code})
        self._operations.resolve(e.request_id, "failed", e.at, error=text)

    def deleted(self, e: GroupDeleted) -> None:
        """A group was deleted (for good)."""
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        ctx.exec(
            "UPDATE groups SET state = 'deleted', state_at = ? WHERE id = ? AND state <> 'deleted'",
            (e.at, e.group_id),
        )
        ctx.touch(e.group_id, e.at)
        ctx.change("group.deleted", e.group_id, e.at, e.request_id)
        self._operations.resolve(e.request_id, "done", e.at, group_id=e.group_id, kind="delete")

    def delete_failed(self, e: GroupDeleteFailed) -> None:
        """A delete was refused: only its operation changes."""
        self._operations.resolve(
            e.request_id,
            "failed",
            e.at,
            error=error_text(e.errors),
            group_id=e.group_id,
            kind="delete",
        )

    def read(self, e: GroupRead) -> None:
        """Create the group a read shows, unless the store has its create already."""
        known = self._ctx.row("SELECT created_at FROM groups WHERE id = ?", (e.group_id,))
        if known is None or known[0] is None:
            self.created(
                GroupCreated(
                    request_id=None,
                    group_id=e.group_id,
                    subject=e.subject,
                    description=e.description,
                    join_approval_mode=e.join_approval_mode,
                    at=e.created_at,
                )
            )

    # ------------------------------------------------------------------ settings

    def settings_changed(self, e: SettingsChanged) -> None:
        """Subject, description or picture changed."""
        ctx = self._ctx
        ctx.ensure_group(e.group_id)
        self._set_texts(e.group_id, e.subject, e.description, e.at)
        if e.picture is not None:
            ctx.exec(
                "UPDATE groups SET picture_sha256 = ?1, picture_at = ?2 WHERE id = ?3 "
                "AND (picture_at IS NULL OR picture_at < ?2 OR (picture_at = ?2 "
                "AND coalesce(?1, '') > coalesce(picture_sha256, '')))",
                (e.picture.sha256, e.at, e.group_id),
            )
        for kind, value in (
            (EventKind.SUBJECT, e.subject),
            (EventKind.DESCRIPTION, e.description),
            (EventKind.PICTURE, e.picture.sha256 or "" if e.picture is not None else None),
        ):
            if value is not None:
                self._event(e.group_id, e.at, kind, value, e.request_id)
        ctx.touch(e.group_id, e.at)
        changed = [
            name
            for name, value in (
                ("subject", e.subject),
                ("description", e.description),
                ("picture", e.picture),
            )
            if value is not None
        ]
        ctx.change("group.updated", e.group_id, e.at, e.request_id, {"changed": changed})
        self._operations.resolve(e.request_id, "done", e.at, group_id=e.group_id, kind="settings")

    def settings_failed(self, e: SettingsChangeFailed) -> None:
        """A settings change was refused: the feed and its operation say why."""
        self._ctx.ensure_group(e.group_id)
        parts = [f"{f.setting}: {error_text(f.errors) or 'failed'}" for f in e.failures]
        text = "; ".join(parts) or error_text(e.errors) or "settings update failed"
        self._ctx.change("group.settings_failed", e.group_id, e.at, e.request_id, {"error": text})
        self._operations.resolve(
            e.request_id, "failed", e.at, error=text, group_id=e.group_id, kind="settings"
        )

    def suspended(self, e: GroupSuspended) -> None:
        """The group was suspended."""
        self._suspension(e.group_id, True, e.at)

    def suspend_cleared(self, e: GroupSuspendCleared) -> None:
        """The group's suspension was lifted."""
        self._suspension(e.group_id, False, e.at)

    def _suspension(self, group_id: str, suspended: bool, at: int) -> None:
        ctx = self._ctx
        ctx.ensure_group(group_id)
        changed = ctx.exec(
            "UPDATE groups SET suspended = ?2, suspended_at = ?3 WHERE id = ?1 AND "
            "(suspended_at IS NULL OR suspended_at < ?3 OR (suspended_at = ?3 AND ?2 = 1))",
            (group_id, int(suspended), at),
        )
        self._event(
            group_id, at, EventKind.SUSPENDED if suspended else EventKind.SUSPEND_CLEARED, ""
        )
        if changed:
            kind = "group.suspended" if suspended else "group.suspend_cleared"
            ctx.change(kind, group_id, at)

    # ------------------------------------------------------------------ timeline

    def _event(
        self, group_id: str, at: int, kind: EventKind, value: str, request_id: str | None = None
    ) -> None:
        """Record one event of the group's timeline (once; the greater request id wins)."""
        self._ctx.exec(
            "INSERT INTO group_events(group_id, at, kind, value, request_id) "
            "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(group_id, at, kind, value) DO UPDATE "
            "SET request_id = excluded.request_id "
            "WHERE coalesce(excluded.request_id, '') > coalesce(request_id, '')",
            (group_id, at, str(kind), value, request_id),
        )

    def _created_event(self, group_id: str, at: int, subject: str, request_id: str | None) -> None:
        """The group's creation: only the earliest create is kept in the timeline."""
        ctx = self._ctx
        earlier = ctx.row(
            "SELECT 1 FROM group_events WHERE group_id = ?1 AND kind = ?2 "
            "AND (at < ?3 OR (at = ?3 AND value > ?4))",
            (group_id, str(EventKind.CREATED), at, subject),
        )
        if earlier is not None:
            return
        ctx.exec(
            "DELETE FROM group_events WHERE group_id = ?1 AND kind = ?2 "
            "AND NOT (at = ?3 AND value = ?4)",
            (group_id, str(EventKind.CREATED), at, subject),
        )
        self._event(group_id, at, EventKind.CREATED, subject, request_id)

    def _set_texts(
        self,
        group_id: str,
        subject: str | None,
        description: str | None,
        at: int,
        *,
        invite_link: str | None = None,
        join_approval: str | None = None,
    ) -> None:
        """Set each given value unless a newer event set it; at a tie the greater text wins."""
        for column, value in (
            ("subject", subject),
            ("description", description),
            ("invite_link", invite_link),
            ("join_approval", join_approval),
        ):
            if value is None:
                continue
            self._ctx.exec(
                f"UPDATE groups SET {column} = ?2, {column}_at = ?3 WHERE id = ?1 AND "
                f"({column}_at IS NULL OR {column}_at < ?3 "
                f"OR ({column}_at = ?3 AND {column} < ?2))",
                (group_id, value, at),
            )
