"""Schema step 10 (:data:`groups_tui.store.schema.MIGRATIONS`), kept beside the others'
module for its size: who got a message and what happened in a group, for the
conversation."""

from __future__ import annotations

__all__ = ["TIMELINE_STEP"]

# * ``recipient_status`` keeps, besides the best state, when each member's copy was first
#   delivered and first read (the earliest status of each, whatever the arrival order), so
#   that a read does not hide when the message arrived. Rows from before keep the one time
#   they have for the state they are in.
# * ``group_events`` is derived state: the group's own history that the ``groups`` row
#   keeps only the latest of (creation, subject, description, picture, suspension), one row
#   per event, so the conversation can show "subject changed to ..." where it happened.
#   ``value`` is the new text ('' when there is none); the key makes re-applying an event
#   (a replay, a duplicate webhook) a no-op.
# * Indexes let the conversation read a page's events by time: membership history and
#   join requests of one group between two times.
TIMELINE_STEP = """
ALTER TABLE recipient_status ADD COLUMN delivered_at INTEGER;
ALTER TABLE recipient_status ADD COLUMN read_at INTEGER;
UPDATE recipient_status SET delivered_at = at WHERE state = 'delivered';
UPDATE recipient_status SET read_at = at WHERE state = 'read';
CREATE TABLE group_events (
    group_id   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    request_id TEXT,
    PRIMARY KEY (group_id, at, kind, value)
) WITHOUT ROWID;
CREATE INDEX participant_history_group_at ON participant_history(group_id, at);
CREATE INDEX join_requests_group_created ON join_requests(group_id, created_at);
"""
"""The step's script (the tenth in :data:`~groups_tui.store.schema.MIGRATIONS`)."""
