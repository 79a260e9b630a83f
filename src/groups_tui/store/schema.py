"""Schema of the local database, as an ordered list of migration steps.

``PRAGMA user_version`` records how many steps have been applied (step ``n`` moves version
``n - 1`` to ``n``). Steps are append-only: never edit a shipped step, add a new one.

Tables fall into three families, which matters for :meth:`RawLog.reset_derived_state`:

* the **raw log** (``raw_events``, bodies in ``raw_bodies``) — what webhooks said;
* **derived state**, rebuilt by replaying the raw log (groups, participants,
  participant_history, join_requests, inbound messages, message_delivery,
  recipient_status, cost_ledger, group_events, and the resolution columns of
  pending_operations);
* **local state** written by the operator or the service and kept across a reset
  (outbox and outbound messages, group_local, contacts, blocklist, join_request_decisions,
  audit_log, templates, counters, meta, change_feed, runner_lease).

Every timestamp named ``*_at`` holding event time is UTC epoch seconds from the webhook
(INTEGER). Receipt and local bookkeeping times (``received_at``, ``applied_at``,
``created_at`` of local rows, ``updated_at``) are epoch seconds as REAL from the
injected clock. Money is Decimal rendered as TEXT; NULL means unknown, never zero.
"""

from __future__ import annotations

from groups_tui.store.schema_raw_bodies import RAW_BODIES_STEP as _V12
from groups_tui.store.schema_team import TEAM_STEP
from groups_tui.store.schema_timeline import TIMELINE_STEP

__all__ = ["LATEST_VERSION", "MIGRATIONS", "NUMBERED_TABLES"]

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Raw log. parse_state is 'pending' until the event has been applied.
CREATE TABLE raw_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key  TEXT NOT NULL UNIQUE,
    body        BLOB NOT NULL,
    received_at REAL NOT NULL,
    applied_at  REAL,
    parse_state TEXT NOT NULL DEFAULT 'pending'
                CHECK (parse_state IN ('pending', 'ok', 'unparsed', 'error')),
    error       TEXT
);
CREATE INDEX raw_events_unapplied ON raw_events(id) WHERE applied_at IS NULL;

-- Groups. pk is local; id is Meta's group id and stays NULL while creation is pending.
-- last_activity_at covers webhook events; queries combine it with the newest message
-- (either direction), which is also where the last-message preview comes from.
CREATE TABLE groups (
    pk                  INTEGER PRIMARY KEY,
    id                  TEXT UNIQUE,
    request_id          TEXT UNIQUE,
    subject             TEXT NOT NULL DEFAULT '',
    subject_at          INTEGER,
    description         TEXT NOT NULL DEFAULT '',
    description_at      INTEGER,
    join_approval       TEXT NOT NULL DEFAULT 'auto_approve'
                        CHECK (join_approval IN ('auto_approve', 'approval_required')),
    state               TEXT NOT NULL DEFAULT 'active'
                        CHECK (state IN ('pending', 'active', 'failed', 'deleted')),
    state_at            INTEGER,
    error_code          INTEGER,
    error_message       TEXT,
    suspended           INTEGER NOT NULL DEFAULT 0,
    suspended_reason    TEXT,
    suspended_at        INTEGER,
    created_at          INTEGER,
    invite_link         TEXT,
    last_inbound_at     INTEGER,
    last_inbound_by     TEXT,
    last_activity_at    INTEGER,
    picture_sha256      TEXT,
    picture_at          INTEGER,
    unread              INTEGER NOT NULL DEFAULT 0
);

-- Operator annotations of a group, kept across a reset of derived state.
CREATE TABLE group_local (
    group_id     TEXT PRIMARY KEY,
    flagged      INTEGER NOT NULL DEFAULT 0,
    tag          TEXT,
    note         TEXT,
    read_through INTEGER,
    updated_at   REAL
) WITHOUT ROWID;

-- participant_key is user_id when known, else wa_id. state_at is the event time that
-- set state; an older event never overrides a newer one.
CREATE TABLE participants (
    group_id        TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    participant_key TEXT NOT NULL,
    wa_id           TEXT,
    user_id         TEXT,
    username        TEXT,
    profile_name    TEXT,
    joined_at       INTEGER,
    joined_via      TEXT NOT NULL DEFAULT 'unknown',
    state           TEXT NOT NULL CHECK (state IN ('present', 'left', 'removed')),
    state_at        INTEGER NOT NULL,
    PRIMARY KEY (group_id, participant_key)
) WITHOUT ROWID;
CREATE INDEX participants_present ON participants(group_id) WHERE state = 'present';
CREATE INDEX participants_wa_id ON participants(group_id, wa_id);

CREATE TABLE participant_history (
    id              INTEGER PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    participant_key TEXT NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('join', 'leave', 'remove', 'remove_failed')),
    at              INTEGER NOT NULL,
    initiated_by    TEXT,
    via             TEXT,
    request_id      TEXT,
    error_code      INTEGER,
    error_message   TEXT,
    UNIQUE (group_id, participant_key, action, at)
);

CREATE TABLE join_requests (
    id              TEXT PRIMARY KEY,
    group_id        TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    participant_key TEXT NOT NULL,
    wa_id           TEXT,
    user_id         TEXT,
    username        TEXT,
    profile_name    TEXT,
    created_at      INTEGER,
    state           TEXT NOT NULL
                    CHECK (state IN ('pending', 'approved', 'rejected', 'revoked')),
    state_at        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX join_requests_group ON join_requests(group_id, state, created_at);

-- Approvals/rejections made through the API; no webhook reports a rejection.
CREATE TABLE join_request_decisions (
    id       TEXT PRIMARY KEY,
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    at       INTEGER NOT NULL
) WITHOUT ROWID;

-- Inbound messages are derived; outbound ones (origin 'outbox') are local.
CREATE TABLE messages (
    pk                INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    group_id          TEXT NOT NULL,
    direction         TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    kind              TEXT NOT NULL,
    sender_key        TEXT,
    sender_name       TEXT,
    sender_wa_id      TEXT,
    at                INTEGER NOT NULL,
    text              TEXT,
    media             TEXT,
    template_name     TEXT,
    template_category TEXT,
    system_event      TEXT,
    extras            TEXT,
    reply_to          TEXT,
    error_code        INTEGER,
    error_title       TEXT,
    origin            TEXT NOT NULL DEFAULT 'webhook' CHECK (origin IN ('webhook', 'outbox')),
    outbox_id         INTEGER
);
CREATE INDEX messages_page ON messages(group_id, at, id);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'pk',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.text IS NOT NULL BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.pk, new.text);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN old.text IS NOT NULL BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.pk, old.text);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text)
        SELECT 'delete', old.pk, old.text WHERE old.text IS NOT NULL;
    INSERT INTO messages_fts(rowid, text)
        SELECT new.pk, new.text WHERE new.text IS NOT NULL;
END;

-- Message-level delivery state from group-level statuses (sent, failed). Keyed by wamid
-- without a foreign key: a status can arrive before the send call has returned.
CREATE TABLE message_delivery (
    message_id  TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    error_code  INTEGER,
    error_title TEXT
) WITHOUT ROWID;

-- rank mirrors DeliveryState.rank; updates only ever raise it.
CREATE TABLE recipient_status (
    message_id      TEXT NOT NULL,
    participant_key TEXT NOT NULL,
    state           TEXT NOT NULL,
    rank            INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    error_code      INTEGER,
    error_title     TEXT,
    PRIMARY KEY (message_id, participant_key)
) WITHOUT ROWID;

-- One charge per (message, participant), whatever statuses carried pricing.
CREATE TABLE cost_ledger (
    id                INTEGER PRIMARY KEY,
    message_id        TEXT NOT NULL,
    participant_key   TEXT NOT NULL,
    group_id          TEXT,
    participant_wa_id TEXT,
    category          TEXT,
    pricing_type      TEXT,
    pricing_model     TEXT,
    billable          INTEGER,
    market            TEXT,
    amount            TEXT,
    at                INTEGER NOT NULL,
    UNIQUE (message_id, participant_key)
);
CREATE INDEX cost_ledger_at ON cost_ledger(at);
CREATE INDEX cost_ledger_category_at ON cost_ledger(category, at);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'accepted', 'failed', 'unknown')),
    wamid         TEXT UNIQUE,
    error_code    INTEGER,
    error_message TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX outbox_open ON outbox(state, id) WHERE state IN ('queued', 'unknown');

CREATE TABLE change_feed (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL,
    group_id TEXT,
    entity   TEXT,
    at       INTEGER,
    raw_id   INTEGER,
    payload  TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         REAL NOT NULL,
    os_user    TEXT NOT NULL,
    action     TEXT NOT NULL,
    group_id   TEXT,
    targets    TEXT NOT NULL DEFAULT '[]',
    api_result TEXT,
    cost       TEXT
);
CREATE INDEX audit_log_group ON audit_log(group_id, id);

-- Asynchronous operations. resolved_by is 'webhook' when a webhook settled it (such
-- resolutions are derived state) or 'local' when the service did.
CREATE TABLE pending_operations (
    request_id  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('create', 'remove', 'settings', 'delete')),
    group_id    TEXT,
    payload     TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    error       TEXT,
    created_at  REAL NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT
) WITHOUT ROWID;
CREATE INDEX pending_operations_open ON pending_operations(state, created_at);

CREATE TABLE templates (
    name          TEXT NOT NULL,
    language      TEXT NOT NULL,
    category      TEXT NOT NULL,
    status        TEXT NOT NULL,
    body_params   INTEGER NOT NULL DEFAULT 0,
    header_format TEXT,
    components    TEXT NOT NULL DEFAULT '[]',
    fetched_at    REAL NOT NULL,
    PRIMARY KEY (name, language)
) WITHOUT ROWID;

CREATE TABLE contacts (
    participant_key TEXT PRIMARY KEY,
    display_name    TEXT,
    note            TEXT,
    updated_at      REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE blocklist (
    participant_key TEXT PRIMARY KEY,
    reason          TEXT,
    created_at      REAL NOT NULL
) WITHOUT ROWID;
"""

# Moderation: what the rules flagged and what became of it (local state, kept on reset).
_V2 = """
CREATE TABLE moderation_flags (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rule            TEXT NOT NULL,
    action          TEXT NOT NULL,
    group_id        TEXT,
    participant_key TEXT,
    wa_id           TEXT,
    message_id      TEXT,
    join_request_id TEXT,
    at              INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    evidence        TEXT NOT NULL DEFAULT '[]',
    state           TEXT NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'acted', 'dismissed', 'auto_acted', 'auto_failed')),
    outcome         TEXT,
    updated_at      REAL,
    UNIQUE (rule, group_id, participant_key, at)
);
CREATE INDEX moderation_flags_state ON moderation_flags(state, id);
"""

# Automations: bulk jobs, forwarding outbox, invite-flow sends, runs (local state, kept on
# reset). Every job row is written BEFORE its API call, so a resume never repeats a call
# whose outcome is unknown.
_V3 = """
CREATE TABLE automation_jobs (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('bulk_create', 'announce')),
    fingerprint TEXT NOT NULL,
    params     TEXT NOT NULL DEFAULT '{}',
    state      TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX automation_jobs_fingerprint ON automation_jobs(kind, fingerprint, created_at);

-- One CSV row of a bulk creation. state: planned -> calling -> requested -> created, or
-- failed (Meta's reason), unknown (no answer, never re-created blindly), invalid (bad row),
-- or existing (an earlier job already created this subject and tag).
CREATE TABLE bulk_create_rows (
    job_id        TEXT NOT NULL REFERENCES automation_jobs(id) ON DELETE CASCADE,
    row_no        INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    join_approval INTEGER NOT NULL DEFAULT 0,
    tag           TEXT,
    invitees      TEXT NOT NULL DEFAULT '[]',
    state         TEXT NOT NULL
                  CHECK (state IN ('planned', 'calling', 'requested', 'created', 'existing',
                                   'failed', 'unknown', 'invalid')),
    request_id    TEXT,
    group_id      TEXT,
    error         TEXT,
    called_at     REAL,
    updated_at    REAL NOT NULL,
    PRIMARY KEY (job_id, row_no)
) WITHOUT ROWID;

-- One invite (1:1 invite-link template) of a bulk row: calling -> sent | failed | unknown.
CREATE INDEX bulk_create_rows_subject ON bulk_create_rows(subject) WHERE state = 'created';

CREATE TABLE bulk_invites (
    job_id     TEXT NOT NULL,
    row_no     INTEGER NOT NULL,
    wa_id      TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('calling', 'sent', 'failed', 'unknown')),
    wamid      TEXT,
    error      TEXT,
    cost       TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job_id, row_no, wa_id),
    FOREIGN KEY (job_id, row_no) REFERENCES bulk_create_rows(job_id, row_no) ON DELETE CASCADE
) WITHOUT ROWID;

-- One group of an announcement: planned -> calling -> sent | failed | unknown.
CREATE TABLE announce_rows (
    job_id     TEXT NOT NULL REFERENCES automation_jobs(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    group_id   TEXT NOT NULL,
    state      TEXT NOT NULL
               CHECK (state IN ('planned', 'calling', 'sent', 'failed', 'unknown')),
    outbox_id  INTEGER,
    wamid      TEXT,
    error      TEXT,
    cost       TEXT,
    called_at  REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job_id, group_id)
) WITHOUT ROWID;
CREATE INDEX announce_rows_seq ON announce_rows(job_id, seq);

-- Durable forwarding queue: one row per (target, change). A row is
-- sent only when every earlier row of the same target and lane (group) was delivered.
CREATE TABLE forward_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    target          TEXT NOT NULL,
    change_id       INTEGER NOT NULL,
    lane            TEXT NOT NULL,
    body            BLOB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      REAL NOT NULL,
    delivered_at    REAL,
    UNIQUE (target, change_id)
);
CREATE INDEX forward_outbox_pending ON forward_outbox(target, id) WHERE state = 'pending';

-- Invites sent by invite-flow rules; (rule, person, group_key) within the repeat period
-- is sent at most once. The row is written before the API call.
CREATE TABLE invite_flow_sends (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule        TEXT NOT NULL,
    person      TEXT NOT NULL,
    group_key   TEXT NOT NULL,
    group_id    TEXT,
    request_id  TEXT,
    trigger_id  TEXT,
    state       TEXT NOT NULL
                CHECK (state IN ('waiting', 'calling', 'sent', 'failed', 'unknown')),
    wamid       TEXT,
    error       TEXT,
    cost        TEXT,
    at          REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX invite_flow_sends_key ON invite_flow_sends(rule, person, group_key, at);
CREATE INDEX invite_flow_sends_waiting ON invite_flow_sends(state) WHERE state = 'waiting';

-- Runs and failures of rules and targets (what the automations screen lists).
CREATE TABLE automation_runs (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    at     REAL NOT NULL,
    ok     INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX automation_runs_name ON automation_runs(name, id);

CREATE TABLE automation_paused (
    name      TEXT PRIMARY KEY,
    paused_at REAL NOT NULL
) WITHOUT ROWID;
"""

# What the inbox shows of a message: its text (cut) or its kind, and who sent it.
_PREVIEW = "substr(coalesce({m}.text, '[' || {m}.kind || ']'), 1, 300)"
_SENDER = "CASE WHEN {m}.direction = 'outbound' THEN NULL ELSE {m}.sender_name END"

_MEMBERS = """
    member_count = (SELECT count(*) FROM participants p
                     WHERE p.group_id = {g} AND p.state = 'present'),
    member_text = coalesce((SELECT group_concat(coalesce(p.profile_name, '') || ' ' ||
                                                coalesce(p.wa_id, '') || ' ' ||
                                                coalesce(p.username, ''), char(10))
                              FROM participants p
                             WHERE p.group_id = {g} AND p.state = 'present'), '')
"""

_REQUESTS = """
    pending_requests = (SELECT count(*) FROM join_requests j
                         WHERE j.group_id = {g} AND j.state = 'pending')
"""


def _newest(outbound: bool) -> str:
    """``SET`` of the newest-message columns of group ``{g}`` (v6 adds ``outbound``)."""
    columns = "last_msg_pk, last_msg_at, last_msg_preview, last_msg_sender"
    values = f"pk, at, {_PREVIEW.format(m='messages')}, {_SENDER.format(m='messages')}"
    if outbound:
        columns += ", last_msg_outbound"
        values += ", direction = 'outbound'"
    return f"""
    ({columns}) = (
        SELECT {values} FROM messages
         WHERE group_id = {{g}} ORDER BY at DESC, id DESC LIMIT 1)
"""


def _newest_message_triggers(outbound: bool) -> str:
    """The triggers that keep the newest-message columns (v4; v6 with ``outbound``)."""
    newest = _newest(outbound)
    also = ",\n           last_msg_outbound = new.direction = 'outbound'" if outbound else ""
    return f"""CREATE TRIGGER groups_newest_message_ai AFTER INSERT ON messages BEGIN
    UPDATE groups SET last_msg_pk = new.pk, last_msg_at = new.at,
           last_msg_preview = {_PREVIEW.format(m="new")}, last_msg_sender = {_SENDER.format(m="new")}{also}
     WHERE id = new.group_id
       AND (last_msg_pk IS NULL OR new.at > last_msg_at
            OR (new.at = last_msg_at AND new.id > coalesce(
                (SELECT m.id FROM messages m WHERE m.pk = groups.last_msg_pk), '')));
END;
CREATE TRIGGER groups_newest_message_ad AFTER DELETE ON messages BEGIN
    UPDATE groups SET {newest.format(g="old.group_id")}
     WHERE id = old.group_id AND last_msg_pk = old.pk;
END;
CREATE TRIGGER groups_newest_message_gi AFTER INSERT ON groups WHEN new.id IS NOT NULL BEGIN
    UPDATE groups SET {newest.format(g="new.id")} WHERE pk = new.pk;
END;
CREATE TRIGGER groups_newest_message_gu AFTER UPDATE OF id ON groups
WHEN new.id IS NOT old.id BEGIN
    UPDATE groups SET {newest.format(g="new.id")} WHERE pk = new.pk;
END;
"""


# Version 4 keeps on each group row what the inbox shows for it -- the newest message
# (and its preview),
# the present members (count, and names/numbers for the filter) and the pending join
# requests -- so that reading 10,000 inbox rows is one scan of the groups table instead
# of four correlated look-ups per group. Triggers maintain the columns on every path
# that writes messages, participants or join requests (webhooks, the outbox, replay).
_V4 = f"""
ALTER TABLE groups ADD COLUMN last_msg_pk INTEGER;
ALTER TABLE groups ADD COLUMN last_msg_at INTEGER;
ALTER TABLE groups ADD COLUMN last_msg_preview TEXT;
ALTER TABLE groups ADD COLUMN last_msg_sender TEXT;
ALTER TABLE groups ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN member_text TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN pending_requests INTEGER NOT NULL DEFAULT 0;

UPDATE groups SET {_newest(outbound=False).format(g="groups.id")}, {_MEMBERS.format(g="groups.id")},
    {_REQUESTS.format(g="groups.id")}
 WHERE id IS NOT NULL;

{_newest_message_triggers(outbound=False)}
CREATE TRIGGER groups_members_ai AFTER INSERT ON participants BEGIN
    UPDATE groups SET {_MEMBERS.format(g="new.group_id")} WHERE id = new.group_id;
END;
CREATE TRIGGER groups_members_au AFTER UPDATE ON participants
WHEN old.state IS NOT new.state OR old.profile_name IS NOT new.profile_name
     OR old.wa_id IS NOT new.wa_id OR old.username IS NOT new.username
     OR old.group_id IS NOT new.group_id BEGIN
    UPDATE groups SET {_MEMBERS.format(g="old.group_id")} WHERE id = old.group_id;
    UPDATE groups SET {_MEMBERS.format(g="new.group_id")}
     WHERE id = new.group_id AND new.group_id IS NOT old.group_id;
END;
CREATE TRIGGER groups_members_ad AFTER DELETE ON participants BEGIN
    UPDATE groups SET {_MEMBERS.format(g="old.group_id")} WHERE id = old.group_id;
END;

CREATE TRIGGER groups_requests_ai AFTER INSERT ON join_requests WHEN new.state = 'pending'
BEGIN
    UPDATE groups SET {_REQUESTS.format(g="new.group_id")} WHERE id = new.group_id;
END;
CREATE TRIGGER groups_requests_au AFTER UPDATE ON join_requests
WHEN old.state IS NOT new.state OR old.group_id IS NOT new.group_id BEGIN
    UPDATE groups SET {_REQUESTS.format(g="old.group_id")} WHERE id = old.group_id;
    UPDATE groups SET {_REQUESTS.format(g="new.group_id")}
     WHERE id = new.group_id AND new.group_id IS NOT old.group_id;
END;
CREATE TRIGGER groups_requests_ad AFTER DELETE ON join_requests WHEN old.state = 'pending'
BEGIN
    UPDATE groups SET {_REQUESTS.format(g="old.group_id")} WHERE id = old.group_id;
END;
"""

# v5: outcomes of removals and settings changes whose webhook arrived before the API's
# answer was recorded as a pending operation; recording the operation settles it.
_V5 = """
CREATE TABLE early_outcomes (
    request_id TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    group_id   TEXT,
    state      TEXT NOT NULL CHECK (state IN ('done', 'failed')),
    error      TEXT,
    at         INTEGER NOT NULL
);
"""

# v6: whether a group's newest message is the business's own, so the inbox can say so.
_V6 = f"""
ALTER TABLE groups ADD COLUMN last_msg_outbound INTEGER;
UPDATE groups SET {_newest(outbound=True).format(g="groups.id")} WHERE id IS NOT NULL;

DROP TRIGGER groups_newest_message_ai;
DROP TRIGGER groups_newest_message_ad;
DROP TRIGGER groups_newest_message_gi;
DROP TRIGGER groups_newest_message_gu;
{_newest_message_triggers(outbound=True)}"""


def _gi_gu_triggers() -> str:
    """The two newest-message triggers that live on ``groups`` itself (as v6 made them)."""
    script = _newest_message_triggers(outbound=True)
    start = script.index("CREATE TRIGGER groups_newest_message_gi")
    return script[start:]


# v7: values outside what this version knows are data, not errors.
#
# * ``groups`` is rebuilt without the CHECK on ``join_approval``: a group-creation webhook
#   with a join-approval mode Meta adds later (or sends in another spelling) used to fail
#   the whole body it came in. The rebuild follows SQLite's 12-step procedure (foreign
#   keys are off during migrations, see ``db.migrate``; ``legacy_alter_table`` keeps the
#   rename from re-checking the triggers of other tables that name ``groups``). Column
#   order, every other constraint, and the two triggers on ``groups`` stay as v6 left
#   them; the implicit UNIQUE indexes come back with the table. Two columns are added at
#   the end: ``invite_link_at`` and ``join_approval_at``, the time of the create event
#   that set each value, so that the newest one wins whatever the arrival order (as
#   ``subject_at`` does for the subject).
# * ``event_failures`` records each event of a body that could not be applied (the rest of
#   the body is applied): ``idx`` is the event's position in the parsed body, or -1 when
#   the body itself could not be parsed. The raw row of a body with at least one failure
#   has ``parse_state = 'error'`` and ``error`` = a summary; the rows here say which
#   events failed and why. Failures are derived state: a replay forgets and re-records
#   them. The ``events.failed`` counter follows the table through triggers, so the header
#   reads one row instead of counting.
_V7 = f"""
PRAGMA legacy_alter_table = ON;
CREATE TABLE groups_v7 (
    pk                  INTEGER PRIMARY KEY,
    id                  TEXT UNIQUE,
    request_id          TEXT UNIQUE,
    subject             TEXT NOT NULL DEFAULT '',
    subject_at          INTEGER,
    description         TEXT NOT NULL DEFAULT '',
    description_at      INTEGER,
    join_approval       TEXT NOT NULL DEFAULT 'auto_approve',
    state               TEXT NOT NULL DEFAULT 'active'
                        CHECK (state IN ('pending', 'active', 'failed', 'deleted')),
    state_at            INTEGER,
    error_code          INTEGER,
    error_message       TEXT,
    suspended           INTEGER NOT NULL DEFAULT 0,
    suspended_reason    TEXT,
    suspended_at        INTEGER,
    created_at          INTEGER,
    invite_link         TEXT,
    last_inbound_at     INTEGER,
    last_inbound_by     TEXT,
    last_activity_at    INTEGER,
    picture_sha256      TEXT,
    picture_at          INTEGER,
    unread              INTEGER NOT NULL DEFAULT 0,
    last_msg_pk         INTEGER,
    last_msg_at         INTEGER,
    last_msg_preview    TEXT,
    last_msg_sender     TEXT,
    member_count        INTEGER NOT NULL DEFAULT 0,
    member_text         TEXT NOT NULL DEFAULT '',
    pending_requests    INTEGER NOT NULL DEFAULT 0,
    last_msg_outbound   INTEGER,
    invite_link_at      INTEGER,
    join_approval_at    INTEGER
);
INSERT INTO groups_v7 SELECT pk, id, request_id, subject, subject_at, description,
    description_at, join_approval, state, state_at, error_code, error_message, suspended,
    suspended_reason, suspended_at, created_at, invite_link, last_inbound_at,
    last_inbound_by, last_activity_at, picture_sha256, picture_at, unread, last_msg_pk,
    last_msg_at, last_msg_preview, last_msg_sender, member_count, member_text,
    pending_requests, last_msg_outbound, NULL, NULL FROM groups;
DROP TABLE groups;
ALTER TABLE groups_v7 RENAME TO groups;
PRAGMA legacy_alter_table = OFF;
{_gi_gu_triggers()}
CREATE TABLE event_failures (
    raw_id    INTEGER NOT NULL,
    idx       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    group_id  TEXT,
    event_key TEXT,
    at        INTEGER,
    reason    TEXT NOT NULL,
    failed_at REAL NOT NULL,
    PRIMARY KEY (raw_id, idx)
) WITHOUT ROWID;
CREATE TRIGGER event_failures_count_ai AFTER INSERT ON event_failures BEGIN
    INSERT INTO counters(name, value) VALUES ('events.failed', 1)
        ON CONFLICT(name) DO UPDATE SET value = value + 1;
END;
CREATE TRIGGER event_failures_count_ad AFTER DELETE ON event_failures BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'events.failed';
END;
-- Bodies that failed as a whole before v7 become one failure each, for `events replay
-- --failed` to re-apply after this upgrade.
INSERT INTO event_failures(raw_id, idx, kind, reason, failed_at)
    SELECT id, -1, 'body', coalesce(error, 'not applied'), coalesce(applied_at, received_at)
      FROM raw_events WHERE parse_state = 'error';
"""


# v8: membership history rows recorded from a read of the group through the API, not a
# webhook. A read sees who is in the group, not when they came or went, so its rows are
# stamped with the read's time and marked; a webhook of the change replaces such a row.
_V8 = """
ALTER TABLE participant_history ADD COLUMN observed INTEGER NOT NULL DEFAULT 0;
"""


# The inbox's order (codec.ACTIVITY without the table alias): an index on it serves
# `ORDER BY activity DESC, pk DESC` without a temporary sort, for every number at once and
# for one number.
_ACTIVITY_KEY = (
    "max(coalesce(last_activity_at, 0), coalesce(last_msg_at, 0), coalesce(created_at, 0))"
)

# v9: several business numbers in one database. Every fact that does not take its number
# from its group gets the number it belongs to (Meta's phone_number_id):
#
# * ``numbers`` lists the numbers the database serves (local state, written when a
#   configured store opens: ``Numbers.register``). An event of a number it does not
#   list is kept in the raw log only (``raw_events.other_number``).
# * groups, outbox, operations, audit, moderation flags, the cost ledger (1:1 invites have
#   no group), automation jobs and invite-flow sends carry ``phone_number_id``; messages,
#   members and join requests take it from their group. Existing rows get the placeholder
#   ``''`` (``domain.numbers.UNASSIGNED``); the first open that knows its numbers gives
#   them its first number (``Numbers.register``), so a single-number database moves under
#   the configured number without loss, whenever the number is configured.
# * the raw log keeps, per body, the number its first change names (filled here from the
#   bodies already logged) and whether none of its events was for a number served here.
# * the template cache is keyed by WABA (templates belong to a business account).
# * two indexes on the inbox's order: one for every number, one per number.
_V9 = f"""
CREATE TABLE numbers (
    phone_number_id      TEXT PRIMARY KEY,
    label                TEXT NOT NULL,
    business_account_id  TEXT,
    display_phone_number TEXT,
    position             INTEGER NOT NULL,
    updated_at           REAL NOT NULL
) WITHOUT ROWID;

ALTER TABLE groups ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_operations ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE moderation_flags ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cost_ledger ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE automation_jobs ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE invite_flow_sends ADD COLUMN phone_number_id TEXT NOT NULL DEFAULT '';
ALTER TABLE raw_events ADD COLUMN phone_number_id TEXT;
ALTER TABLE raw_events ADD COLUMN other_number INTEGER NOT NULL DEFAULT 0;

UPDATE raw_events SET phone_number_id = (
    SELECT json_extract(c.value, '$.value.metadata.phone_number_id')
      FROM json_each(CAST(raw_events.body AS TEXT), '$.entry') AS e,
           json_each(e.value, '$.changes') AS c
     WHERE json_type(c.value, '$.value.metadata.phone_number_id') IN ('text', 'integer')
     LIMIT 1)
 WHERE json_valid(CAST(body AS TEXT))
   AND json_type(CAST(body AS TEXT), '$.entry') = 'array';

CREATE INDEX groups_inbox_order ON groups({_ACTIVITY_KEY} DESC, pk DESC);
CREATE INDEX groups_number_order ON groups(phone_number_id, {_ACTIVITY_KEY} DESC, pk DESC);
CREATE INDEX cost_ledger_number_at ON cost_ledger(phone_number_id, at);
CREATE INDEX raw_events_other_number ON raw_events(id) WHERE other_number = 1;

CREATE TABLE templates_v9 (
    business_account_id TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    language      TEXT NOT NULL,
    category      TEXT NOT NULL,
    status        TEXT NOT NULL,
    body_params   INTEGER NOT NULL DEFAULT 0,
    header_format TEXT,
    components    TEXT NOT NULL DEFAULT '[]',
    fetched_at    REAL NOT NULL,
    PRIMARY KEY (business_account_id, name, language)
) WITHOUT ROWID;
INSERT INTO templates_v9(business_account_id, name, language, category, status, body_params,
    header_format, components, fetched_at)
    SELECT '', name, language, category, status, body_params, header_format, components,
           fetched_at FROM templates;
DROP TABLE templates;
ALTER TABLE templates_v9 RENAME TO templates;
"""

NUMBERED_TABLES: tuple[str, ...] = (
    "groups",
    "outbox",
    "pending_operations",
    "audit_log",
    "moderation_flags",
    "cost_ledger",
    "automation_jobs",
    "invite_flow_sends",
)
"""Tables whose rows carry the ``phone_number_id`` they belong to (schema v9)."""

MIGRATIONS = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, TIMELINE_STEP, TEAM_STEP, _V12)
"""Migration scripts; index ``i`` upgrades version ``i`` to ``i + 1`` (v10-v12: own modules)."""

LATEST_VERSION: int = len(MIGRATIONS)
