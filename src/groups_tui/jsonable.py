"""Command results as JSON: the one conversion and the one encoder behind every ``--json``."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Final

from groups_tui.domain.models import Unknown
from groups_tui.domain.text import UNSAFE_CODE_POINTS

__all__ = ["dumps", "iterdumps", "to_jsonable"]

# ``json.dumps`` already escapes C0 controls inside strings; DEL, C1 and the bidi controls
# it writes raw (with ``ensure_ascii=False``). Outside string literals its output is ASCII,
# so replacing those code points anywhere in the output only touches strings, and
# ``json.loads`` reads every ``\uXXXX`` back to the same character.
_JSON_ESCAPES: Final[dict[int, str]] = {code: f"\\u{code:04x}" for code in UNSAFE_CODE_POINTS}
_UNSAFE = re.compile(
    "[" + "".join(re.escape(chr(code)) for code in sorted(UNSAFE_CODE_POINTS)) + "]"
)


def _escaped(text: str) -> str:
    """``text`` with the unsafe code points as ``\\uXXXX`` (a scan when there are none)."""
    return text.translate(_JSON_ESCAPES) if _UNSAFE.search(text) else text


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

    The text is exactly ``json.dumps(to_jsonable(value, properties), ensure_ascii=False,
    indent=indent)`` (compact separators without ``indent``), with those escapes.

    Args:
        value: The result (anything :func:`to_jsonable` accepts).
        properties: Derived properties to include, as for :func:`to_jsonable`.
        indent: Indentation, or ``None`` for one compact line.

    Returns:
        The JSON text.
    """
    return "".join(iterdumps(value, properties, indent=indent))


def iterdumps(
    value: Any, properties: Iterable[str] = (), *, indent: int | None = 2
) -> Iterator[str]:
    """:func:`dumps` in pieces (one per element of a top-level list), to write as they come.

    A command listing 10,000 groups writes them without holding the whole text, nor a
    converted copy of every record, in memory at once.
    """
    encoder = _Encoder(tuple(properties), indent)
    listing = isinstance(value, list | tuple) and not hasattr(value, "_asdict")
    if listing and value and indent is not None:
        step = " " * indent
        yield "["
        for index, item in enumerate(value):
            piece = [",\n" + step if index else "\n" + step]
            encoder.encode(item, piece, 1)
            yield _escaped("".join(piece))
        yield "\n]"
        return
    parts: list[str] = []
    encoder.encode(value, parts, 0)
    yield _escaped("".join(parts))


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
"""Types ``json`` writes as they are (a record made only of them takes the C encoder)."""


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


class _Encoder:
    """One pass from a result to JSON text: :func:`to_jsonable`, then ``json.dumps``.

    Dataclasses are the bulk of every listing; their field names (and whether they carry
    an ``event_kind`` or the requested properties) are looked up once per class.
    """

    def __init__(self, properties: tuple[str, ...], indent: int | None) -> None:
        self._properties = properties
        self._indent = indent
        self._layouts: dict[type, tuple[tuple[str, ...], tuple[str, ...], str | None]] = {}
        if indent is None:
            self._item, self._key = ",", ":"
        else:
            self._item, self._key = ",", ": "
        self._flat: dict[int, json.JSONEncoder] = {}

    def _flat_object(self, names: Iterable[str], values: Iterable[Any], level: int) -> str:
        """A record of plain values, written by ``json``'s C encoder in one call.

        Its item separator carries the newline and the indentation of ``level + 1``, so
        the text is what the indenting (pure Python) encoder writes.
        """
        encoder = self._flat.get(level)
        if encoder is None:
            inner = "" if self._indent is None else "\n" + " " * (self._indent * (level + 1))
            encoder = json.JSONEncoder(
                ensure_ascii=False, check_circular=False, separators=(self._item + inner, self._key)
            )
            self._flat[level] = encoder
        text = encoder.encode(dict(zip(names, values, strict=True)))
        if self._indent is None or text == "{}":
            return text
        inner = "\n" + " " * (self._indent * (level + 1))
        return "{" + inner + text[1:-1] + "\n" + " " * (self._indent * level) + "}"

    def _layout(self, cls: type) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
        layout = self._layouts.get(cls)
        if layout is None:
            names = tuple(f.name for f in dataclasses.fields(cls))
            extra = tuple(
                name for name in self._properties if isinstance(getattr(cls, name, None), property)
            )
            kind = getattr(cls, "event_kind", None)
            layout = (names, extra, kind if isinstance(kind, str) else None)
            self._layouts[cls] = layout
        return layout

    def encode(self, value: Any, out: list[str], level: int) -> None:
        """Append the JSON text of ``value`` at nesting ``level`` to ``out``."""
        cls = type(value)
        if cls is str:
            out.append(encode_basestring(value))
        elif value is None:
            out.append("null")
        elif value is True:
            out.append("true")
        elif value is False:
            out.append("false")
        elif cls is int:
            out.append(int.__repr__(value))
        elif cls is float:
            out.append(_float(value))
        elif isinstance(value, Unknown):
            out.append(encode_basestring(str(value)))
        elif isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple record
            keys: tuple[str, ...] = getattr(value, "_fields", ())
            if _SCALARS.issuperset(map(type, value)) and len(set(keys)) == len(keys):
                out.append(self._flat_object(keys, value, level))
            else:
                self._object(list(value._asdict().items()), out, level)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            names, extra, kind = self._layout(cls)
            fields: dict[str, Any] = {name: getattr(value, name) for name in names}
            for name in extra:
                fields[name] = getattr(value, name)
            if kind is not None:
                fields = {"event": kind, **fields}
            if _SCALARS.issuperset(map(type, fields.values())):
                out.append(self._flat_object(fields.keys(), fields.values(), level))
            else:
                self._object(list(fields.items()), out, level)
        elif isinstance(value, Enum):
            self.encode(value.value, out, level)
        elif isinstance(value, Decimal | Path | date):
            out.append(encode_basestring(str(value)))
        elif isinstance(value, bytes):
            out.append(encode_basestring(base64.b64encode(value).decode("ascii")))
        elif isinstance(value, dict):
            self._object([(str(k), v) for k, v in value.items()], out, level)
        elif isinstance(value, list | tuple | set | frozenset):
            self._array(value, out, level)
        elif isinstance(value, str):
            out.append(encode_basestring(value))
        elif isinstance(value, int):
            out.append(int.__repr__(value))
        elif isinstance(value, float):
            out.append(_float(value))
        else:
            raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")

    def _object(self, items: list[tuple[str, Any]], out: list[str], level: int) -> None:
        if not items:
            out.append("{}")
            return
        encode, key = self.encode, self._key
        if self._indent is None:
            out.append("{")
            for index, (name, item) in enumerate(items):
                out.append(("," if index else "") + encode_basestring(name) + key)
                encode(item, out, level)
            out.append("}")
            return
        inner = "\n" + " " * (self._indent * (level + 1))
        out.append("{")
        for index, (name, item) in enumerate(items):
            out.append(("," + inner if index else inner) + encode_basestring(name) + key)
            encode(item, out, level + 1)
        out.append("\n" + " " * (self._indent * level) + "}")

    def _array(self, values: Iterable[Any], out: list[str], level: int) -> None:
        encode: Callable[[Any, list[str], int], None] = self.encode
        first = True
        if self._indent is None:
            out.append("[")
            for item in values:
                if not first:
                    out.append(",")
                first = False
                encode(item, out, level)
            out.append("]")
            return
        inner = "\n" + " " * (self._indent * (level + 1))
        out.append("[")
        for item in values:
            out.append(inner if first else "," + inner)
            first = False
            encode(item, out, level + 1)
        out.append("]" if first else "\n" + " " * (self._indent * level) + "]")
