"""Settings: environment variables, then an optional TOML file in the user's config dir.

Secrets are `SecretStr`: they never appear in a repr, a log line or `config check`. A config
file that holds a secret and can be read by the group or by others is refused.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

APP_NAME = "groups-tui"
CONFIG_ENV = "GROUPS_TUI_CONFIG"
SECRET_FIELDS = ("access_token", "app_secret", "verify_token")


class ConfigError(Exception):
    """A configuration problem, worded as one actionable line."""


def config_path() -> Path:
    """Where the optional TOML config file lives (``GROUPS_TUI_CONFIG`` overrides)."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    """The per-user data directory holding the databases."""
    return Path(platformdirs.user_data_dir(APP_NAME))


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML config file, refusing one that leaks secrets to other users."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self._path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is not None:
            return self._data
        if not self._path.is_file():
            self._data = {}
            return self._data
        try:
            raw = tomllib.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {self._path}: {exc}") from exc
        data = raw.get("whatsapp", {}) | {k: v for k, v in raw.items() if not isinstance(v, dict)}
        data = {k.lower(): v for k, v in data.items()}
        for table in ("moderation", "automations", "pricing", "keys"):
            if isinstance(raw.get(table), dict):
                data[table] = raw[table]
        check_file_permissions(self._path, data)
        self._data = data
        return data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._load().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._load().items() if k in self.settings_cls.model_fields}


def check_file_permissions(path: Path, data: dict[str, Any]) -> None:
    """Refuse a config file holding a secret that group or others may read."""
    if not any(data.get(name) for name in SECRET_FIELDS):
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} holds secrets but is readable by others "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )


class Settings(BaseSettings):
    """groups-tui settings. Environment variables win over the config file."""

    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, use_attribute_docstrings=True
    )

    access_token: SecretStr | None = Field(default=None, alias="WHATSAPP_ACCESS_TOKEN")
    """Bearer token for the Cloud API."""
    phone_number_id: str | None = Field(default=None, alias="WHATSAPP_PHONE_NUMBER_ID")
    """The business phone number id groups belong to."""
    business_account_id: str | None = Field(default=None, alias="WHATSAPP_BUSINESS_ACCOUNT_ID")
    """The WhatsApp Business Account (WABA) id; needed to list message templates."""
    app_secret: SecretStr | None = Field(default=None, alias="WHATSAPP_APP_SECRET")
    """App secret that signs webhooks (X-Hub-Signature-256)."""
    verify_token: SecretStr | None = Field(default=None, alias="WHATSAPP_VERIFY_TOKEN")
    """Token Meta echoes in the webhook verification handshake."""
    graph_version: str = Field(default="v25.0", alias="WHATSAPP_GRAPH_VERSION")
    """Graph API version used in every path."""
    api_base_url: str = Field(default="https://graph.facebook.com", alias="WHATSAPP_API_BASE_URL")
    """Base URL of the Graph API (tests and the sandbox point it elsewhere)."""
    db_path: Path = Field(
        default_factory=lambda: default_data_dir() / "groups.db", alias="GROUPS_TUI_DB"
    )
    """SQLite database for the live account (the sandbox always uses its own file)."""
    rates_csv: Path | None = Field(default=None, alias="GROUPS_TUI_RATES_CSV")
    """A rate card CSV replacing the packaged one."""
    bell: bool = Field(default=True, alias="GROUPS_TUI_BELL")
    """Ring the terminal bell on new messages in groups that are not open."""
    spacing_marks: Literal["zero", "one"] = Field(
        default_factory=lambda: "one" if os.environ.get("TMUX") else "zero",
        alias="GROUPS_TUI_SPACING_MARKS",
    )
    """Cells a spacing combining mark (Devanagari ि, Tamil ா...) takes: ``zero`` as Rich
    measures it, ``one`` as terminals that measure code points with wcwidth (tmux, for one)
    draw it. Default ``one`` inside tmux (``$TMUX`` set), ``zero`` elsewhere; set ``one``
    if rows with Indic text are pushed right."""
    web_token: SecretStr | None = Field(default=None, alias="GROUPS_TUI_WEB_TOKEN")
    """Access token of ``groups-tui web``; required to bind to anything but loopback."""
    moderation: dict[str, Any] = Field(default_factory=dict, alias="GROUPS_TUI_MODERATION")
    """The ``[moderation]`` table of the config file: rule thresholds and actions."""
    automations: dict[str, Any] = Field(default_factory=dict, alias="GROUPS_TUI_AUTOMATIONS")
    """The ``[automations]`` table of the config file: invite flows, forwarding, pacing."""
    pricing: dict[str, Any] = Field(default_factory=dict, alias="GROUPS_TUI_PRICING")
    """The ``[pricing]`` table of the config file: the reading of each disputed charging
    rule and when what Meta charged wins over it (``evidence_min``, ``evidence_days``)."""
    keys: dict[str, str] = Field(default_factory=dict, alias="GROUPS_TUI_KEYS")
    """The ``[keys]`` table of the config file: a binding id (listed by ``?``) and the
    keys that replace its own, e.g. ``"inbox.sort" = "o"`` or ``"app.quit" = "ctrl+q,f10"``."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls, config_path()))

    @property
    def is_live(self) -> bool:
        """True when the Cloud API credentials are set; otherwise the sandbox runs."""
        return bool(self.access_token and self.access_token.get_secret_value()) and bool(
            self.phone_number_id
        )

    @property
    def preferences_path(self) -> Path:
        """Where the TUI keeps the operator's choices (theme, inbox sort and columns)."""
        return self.db_path.with_name("preferences.json")

    @property
    def sandbox_db_path(self) -> Path:
        """The sandbox's own database, never mixed with a live one."""
        return self.db_path.with_name("sandbox.db")

    def status_lines(self) -> list[tuple[str, str, bool]]:
        """(environment variable, description, is set) for every setting; never a value."""
        rows: list[tuple[str, str, bool]] = []
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            present = value is not None and value != "" and value != {}
            rows.append((field.alias or name, (field.description or "").strip(), present))
        return rows


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning every problem into a one-line `ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {where}: {first.get('msg', 'bad value')}") from None
