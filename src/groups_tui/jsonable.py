"""Command results as JSON values: the one conversion behind every ``--json`` output."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from groups_tui.domain.models import Unknown

__all__ = ["to_jsonable"]


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
