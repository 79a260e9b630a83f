"""The inbox's compact table gives back every row exactly as it was added."""

from __future__ import annotations

import random

from groups_tui.store.inbox_table import FIELD_GROUPS, RowsView, RowTable
from groups_tui.store.records import PENDING_PREFIX, InboxRow

SEED = random.randrange(2**32)

_TEXTS = ["", "a", "Sofía", "emoji 🎉", "nul \x00 inside", "\x00", "lone \udcff", "\ud800", "ÿ\xfe"]


def _text(rng: random.Random) -> str:
    return rng.choice(_TEXTS) + str(rng.randrange(1000)) * rng.randrange(2)


def _maybe(rng: random.Random) -> str | None:
    return None if rng.random() < 0.3 else _text(rng)


def _time(rng: random.Random) -> int | None:
    return rng.choice([None, 0, -5, 1_789_473_600 + rng.randrange(86_400), 2**40])


def _count(rng: random.Random) -> int:
    return rng.choice([0, 1, 8, 99, 300, 70_000, 2**40, -1])


def _row(rng: random.Random, n: int) -> InboxRow:
    odd = rng.random() < 0.1
    group_id = f"{PENDING_PREFIX}req-{n}" if rng.random() < 0.1 else f"G{n}"
    return InboxRow(
        group_id=group_id + ("\x00" if odd else ""),
        subject=_text(rng),
        participant_count=_count(rng),
        unread=_count(rng),
        pending_requests=_count(rng),
        last_sender=_maybe(rng),
        last_text=_maybe(rng),
        last_activity_at=_time(rng),
        last_inbound_at=_time(rng),
        last_inbound_by=_maybe(rng),
        suspended=rng.random() < 0.5,
        state=rng.choice(["active", "pending", "deleted", "failed", "unknown-state"]),
        flagged=rng.random() < 0.5,
        haystack=_text(rng).lower(),
        last_outbound=rng.random() < 0.5,
        request_id=_maybe(rng),
        tag=_maybe(rng),
        phone_number_id=rng.choice(["", "100000000000001", "100000000000002"]),
        open_flags=_count(rng),
    )


def _rows(table: RowTable) -> list[InboxRow]:
    return [table.row(i) for i in range(len(table))]


def test_every_field_of_the_record_is_kept_in_exactly_one_place() -> None:
    kept = [name for group in FIELD_GROUPS for name in group]
    assert sorted(kept) == sorted(InboxRow._fields)


def test_rows_come_back_as_added_whatever_their_values() -> None:
    print(f"random rows seeded with {SEED}")
    rng = random.Random(SEED)
    rows = [_row(rng, n) for n in range(3_000)]
    # WHEN they are added in one go (several chunks), or appended table by table
    whole = RowTable()
    whole.extend(rows)
    parts = RowTable()
    for start in range(0, len(rows), 700):
        part = RowTable()
        part.extend(rows[start : start + 700])
        parts.append(part)
    # THEN each gives back every row, its id and its position
    for table in (whole, parts):
        assert _rows(table) == rows
        assert table.ids() == [row.group_id for row in rows]
        assert list(RowsView(table)) == rows
        for n in rng.sample(range(len(rows)), 20):
            assert table.find(rows[n].group_id) == n
            assert table.group_id(n) == rows[n].group_id
        assert table.find("no such group") is None
        wanted = [rows[n].group_id for n in range(0, len(rows), 97)] + ["nope"]
        assert table.positions(wanted) == [*range(0, len(rows), 97), None]


def test_replacing_keeping_and_indexing_rows() -> None:
    print(f"random rows seeded with {SEED}")
    rng = random.Random(SEED + 1)
    rows = [_row(rng, n) for n in range(400)]
    table = RowTable()
    table.extend(rows)
    # WHEN rows are replaced (some by odd or unusually large values)
    for n in rng.sample(range(len(rows)), 60):
        rows[n] = _row(rng, n)._replace(group_id=rows[n].group_id)
        table.set(n, rows[n])
    assert _rows(table) == rows
    # AND an index is held while more rows come, then some rows are dropped
    assert table.positions([rows[3].group_id], hold=True) == [3]
    more = [_row(rng, n) for n in range(400, 450)]
    table.extend(more)
    rows += more
    assert table.positions([r.group_id for r in rows[::50]]) == list(range(0, 450, 50))
    kept = [n for n in range(len(rows)) if n % 3]
    smaller = table.keep(kept)
    # THEN every row is still the one added, wherever it now is
    assert _rows(smaller) == [rows[n] for n in kept]
    assert smaller.find(rows[kept[-1]].group_id) == len(kept) - 1


def test_a_shared_field_with_more_values_than_a_short_code_holds() -> None:
    # GIVEN 70,000 rows, each of its own number (an unusual account, still data)
    rng = random.Random(SEED + 2)
    template = _row(rng, 0)._replace(group_id="G", request_id=None)
    rows = [template._replace(group_id=f"G{n}", phone_number_id=f"{n}") for n in range(70_000)]
    # WHEN they are added, then one is replaced by a number not seen yet
    table = RowTable()
    table.extend(rows)
    rows[5] = rows[5]._replace(phone_number_id="new")
    table.set(5, rows[5])
    # THEN every row keeps its own number
    assert table.row(69_999) == rows[69_999]
    assert table.row(5) == rows[5]
    assert table.code("phone_number_id", "new") == 70_000
