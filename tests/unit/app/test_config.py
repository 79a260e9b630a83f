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
    assert "tok-123" not in str(settings.model_dump())


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
    assert "graph_version" in load_settings().model_fields_set
