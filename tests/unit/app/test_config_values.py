"""The settings' and ``[automations]``' values, checked without a validation library: the
same words accepted and refused as before, errors that say where, secrets never shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from groups_tui import config_values as values
from groups_tui.automations.config import ForwardTarget, PruneRule, parse_automations
from groups_tui.config import ConfigError, InvalidSetting, load_settings
from groups_tui.config_values import Invalid, Secret

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(tmp_path / "config.toml"))
    for name in list(os.environ):
        if name.upper().startswith(("GROUPS_TUI_", "WHATSAPP_")) and name != "GROUPS_TUI_CONFIG":
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("yes", True), ("TRUE", True), ("On", True), ("t", True), ("1", True), (1, True)]
    + [("no", False), ("False", False), ("off", False), ("0", False), (0.0, False)],
)
def test_a_flag_takes_the_words_it_always_took(given: object, expected: bool) -> None:
    assert values.flag(given) is expected


@pytest.mark.parametrize("given", ["maybe", " true", "2", "1.0", 2, None, [True]])
def test_anything_else_is_not_a_flag(given: object) -> None:
    with pytest.raises(Invalid, match="valid boolean"):
        values.flag(given)


@pytest.mark.parametrize(
    ("given", "expected"), [("3", 3), (" 3 ", 3), ("+3", 3), ("3.0", 3), (3.0, 3), (True, 1)]
)
def test_a_whole_number_may_be_written_as_text(given: object, expected: int) -> None:
    assert values.whole(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("١", "unable to parse"),  # only ASCII digits
        ("0x3", "unable to parse"),
        ("3.", "unable to parse"),
        ("", "unable to parse"),
        (2.5, "fractional part"),
        (None, "valid integer"),
    ],
)
def test_anything_else_is_not_a_whole_number(given: object, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        values.whole(given)


def test_errors_say_where_inside_the_value_and_never_show_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN tables from the environment with a bad entry deep inside
    monkeypatch.setenv("GROUPS_TUI_KEYS", json.dumps({"inbox.sort": 7}))
    # THEN the error names the variable as written and the key inside it
    with pytest.raises(InvalidSetting) as caught:
        load_settings()
    assert str(caught.value) == (
        "invalid setting GROUPS_TUI_KEYS.inbox.sort: Input should be a valid string"
    )
    monkeypatch.delenv("GROUPS_TUI_KEYS")
    monkeypatch.setenv(
        "GROUPS_TUI_NUMBERS", json.dumps([{"phone_number_id": "1", "access_token": 12345}])
    )
    with pytest.raises(InvalidSetting) as caught:
        load_settings()
    assert "GROUPS_TUI_NUMBERS.0.access_token: Input should be a valid string" in str(caught.value)
    assert "12345" not in str(caught.value)


def test_a_path_set_to_nothing_is_refused_or_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the database's variable set to nothing, THEN a clear error (it meant ".")
    monkeypatch.setenv("GROUPS_TUI_DB", "")
    with pytest.raises(ConfigError, match="GROUPS_TUI_DB: Input should be a path"):
        load_settings()
    monkeypatch.delenv("GROUPS_TUI_DB")
    # GIVEN an optional path set to nothing, THEN it is not set
    monkeypatch.setenv("GROUPS_TUI_SOCKET", "")
    assert load_settings().socket is None


def test_a_secret_is_never_shown() -> None:
    token = Secret("tok-123")
    assert "tok-123" not in repr(token) + str(token) + repr([token])
    assert token.get_secret_value() == "tok-123"
    assert token == Secret("tok-123") and token != Secret("other") and str(Secret("")) == ""


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"pacing": {"messages_per_second": 0}}, "pacing.messages_per_second: Input should be "),
        ({"pacing": {"burst": "x"}}, "pacing.burst: Input should be a valid number"),
        ({"pacing": {"speed": 1}}, "pacing.speed: Extra inputs are not permitted"),
        ({"forward": "crm"}, "forward: Input should be a valid tuple"),
        ({"forward": [{"url": "http://x"}]}, "forward.0.name: Field required"),
        (
            {"invite_rules": [{"name": "a", "keywords": "join", "group_id": "G"}]},
            "invite_rules.0.keywords: Input should be a valid tuple",
        ),
        (
            {"prune_rules": [{"name": "p", "created_before": "last week"}]},
            "prune_rules.0.created_before: Input should be a valid date",
        ),
        ({"colour": "red"}, "automations.colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_automations_value_says_where(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_automations(table, source="cfg")
    assert str(caught.value).startswith("cfg: automations")
    assert message in str(caught.value)


def test_automations_records_built_in_code_are_checked_too() -> None:
    # GIVEN a target built with a plain text secret and a list for its command
    target = ForwardTarget(name="t", command=["cat"], secret="k")  # type: ignore[arg-type]
    # THEN the secret is kept as one, the command as a tuple (the record is hashable)
    assert isinstance(target.secret, Secret) and target.command == ("cat",)
    assert hash(target) == hash(ForwardTarget(name="t", command=("cat",), secret=Secret("k")))
    # AND a day is read from its ISO text
    assert PruneRule(name="p", created_before="2026-01-31").created_before == date(2026, 1, 31)  # type: ignore[arg-type]
    with pytest.raises(Invalid, match="exactly one of url or command"):
        ForwardTarget(name="t")


def test_reading_the_settings_and_automations_imports_no_validation_library(
    tmp_path: Path,
) -> None:
    # GIVEN a config file with [automations] (checked before the TUI opens)
    config = tmp_path / "config.toml"
    config.write_text('[[automations.forward]]\nname = "crm"\nurl = "http://127.0.0.1:9/h"\n')
    config.chmod(0o600)
    # WHEN a fresh interpreter reads both
    script = (
        "import sys\n"
        "from groups_tui.config import load_settings\n"
        "from groups_tui.automations.config import load_automations\n"
        "assert load_settings().automations\n"
        "assert load_automations().forward[0].name == 'crm'\n"
        "print('pydantic' in sys.modules)\n"
    )
    env = dict(os.environ, GROUPS_TUI_CONFIG=str(config), PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    # THEN pydantic (~60 ms to import) was not needed
    assert out.stdout.strip() == "False"
