"""Schema step 12 (:data:`groups_tui.store.schema.MIGRATIONS`), kept beside the others'
module for its size: the raw log's bodies in a table of their own.

A raw row's bookkeeping (``applied_at``, ``parse_state``, ``error``, ``other_number``)
changes when it is applied and again when ``events replay`` resets derived state; its
body never changes. With the body in the same row every such write rewrote the body too
(about 530 bytes a webhook: a replay of 100,000 webhooks rewrote ~68 MB twice). The
bodies now live in ``raw_bodies``, one row per raw row under the same id, written once
when the webhook is logged; ``raw_events`` keeps the small rows that change.
"""

from __future__ import annotations

__all__ = ["RAW_BODIES_STEP"]

# ``id`` is the raw row's id (``raw_events.id``), so id order is log order in both. The
# bodies are copied byte for byte; ``raw_events`` is then rebuilt without its body
# (SQLite's rebuild procedure: ``DROP COLUMN`` would leave each row in its old page, as
# many pages as before to rewrite), ids, keys, bookkeeping, AUTOINCREMENT's counter and
# indexes unchanged.
RAW_BODIES_STEP = """
CREATE TABLE raw_bodies (
    id   INTEGER PRIMARY KEY REFERENCES raw_events(id) ON DELETE CASCADE,
    body BLOB NOT NULL
);
INSERT INTO raw_bodies(id, body) SELECT id, body FROM raw_events ORDER BY id;
CREATE TABLE new_raw_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key      TEXT NOT NULL UNIQUE,
    received_at     REAL NOT NULL,
    applied_at      REAL,
    parse_state     TEXT NOT NULL DEFAULT 'pending'
                    CHECK (parse_state IN ('pending', 'ok', 'unparsed', 'error')),
    error           TEXT,
    phone_number_id TEXT,
    other_number    INTEGER NOT NULL DEFAULT 0
);
INSERT INTO new_raw_events(id, dedupe_key, received_at, applied_at, parse_state, error,
                           phone_number_id, other_number)
    SELECT id, dedupe_key, received_at, applied_at, parse_state, error, phone_number_id,
           other_number
      FROM raw_events ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'new_raw_events';
UPDATE sqlite_sequence SET name = 'new_raw_events' WHERE name = 'raw_events';
DROP TABLE raw_events;
ALTER TABLE new_raw_events RENAME TO raw_events;
CREATE INDEX raw_events_unapplied ON raw_events(id) WHERE applied_at IS NULL;
CREATE INDEX raw_events_other_number ON raw_events(id) WHERE other_number = 1;
"""
"""The step's script (the twelfth in :data:`~groups_tui.store.schema.MIGRATIONS`)."""
