"""The one conversion behind every --json output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, NamedTuple

from groups_tui.domain.models import MessageKind
from groups_tui.jsonable import to_jsonable


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


def test_an_unknown_enum_value_is_its_label() -> None:
    from groups_tui.domain.models import Group, Unknown

    group = Group(id="g1", join_approval=Unknown("x"))
    assert to_jsonable(group)["join_approval"] == "unknown: x"
    assert to_jsonable(Group(id="g2"))["join_approval"] == "auto_approve"
