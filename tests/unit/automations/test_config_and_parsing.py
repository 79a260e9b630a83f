"""Pure parts of the automations: config, CSV rows, filters, rule matching."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups_tui.automations.bulk_create import BulkCreateError, parse_csv
from groups_tui.automations.common import GroupFilter
from groups_tui.automations.config import (
    ForwardTarget,
    InviteRule,
    load_automations,
    parse_automations,
)
from groups_tui.config import ConfigError
from groups_tui.workers.invite_flows import Trigger, matches

TOML = """
[automations.pacing]
group_ops_per_second = 3
messages_per_second = 15

[[automations.invite_rules]]
name = "join"
keywords = ["join", "invite"]
group_id = "G1"

[[automations.invite_rules]]
name = "vip"
numbers = ["+49 151 1234 5678"]
new_group_subject = "VIP {name}"

[[automations.forward]]
name = "crm"
url = "http://127.0.0.1:9000/hook"
secret = "s3cret"
kinds = ["message.*"]

[[automations.prune_rules]]
name = "old"
idle_days = 30
tag = "order-*"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_full_config_loads(tmp_path: Path) -> None:
    config = load_automations(write(tmp_path, TOML))
    assert config.pacing.group_ops_per_second == 3
    assert [r.name for r in config.invite_rules] == ["join", "vip"]
    assert config.invite_rules[1].digits == frozenset({"4915112345678"})
    assert config.invite_rules[1].group_key == "new-group"
    assert config.forward[0].signing_key() == b"s3cret"
    assert config.prune_rule("old").idle_days == 30


def test_missing_file_means_no_automations(tmp_path: Path) -> None:
    config = load_automations(tmp_path / "absent.toml")
    assert not config.invite_rules and not config.forward


def test_secret_in_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="chmod 600"):
        load_automations(write(tmp_path, TOML, 0o644))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"invite_rules": [{"name": "x", "group_id": "G"}]}, "needs keywords or numbers"),
        ({"invite_rules": [{"name": "x", "keywords": ["a"]}]}, "exactly one of group_id"),
        ({"forward": [{"name": "t"}]}, "exactly one of url or command"),
        ({"forward": [{"name": "t", "url": "ftp://x"}]}, "http:// or https://"),
        (
            {"forward": [{"name": "a", "url": "http://x"}, {"name": "a", "url": "http://y"}]},
            "used twice",
        ),
        ({"pacing": {"messages_per_second": 0}}, "pacing.messages_per_second"),
        ({"prune_rules": [{"name": "p", "subject": "("}]}, "bad subject pattern"),
        ({"forward": [{"name": "bad name!", "url": "http://x"}]}, "names use letters"),
    ],
)
def test_bad_config_names_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="automations") as info:
        parse_automations(data)
    assert message in str(info.value)


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    target = ForwardTarget(name="t", url="http://127.0.0.1:1/", secret_env="HOOK_SECRET_X")
    monkeypatch.delenv("HOOK_SECRET_X", raising=False)
    with pytest.raises(ConfigError, match="HOOK_SECRET_X"):
        target.signing_key()
    monkeypatch.setenv("HOOK_SECRET_X", "k")
    assert target.signing_key() == b"k"
    assert "k" not in repr(ForwardTarget(name="t", url="http://x/", secret="k").secret)
    assert os.environ["HOOK_SECRET_X"] == "k"


def test_csv_rows_are_validated_and_named_by_line() -> None:
    rows = parse_csv(
        "Subject,Invite,Tag,Join_Approval\n"
        "Order 1,+49 151-12345678;5511987654321,order-1,yes\n"
        "\n"
        ",,,\n"
        "Order 2,not-a-number,,no\n"
        f"{'x' * 129},,,no\n"
        "Order 3,,,sometimes\n"
        "Order 4,,,\n"
    )
    assert rows[0].invitees == ("4915112345678", "5511987654321")
    assert rows[0].join_approval and rows[0].tag == "order-1" and rows[0].state == "planned"
    by_line = {r.row_no: r for r in rows}
    assert by_line[5].state == "invalid" and "'not-a-number'" in (by_line[5].error or "")
    assert by_line[6].state == "invalid" and "row 6" in (by_line[6].error or "")
    assert by_line[7].state == "invalid" and "sometimes" in (by_line[7].error or "")
    assert by_line[8].state == "planned" and not by_line[8].join_approval


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("name,when\n", "no 'subject' column"), ("subject,colour\n", "colour")],
)
def test_csv_refused_as_a_whole(text: str, message: str) -> None:
    with pytest.raises(BulkCreateError, match=message):
        parse_csv(text)


subjects = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() == s and s.strip() and '"' not in s)


@given(st.lists(subjects, min_size=1, max_size=20))
def test_csv_any_valid_subjects_round_trip(names: list[str]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["subject", "join_approval"])
    for name in names:
        writer.writerow([name, "no"])
    rows = parse_csv(buffer.getvalue())
    assert [r.subject for r in rows] == names
    assert all(r.state == "planned" for r in rows)
    assert [r.row_no for r in rows] == list(range(2, len(names) + 2))


NOW = datetime(2026, 9, 15, tzinfo=UTC).timestamp()
DAY = 86_400


def test_group_filter_reasons() -> None:
    flt = GroupFilter(subject=r"^order", tag="ord*", idle_days=30, created_before=NOW)
    why = flt.reasons(
        subject="Order 7",
        tag="orders",
        created_at=int(NOW - 90 * DAY),
        last_inbound_at=int(NOW - 45 * DAY),
        members=3,
        now=NOW,
    )
    assert why is not None and len(why) == 4
    assert "no inbound message for 45 days" in why
    assert (
        flt.reasons(
            subject="Order 7",
            tag="orders",
            created_at=int(NOW - 90 * DAY),
            last_inbound_at=int(NOW - 2 * DAY),
            members=3,
            now=NOW,
        )
        is None
    )
    assert (
        flt.reasons(
            subject="Yoga", tag="orders", created_at=0, last_inbound_at=None, members=0, now=NOW
        )
        is None
    )
    assert (
        flt.reasons(
            subject="Order 7", tag=None, created_at=0, last_inbound_at=None, members=0, now=NOW
        )
        is None
    )
    assert (
        GroupFilter(empty=True).reasons(
            subject="x", tag=None, created_at=None, last_inbound_at=None, members=1, now=NOW
        )
        is None
    )
    assert GroupFilter().is_empty and not flt.is_empty


def test_invite_rule_matching() -> None:
    rule = InviteRule(
        name="r", keywords=("join", "sign up"), numbers=("+55 11 98765-4321",), group_id="G"
    )

    def trig(text: str, wa: str = "4915112345678") -> Trigger:
        return Trigger(wamid="w", wa_id=wa, name=None, text=text, at=0)

    assert matches(rule, trig("Can I JOIN?")) == "message contains 'join'"
    assert matches(rule, trig("I'd like to sign up!")) is not None
    assert matches(rule, trig("rejoined yesterday")) is None
    assert matches(rule, trig("hello", "5511987654321")) is not None
    assert matches(rule, trig("hello")) is None
