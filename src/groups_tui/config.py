"""Settings: environment variables, then an optional TOML file in the user's config dir.

Secrets are `SecretStr`: they never appear in a repr, a log line or `config check`. A config
file that holds a secret and can be read by the group or by others is refused.

`Settings` is a pydantic model that gathers its own sources when constructed (keyword
arguments, then environment variables by their names, any case, then the file): every
command starts by reading it, and pydantic-settings cost more to import than the rest of
a read command.

Business numbers: a ``[[numbers]]`` array in the file lists every number of the account
(``phone_number_id``, ``label``, ``business_account_id``, ``display_phone_number``, and its
token: ``access_token`` inline, ``token = "NAME"`` naming an entry of a ``[tokens]``
table, or neither for the shared ``WHATSAPP_ACCESS_TOKEN``). Without it, the
``WHATSAPP_*`` variables describe the one number, as they always did
(:meth:`Settings.business_numbers`).
"""

from __future__ import annotations

import functools
import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_origin

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from groups_tui.domain.numbers import BusinessNumber

APP_NAME = "groups-tui"
CONFIG_ENV = "GROUPS_TUI_CONFIG"
SECRET_FIELDS = ("access_token", "app_secret", "verify_token")
DEFAULT_LABEL = "default"
"""The label of the one number the ``WHATSAPP_*`` variables describe, when no display
number is known."""


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


class _TomlFileSource:
    """Reads the TOML config file, refusing one that leaks secrets to other users."""

    def __init__(self, settings_cls: type[BaseModel], path: Path) -> None:
        self.settings_cls = settings_cls
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
        for table in ("moderation", "automations", "pricing", "tokens", "keys"):
            if isinstance(raw.get(table), dict):
                data[table] = raw[table]
        check_file_permissions(self._path, data)
        self._data = data
        return data

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._load().items() if k in self.settings_cls.model_fields}


def _holds_secret(data: dict[str, Any]) -> bool:
    if any(data.get(name) for name in SECRET_FIELDS) or data.get("tokens"):
        return True
    numbers = data.get("numbers")
    return isinstance(numbers, list) and any(
        isinstance(n, dict) and n.get("access_token") for n in numbers
    )


def check_file_permissions(path: Path, data: dict[str, Any]) -> None:
    """Refuse a config file holding a secret that group or others may read."""
    if not _holds_secret(data):
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} holds secrets but is readable by others "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )


def _environment(settings_cls: type[BaseModel]) -> dict[str, tuple[str, Any]]:
    """The fields set by environment variables (names in any case): field name ->
    (variable name, value). A table or array field (``dict``, ``list``) is given as JSON.

    Raises:
        ConfigError: A table that is not JSON.
    """
    env = {name.lower(): value for name, value in os.environ.items()}
    found: dict[str, tuple[str, Any]] = {}
    for name, field in settings_cls.model_fields.items():
        variable = field.alias or name
        value = env.get(variable.lower())
        if value is None:
            continue
        if get_origin(field.annotation) in (dict, list):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"invalid setting {variable}: not JSON ({exc})") from None
        found[name] = (variable, value)
    return found


class NumberEntry(BaseModel):
    """One ``[[numbers]]`` entry of the config file, as written (checked by pydantic:
    unknown keys are refused, the token is a secret)."""

    model_config = ConfigDict(extra="forbid")

    phone_number_id: str
    """Meta's id of the number."""
    label: str | None = None
    """How people name it (default: its display number, else its id)."""
    business_account_id: str | None = None
    """Its WABA (default: ``WHATSAPP_BUSINESS_ACCOUNT_ID``)."""
    display_phone_number: str | None = None
    """The number as people dial it."""
    access_token: SecretStr | None = None
    """Its own token."""
    token: str | None = None
    """The name of a ``[tokens]`` entry it shares."""


class NumberSettings(NamedTuple):
    """A configured business number and the token its requests carry.

    Attributes:
        number: The number (the record every layer shares).
        access_token: Its bearer token (its own, a named one, or the shared one), or
            ``None`` when none is configured.
    """

    number: BusinessNumber
    access_token: SecretStr | None


class Settings(BaseModel):
    """groups-tui settings. Environment variables win over the config file."""

    # Each field's docstring is its description in `config check` (:meth:`status_lines`);
    # it is read from the source when asked, not by pydantic for every command.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def __init__(self, **values: Any) -> None:
        """Settings from ``values`` (by field name or variable name), then the environment,
        then the config file. Each value keeps the name it was given by, so an invalid one
        is reported as the user wrote it (``GROUPS_TUI_BELL`` from the environment)."""
        fields = type(self).model_fields
        chosen: dict[str, tuple[str, Any]] = {
            name: (name, value)
            for name, value in _TomlFileSource(type(self), config_path())().items()
        }
        chosen |= _environment(type(self))
        for key, value in values.items():
            name = next((n for n, f in fields.items() if key in (n, f.alias)), key)
            chosen[name] = (key, value)
        super().__init__(**dict(chosen.values()))

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
    socket: Path | None = Field(default=None, alias="GROUPS_TUI_SOCKET")
    """The team daemon's Unix socket (``groups-tui serve``); when set, or when a socket
    exists at the default path (/run/groups-tui/groups-tui.sock), every command and the
    TUI act through the daemon and need no Cloud API token."""
    roles_file: Path = Field(default=Path("/etc/groups-tui/roles.toml"), alias="GROUPS_TUI_ROLES")
    """The daemon's roles file (TOML; readable only by the daemon's user)."""
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
    numbers: list[NumberEntry] = Field(default_factory=list, alias="GROUPS_TUI_NUMBERS")
    """The ``[[numbers]]`` of the config file: every business number of the account
    (``phone_number_id``, ``label``, ``business_account_id``, ``display_phone_number``,
    ``access_token`` or ``token``); without it the ``WHATSAPP_*`` variables describe one."""
    tokens: dict[str, SecretStr] = Field(default_factory=dict, alias="GROUPS_TUI_TOKENS")
    """The ``[tokens]`` table: access tokens by name, shared by numbers that say
    ``token = "NAME"``."""
    display_phone_number: str | None = Field(default=None, alias="WHATSAPP_DISPLAY_PHONE_NUMBER")
    """How the one number of the ``WHATSAPP_*`` variables is dialled (its label)."""
    sandbox_numbers: int = Field(default=1, ge=1, le=9, alias="GROUPS_TUI_SANDBOX_NUMBERS")
    """Business numbers the embedded sandbox simulates (1 to 9), without credentials."""
    keys: dict[str, str] = Field(default_factory=dict, alias="GROUPS_TUI_KEYS")
    """The ``[keys]`` table of the config file: a binding id (listed by ``?``) and the
    keys that replace its own, e.g. ``"inbox.sort" = "o"`` or ``"app.quit" = "ctrl+q,f10"``."""

    @property
    def is_live(self) -> bool:
        """True when the Cloud API credentials are set; otherwise the sandbox runs.

        With ``[[numbers]]``, when some number has a token (:meth:`business_numbers`
        refuses a configuration where others lack one).
        """
        if self.numbers:
            return any(_has_value(e.access_token) or e.token for e in self.numbers) or _has_value(
                self.access_token
            )
        return _has_value(self.access_token) and bool(self.phone_number_id)

    def business_numbers(self) -> list[NumberSettings]:
        """Every configured business number with its token, in configuration order.

        ``[[numbers]]`` entries first; the number of ``WHATSAPP_PHONE_NUMBER_ID`` (with
        ``WHATSAPP_ACCESS_TOKEN`` and ``WHATSAPP_BUSINESS_ACCOUNT_ID``) is the only one
        without them, and is added after them when they do not list it. Its label is
        ``WHATSAPP_DISPLAY_PHONE_NUMBER``, or ``default``.

        Returns:
            The numbers (empty when none is configured).

        Raises:
            ConfigError: An entry without ``phone_number_id``, an unknown key or token
                name, two numbers with one label or id, or (in live mode) a number
                without any token.
        """
        out = [self._number_entry(i, entry) for i, entry in enumerate(self.numbers, start=1)]
        single = (self.phone_number_id or "").strip()
        if single and single not in {n.number.phone_number_id for n in out}:
            label = (self.display_phone_number or "").strip() or DEFAULT_LABEL
            if label in {n.number.label for n in out}:
                label = single
            number = BusinessNumber(
                phone_number_id=single,
                label=label,
                business_account_id=self.business_account_id or None,
                display_phone_number=self.display_phone_number or None,
            )
            out.append(NumberSettings(number, self.access_token))
        seen_ids: set[str] = set()
        seen_labels: set[str] = set()
        for item in out:
            pnid, label = item.number.phone_number_id, item.number.label.casefold()
            if pnid in seen_ids:
                raise ConfigError(f"number {pnid} is configured twice in [[numbers]]")
            if label in seen_labels:
                raise ConfigError(f"two numbers are labelled {item.number.label!r}")
            seen_ids.add(pnid)
            seen_labels.add(label)
        if self.numbers and self.is_live:
            missing = [n.number.label for n in out if not _has_value(n.access_token)]
            if missing:
                raise ConfigError(
                    f"number {missing[0]!r} has no access token: give it access_token, "
                    'token = "NAME" (from [tokens]) or set WHATSAPP_ACCESS_TOKEN'
                )
        return out

    def _number_entry(self, position: int, entry: NumberEntry) -> NumberSettings:
        """One ``[[numbers]]`` entry, checked."""
        where = f"[[numbers]] entry {position}"
        pnid = entry.phone_number_id.strip()
        if not pnid:
            raise ConfigError(f"{where} has no phone_number_id")
        display = (entry.display_phone_number or "").strip() or None
        label = (entry.label or "").strip() or display or pnid
        token: SecretStr | None
        if entry.access_token is not None and entry.token:
            raise ConfigError(f"{where} ({label}): give access_token or token, not both")
        if entry.access_token is not None:
            token = entry.access_token
        elif entry.token:
            if entry.token not in self.tokens:
                known = ", ".join(sorted(self.tokens)) or "none"
                raise ConfigError(
                    f"{where} ({label}) names token {entry.token!r}, which [tokens] does not "
                    f"hold (it holds: {known})"
                )
            token = self.tokens[entry.token]
        else:
            token = self.access_token
        waba = (entry.business_account_id or "").strip() or self.business_account_id
        number = BusinessNumber(
            phone_number_id=pnid,
            label=label,
            business_account_id=waba or None,
            display_phone_number=display,
        )
        return NumberSettings(number, token)

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
            if name in ("numbers", "tokens"):
                continue  # listed number by number by `config check`
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            present = value is not None and value != "" and value != {}
            text = field.description or _field_docs().get(name, "")
            rows.append((field.alias or name, text.strip(), present))
        return rows


@functools.cache
def _field_docs() -> dict[str, str]:
    """The docstring under each field of :class:`Settings`, by field name (none when the
    source cannot be read)."""
    import ast
    import inspect

    try:
        body = ast.parse(inspect.getsource(Settings)).body[0]
    except (OSError, TypeError, SyntaxError):
        return {}
    docs: dict[str, str] = {}
    if not isinstance(body, ast.ClassDef):
        return docs
    for field, after in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _has_value(secret: SecretStr | None) -> bool:
    return bool(secret and secret.get_secret_value())


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning every problem into a one-line `ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        raise ConfigError(f"invalid setting {where}: {first.get('msg', 'bad value')}") from None
