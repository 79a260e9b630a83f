"""Several business numbers in one database: routing, the v9 migration, adoption."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from groups_tui.cloud.webhooks import body_number, parse_body
from groups_tui.domain.numbers import BusinessNumber
from groups_tui.store import InboxRow, RawEventIn, Store
from groups_tui.store.numbers import ADOPTED_KEY, Routing
from groups_tui.store.records import Pricing
from groups_tui.store.schema import MIGRATIONS, NUMBERED_TABLES
from tests.helpers.schema_files import schema_at
from tests.helpers.webhooks import fixture

from .conftest import Clock, created, flat_cost, inbound

US = BusinessNumber("100000000000001", "US", "200000000000002", "+1 555 010 0000")
BR = BusinessNumber("100000000000002", "BR", "200000000000002", "+55 11 95550 0000")
OTHER = "106540352242922"
"""Meta's sample number: not configured in these tests."""


def _body(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _with_number(name: str, number: str) -> bytes:
    payload = fixture(name)
    for entry in payload["entry"]:
        for change in entry["changes"]:
            change["value"]["metadata"]["phone_number_id"] = number
    return _body(payload)


async def _log(store: Store, *bodies: bytes) -> None:
    # As the listener logs them: with the number the body's first change names.
    items = [
        RawEventIn(
            body=b,
            dedupe_key=hashlib.sha256(b).hexdigest(),
            received_at=float(i),
            phone_number_id=body_number(json.loads(b)),
        )
        for i, b in enumerate(bodies)
    ]
    await store.raw.insert_and_apply(items, lambda i: parse_body(items[i].body))


def test_routing_rules() -> None:
    routing = Routing.of([US, BR])
    # The number a webhook names wins; another number's event is not served here.
    assert routing.route(BR.phone_number_id, US.phone_number_id) == BR.phone_number_id
    assert routing.route(OTHER, None) is None
    # Without a number: the group's, else the first number's.
    assert routing.route(None, BR.phone_number_id) == BR.phone_number_id
    assert routing.route(None, None) == US.phone_number_id
    # A database that serves no number yet routes nothing away.
    assert Routing().route(OTHER, None) == OTHER
    assert Routing().route(None, None) == ""


async def test_another_numbers_one_to_one_status_is_kept_raw_only(db_path: Path) -> None:
    # GIVEN a store that serves US, pricing as the listener does
    store = await Store.open(
        db_path, clock=Clock(), pricing=Pricing(cost_fn=flat_cost), numbers=[US]
    )
    try:
        latest = await store.feed.latest_id()
        # WHEN Meta's sample 1:1 status (priced) of a number not configured here arrives
        await _log(store, _body(fixture("statuses_delivered_one_to_one")))
        # THEN it is logged, marked as another number's, and nothing else changes
        [raw] = await store.raw.events()
        assert (raw.phone_number_id, raw.other_number, raw.parse_state) == (OTHER, True, "ok")
        assert await store.db.fetch_all("SELECT * FROM cost_ledger") == []
        assert await store.db.fetch_all("SELECT * FROM recipient_status") == []
        assert await store.feed.latest_id() == latest
        assert (await store.raw.stats()).other_number == 1
        # AND the same status of a configured number is booked under that number
        await _log(store, _with_number("statuses_delivered_one_to_one", US.phone_number_id))
        rows = await store.db.fetch_all("SELECT phone_number_id, group_id FROM cost_ledger")
        assert rows == [(US.phone_number_id, None)]
    finally:
        await store.close()


async def test_group_facts_take_the_number_of_their_webhook(db_path: Path) -> None:
    store = await Store.open(db_path, clock=Clock(), numbers=[US, BR])
    try:
        # WHEN BR's create webhook, and an event naming no number about that group, arrive
        create = _with_number("lifecycle_group_create", BR.phone_number_id)
        await _log(store, create)
        [group_id] = [r[0] for r in await store.db.fetch_all("SELECT id FROM groups")]
        await store.raw.apply_events(None, [inbound("wamid.x", 2_000_000_000, group_id=group_id)])
        # THEN the group is BR's, and so is its inbox row
        row = await store.groups.inbox_row(group_id)
        assert row is not None and row.phone_number_id == BR.phone_number_id
        assert await store.groups.number_of(group_id) == BR.phone_number_id
        assert [r.group_id for r in await store.groups.inbox_row_list(US.phone_number_id)] == []
        assert len(await store.groups.inbox_row_list(BR.phone_number_id)) == 1
        # AND a group created by an event naming no number belongs to the first number
        await store.raw.apply_events(None, [created("G-unnamed", at=5, request_id=None)])
        assert await store.groups.number_of("G-unnamed") == US.phone_number_id
    finally:
        await store.close()


async def test_replay_rebuilds_the_same_numbers(db_path: Path) -> None:
    store = await Store.open(
        db_path, clock=Clock(), pricing=Pricing(cost_fn=flat_cost), numbers=[US, BR]
    )
    try:
        await _log(
            store,
            _with_number("lifecycle_group_create", BR.phone_number_id),
            _with_number("statuses_read_with_pricing", BR.phone_number_id),
            _body(fixture("statuses_delivered_one_to_one")),
        )
        await store.groups.create_pending("req-us", "Ours", phone_number_id=US.phone_number_id)
        before = await store.raw.state_digest()
        # WHEN derived state is thrown away and the raw log replayed
        await store.raw.reset_derived_state()
        await store.raw.replay(parse_body)
        # THEN every number, the pending create's and the other number's mark included,
        # comes back the same
        assert await store.raw.state_digest() == before
        numbers = await store.db.fetch_all("SELECT DISTINCT phone_number_id FROM groups")
        assert {n for (n,) in numbers} == {US.phone_number_id, BR.phone_number_id}
        assert (await store.raw.stats()).other_number == 1
    finally:
        await store.close()


def _v8_file_with_data(db_path: Path) -> None:
    """A version-8 file (today's schema before numbers) holding a bit of everything."""
    with sqlite3.connect(db_path) as conn:
        schema_at(conn, 8)
        conn.execute(
            "INSERT INTO groups(id, request_id, subject, state, created_at) "
            "VALUES ('g1', 'r1', 'First', 'active', 10)"
        )
        conn.execute(
            "INSERT INTO participants(group_id, participant_key, wa_id, state, state_at) "
            "VALUES ('g1', '111', '111', 'present', 20)"
        )
        conn.execute(
            "INSERT INTO messages(id, group_id, direction, kind, at, text) "
            "VALUES ('m1', 'g1', 'inbound', 'text', 40, 'hello')"
        )
        conn.execute(
            "INSERT INTO cost_ledger(message_id, participant_key, group_id, category, amount, at) "
            "VALUES ('m2', '111', 'g1', 'group_utility', '0.0040', 50)"
        )
        conn.execute(
            "INSERT INTO outbox(group_id, kind, payload, created_at, updated_at) "
            "VALUES ('g1', 'text', '{}', 1, 1)"
        )
        conn.execute(
            "INSERT INTO pending_operations(request_id, kind, group_id, created_at) "
            "VALUES ('r9', 'remove', 'g1', 1)"
        )
        conn.execute(
            "INSERT INTO audit_log(at, os_user, action, group_id) VALUES (1, 'ann', 'x', 'g1')"
        )
        conn.execute(
            "INSERT INTO moderation_flags(rule, action, group_id, at, reason) "
            "VALUES ('burst', 'notify', 'g1', 5, 'fast')"
        )
        conn.execute(
            "INSERT INTO automation_jobs(id, kind, fingerprint, created_at, updated_at) "
            "VALUES ('j1', 'announce', 'f', 1, 1)"
        )
        conn.execute(
            "INSERT INTO invite_flow_sends(rule, person, group_key, state, at, updated_at) "
            "VALUES ('r', '111', 'k', 'sent', 1, 1)"
        )
        conn.execute(
            "INSERT INTO templates(name, language, category, status, fetched_at) "
            "VALUES ('hello', 'en', 'utility', 'APPROVED', 1)"
        )
        conn.executemany(
            "INSERT INTO raw_events(dedupe_key, body, received_at) VALUES (?, ?, 1)",
            [
                ("k1", _body(fixture("lifecycle_group_create"))),
                ("k2", b"not json at all"),
            ],
        )


def _counts(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (*NUMBERED_TABLES, "participants", "messages", "templates", "raw_events")
        }


async def test_a_v8_database_moves_under_the_configured_number(db_path: Path) -> None:
    # GIVEN a database made by the schema before numbers, with data in every table
    _v8_file_with_data(db_path)
    counts = _counts(db_path)
    # WHEN it is opened before any number is configured (a follower, a tool)
    store = await Store.open(db_path, clock=Clock())
    await store.close()
    # THEN it is migrated, nothing is lost, and its facts wait under the placeholder
    assert _counts(db_path) == counts
    with sqlite3.connect(db_path) as conn:
        for table in NUMBERED_TABLES:
            assert {r[0] for r in conn.execute(f"SELECT phone_number_id FROM {table}")} == {""}
        # The raw log knows the number each logged body names (none for a non-JSON one).
        assert conn.execute("SELECT phone_number_id FROM raw_events ORDER BY id").fetchall() == [
            (OTHER,),
            (None,),
        ]
    # WHEN the store is then opened with the configured numbers
    store = await Store.open(db_path, clock=Clock(), numbers=[US, BR])
    try:
        # THEN the first configured number adopts every fact, without loss
        assert await store.feed.get_meta(ADOPTED_KEY) == US.phone_number_id
        group = await store.groups.get("g1")
        assert group is not None and group.phone_number_id == US.phone_number_id
        [template] = await store.messages.templates(US.business_account_id or "")
        assert template.name == "hello"
        assert (await store.audit.entries())[0].phone_number_id == US.phone_number_id
        assert (await store.moderation.flags())[0].phone_number_id == US.phone_number_id
        assert (await store.operations.get("r9")).phone_number_id == US.phone_number_id  # type: ignore[union-attr]
        assert await store.ledger.spend_between(
            0, 100, US.phone_number_id
        ) != await store.ledger.spend_between(0, 100, BR.phone_number_id)
    finally:
        await store.close()
    assert _counts(db_path) == counts
    with sqlite3.connect(db_path) as conn:
        for table in NUMBERED_TABLES:
            numbers = {r[0] for r in conn.execute(f"SELECT phone_number_id FROM {table}")}
            assert numbers == {US.phone_number_id}, table
    # AND a later open with other numbers adopts nothing again (BR first now)
    store = await Store.open(db_path, clock=Clock(), numbers=[BR, US])
    try:
        assert await store.groups.number_of("g1") == US.phone_number_id
        assert [n.label for n in store.numbers.served] == ["BR", "US"]
    finally:
        await store.close()
    # AND a read-only follower sees the numbers the database serves
    follower = await Store.open_readonly(db_path)
    try:
        assert [n.label for n in follower.numbers.served] == ["BR", "US"]
    finally:
        await follower.close()


async def test_the_inbox_order_is_served_by_an_index(db_path: Path) -> None:
    # GIVEN the store's inbox queries (every number's, and one number's)
    from groups_tui.store import groups as groups_mod

    store = await Store.open(db_path, clock=Clock(), numbers=[US, BR])
    try:
        for sql, params in (
            (groups_mod._INBOX_SQL, ()),
            (groups_mod._INBOX_NUMBER_SQL, (US.phone_number_id,)),
            (groups_mod._INBOX_FIRST_SQL, (200,)),
        ):
            plan = await store.db.fetch_all("EXPLAIN QUERY PLAN " + sql, params)
            # THEN no temporary B-tree sorts them: an index gives the order
            details = " ".join(str(row[-1]) for row in plan)
            assert "TEMP B-TREE" not in details, details
            assert "groups_inbox_order" in details or "groups_number_order" in details
    finally:
        await store.close()


async def _paged_inbox(store: Store) -> list[InboxRow]:
    """25 groups, 3 of them pending, several created at the same second; every inbox row."""
    events = [created(f"G{n:02d}", at=1_000 + n // 3, request_id=None) for n in range(22)]
    await store.raw.apply_events(None, events)
    for n in range(3):
        await store.groups.create_pending(f"req-{n}", f"Pending {n}")
    return await store.groups.inbox_row_list()


async def test_the_inbox_comes_in_a_first_screen_then_the_rest(db_path: Path) -> None:
    store = await Store.open(db_path, clock=Clock(), numbers=[US, BR])
    try:
        # GIVEN 25 groups over two numbers, some pending, some at the same time
        every = await _paged_inbox(store)
        # WHEN the first page is read, then the rest after it
        first, after = await store.groups.inbox_page(limit=10)
        rest, end = await store.groups.inbox_page(after)
        # THEN together they are every row, in the same order, once each
        assert len(first) == 10 and after is not None and end is None
        assert [r.group_id for r in first + rest] == [r.group_id for r in every]
        # AND a page that holds everything says there is no more
        whole, none = await store.groups.inbox_page(limit=100)
        assert len(whole) == 25 and none is None
    finally:
        await store.close()


def _v8_columns(db_path: Path) -> dict[str, list[str]]:
    """Every table of a v8 file and its columns (FTS shadow tables aside)."""
    with sqlite3.connect(db_path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'"
            )
        ]
        return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def _rows(db_path: Path, columns: dict[str, list[str]]) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db_path) as conn:
        # Since v12 the raw log's bodies are kept apart, under their row's id.
        apart = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'raw_bodies'").fetchone()
        sources = {"raw_events": "raw_events JOIN raw_bodies USING (id)"} if apart else {}
        return {
            table: sorted(
                conn.execute(
                    f"SELECT {', '.join(cols)} FROM {sources.get(table, table)}"
                ).fetchall(),
                key=repr,
            )
            for table, cols in columns.items()
        }


async def test_a_one_number_database_keeps_every_value_under_its_number(db_path: Path) -> None:
    # GIVEN a database of the schema before numbers, made by a one-number account whose
    # webhooks name its own number
    _v8_file_with_data(db_path)
    columns = _v8_columns(db_path)
    before = _rows(db_path, columns)
    assert all(before[t] for t in NUMBERED_TABLES)
    own = BusinessNumber(OTHER, "Main", "300000000000003")
    # WHEN the one configured number opens it (the single-number environment variables)
    store = await Store.open(db_path, clock=Clock(), numbers=[own])
    try:
        served = store.numbers.served
        assert [n.phone_number_id for n in served] == [OTHER]
        stats = await store.raw.stats()
    finally:
        await store.close()
    # THEN every value of every table of before is still there, unchanged, and the only
    # rows added say which number adopted them (and tell a running UI to reload)
    after = _rows(db_path, columns)
    added = {t: [r for r in after[t] if r not in before[t]] for t in after}
    assert {t: rows for t, rows in added.items() if rows} == {
        "meta": [(ADOPTED_KEY, OTHER)],
        "change_feed": added["change_feed"],
    }
    assert [r[1:4] for r in added["change_feed"]] == [("store.reset", None, "numbers")]
    assert {t: [r for r in after[t] if r in before[t]] for t in after} == before
    # AND every fact belongs to that number, its templates to its WABA, and none of its
    # own deliveries counts as another number's
    with sqlite3.connect(db_path) as conn:
        for table in NUMBERED_TABLES:
            owners = {r[0] for r in conn.execute(f"SELECT phone_number_id FROM {table}")}
            assert owners == {OTHER}, table
        wabas = {r[0] for r in conn.execute("SELECT business_account_id FROM templates")}
        assert wabas == {"300000000000003"}
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert stats.other_number == 0


async def test_the_inbox_table_pages_hold_what_the_records_hold(db_path: Path) -> None:
    store = await Store.open(db_path, clock=Clock(), numbers=[US, BR])
    try:
        # GIVEN 25 groups over two numbers, some pending, some at the same time
        every = await _paged_inbox(store)
        # WHEN the inbox is read as compact tables, a page of 10 at a time
        table, after = await store.groups.inbox_table(limit=10)
        pages = 1
        while after is not None:
            page, after = await store.groups.inbox_table(after, 10)
            table.append(page)
            pages += 1
        # THEN they hold every row once, in the same order, equal to the records
        assert pages == 3
        assert [table.row(i) for i in range(len(table))] == every
    finally:
        await store.close()
