"""Command results as JSON: the one conversion and the one encoder behind every ``--json``."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Final

from groups_tui.domain.models import Unknown
from groups_tui.domain.text import UNSAFE_CODE_POINTS

__all__ = ["dumps", "is_time_name", "iso_time", "iterdumps", "to_jsonable"]

# ``json.dumps`` already escapes C0 controls inside strings; DEL, C1 and the bidi controls
# it writes raw (with ``ensure_ascii=False``). Outside string literals its output is ASCII,
# so replacing those code points anywhere in the output only touches strings, and
# ``json.loads`` reads every ``\uXXXX`` back to the same character.
_JSON_ESCAPES: Final[dict[int, str]] = {code: f"\\u{code:04x}" for code in UNSAFE_CODE_POINTS}
_UNSAFE: Final = re.compile(
    "[" + "".join(re.escape(chr(code)) for code in sorted(UNSAFE_CODE_POINTS)) + "]"
)


def _escaped(text: str) -> str:
    """``text`` with the unsafe code points as ``\\uXXXX`` (a scan when there are none)."""
    return text.translate(_JSON_ESCAPES) if _UNSAFE.search(text) else text


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
"""Types ``json`` writes as they are: :func:`to_jsonable` returns them unchanged, and
:func:`iterdumps` writes an object of only these with the C encoder."""


def is_time_name(name: str) -> bool:
    """True for the names the project gives to points in time: ``at`` and ``*_at``."""
    return name == "at" or name.endswith("_at")


def iso_time(epoch: float) -> str:
    """Epoch seconds as ISO-8601 UTC: ``2026-12-05T18:14:07Z``, or with milliseconds
    (``...07.250Z``) when the time has a fraction of a second."""
    moment = datetime.fromtimestamp(epoch, UTC)
    spec = "seconds" if float(epoch).is_integer() else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def _field(name: str, value: Any, names: tuple[str, ...]) -> Any:
    if is_time_name(name) and isinstance(value, int | float) and not isinstance(value, bool):
        return iso_time(value)
    return to_jsonable(value, names)


def _record(cls: type, items: Iterable[tuple[str, Any]], names: tuple[str, ...]) -> dict[str, Any]:
    """A record's fields as an object, after its class's ``json_names`` and ``json_omit``."""
    renamed: dict[str, str] = getattr(cls, "json_names", {})
    omitted: frozenset[str] = getattr(cls, "json_omit", frozenset())
    return {
        renamed.get(name, name): _field(name, value, names)
        for name, value in items
        if name not in omitted
    }


def to_jsonable(value: Any, properties: Iterable[str] = ()) -> Any:
    """Turn a command's result into values ``json.dumps`` accepts (the JSON contract).

    Dataclasses become objects (a domain event's kind first, as ``event``), a value
    outside a known enum its ``unknown: X`` label, named tuples
    objects, enums their values, decimals, dates and paths strings, bytes base64, and
    sets and tuples lists. A number under a time's name (``at``, ``*_at``) becomes
    ISO-8601 UTC (:func:`iso_time`). A record class may rename fields for JSON
    (``json_names``, so that one entity has one shape in every command) and leave out
    internal ones (``json_omit``); see ``docs/json.md``.

    Args:
        value: The result.
        properties: Names of properties to add to any dataclass that has them (derived
            fields such as ``ok``).

    Returns:
        The JSON-friendly value.
    """
    if type(value) in _SCALARS:  # the bulk of every record's fields, taken first
        return value
    names = tuple(properties)
    if isinstance(value, Unknown):
        return str(value)  # "unknown: X", never mistaken for a known value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = _record(
            type(value),
            ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value)),
            names,
        )
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
        return {str(k): _field(str(k), v, names) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple record
        return _record(type(value), value._asdict().items(), names)
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


def iterdumps(
    value: Any, properties: Iterable[str] = (), *, indent: int | None = 2
) -> Iterator[str]:
    """:func:`dumps` in pieces (one per element of a top-level list), to write as they come.

    A command listing 10,000 groups writes them without holding the whole text, nor a
    converted copy of every record, in memory at once. The pieces join to exactly the
    text of :func:`dumps`. An element that is an object of plain values (a listing's
    usual row) is written by ``json``'s C encoder, its item separator carrying the line
    break and the indentation (the indenting encoder is pure Python); any other element
    is indented one level further line by line (JSON text holds no raw line break inside
    a string, so every one is a line of the layout).
    """
    listing = isinstance(value, list | tuple) and not hasattr(value, "_asdict")
    if not (listing and value and indent is not None):
        yield dumps(value, properties, indent=indent)
        return
    names = tuple(properties)
    step = "\n" + " " * indent
    inner = step + " " * indent
    flat = json.JSONEncoder(
        ensure_ascii=False, check_circular=False, separators=("," + inner, ": ")
    )
    yield "["
    for index, item in enumerate(value):
        plain = to_jsonable(item, names)
        if isinstance(plain, dict) and plain and all(type(v) in _SCALARS for v in plain.values()):
            text = "{" + inner + flat.encode(plain)[1:-1] + step + "}"
        else:
            text = json.dumps(plain, ensure_ascii=False, indent=indent).replace("\n", step)
        yield ("," if index else "") + step + _escaped(text)
    yield "\n]"
