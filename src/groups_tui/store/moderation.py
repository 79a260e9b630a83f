"""Local knowledge about people: contacts, the blocklist and moderation flags."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from groups_tui.store.codec import dumps, loads
from groups_tui.store.feed import append_change
from groups_tui.store.records import NUMBER_OF_GROUP, Contact, FlaggedPerson, StoredFlag
from groups_tui.store.repository import Repository, marks

__all__ = ["FLAG_STATES", "Moderation"]

_NUMBER = NUMBER_OF_GROUP.format(explicit="NULL", group="?3")
"""A flag is its group's number's."""

FLAG_STATES = ("open", "acted", "dismissed", "auto_acted", "auto_failed")
"""Every state a moderation flag can be in."""


_WHO = "coalesce(wa_id, participant_key, 'flag:' || id)"
"""Who a flag is about: their number, else their member key, else the flag alone."""


class Moderation(Repository):
    """Contacts, blocklist and moderation flags."""

    # ------------------------------------------------------------------ contacts

    async def set_contact(
        self, participant_key: str, *, display_name: str | None = None, note: str | None = None
    ) -> None:
        """Save local details about a member."""
        await self.db.execute_write(
            "INSERT INTO contacts(participant_key, display_name, note, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(participant_key) DO UPDATE SET "
            "display_name = excluded.display_name, note = excluded.note, "
            "updated_at = excluded.updated_at",
            (participant_key, display_name, note, self._clock()),
        )

    async def contact(self, participant_key: str) -> Contact | None:
        """Local details about a member."""
        row = await self._one(
            "SELECT participant_key, display_name, note FROM contacts WHERE participant_key = ?",
            (participant_key,),
        )
        return Contact(*row) if row else None

    # ------------------------------------------------------------------ blocklist

    async def block(self, participant_key: str, reason: str | None = None) -> None:
        """Add a member to the blocklist."""
        await self.db.execute_write(
            "INSERT INTO blocklist(participant_key, reason, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(participant_key) DO UPDATE SET reason = excluded.reason",
            (participant_key, reason, self._clock()),
        )

    async def unblock(self, participant_key: str) -> None:
        """Remove a member from the blocklist."""
        await self.db.execute_write(
            "DELETE FROM blocklist WHERE participant_key = ?", (participant_key,)
        )

    async def is_blocked(self, participant_key: str) -> bool:
        """Whether a member is on the blocklist."""
        row = await self._one(
            "SELECT 1 FROM blocklist WHERE participant_key = ?", (participant_key,)
        )
        return row is not None

    async def blocklist(self) -> list[tuple[str, str | None]]:
        """Blocked member keys with their reasons."""
        return [
            (r[0], r[1])
            for r in await self._all(
                "SELECT participant_key, reason FROM blocklist ORDER BY participant_key"
            )
        ]

    # ------------------------------------------------------------------ flags

    async def add_flag(
        self,
        *,
        rule: str,
        action: str,
        group_id: str | None,
        participant_key: str | None,
        wa_id: str | None,
        message_id: str | None,
        join_request_id: str | None,
        at: int,
        reason: str,
        evidence: Sequence[str] = (),
    ) -> int | None:
        """Record a moderation flag once; returns its id, or ``None`` if already known."""
        params = (
            rule,
            action,
            group_id,
            participant_key,
            wa_id,
            message_id,
            join_request_id,
            at,
            reason,
            dumps(list(evidence)),
            self._clock(),
        )

        def write(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "INSERT INTO moderation_flags(rule, action, group_id, participant_key, wa_id, "
                "message_id, join_request_id, at, reason, evidence, updated_at, phone_number_id) "
                f"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, {_NUMBER}) "
                "ON CONFLICT(rule, group_id, participant_key, at) DO NOTHING RETURNING id",
                params,
            ).fetchone()
            if row is None:
                return None
            append_change(
                conn,
                "moderation.flagged",
                group_id=group_id,
                entity=str(row[0]),
                at=at,
                payload={"rule": rule, "action": action},
            )
            return int(row[0])

        return await self.db.execute_write_fn(write)

    async def set_flag_state(self, flag_id: int, state: str, outcome: str | None = None) -> None:
        """Settle a flag: acted, dismissed, auto_acted or auto_failed (with what happened)."""
        now = self._clock()

        def write(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "UPDATE moderation_flags SET state = ?, outcome = ?, updated_at = ? "
                "WHERE id = ? RETURNING group_id",
                (state, outcome, now, flag_id),
            ).fetchone()
            if row is not None:
                append_change(
                    conn,
                    "moderation.updated",
                    group_id=row[0],
                    entity=str(flag_id),
                    payload={"state": state},
                )

        await self.db.execute_write_fn(write)

    async def flags(
        self,
        states: Sequence[str] = ("open",),
        *,
        before_id: int | None = None,
        limit: int = 200,
    ) -> list[StoredFlag]:
        """Flags in the given states, newest first (keyset on id)."""
        rows = await self._all(
            "SELECT id, rule, action, group_id, participant_key, wa_id, message_id, "
            "join_request_id, at, reason, evidence, state, outcome, phone_number_id "
            "FROM moderation_flags "
            f"WHERE state IN ({marks(len(states))}) AND id < ? ORDER BY id DESC LIMIT ?",
            [*states, before_id if before_id is not None else 2**62, limit],
        )
        return [
            StoredFlag(
                id=r[0],
                rule=r[1],
                action=r[2],
                group_id=r[3],
                participant_key=r[4],
                wa_id=r[5],
                message_id=r[6],
                join_request_id=r[7],
                at=r[8],
                reason=r[9],
                evidence=tuple(loads(r[10], [])),
                state=r[11],
                outcome=r[12],
                phone_number_id=r[13],
            )
            for r in rows
        ]

    async def open_count(self) -> int:
        """How many flags are open (the header shows it)."""
        row = await self._one("SELECT count(*) FROM moderation_flags WHERE state = 'open'")
        return int(row[0])

    async def open_people(
        self, *, before_id: int | None = None, limit: int = 50
    ) -> list[FlaggedPerson]:
        """Open flags grouped by person (number, else member key) across groups.

        Newest person first, by their newest open flag's id (the keyset): a spammer who
        posted in three groups is one entry. A flag that names nobody is its own entry.
        """
        rows = await self._all(
            f"SELECT p.newest, p.who, p.n, p.groups, p.rules, p.requests, f.wa_id, "
            "f.participant_key, f.group_id, f.reason, f.message_id, f.at "
            f"FROM (SELECT {_WHO} AS who, max(id) AS newest, count(*) AS n, "
            "group_concat(DISTINCT group_id) AS groups, group_concat(DISTINCT rule) AS rules, "
            "count(join_request_id) AS requests FROM moderation_flags WHERE state = 'open' "
            "GROUP BY who HAVING max(id) < ? ORDER BY newest DESC LIMIT ?) p "
            "JOIN moderation_flags f ON f.id = p.newest ORDER BY p.newest DESC",
            (before_id if before_id is not None else 2**62, limit),
        )
        people = []
        for r in rows:
            groups = [g for g in (r[3] or "").split(",") if g]
            if r[8] in groups:
                groups.remove(r[8])
                groups.insert(0, r[8])
            people.append(
                FlaggedPerson(
                    id=r[0],
                    who=r[1],
                    wa_id=r[6],
                    participant_key=r[7],
                    group_id=r[8],
                    group_ids=tuple(groups),
                    rules=tuple((r[4] or "").split(",")),
                    flags=r[2],
                    reason=r[9],
                    message_id=r[10],
                    at=r[11],
                    join_requests_only=r[5] == r[2],
                )
            )
        for i, person in enumerate(people):
            newest = await self.get_flag(person.id)
            if newest is not None and newest.phone_number_id:
                people[i] = replace(person, phone_number_id=newest.phone_number_id)
        return people

    async def open_flags_of(self, who: str) -> list[StoredFlag]:
        """Every open flag of one person (:attr:`FlaggedPerson.who`), newest first."""
        ids = [
            r[0]
            for r in await self._all(
                f"SELECT id FROM moderation_flags WHERE state = 'open' AND {_WHO} = ? "
                "ORDER BY id DESC",
                (who,),
            )
        ]
        flags = [await self.get_flag(i) for i in ids]
        return [f for f in flags if f is not None]

    async def get_flag(self, flag_id: int) -> StoredFlag | None:
        """One flag by id."""
        for flag in await self.flags(FLAG_STATES, before_id=flag_id + 1, limit=1):
            return flag if flag.id == flag_id else None
        return None
