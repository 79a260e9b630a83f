"""The daemon's JSON bodies: the service's values with their types, and its errors.

HTTP over the Unix socket carries JSON; this module turns the service's arguments and
results (records, enums, decimals, paths, tuples) into JSON and back, each value tagged
with its type so the client receives the same record the service returned. Only record
types of the domain, the store's records, the service's types and the Cloud API models
decode; anything else is refused.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import stat
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Final

from groups_tui.domain.sending import Refusal
from groups_tui.service.errors import ServiceError

__all__ = [
    "API_PREFIX",
    "DEFAULT_SOCKET",
    "FILE_ARGUMENTS",
    "WireError",
    "decode",
    "encode",
    "error_body",
    "error_from_body",
    "find_socket",
]

API_PREFIX: Final = "/v1"
"""Every route but ``/healthz`` sits under this prefix."""

FILE_ARGUMENTS: Final[dict[str, str]] = {
    "sending.send_media": "path",
    "admin.update_settings": "picture",
}
"""Operations with a file argument: the client sends the file's content (the daemon's
user may not read the operator's files), the daemon passes a private copy on."""

DEFAULT_SOCKET: Final = Path("/run/groups-tui/groups-tui.sock")
"""Where ``groups-tui serve`` listens unless told otherwise (clients look here too)."""


def find_socket(configured: Path | None) -> Path | None:
    """The daemon's socket to use: the configured one, else the default if it exists.

    Args:
        configured: ``GROUPS_TUI_SOCKET`` (or the config file's ``socket``), if set.

    Returns:
        ``None`` in single-user mode (nothing configured, no socket at the default path).
    """
    if configured is not None:
        return configured
    try:
        if stat.S_ISSOCK(DEFAULT_SOCKET.stat().st_mode):
            return DEFAULT_SOCKET
    except OSError:
        pass
    return None


_TYPE_MODULES: Final = (
    "groups_tui.domain.",
    "groups_tui.store.records",
    "groups_tui.service.types",
    "groups_tui.cloud.models",
)


class WireError(ValueError):
    """A body that does not decode (an unknown type, a malformed value)."""


def _type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(name: Any) -> type:
    if not isinstance(name, str) or ":" not in name:
        raise WireError(f"bad type name {name!r}")
    module, _, qualname = name.partition(":")
    if not any(module == p.rstrip(".") or module.startswith(p) for p in _TYPE_MODULES):
        raise WireError(f"type {name} may not cross the socket")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise WireError(f"unknown type {name}") from None
    if not isinstance(obj, type):
        raise WireError(f"{name} is not a type")
    return obj


def encode(value: Any) -> Any:
    """`value` as JSON-ready data that :func:`decode` turns back into the same value."""
    if isinstance(value, Enum):  # first: a StrEnum is a str too
        return {"$": "enum", "t": _type_name(type(value)), "v": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return {"$": "dc", "t": _type_name(type(value)), "f": fields}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {"$": "nt", "t": _type_name(type(value)), "v": [encode(v) for v in value]}
    if isinstance(value, Decimal):
        return {"$": "dec", "v": str(value)}
    if isinstance(value, Path):
        return {"$": "path", "v": str(value)}
    if isinstance(value, datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, bytes):
        return {"$": "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, frozenset | set):
        tag = "frozenset" if isinstance(value, frozenset) else "set"
        return {"$": tag, "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"cannot send a {type(value).__name__} over the socket")


def decode(data: Any) -> Any:
    """The value :func:`encode` made `data` from.

    Raises:
        WireError: A tag or type this side does not accept.
    """
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict) or "$" not in data:
        raise WireError("untagged object")
    tag = data["$"]
    try:
        if tag == "dc":
            cls = _resolve(data["t"])
            if not dataclasses.is_dataclass(cls):
                raise WireError(f"{data['t']} is not a record")
            return cls(**{k: decode(v) for k, v in data["f"].items()})
        if tag == "enum":
            return _resolve(data["t"])(data["v"])
        if tag == "nt":
            return _resolve(data["t"])(*[decode(v) for v in data["v"]])
        if tag == "dec":
            return Decimal(data["v"])
        if tag == "path":
            return Path(data["v"])
        if tag == "datetime":
            return datetime.fromisoformat(data["v"])
        if tag == "date":
            return date.fromisoformat(data["v"])
        if tag == "bytes":
            return base64.b64decode(data["v"])
        if tag == "tuple":
            return tuple(decode(v) for v in data["v"])
        if tag == "set":
            return {decode(v) for v in data["v"]}
        if tag == "frozenset":
            return frozenset(decode(v) for v in data["v"])
        if tag == "dict":
            return {decode(k): decode(v) for k, v in data["v"]}
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError(f"bad {tag} value: {exc}") from None
    raise WireError(f"unknown tag {tag!r}")


_ERROR_TYPES: Final[dict[str, type[Exception]]] = {
    "KeyError": KeyError,
    "ValueError": ValueError,
    "LookupError": LookupError,
}


def error_body(exc: Exception) -> dict[str, Any]:
    """The JSON body of an error the service raised (its message and refusal)."""
    if isinstance(exc, ServiceError):
        refusal = exc.refusal
        return {
            "error": {
                "type": "ServiceError",
                "message": exc.message,
                "refusal": None if refusal is None else encode(refusal),
            }
        }
    name = type(exc).__name__ if type(exc).__name__ in _ERROR_TYPES else "ValueError"
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return {"error": {"type": name, "message": str(message), "refusal": None}}


def error_from_body(body: Any) -> Exception:
    """The exception an error body stands for (a `ServiceError` unless told otherwise)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ServiceError("the daemon answered with an unreadable error")
    message = str(error.get("message") or "the daemon refused")
    kind = error.get("type")
    if kind in _ERROR_TYPES:
        return _ERROR_TYPES[kind](message)
    refusal = None
    if error.get("refusal") is not None:
        try:
            decoded = decode(error["refusal"])
        except WireError:
            decoded = None
        refusal = decoded if isinstance(decoded, Refusal) else None
    return ServiceError(message, refusal=refusal)
