"""The values a setting may take, checked as the configuration's sources give them.

Each check takes what the file, the environment or a caller gave (TOML and JSON values,
or the text of a variable) and returns the setting's value, or raises :class:`Invalid`
saying what was wrong, where (``numbers.0.label``) and with words that name no value, so
a secret never reaches an error message. The rules are those the settings have always
had: text is text (a number is refused), a flag is ``true``/``false``, ``yes``/``no``,
``on``/``off``, ``1``/``0`` (any case), a count is a whole number (``3``, ``+3``, ``3.0``,
its text trimmed), a table is a table.

They are plain functions (and :class:`CheckedTable`, the records read from a table), not
a validation library: reading the settings is the first thing every command and the TUI
do, and a validation library costs more to import than the rest of a read command's
start.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")
Check = Callable[[Any], T]
"""Turns a given value into a setting's value, or raises :class:`Invalid`."""

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_WHOLE = re.compile(r"[+-]?[0-9](?:_?[0-9])*")
_WHOLE_FLOAT = re.compile(r"([+-]?[0-9]+)\.0+")


class Invalid(ValueError):
    """A value a setting cannot take.

    Args:
        message: What is wrong, without the value.
        where: The path inside the value (``("0", "label")`` for a list's first table's
            ``label``), outermost first.
    """

    def __init__(self, message: str, where: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.where = tuple(where)

    def inside(self, key: str) -> Invalid:
        """The same error one level further out (under ``key``)."""
        return Invalid(self.message, (key, *self.where))


class Secret:
    """A secret text (a token): its repr and str never show it; ask with
    :meth:`get_secret_value` where it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def text(value: Any) -> str:
    """Text, as given."""
    if not isinstance(value, str):
        raise Invalid("Input should be a valid string")
    return value


def secret(value: Any) -> Secret:
    """Text kept as a :class:`Secret`."""
    if isinstance(value, Secret):
        return value
    return Secret(text(value))


def path(value: Any) -> Path:
    """A file or directory path; an empty one is refused (it would mean the current
    directory)."""
    if not isinstance(value, (str, os.PathLike)):
        raise Invalid("Input is not a valid path")
    if not os.fspath(value):
        raise Invalid("Input should be a path, not empty text")
    return Path(value)


def optional(check: Check[T]) -> Check[T | None]:
    """``check``, or ``None`` for ``None``."""

    def checked(value: Any) -> T | None:
        return None if value is None else check(value)

    return checked


def optional_path(value: Any) -> Path | None:
    """A path, or ``None`` for ``None`` or empty text (a variable set to nothing)."""
    return None if value is None or value == "" else path(value)


def flag(value: Any) -> bool:
    """A yes/no value: a boolean, ``0``/``1``, or one of their words in any case."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise Invalid("Input should be a valid boolean, unable to interpret input")


def whole(value: Any) -> int:
    """A whole number: an integer, a float without a fraction, or its text."""
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise Invalid("Input should be a valid integer, got a number with a fractional part")
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if _WHOLE.fullmatch(digits):
            return int(digits)
        if match := _WHOLE_FLOAT.fullmatch(digits):
            return int(match.group(1))
        raise Invalid("Input should be a valid integer, unable to parse string as an integer")
    raise Invalid("Input should be a valid integer")


def _within(
    value: float, gt: float | None = None, ge: float | None = None, le: float | None = None
) -> None:
    """Raise :class:`Invalid` unless ``value`` is within the bounds given."""
    if gt is not None and not value > gt:
        raise Invalid(f"Input should be greater than {gt:g}")
    if ge is not None and not value >= ge:
        raise Invalid(f"Input should be greater than or equal to {ge:g}")
    if le is not None and not value <= le:
        raise Invalid(f"Input should be less than or equal to {le:g}")


def number(
    *, gt: float | None = None, ge: float | None = None, le: float | None = None
) -> Check[float]:
    """A number (an integer, a float or its text) within the bounds given."""

    def checked(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise Invalid("Input should be a valid number")
        try:
            given = float(value)
        except ValueError:
            raise Invalid(
                "Input should be a valid number, unable to parse string as a number"
            ) from None
        _within(given, gt, ge, le)
        if math.isnan(given):
            raise Invalid("Input should be a finite number")
        return given

    return checked


def day(value: Any) -> date:
    """A day: a TOML date or its ISO text (``2026-01-31``)."""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid("Input should be a valid date")


def bounded(low: int, high: int) -> Check[int]:
    """A whole number from ``low`` to ``high``."""

    def checked(value: Any) -> int:
        given = whole(value)
        _within(given, ge=low, le=high)
        return given

    return checked


def choice(*words: str) -> Check[str]:
    """One of ``words``, exactly."""
    expected = " or ".join(f"'{w}'" for w in words)

    def checked(value: Any) -> str:
        if value not in words or not isinstance(value, str):
            raise Invalid(f"Input should be {expected}")
        return value

    return checked


def table(value: Any) -> dict[str, Any]:
    """A table (its own entries are checked where it is used)."""
    if not isinstance(value, dict):
        raise Invalid("Input should be a valid dictionary")
    return dict(value)


def table_of(check: Check[T]) -> Check[dict[str, T]]:
    """A table whose every value passes ``check``."""

    def checked(value: Any) -> dict[str, T]:
        out: dict[str, T] = {}
        for key, item in table(value).items():
            try:
                out[str(key)] = check(item)
            except Invalid as exc:
                raise exc.inside(str(key)) from None
        return out

    return checked


def list_of(check: Check[T]) -> Check[list[T]]:
    """A list whose every item passes ``check``."""

    def checked(value: Any) -> list[T]:
        if not isinstance(value, list):
            raise Invalid("Input should be a valid list")
        out: list[T] = []
        for position, item in enumerate(value):
            try:
                out.append(check(item))
            except Invalid as exc:
                raise exc.inside(str(position)) from None
        return out

    return checked


def tuple_of(check: Check[T]) -> Check[tuple[T, ...]]:
    """A list (or tuple) whose every item passes ``check``, kept as a tuple."""

    def checked(value: Any) -> tuple[T, ...]:
        if not isinstance(value, (list, tuple)):
            raise Invalid("Input should be a valid tuple")
        return tuple(list_of(check)(list(value)))

    return checked


_Table = TypeVar("_Table", bound="CheckedTable")


@dataclass(frozen=True)
class CheckedTable:
    """A record read from a table of the config file: unknown keys are refused, a key
    without a default is required, each field is checked by :attr:`CHECKS` when the
    record is built (from the file or in code), then :meth:`_check` applies the rules
    that tie fields together. Subclasses are frozen dataclasses."""

    CHECKS: ClassVar[dict[str, Check[Any]]] = {}
    """The check of each field, by name."""

    def __post_init__(self) -> None:
        for name, check in self.CHECKS.items():
            try:
                object.__setattr__(self, name, check(getattr(self, name)))
            except Invalid as exc:
                raise exc.inside(name) from None
        self._check()

    def _check(self) -> None:
        """Rules over several fields (raise :class:`Invalid`)."""

    @classmethod
    def from_table(cls: type[_Table], value: Any) -> _Table:
        """The table's entries as this record, checked."""
        data = table(value)
        known = fields(cls)
        names = {f.name for f in known}
        for key in data:
            if key not in names:
                raise Invalid("Extra inputs are not permitted", (str(key),))
        for f in known:
            if f.name not in data and f.default is MISSING and f.default_factory is MISSING:
                raise Invalid("Field required", (f.name,))
        return cls(**data)

    @classmethod
    def checked(cls: type[_Table], value: Any) -> _Table:
        """``value`` if it is already one, else the record of its table."""
        return value if isinstance(value, cls) else cls.from_table(value)
