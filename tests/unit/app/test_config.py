"""Settings: environment, TOML file, secrets never shown, unsafe files refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from groups_tui.config import ConfigError, Settings, config_path, load_settings

ENV_NAMES = [
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_BUSINESS_ACCOUNT_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_GRAPH_VERSION",
    "WHATSAPP_API_BASE_URL",
    "GROUPS_TUI_DB",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GROUPS_TUI_CONFIG", str(tmp_path / "config.toml"))


def test_environment_variables_configure_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "tok-123")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "106540352242922")
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GROUPS_TUI_DB", "/tmp/x.db")
    settings = load_settings()
    assert settings.is_live
    assert settings.api_base_url == "http://127.0.0.1:9"
    assert settings.db_path == Path("/tmp/x.db")
    assert settings.access_token is not None
    assert settings.access_token.get_secret_value() == "tok-123"
    assert "tok-123" not in repr(settings)
    assert "tok-123" not in str(vars(settings))


def test_without_credentials_the_sandbox_runs() -> None:
    settings = load_settings()
    assert not settings.is_live
    assert settings.sandbox_db_path != settings.db_path


def test_toml_file_is_read(tmp_path: Path) -> None:
    path = config_path()
    path.write_text('[whatsapp]\nphone_number_id = "555"\ngraph_version = "v26.0"\n')
    settings = load_settings()
    assert settings.phone_number_id == "555"
    assert settings.graph_version == "v26.0"


def test_environment_wins_over_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config_path().write_text('[whatsapp]\ngraph_version = "v26.0"\n')
    monkeypatch.setenv("WHATSAPP_GRAPH_VERSION", "v25.0")
    assert load_settings().graph_version == "v25.0"


def test_world_readable_file_with_secret_is_refused() -> None:
    path = config_path()
    path.write_text('[whatsapp]\naccess_token = "s3cret"\n')
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "chmod 600" in message
    assert "s3cret" not in message


def test_private_file_with_secret_is_accepted() -> None:
    path = config_path()
    path.write_text('[whatsapp]\naccess_token = "s3cret"\nphone_number_id = "1"\n')
    os.chmod(path, 0o600)
    settings = load_settings()
    assert settings.is_live


def test_broken_toml_gives_one_line_error() -> None:
    config_path().write_text("this is = = not toml")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_status_lines_never_carry_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "very-secret-value")
    rows = Settings().status_lines()
    flat = repr(rows)
    assert "very-secret-value" not in flat
    assert ("WHATSAPP_APP_SECRET" in flat) and any(
        name == "WHATSAPP_APP_SECRET" and present for name, _d, present in rows
    )
    assert any(name == "WHATSAPP_ACCESS_TOKEN" and not present for name, _d, present in rows)


def test_spacing_marks_default_to_zero_and_take_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    assert load_settings().spacing_marks == "zero"
    monkeypatch.setenv("GROUPS_TUI_SPACING_MARKS", "one")
    assert load_settings().spacing_marks == "one"
    monkeypatch.setenv("GROUPS_TUI_SPACING_MARKS", "two")
    with pytest.raises(ConfigError):
        load_settings()


def test_spacing_marks_default_to_one_inside_tmux(monkeypatch: pytest.MonkeyPatch) -> None:
    # tmux measures code points with wcwidth and draws each spacing mark one cell wide.
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,4242,0")
    assert load_settings().spacing_marks == "one"
    monkeypatch.setenv("GROUPS_TUI_SPACING_MARKS", "zero")  # an explicit setting wins
    assert load_settings().spacing_marks == "zero"


def test_pricing_table_is_read_and_checked() -> None:
    from groups_tui.domain.pricing import PricingConfig
    from groups_tui.runtime import pricing_config

    path = config_path()
    # GIVEN no [pricing] table, THEN the defaults (the reference's readings, 3 in 30 days)
    assert pricing_config(load_settings()) == PricingConfig(evidence_min=3, evidence_days=30)
    # GIVEN a [pricing] table, THEN its values
    path.write_text('[pricing]\nevidence_min = 5\nevidence_days = 14\nutility_in_window = "free"\n')
    assert pricing_config(load_settings()) == PricingConfig(
        evidence_min=5, evidence_days=14, utility_in_window_charged=False
    )
    # GIVEN a bad value, THEN a one-line configuration error naming the key
    path.write_text("[pricing]\nevidence_min = 0\n")
    with pytest.raises(ConfigError, match="pricing.evidence_min must be at least 1"):
        pricing_config(load_settings())


def test_a_table_in_the_environment_is_json_and_bad_json_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROUPS_TUI_PRICING", '{"evidence_min": 4}')
    assert load_settings().pricing == {"evidence_min": 4}
    monkeypatch.setenv("groups_tui_pricing", "{not json")  # names in any case
    monkeypatch.delenv("GROUPS_TUI_PRICING")
    with pytest.raises(ConfigError, match="GROUPS_TUI_PRICING"):
        load_settings()


def test_keyword_arguments_win_by_field_or_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_GRAPH_VERSION", "v24.0")
    assert load_settings().graph_version == "v24.0"
    assert load_settings(graph_version="v26.0").graph_version == "v26.0"
    assert Settings(WHATSAPP_GRAPH_VERSION="v27.0").graph_version == "v27.0"
    assert "graph_version" in load_settings().given


def test_numbers_are_listed_in_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN three numbers: one with its own token, one naming a shared one, one the default
    path = config_path()
    path.write_text(
        '[whatsapp]\naccess_token = "shared-secret"\nbusiness_account_id = "900"\n'
        '[tokens]\nbrands = "brand-secret"\n'
        '[[numbers]]\nphone_number_id = "101"\nlabel = "US"\naccess_token = "own-secret"\n'
        '[[numbers]]\nphone_number_id = "102"\nlabel = "BR"\ntoken = "brands"\n'
        'business_account_id = "901"\n'
        '[[numbers]]\nphone_number_id = "103"\ndisplay_phone_number = "+49 151 555"\n'
    )
    os.chmod(path, 0o600)
    # WHEN the settings are loaded
    settings = load_settings()
    numbers = settings.business_numbers()
    # THEN every number comes with its token, in order, labelled
    assert settings.is_live
    assert [n.number.label for n in numbers] == ["US", "BR", "+49 151 555"]
    tokens = [n.access_token.get_secret_value() for n in numbers if n.access_token]
    assert tokens == ["own-secret", "brand-secret", "shared-secret"]
    assert [n.number.business_account_id for n in numbers] == ["900", "901", "900"]
    # AND `config check` lists no secret, nor the numbers as settings
    shown = str(settings.status_lines()) + repr(settings) + repr(numbers)
    assert not any(value in shown for value in ("shared-secret", "own-secret", "brand-secret"))
    assert "GROUPS_TUI_NUMBERS" not in [name for name, _, _ in settings.status_lines()]


def test_the_environment_still_describes_one_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "tok")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "106540352242922")
    [only] = load_settings().business_numbers()
    assert (only.number.phone_number_id, only.number.label) == ("106540352242922", "default")
    monkeypatch.setenv("WHATSAPP_DISPLAY_PHONE_NUMBER", "+1 555 078 3881")
    [only] = load_settings().business_numbers()
    assert only.number.label == "+1 555 078 3881"


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ('[[numbers]]\nlabel = "US"\n', "numbers.0.phone_number_id: Field required"),
        ('[[numbers]]\nphone_number_id = "1"\ncolour = "red"\n', "numbers.0.colour: Extra inputs"),
        ('[[numbers]]\nphone_number_id = "1"\ntoken = "nope"\n', "names token 'nope'"),
        (
            '[[numbers]]\nphone_number_id = "1"\nlabel = "A"\n'
            '[[numbers]]\nphone_number_id = "2"\nlabel = "a"\n',
            "two numbers are labelled",
        ),
        (
            '[[numbers]]\nphone_number_id = "1"\naccess_token = "x"\n'
            '[[numbers]]\nphone_number_id = "2"\n',
            "has no access token",
        ),
    ],
)
def test_bad_numbers_get_one_line_errors(numbers: str, message: str) -> None:
    path = config_path()
    path.write_text(numbers)
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings().business_numbers()
    assert "\n" not in str(caught.value)


def test_a_token_in_numbers_makes_a_readable_file_refused() -> None:
    path = config_path()
    path.write_text('[[numbers]]\nphone_number_id = "1"\naccess_token = "s3cret"\n')
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_settings()


def test_status_lines_describe_each_setting_by_its_docstring() -> None:
    rows = {name: text for name, text, _present in Settings().status_lines()}
    assert rows["WHATSAPP_ACCESS_TOKEN"] == "Bearer token for the Cloud API."
    assert rows["GROUPS_TUI_SPACING_MARKS"].startswith("Cells a spacing combining mark")
    assert (
        "\n" in rows["GROUPS_TUI_SPACING_MARKS"] and "    " not in rows["GROUPS_TUI_SPACING_MARKS"]
    )
    assert all(rows.values()), [name for name, text in rows.items() if not text]
