"""Command results as JSON: the one conversion and the one encoder behind every ``--json``."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Final

from groups_tui.domain.models import Unknown
from groups_tui.domain.text import UNSAFE_CODE_POINTS

__all__ = ["dumps", "to_jsonable"]

# ``json.dumps`` already escapes C0 controls inside strings; DEL, C1 and the bidi controls
# it writes raw (with ``ensure_ascii=False``). Outside string literals its output is ASCII,
# so replacing those code points anywhere in the output only touches strings, and
# ``json.loads`` reads every ``\uXXXX`` back to the same character.
_JSON_ESCAPES: Final[dict[int, str]] = {code: f"\\u{code:04x}" for code in UNSAFE_CODE_POINTS}


def to_jsonable(value: Any, properties: Iterable[str] = ()) -> Any:
    """Turn a command's result into values ``json.dumps`` accepts.

    Dataclasses become objects (a domain event's kind first, as ``event``), a value
    outside a known enum its ``unknown: X`` label, named tuples
    objects, enums their values, decimals, dates and paths strings, bytes base64, and
    sets and tuples lists.

    Args:
        value: The result.
        properties: Names of properties to add to any dataclass that has them (derived
            fields such as ``ok``).

    Returns:
        The JSON-friendly value.
    """
    names = tuple(properties)
    if isinstance(value, Unknown):
        return str(value)  # "unknown: X", never mistaken for a known value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {
            f.name: to_jsonable(getattr(value, f.name), names) for f in dataclasses.fields(value)
        }
        for name in names:
            if isinstance(getattr(type(value), name, None), property):
                out[name] = to_jsonable(getattr(value, name), names)
        kind = getattr(type(value), "event_kind", None)
        return {"event": kind, **out} if isinstance(kind, str) else out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | Path | date):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, names) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple record
        return {k: to_jsonable(v, names) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, names) for v in value]
    return value


def dumps(value: Any, properties: Iterable[str] = (), *, indent: int | None = 2) -> str:
    """Encode a command's result as JSON that is safe to write to a terminal.

    Text stays readable (``ensure_ascii=False``), but no code point of
    :data:`~groups_tui.domain.text.UNSAFE_CODE_POINTS` is written raw: C0 and C1
    controls, DEL and the bidi controls appear as ``\\uXXXX`` escapes, so ``json.loads``
    gives back exactly the value while a terminal showing the output obeys none of them.

    Args:
        value: The result (anything :func:`to_jsonable` accepts).
        properties: Derived properties to include, as for :func:`to_jsonable`.
        indent: Indentation, or ``None`` for one compact line.

    Returns:
        The JSON text.
    """
    separators = (",", ":") if indent is None else None
    text = json.dumps(
        to_jsonable(value, properties), ensure_ascii=False, indent=indent, separators=separators
    )
    return text.translate(_JSON_ESCAPES)
