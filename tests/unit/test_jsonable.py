"""The one conversion behind every --json output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.domain.models import MessageKind, Unknown
from groups_tui.domain.text import UNSAFE_CODE_POINTS
from groups_tui.jsonable import dumps, iso_time, iterdumps, iterdumps_records, to_jsonable


class Row(NamedTuple):
    group_id: str
    unread: int


@dataclass(frozen=True)
class Outcome:
    sent: int
    failed: int

    @property
    def ok(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class Joined:
    event_kind: ClassVar[str] = "participants_joined"
    group_id: str
    body: bytes


def test_every_kind_of_result_becomes_json() -> None:
    value = {
        "rows": [Row("g1", 3)],
        "kind": MessageKind.IMAGE,
        "cost": Decimal("0.0703"),
        "day": date(2026, 10, 1),
        "path": Path("/tmp/x"),
        "tags": frozenset({"a"}),
        "pair": (1, 2),
    }
    out = to_jsonable(value)
    assert out == {
        "rows": [{"group_id": "g1", "unread": 3}],
        "kind": "image",
        "cost": "0.0703",
        "day": "2026-10-01",
        "path": "/tmp/x",
        "tags": ["a"],
        "pair": [1, 2],
    }
    json.dumps(out)


def test_events_lead_with_their_kind_and_bytes_are_base64() -> None:
    assert to_jsonable(Joined("g1", b"\x00\xff")) == {
        "event": "participants_joined",
        "group_id": "g1",
        "body": "AP8=",
    }


def test_named_properties_are_added_only_when_asked() -> None:
    assert to_jsonable(Outcome(2, 0)) == {"sent": 2, "failed": 0}
    assert to_jsonable([Outcome(2, 1)], ("ok",)) == [{"sent": 2, "failed": 1, "ok": False}]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values, st.sampled_from([2, None]))
def test_dumps_writes_no_unsafe_code_point_and_reads_back_exactly(
    value: object, indent: int | None
) -> None:
    out = dumps(value, indent=indent)
    assert not [c for c in out if ord(c) in UNSAFE_CODE_POINTS]
    assert json.loads(out) == value
    if indent is None:
        assert "\n" not in out


def test_dumps_escapes_c0_c1_del_and_bidi_but_keeps_other_text() -> None:
    value = {"subject": "Hi\x1b]52;c;UFdORUQ=\x07 \x7f\x9b \u202eevil\u202c \u2066 Ωμέγα 読書 🚚"}
    out = dumps(value, indent=None)
    assert out == (
        '{"subject":"Hi\\u001b]52;c;UFdORUQ=\\u0007 \\u007f\\u009b \\u202eevil\\u202c '
        '\\u2066 Ωμέγα 読書 🚚"}'
    )
    assert json.loads(out) == value


def test_an_unknown_enum_value_is_its_label() -> None:
    from groups_tui.domain.models import Group, Unknown

    group = Group(id="g1", join_approval=Unknown("x"))
    assert to_jsonable(group)["join_approval"] == "unknown: x"
    assert to_jsonable(Group(id="g2"))["join_approval"] == "auto_approve"


class Pair(NamedTuple):
    left: object
    right: object


@dataclass(frozen=True)
class Box:
    event_kind: ClassVar[str] = "boxed"
    event: object
    inner: object

    @property
    def ok(self) -> bool:
        return True


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.sampled_from([MessageKind.TEXT, Decimal("1.20"), date(2026, 1, 2), Path("/x"), b"\x00\xff"]),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
        st.builds(Pair, inner, inner),
        st.builds(Box, inner, inner),
        st.builds(Outcome, st.integers(), st.integers()),
    ),
    max_leaves=20,
)


@given(_values, st.sampled_from([2, None, 4]), st.sampled_from([(), ("ok",)]))
def test_dumps_is_json_dumps_of_to_jsonable_with_the_escapes(
    value: object, indent: int | None, properties: tuple[str, ...]
) -> None:
    # GIVEN any result
    separators = (",", ":") if indent is None else None
    reference = json.dumps(
        to_jsonable(value, properties), ensure_ascii=False, indent=indent, separators=separators
    )
    reference = "".join(
        f"\\u{ord(c):04x}" if ord(c) in UNSAFE_CODE_POINTS else c for c in reference
    )
    # THEN dumps, and iterdumps' pieces joined, write exactly that text, and it reads back
    text = dumps(value, properties, indent=indent)
    assert text == reference
    assert "".join(iterdumps(value, properties, indent=indent)) == reference
    assert json.loads(text) == json.loads(reference)


def test_a_listing_is_written_in_pieces_that_join_to_the_whole() -> None:
    rows = [Row(f"G{i}", i) for i in range(5)]
    pieces = list(iterdumps(rows))
    assert len(pieces) == len(rows) + 2  # "[", one per row, "\n]"
    assert "".join(pieces) == json.dumps(to_jsonable(rows), ensure_ascii=False, indent=2)


class Listed(NamedTuple):
    group_id: str
    last_text: str
    haystack: str
    at: int

    json_names = {"last_text": "last_message_preview"}
    json_omit = frozenset({"haystack"})


def test_times_are_iso_utc_and_records_choose_their_json_names() -> None:
    # GIVEN a record with a time, a renamed field and an internal one
    out = to_jsonable([Listed("g1", "hi", "g1 hi 15551234567", 1767231000)])
    # THEN the time is ISO-8601 UTC, the name is the contract's, the internal field is gone
    assert out == [{"group_id": "g1", "last_message_preview": "hi", "at": "2026-01-01T01:30:00Z"}]
    fractional = to_jsonable({"received_at": 1767231000.25, "closes_at": None, "count": 3})
    assert fractional == {"received_at": "2026-01-01T01:30:00.250Z", "closes_at": None, "count": 3}


# --- iterdumps_records: a listing of named tuples written in one pass per batch ------------

_HOSTILE = st.sampled_from(
    [
        "\x1b]52;c;UFdORUQ=\x07",
        "\x9b31m",
        "\x7f",
        "\u202eevil\u202c",
        "\u2066\u200e\u061c",
        "\x00",
        "%s %(x)s %%",
        '"quoted" \\ back',
        "line\nbreak\ttab\r",
        "\u2028\u2029",
        "Sofía 🎉 नमस्ते",
        "",
    ]
)
_TEXT = st.one_of(st.text(max_size=12), _HOSTILE, st.lists(_HOSTILE, max_size=3).map("".join))
_TIME = st.one_of(
    st.none(),
    st.integers(0, 4_102_444_800),
    st.integers(253_402_300_700, 253_402_300_799),  # the last seconds of year 9999
    st.integers(-86_400 * 400, -1),  # before 1970
    st.floats(0, 4_102_444_800, allow_nan=False),
    st.booleans(),
    _TEXT,
)


class Wide(NamedTuple):
    """A listing's row: text, numbers, flags, times, an internal field, a renamed one."""

    group_id: str
    subject: str | None
    amount: int | float
    flagged: bool
    last_activity_at: object
    haystack: str
    renamed: object
    at: object
    state: object

    json_names = {"renamed": "preview_at", "subject": "subject"}  # type: ignore[misc]
    json_omit = frozenset({"haystack"})  # type: ignore[misc]


_WIDE = st.builds(
    Wide,
    _TEXT,
    st.one_of(st.none(), _TEXT),
    st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=False)),
    st.booleans(),
    _TIME,
    _TEXT,
    _TIME,
    _TIME,
    st.one_of(_TEXT, st.sampled_from([MessageKind.TEXT, Unknown("future")])),
)


def _old_listing(rows: list[Wide], extra: dict[str, dict[str, object]]) -> str:
    """What ``groups list --json`` wrote before: objects built row by row, then dumps."""
    return dumps(
        [{**to_jsonable(r), **{k: v.get(r.group_id, "x") for k, v in extra.items()}} for r in rows]
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_WIDE, max_size=12),
    st.sampled_from([1, 2, 5, 500]),
    st.lists(_TIME, min_size=1, max_size=3),
    st.lists(st.sampled_from(["number", "seen_at", "kind"]), unique=True),
)
def test_records_are_written_exactly_as_objects_built_one_by_one(
    rows: list[Wide], batch: int, seen: list[object], chosen: list[str]
) -> None:
    # GIVEN rows of every kind of value (times as numbers, None, floats, text and flags;
    # C0, C1, DEL, bidi, NUL, % and quotes in text; enums and unknown values)
    extra: dict[str, dict[str, object]] = {
        "number": {r.group_id: f"n{len(r.group_id)}\x1b" for r in rows},
        "seen_at": {r.group_id: seen[len(r.group_id) % len(seen)] for r in rows},
        "kind": {r.group_id: MessageKind.TEXT for r in rows[:1]},
    }
    extra = {name: extra[name] for name in chosen}  # some, in any order, or none
    makers = {k: (lambda r, v=v: v.get(r.group_id, "x")) for k, v in extra.items()}
    # WHEN they are written in batches with extra fields (a label, a time, an enum)
    text = "".join(iterdumps_records(rows, makers, batch=batch))
    # THEN the text is byte for byte what the object-by-object path wrote
    assert text == _old_listing(rows, extra)
    assert not {c for c in text if ord(c) in UNSAFE_CODE_POINTS}


def test_records_of_mixed_kinds_and_no_records_take_the_general_way() -> None:
    assert "".join(iterdumps_records([])) == "[]"
    mixed = [Row("G1", 1), Listed("g", "hi", "h", 5)]
    assert "".join(iterdumps_records(mixed, {"n": lambda r: 1})) == dumps(
        [{**to_jsonable(r), "n": 1} for r in mixed]
    )
    # an extra field named like a record's own replaces it in place, as the dict did
    rows = [Row("G1", 1)]
    assert "".join(iterdumps_records(rows, {"group_id": lambda r: "x"})) == dumps(
        [{"group_id": "x", "unread": 1}]
    )


@given(st.integers(0, 253_402_300_799))
def test_iso_time_of_whole_seconds_is_datetime_isoformat(epoch: int) -> None:
    expected = datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
    assert iso_time(epoch) == expected
