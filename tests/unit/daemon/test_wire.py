"""The daemon's JSON bodies give back the very values the service returned."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from groups_tui.daemon.wire import WireError, decode, encode, error_body, error_from_body
from groups_tui.domain.models import MessageKind, Template, TemplateCategory, Unknown
from groups_tui.domain.roles import Role
from groups_tui.domain.sending import Refusal
from groups_tui.service import ServiceError


def _through_json(value: object) -> object:
    return decode(json.loads(json.dumps(encode(value))))


def test_records_enums_and_scalars_round_trip() -> None:
    template = Template(
        name="weekly_offers",
        language="en_US",
        category=TemplateCategory.MARKETING,
        status="APPROVED",
        body_params=1,
        components=({"type": "BODY", "text": "{{1}}"},),
    )
    value = {
        "template": template,
        "kind": MessageKind.TEXT,
        "role": Role.AGENT,
        "cost": Decimal("0.0125"),
        "path": Path("/tmp/x.png"),
        "day": date(2026, 12, 5),
        "blob": b"\x00\xff",
        "ids": ("a", "b"),
        "set": frozenset({1, 2}),
        "unknown": Unknown("new_kind"),
        3: None,
    }
    back = _through_json(value)
    assert back == value
    # a StrEnum stays its enum (not its string), so `is` comparisons hold
    assert isinstance(back, dict) and back["template"].category is TemplateCategory.MARKETING


@settings(max_examples=200, derandomize=True)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner) | st.tuples(inner),
        max_leaves=20,
    )
)
def test_any_nesting_of_plain_values_round_trips(value: object) -> None:
    assert _through_json(value) == value


@pytest.mark.parametrize(
    "data",
    [
        {"$": "dc", "t": "subprocess:Popen", "f": {}},
        {"$": "dc", "t": "groups_tui.domain.models:NoSuchThing", "f": {}},
        {"$": "enum", "t": "os:environ", "v": 1},
        {"$": "what", "v": 1},
        {"untagged": 1},
    ],
)
def test_types_outside_the_records_are_refused(data: object) -> None:
    with pytest.raises(WireError):
        decode(data)


def test_errors_keep_their_refusal() -> None:
    refusal = Refusal("role", "admin.delete_group needs the admin role (sam is agent)")
    back = error_from_body(
        json.loads(json.dumps(error_body(ServiceError(refusal.reason, refusal=refusal))))
    )
    assert isinstance(back, ServiceError) and back.refusal == refusal
    key = error_from_body(error_body(KeyError("no rule named 'x'")))
    assert isinstance(key, KeyError) and key.args == ("no rule named 'x'",)
