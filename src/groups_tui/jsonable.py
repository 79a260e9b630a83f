"""Command results as JSON: the one conversion and the one encoder behind every ``--json``."""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from itertools import chain
from pathlib import Path
from typing import Any, Final

from groups_tui.domain.models import Unknown
from groups_tui.domain.text import UNSAFE_CODE_POINTS

__all__ = ["dumps", "is_time_name", "iso_time", "iterdumps", "iterdumps_records", "to_jsonable"]

# ``json.dumps`` already escapes C0 controls inside strings; DEL, C1 and the bidi controls
# it writes raw (with ``ensure_ascii=False``). Outside string literals its output is ASCII,
# so replacing those code points anywhere in the output only touches strings, and
# ``json.loads`` reads every ``\uXXXX`` back to the same character.
_JSON_ESCAPES: Final[dict[int, str]] = {code: f"\\u{code:04x}" for code in UNSAFE_CODE_POINTS}
_UNSAFE: Final = re.compile(
    "[" + "".join(re.escape(chr(code)) for code in sorted(UNSAFE_CODE_POINTS)) + "]"
)


def _escaped(text: str) -> str:
    """JSON ``text`` with the unsafe code points as ``\\uXXXX`` (a scan when there are none).

    JSON text holds no raw C0 control but its layout's line breaks (``json`` escapes
    them in strings), so text of ASCII only (known without a scan) can hold only DEL.
    """
    if text.isascii():
        return text.replace("\x7f", "\\u007f") if "\x7f" in text else text
    return text.translate(_JSON_ESCAPES) if _UNSAFE.search(text) else text


_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
"""Types ``json`` writes as they are: :func:`to_jsonable` returns them unchanged, and
:func:`iterdumps` writes an object of only these with the C encoder."""


def is_time_name(name: str) -> bool:
    """True for the names the project gives to points in time: ``at`` and ``*_at``."""
    return name == "at" or name.endswith("_at")


_FAST_TIME_END: Final = 253_402_300_800
"""``10000-01-01T00:00:00Z``: whole seconds from the epoch up to here are formatted by
arithmetic (:func:`iso_time`); others (a fraction, before 1970, after 9999) by datetime."""

_DAYS: dict[int, str] = {}
"""``YYYY-MM-DDT`` of each day (days since the epoch) formatted so far."""


@functools.cache
def _clock_texts() -> tuple[list[str], list[str]]:
    """``HH:`` of each hour of a day and ``MM:SSZ`` of each second of an hour."""
    return [f"{h:02d}:" for h in range(24)], [
        f"{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)
    ]


def iso_time(epoch: float) -> str:
    """Epoch seconds as ISO-8601 UTC: ``2026-12-05T18:14:07Z``, or with milliseconds
    (``...07.250Z``) when the time has a fraction of a second."""
    if type(epoch) is int and 0 <= epoch < _FAST_TIME_END:  # the stored times: whole seconds
        day, second = divmod(epoch, 86_400)
        prefix = _DAYS.get(day)
        if prefix is None:
            year, month, mday = time.gmtime(epoch)[:3]
            prefix = _DAYS[day] = f"{year:04d}-{month:02d}-{mday:02d}T"
        hour, rest = divmod(second, 3600)
        hours, minutes_seconds = _clock_texts()
        return prefix + hours[hour] + minutes_seconds[rest]
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
        yield ("," if index else "") + step + _item_text(to_jsonable(item, names), indent, flat)
    yield "\n]"


def _item_text(plain: Any, indent: int, flat: json.JSONEncoder) -> str:
    """One element of an indented top-level list, as :func:`iterdumps` writes it (without
    the separator and line break before it)."""
    step = "\n" + " " * indent
    if isinstance(plain, dict) and plain and all(type(v) in _SCALARS for v in plain.values()):
        text = "{" + step + " " * indent + flat.encode(plain)[1:-1] + step + "}"
    else:
        text = json.dumps(plain, ensure_ascii=False, indent=indent).replace("\n", step)
    return _escaped(text)


_CUT: Final = "\x00"
"""The item separator of :func:`iterdumps_records`' encoder: JSON text holds no raw NUL
(a string's is written ``\\u0000``), so splitting on it gives each value's JSON."""


def iterdumps_records(
    records: Sequence[Any],
    extra: Mapping[str, Callable[[Any], Any]] | None = None,
    *,
    indent: int = 2,
    batch: int = 500,
) -> Iterator[str]:
    """The pieces of ``iterdumps([{**to_jsonable(r), name: f(r)...} for r in records])``,
    made faster for a listing of named tuples of one class (``groups list``).

    The text is exactly that of :func:`iterdumps` over the records' objects with the
    ``extra`` fields added after their own. For named tuples of one class, each batch of
    records is written in one pass: their values (times made ISO-8601, as
    :func:`to_jsonable` does) in one list that ``json``'s C encoder writes at once, cut
    into each value's text and put into a template of the keys. A record holding any
    value that is not a plain scalar (an enum, an ``Unknown``...) is converted by
    :func:`to_jsonable` as usual; so are records of other kinds.

    Args:
        records: The records (a listing's rows).
        extra: Fields to add to each record's object: name -> its value for a record.
        indent: Indentation (the listing's layout, as :func:`iterdumps`).
        batch: Records encoded at a time.

    Yields:
        Pieces of the JSON text, to write as they come.
    """
    extra = dict(extra or {})
    cls = type(records[0]) if records else None
    plan = _record_plan(cls, extra) if cls is not None else None
    if plan is None or not all(type(r) is cls for r in records):
        yield from iterdumps(
            [_with_extra(to_jsonable(r), r, extra) for r in records], indent=indent
        )
        return
    keys, plain, times = plan
    step = "\n" + " " * indent
    inner = step + " " * indent
    flat = json.JSONEncoder(
        ensure_ascii=False, check_circular=False, separators=("," + inner, ": ")
    )
    cut = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(_CUT, ": "))
    template = (
        ","
        + step
        + "{"
        + inner
        + ("," + inner).join(
            _escaped(json.dumps(k, ensure_ascii=False)).replace("%", "%%") + ": %s" for k in keys
        )
        + step
        + "}"
    )
    # A batch's values are gathered column group by column group (the plain fields of
    # every record, then the times, then each extra field), each by one C-level pass or
    # one comprehension; one permutation puts their texts in the records' key order.
    plain_of = _getter([index for _, index in plain])
    times_of = _getter([index for _, index in times])
    makers = [
        functools.partial(_made_field, name, make) if is_time_name(name) else make
        for name, make in extra.items()
    ]
    plain_at = tuple(position for position, _ in plain)
    times_at = tuple(position for position, _ in times)
    written: dict[int, str] = {}  # ISO text by epoch: a group's times are often equal
    yield "["
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        values: list[Any] = list(chain.from_iterable(map(plain_of, chunk)))
        values += [
            (written.get(at) or _remember(written, at)) if type(at) is int else _time_value(at)
            for at in chain.from_iterable(map(times_of, chunk))
        ]
        for make in makers:
            values += map(make, chunk)
        if _SCALARS.issuperset(map(type, values)):
            pieces = cut.encode(values)[1:-1].split(_CUT)
            ordered = _permutation(plain_at, times_at, len(keys), len(chunk))(pieces)
            text = _escaped((template * len(chunk)) % ordered)
        else:  # some value needs converting: record by record, as iterdumps does
            text = "".join(
                "," + step + _item_text(_with_extra(to_jsonable(r), r, extra), indent, flat)
                for r in chunk
            )
        yield text[1:] if start == 0 else text
    yield "\n]"


def _getter(indices: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    """A record's values at ``indices``, as a tuple (C-level)."""
    if not indices:
        return lambda _record: ()
    if len(indices) == 1:
        return lambda record: (record[indices[0]],)
    return operator.itemgetter(*indices)


@functools.cache
def _permutation(
    plain: tuple[int, ...], times: tuple[int, ...], keys: int, rows: int
) -> Callable[[list[str]], tuple[str, ...]]:
    """Puts the texts of a batch's values, gathered as :func:`iterdumps_records` gathers
    them, in the order of the records' keys.

    Gathered: the plain fields (key positions ``plain``) row by row, then the times (key
    positions ``times``) row by row, then each extra field (the last keys) for every row.
    """
    # where column j of row k was gathered: (start of its group, width, offset in it)
    where: dict[int, tuple[int, int, int]] = {}
    for offset, position in enumerate(plain):
        where[position] = (0, len(plain), offset)
    for offset, position in enumerate(times):
        where[position] = (rows * len(plain), len(times), offset)
    first = rows * (len(plain) + len(times))
    for extra, position in enumerate(range(len(plain) + len(times), keys)):
        where[position] = (first + extra * rows, 1, 0)
    indices = [
        where[j][0] + k * where[j][1] + where[j][2] for k in range(rows) for j in range(keys)
    ]
    if len(indices) == 1:
        return lambda pieces: (pieces[indices[0]],)
    return operator.itemgetter(*indices)


def _time_value(at: Any) -> Any:
    """A value under a time's name, as :func:`to_jsonable` writes it."""
    return _field("at", at, ())


def _remember(written: dict[int, str], at: int) -> str:
    text = written[at] = iso_time(at)
    return text


def _made_field(name: str, make: Callable[[Any], Any], record: Any) -> Any:
    return _field(name, make(record), ())


def _record_plan(
    cls: type, extra: Mapping[str, Any]
) -> tuple[list[str], list[tuple[int, int]], list[tuple[int, int]]] | None:
    """For named tuples of ``cls`` with ``extra`` fields: the JSON keys in order, then
    (key position, field index) of the plain fields and of the times; ``None`` when the
    class is not a plain named tuple record."""
    fields = getattr(cls, "_fields", None)
    if not (issubclass(cls, tuple) and isinstance(fields, tuple)) or dataclasses.is_dataclass(cls):
        return None
    renamed: dict[str, str] = getattr(cls, "json_names", {})
    omitted: frozenset[str] = getattr(cls, "json_omit", frozenset())
    keys: list[str] = []
    plain: list[tuple[int, int]] = []
    times: list[tuple[int, int]] = []
    for index, name in enumerate(fields):
        if name in omitted:
            continue
        key = renamed.get(name, name)
        # the dict's keys were looked at too: a field renamed to a time's name is one
        (times if is_time_name(name) or is_time_name(key) else plain).append((len(keys), index))
        keys.append(key)
    if not keys or len(set(keys)) != len(keys) or set(keys) & set(extra):
        return None  # a merge the dict would make (one key twice): the general way
    return [*keys, *extra], plain, times


def _with_extra(plain: Any, record: Any, extra: Mapping[str, Callable[[Any], Any]]) -> Any:
    """A record's JSON object with the extra fields added, converted as :func:`iterdumps`
    converts each element (the command's dict was converted again there)."""
    return to_jsonable({**plain, **{name: make(record) for name, make in extra.items()}})
