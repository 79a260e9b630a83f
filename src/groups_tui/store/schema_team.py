"""Schema step v11 (team mode), kept beside :mod:`.schema`, which lists it in order.

An audit entry names the role its operator held (the daemon's peer credentials give the
user; NULL in single-user mode), and one lease row per background runner lets at most one
process run the automations and the moderation watcher.
"""

from __future__ import annotations

__all__ = ["TEAM_STEP"]

TEAM_STEP = """
ALTER TABLE audit_log ADD COLUMN role TEXT;
CREATE TABLE runner_lease (
    name       TEXT PRIMARY KEY,
    holder_pid INTEGER NOT NULL,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
"""
