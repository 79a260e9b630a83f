"""Reading webhook JSON tolerantly: scalars in every spelling Meta uses, errors and people.

Strings are made storable as UTF-8, numbers arrive as strings or numbers, booleans as
either. An item lacking something it needs raises :class:`InvalidItem`, which
:func:`guarded` turns into an :class:`~groups_tui.domain.events.UnknownEvent` so that
parsing carries on with the next item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVarTuple, Unpack

from groups_tui.domain.events import DomainEvent, EventError, ParticipantRef, UnknownEvent

__all__ = [
    "InvalidItem",
    "as_dict",
    "as_list",
    "as_mapping",
    "bool_or_none",
    "clean_json",
    "event_errors",
    "guarded",
    "guarded_one",
    "int_or_none",
    "participant_ref",
    "participant_refs",
    "required_str",
    "storable_text",
    "str_or_none",
    "timestamp",
    "unknown_event",
]


_Extra = TypeVarTuple("_Extra")


class InvalidItem(ValueError):
    """An item lacks something it needs; it becomes an UnknownEvent."""


def as_mapping(value: Any) -> Mapping[str, Any]:
    """An object as it is, anything else wrapped as ``{"value": ...}`` (for UnknownEvent)."""
    return value if isinstance(value, dict) else {"value": value}


_INT_LIMIT = 2**63
_TIMESTAMP_LIMIT = 10**15


def storable_text(value: str) -> str:
    """``value`` storable as UTF-8: JSON may carry lone surrogates (``"\ud800"``), which
    become U+FFFD."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def str_or_none(value: Any) -> str | None:
    """A string (made storable) or an integer as text; anything else is ``None``."""
    if type(value) is str and value.isascii():  # the common case, checked first
        return value
    if value is None:
        return None
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def clean_json(value: Any) -> Any:
    """A JSON value kept verbatim (extras, context) with every string made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    return value


def required_str(item: Mapping[str, Any], key: str) -> str:
    """``item[key]`` as a non-empty string, else :class:`InvalidItem`."""
    value = str_or_none(item.get(key))
    if not value:
        raise InvalidItem(f"missing {key}")
    return value


def timestamp(value: Any) -> int:
    """Epoch seconds from a string or a number (both appear, reference 3.2)."""
    if isinstance(value, bool):
        raise InvalidItem("timestamp is a boolean")
    number: float | int | None = None
    if isinstance(value, int | float):
        number = value
    elif isinstance(value, str) and len(value) < 40:
        try:
            number = int(value.strip())
        except ValueError:
            try:
                number = float(value.strip())
            except ValueError:
                number = None
    if number is None or number != number or abs(number) >= _TIMESTAMP_LIMIT:
        raise InvalidItem(f"bad timestamp {value!r:.40}")
    return int(number)


def int_or_none(value: Any) -> int | None:
    """An integer from a number or a digit string within 64 bits, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < _INT_LIMIT else None
    if isinstance(value, str) and len(value) < 20:
        text = value.strip()
        if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
            return int(text)
    return None


def bool_or_none(value: Any) -> bool | None:
    """A boolean from ``true``/``false``, ``1``/``0`` (as JSON or text), else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    if isinstance(value, int):
        return bool(value)
    return None


def as_dict(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is an array, else an empty one."""
    return value if isinstance(value, list) else []


def event_errors(value: Any) -> tuple[EventError, ...]:
    """The ``errors[]`` array as :class:`EventError` values; non-objects are skipped."""
    out: list[EventError] = []
    for raw in as_list(value):
        if not isinstance(raw, dict):
            continue
        out.append(
            EventError(
                code=int_or_none(raw.get("code")),
                title=str_or_none(raw.get("title")),
                message=str_or_none(raw.get("message")),
                details=str_or_none(as_dict(raw.get("error_data")).get("details")),
                href=str_or_none(raw.get("href")),
            )
        )
    return tuple(out)


def participant_ref(raw: Any) -> ParticipantRef:
    """A person named by a participant object, or by a bare string (an ``input``)."""
    if isinstance(raw, str):
        return ParticipantRef(input=storable_text(raw))
    item = as_dict(raw)
    profile = as_dict(item.get("profile"))
    return ParticipantRef(
        wa_id=str_or_none(item.get("wa_id")),
        user_id=str_or_none(item.get("user_id")),
        username=str_or_none(item.get("username")) or str_or_none(profile.get("username")),
        profile_name=str_or_none(profile.get("name")),
        parent_user_id=str_or_none(item.get("parent_user_id")),
        input=str_or_none(item.get("input")),
    )


def participant_refs(value: Any) -> tuple[ParticipantRef, ...]:
    """The people of a participants array that carry some key."""
    refs = (participant_ref(raw) for raw in as_list(value))
    return tuple(ref for ref in refs if ref.key)


def unknown_event(field: str, raw: Any, reason: str) -> UnknownEvent:
    """Keep ``raw`` as an UnknownEvent, timed by its own timestamp when readable."""
    mapping = as_mapping(raw)
    try:
        at = timestamp(mapping.get("timestamp"))
    except InvalidItem:
        at = 0
    return UnknownEvent(field=field, raw=mapping, reason=reason, at=at)


_ITEM_ERRORS = (InvalidItem, ValueError, TypeError, KeyError, AttributeError)
"""What reading an item may raise when the item lacks something: it becomes an
UnknownEvent (:func:`guarded`, :func:`guarded_one`)."""


def guarded(
    field: str,
    item: Any,
    parser: Callable[[Mapping[str, Any]], Iterable[DomainEvent]],
) -> Iterator[DomainEvent]:
    """The events ``parser`` reads from ``item``, or one UnknownEvent if it cannot."""
    if not isinstance(item, dict):
        yield unknown_event(field, item, "item is not an object")
        return
    try:
        events: list[DomainEvent] = list(parser(item))
    except _ITEM_ERRORS as exc:
        yield unknown_event(field, item, str(exc) or type(exc).__name__)
        return
    yield from events


def guarded_one(
    field: str,
    item: Any,
    parser: Callable[[Mapping[str, Any], Unpack[_Extra]], DomainEvent],
    *extra: *_Extra,
) -> DomainEvent:
    """:func:`guarded` for a parser of one event, called as ``parser(item, *extra)``."""
    if not isinstance(item, dict):
        return unknown_event(field, item, "item is not an object")
    try:
        return parser(item, *extra)
    except _ITEM_ERRORS as exc:
        return unknown_event(field, item, str(exc) or type(exc).__name__)
