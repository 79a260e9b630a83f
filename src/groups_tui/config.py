"""Settings: environment variables, then an optional TOML file in the user's config dir.

Secrets are :class:`~groups_tui.config_values.Secret`: they never appear in a repr, a log
line or `config check`. A config file that holds a secret and can be read by the group or by
others is refused.

`Settings` gathers its own sources when constructed (keyword arguments, then environment
variables by their names, any case, then the file) and checks each value with the plain
functions of :mod:`groups_tui.config_values`: every command and the TUI start by reading
it, and a validation library (pydantic, ~80 ms) cost more to import than the rest of a
read command, and a third of the TUI's own start.

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
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar, cast, overload

import platformdirs

from groups_tui import config_values as values
from groups_tui.config_values import Check, Secret
from groups_tui.domain.numbers import BusinessNumber

T = TypeVar("T")

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

    def __init__(self, names: Collection[str], path: Path) -> None:
        self._names = names
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
        return {k: v for k, v in self._load().items() if k in self._names}


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


def _environment(settings: Mapping[str, Setting[Any]]) -> dict[str, tuple[str, Any]]:
    """The fields set by environment variables (names in any case): field name ->
    (variable name, value). A table or array field is given as JSON.

    Raises:
        ConfigError: A table that is not JSON.
    """
    env = {name.lower(): value for name, value in os.environ.items()}
    found: dict[str, tuple[str, Any]] = {}
    for name, setting in settings.items():
        value = env.get(setting.variable.lower())
        if value is None:
            continue
        if setting.json:
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"invalid setting {setting.variable}: not JSON ({exc})") from None
        found[name] = (setting.variable, value)
    return found


class Setting(Generic[T]):
    """One setting of :class:`Settings`: the variable that sets it, how a given value is
    checked (:mod:`groups_tui.config_values`) and its value when none is given. Its
    description is the docstring under it (:meth:`Settings.status_lines`).

    Args:
        variable: The environment variable (also accepted as a keyword argument).
        check: Turns a given value into the setting's value, or raises ``Invalid``.
        default: The value when none is given, or a function making it.
        json: The environment gives it as JSON (a table or an array).
    """

    def __init__(
        self,
        variable: str,
        check: Check[T],
        default: T | Callable[[], T],
        *,
        json: bool = False,
    ) -> None:
        self.variable = variable
        self.check = check
        self._default = default
        self.json = json
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def default(self) -> T:
        """The value when none is given."""
        made = self._default
        return made() if callable(made) else made

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> Setting[T] | T:
        # Reached for the class only: an instance holds its values in its __dict__.
        if instance is None:
            return self
        return cast("T", instance.__dict__[self.name])


@dataclass(frozen=True)
class NumberEntry(values.CheckedTable):
    """One ``[[numbers]]`` entry of the config file, as written (unknown keys are
    refused, the token is a secret)."""

    phone_number_id: str
    """Meta's id of the number."""
    label: str | None = None
    """How people name it (default: its display number, else its id)."""
    business_account_id: str | None = None
    """Its WABA (default: ``WHATSAPP_BUSINESS_ACCOUNT_ID``)."""
    display_phone_number: str | None = None
    """The number as people dial it."""
    access_token: Secret | None = None
    """Its own token."""
    token: str | None = None
    """The name of a ``[tokens]`` entry it shares."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {
        "phone_number_id": values.text,
        "label": values.optional(values.text),
        "business_account_id": values.optional(values.text),
        "display_phone_number": values.optional(values.text),
        "access_token": values.optional(values.secret),
        "token": values.optional(values.text),
    }


class NumberSettings(NamedTuple):
    """A configured business number and the token its requests carry.

    Attributes:
        number: The number (the record every layer shares).
        access_token: Its bearer token (its own, a named one, or the shared one), or
            ``None`` when none is configured.
    """

    number: BusinessNumber
    access_token: Secret | None


def _data_dir_db() -> Path:
    return default_data_dir() / "groups.db"


def _spacing_marks_here() -> str:
    return "one" if os.environ.get("TMUX") else "zero"


class Settings:
    """groups-tui settings. Environment variables win over the config file.

    Each setting's docstring is its description in ``config check``
    (:meth:`status_lines`); it is read from the source when asked, not for every command.
    """

    def __init__(self, **given: Any) -> None:
        """Settings from ``given`` (by field name or variable name), then the environment,
        then the config file. Each value keeps the name it was given by, so an invalid one
        is reported as the user wrote it (``GROUPS_TUI_BELL`` from the environment).

        Raises:
            ConfigError: An unreadable or unsafe config file, a table that is not JSON.
            InvalidSetting: A value a setting cannot take.
        """
        settings = type(self).fields()
        chosen: dict[str, tuple[str, Any]] = {
            name: (name, value)
            for name, value in _TomlFileSource(settings, config_path())().items()
        }
        chosen |= _environment(settings)
        for key, value in given.items():
            name = next((n for n, s in settings.items() if key in (n, s.variable)), None)
            if name is not None:  # anything else is ignored, as an unknown file key is
                chosen[name] = (key, value)
        for name, setting in settings.items():
            if name not in chosen:
                self.__dict__[name] = setting.default()
                continue
            key, value = chosen[name]
            try:
                self.__dict__[name] = setting.check(value)
            except values.Invalid as exc:
                raise InvalidSetting(".".join((key, *exc.where)), exc.message) from None
        self.given = frozenset(chosen)
        """The settings given a value (by a keyword, the environment or the file)."""

    @classmethod
    @functools.cache
    def fields(cls) -> dict[str, Setting[Any]]:
        """Every setting, by field name, in the order they are declared."""
        return {name: attr for name, attr in vars(cls).items() if isinstance(attr, Setting)}

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.fields())
        return f"Settings({shown})"

    access_token = Setting("WHATSAPP_ACCESS_TOKEN", values.optional(values.secret), None)
    """Bearer token for the Cloud API."""
    phone_number_id = Setting("WHATSAPP_PHONE_NUMBER_ID", values.optional(values.text), None)
    """The business phone number id groups belong to."""
    business_account_id = Setting(
        "WHATSAPP_BUSINESS_ACCOUNT_ID", values.optional(values.text), None
    )
    """The WhatsApp Business Account (WABA) id; needed to list message templates."""
    app_secret = Setting("WHATSAPP_APP_SECRET", values.optional(values.secret), None)
    """App secret that signs webhooks (X-Hub-Signature-256)."""
    verify_token = Setting("WHATSAPP_VERIFY_TOKEN", values.optional(values.secret), None)
    """Token Meta echoes in the webhook verification handshake."""
    graph_version = Setting("WHATSAPP_GRAPH_VERSION", values.text, "v25.0")
    """Graph API version used in every path."""
    api_base_url = Setting("WHATSAPP_API_BASE_URL", values.text, "https://graph.facebook.com")
    """Base URL of the Graph API (tests and the sandbox point it elsewhere)."""
    db_path = Setting("GROUPS_TUI_DB", values.path, _data_dir_db)
    """SQLite database for the live account (the sandbox always uses its own file)."""
    socket = Setting("GROUPS_TUI_SOCKET", values.optional_path, None)
    """The team daemon's Unix socket (``groups-tui serve``); when set, or when a socket
    exists at the default path (/run/groups-tui/groups-tui.sock), every command and the
    TUI act through the daemon and need no Cloud API token."""
    roles_file = Setting("GROUPS_TUI_ROLES", values.path, Path("/etc/groups-tui/roles.toml"))
    """The daemon's roles file (TOML; readable only by the daemon's user)."""
    rates_csv = Setting("GROUPS_TUI_RATES_CSV", values.optional_path, None)
    """A rate card CSV replacing the packaged one."""
    bell = Setting("GROUPS_TUI_BELL", values.flag, True)
    """Ring the terminal bell on new messages in groups that are not open."""
    spacing_marks = Setting(
        "GROUPS_TUI_SPACING_MARKS", values.choice("zero", "one"), _spacing_marks_here
    )
    """Cells a spacing combining mark (Devanagari ि, Tamil ா...) takes: ``zero`` as Rich
    measures it, ``one`` as terminals that measure code points with wcwidth (tmux, for one)
    draw it. Default ``one`` inside tmux (``$TMUX`` set), ``zero`` elsewhere; set ``one``
    if rows with Indic text are pushed right."""
    web_token = Setting("GROUPS_TUI_WEB_TOKEN", values.optional(values.secret), None)
    """Access token of ``groups-tui web``; required to bind to anything but loopback."""
    moderation = Setting("GROUPS_TUI_MODERATION", values.table, dict, json=True)
    """The ``[moderation]`` table of the config file: rule thresholds and actions."""
    automations = Setting("GROUPS_TUI_AUTOMATIONS", values.table, dict, json=True)
    """The ``[automations]`` table of the config file: invite flows, forwarding, pacing."""
    pricing = Setting("GROUPS_TUI_PRICING", values.table, dict, json=True)
    """The ``[pricing]`` table of the config file: the reading of each disputed charging
    rule and when what Meta charged wins over it (``evidence_min``, ``evidence_days``)."""
    numbers = Setting("GROUPS_TUI_NUMBERS", values.list_of(NumberEntry.checked), list, json=True)
    """The ``[[numbers]]`` of the config file: every business number of the account
    (``phone_number_id``, ``label``, ``business_account_id``, ``display_phone_number``,
    ``access_token`` or ``token``); without it the ``WHATSAPP_*`` variables describe one."""
    tokens = Setting("GROUPS_TUI_TOKENS", values.table_of(values.secret), dict, json=True)
    """The ``[tokens]`` table: access tokens by name, shared by numbers that say
    ``token = "NAME"``."""
    display_phone_number = Setting(
        "WHATSAPP_DISPLAY_PHONE_NUMBER", values.optional(values.text), None
    )
    """How the one number of the ``WHATSAPP_*`` variables is dialled (its label)."""
    sandbox_numbers = Setting("GROUPS_TUI_SANDBOX_NUMBERS", values.bounded(1, 9), 1)
    """Business numbers the embedded sandbox simulates (1 to 9), without credentials."""
    keys = Setting("GROUPS_TUI_KEYS", values.table_of(values.text), dict, json=True)
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
        token: Secret | None
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
        for name, setting in self.fields().items():
            if name in ("numbers", "tokens"):
                continue  # listed number by number by `config check`
            value = getattr(self, name)
            if isinstance(value, Secret):
                value = value.get_secret_value()
            present = value is not None and value != "" and value != {}
            rows.append((setting.variable, _field_docs().get(name, ""), present))
        return rows


class InvalidSetting(ConfigError):
    """A value a setting cannot take: ``invalid setting WHERE: WHAT``.

    Args:
        where: The setting as it was given (its variable or field name), and the path
            inside its value (``GROUPS_TUI_NUMBERS.0.label``).
        message: What is wrong (never the value).
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"invalid setting {where}: {message}")
        self.where = where


@functools.cache
def _field_docs() -> dict[str, str]:
    """The docstring under each setting of :class:`Settings`, by field name (none when the
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
            isinstance(field, ast.Assign)
            and len(field.targets) == 1
            and isinstance(field.targets[0], ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.targets[0].id] = inspect.cleandoc(after.value.value)
    return docs


def _has_value(secret: Secret | None) -> bool:
    return bool(secret and secret.get_secret_value())


def load_settings(**overrides: Any) -> Settings:
    """Load settings; every problem is a one-line :class:`ConfigError`."""
    return Settings(**overrides)
