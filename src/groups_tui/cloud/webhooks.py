"""Webhooks in two steps: verify the signature over the raw bytes, then parse into events.

:func:`verify_signature` must run on the bytes exactly as received, before any JSON
parsing: re-serialising parsed JSON does not reproduce them (reference 3.2).
:func:`parse_payload` turns a decoded body into :mod:`groups_tui.domain.events`. It is
deliberately tolerant of every variant Meta's samples show (reference 3.2 "Parsing
tolerance" and section 9) and never raises on a JSON object: whatever it does not
recognise becomes an :class:`~groups_tui.domain.events.UnknownEvent`, so the raw body is
kept for re-parsing by a later version instead of being lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    EventError,
    FailedParticipant,
    GroupCreated,
    GroupCreateFailed,
    GroupDeleted,
    GroupDeleteFailed,
    GroupSuspendCleared,
    GroupSuspended,
    InboundMessage,
    JoinRequestCreated,
    JoinRequestRevoked,
    MediaRef,
    MessageStatus,
    ParticipantRef,
    ParticipantsJoined,
    ParticipantsLeft,
    ParticipantsRemoved,
    ParticipantsRemoveFailed,
    PictureChange,
    PricingInfo,
    SettingFailure,
    SettingsChanged,
    SettingsChangeFailed,
    UnknownEvent,
)
from groups_tui.domain.models import MessageKind

__all__ = [
    "SIGNATURE_HEADER",
    "InvalidSignatureError",
    "MalformedPayloadError",
    "WebhookError",
    "parse_body",
    "parse_payload",
    "sign_body",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
"""The header Meta signs every event notification with."""

_PREFIX = "sha256="


class WebhookError(Exception):
    """Base of the webhook errors."""


class InvalidSignatureError(WebhookError):
    """The ``X-Hub-Signature-256`` header is missing, malformed or does not match.

    Attributes:
        reason: ``missing``, ``malformed`` or ``mismatch``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"webhook signature {reason}")
        self.reason = reason


class MalformedPayloadError(WebhookError):
    """The body is not JSON, or its top level is not a JSON object."""


def sign_body(body: bytes, secret: str) -> str:
    """Compute the ``X-Hub-Signature-256`` header value Meta would send for ``body``.

    Args:
        body: The raw request bytes.
        secret: The app secret.

    Returns:
        ``"sha256=<hex digest>"``.
    """
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(body: bytes, header: str | None, app_secret: str) -> None:
    """Check ``X-Hub-Signature-256`` over the raw body, in constant time.

    Args:
        body: The raw request bytes, before any parsing.
        header: The header value (``sha256=<hex>``), or ``None`` when absent.
        app_secret: The app secret the signature is keyed with.

    Raises:
        InvalidSignatureError: The header is missing, malformed or wrong.
    """
    if not header:
        raise InvalidSignatureError("missing")
    value = header.strip()
    if value[: len(_PREFIX)].lower() != _PREFIX:
        raise InvalidSignatureError("malformed")
    given = value[len(_PREFIX) :].lower().encode("utf-8", "replace")
    expected = sign_body(body, app_secret)[len(_PREFIX) :].encode("ascii")
    if not hmac.compare_digest(given, expected):
        raise InvalidSignatureError("mismatch")


def parse_body(body: bytes) -> list[DomainEvent]:
    """Decode a raw webhook body and parse it (used when replaying the raw log).

    Args:
        body: The raw request bytes.

    Returns:
        The events, as :func:`parse_payload` returns them.

    Raises:
        MalformedPayloadError: The body is not JSON or not a JSON object.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayloadError(f"body is not JSON: {exc}") from exc
    return parse_payload(payload)


def parse_payload(payload: Any) -> list[DomainEvent]:
    """Turn a decoded webhook body into domain events, in body order.

    Loops over ``entry[]``, ``changes[]`` and the arrays inside each change (a POST may
    batch many updates). An entry, change or item this version does not understand yields
    an :class:`UnknownEvent` and parsing carries on with the next one.

    Args:
        payload: The decoded JSON body.

    Returns:
        The events; empty only when the envelope holds no updates at all.

    Raises:
        MalformedPayloadError: ``payload`` is not a JSON object.
    """
    if not isinstance(payload, dict):
        raise MalformedPayloadError(f"top level is {type(payload).__name__}, not an object")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        return [UnknownEvent(field="", raw=payload, reason="no entry[] array")]
    events: list[DomainEvent] = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            events.append(UnknownEvent(field="", raw=_as_mapping(entry), reason="no changes[]"))
            continue
        for change in changes:
            events.extend(_parse_change(change))
    return events


# --- scalars ----------------------------------------------------------------------------


class _Invalid(ValueError):
    """An item lacks something it needs; it becomes an UnknownEvent."""


def _as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {"value": value}


_INT_LIMIT = 2**63
_TIMESTAMP_LIMIT = 10**15


def _text(value: str) -> str:
    """``value`` storable as UTF-8: JSON may carry lone surrogates (``"\ud800"``), which
    become U+FFFD."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _clean(value: Any) -> Any:
    """A JSON value kept verbatim (extras, context) with every string made storable."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _required_str(item: Mapping[str, Any], key: str) -> str:
    value = _str(item.get(key))
    if not value:
        raise _Invalid(f"missing {key}")
    return value


def _timestamp(value: Any) -> int:
    """Epoch seconds from a string or a number (both appear, reference 3.2)."""
    if isinstance(value, bool):
        raise _Invalid("timestamp is a boolean")
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
        raise _Invalid(f"bad timestamp {value!r:.40}")
    return int(number)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < _INT_LIMIT else None
    if isinstance(value, str) and len(value) < 20:
        text = value.strip()
        if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
            return int(text)
    return None


def _bool_or_none(value: Any) -> bool | None:
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


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _errors(value: Any) -> tuple[EventError, ...]:
    out: list[EventError] = []
    for raw in _list(value):
        if not isinstance(raw, dict):
            continue
        out.append(
            EventError(
                code=_int_or_none(raw.get("code")),
                title=_str(raw.get("title")),
                message=_str(raw.get("message")),
                details=_str(_dict(raw.get("error_data")).get("details")),
                href=_str(raw.get("href")),
            )
        )
    return tuple(out)


def _participant(raw: Any) -> ParticipantRef:
    if isinstance(raw, str):
        return ParticipantRef(input=_text(raw))
    item = _dict(raw)
    profile = _dict(item.get("profile"))
    return ParticipantRef(
        wa_id=_str(item.get("wa_id")),
        user_id=_str(item.get("user_id")),
        username=_str(item.get("username")) or _str(profile.get("username")),
        profile_name=_str(profile.get("name")),
        parent_user_id=_str(item.get("parent_user_id")),
        input=_str(item.get("input")),
    )


def _participants(value: Any) -> tuple[ParticipantRef, ...]:
    refs = (_participant(raw) for raw in _list(value))
    return tuple(ref for ref in refs if ref.key)


def _unknown(field: str, raw: Any, reason: str) -> UnknownEvent:
    mapping = _as_mapping(raw)
    try:
        at = _timestamp(mapping.get("timestamp"))
    except _Invalid:
        at = 0
    return UnknownEvent(field=field, raw=mapping, reason=reason, at=at)


# --- changes ----------------------------------------------------------------------------


def _parse_change(change: Any) -> Iterator[DomainEvent]:
    if not isinstance(change, dict):
        yield _unknown("", change, "change is not an object")
        return
    field = _str(change.get("field")) or ""
    value = change.get("value")
    if not isinstance(value, dict):
        yield _unknown(field, change, "change has no value object")
        return
    group_parser = _GROUP_PARSERS.get(field)
    if group_parser is not None:
        items = value.get("groups")
        if not isinstance(items, list) or not items:
            yield _unknown(field, value, "no groups[] items")
            return
        for item in items:
            yield from _guarded(field, item, lambda i: group_parser(i, value))
    elif field == "messages":
        yield from _parse_messages_value(value)
    else:
        yield _unknown(field, value, "unknown field")


def _guarded(
    field: str,
    item: Any,
    parser: Callable[[Mapping[str, Any]], Iterable[DomainEvent]],
) -> Iterator[DomainEvent]:
    if not isinstance(item, dict):
        yield _unknown(field, item, "item is not an object")
        return
    try:
        events: list[DomainEvent] = list(parser(item))
    except (_Invalid, ValueError, TypeError, KeyError, AttributeError) as exc:
        yield _unknown(field, item, str(exc) or type(exc).__name__)
        return
    yield from events


# --- group_lifecycle_update -------------------------------------------------------------


def _lifecycle(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = _str(item.get("type"))
    at = _timestamp(item.get("timestamp"))
    request_id = _str(item.get("request_id"))
    errors = _errors(item.get("errors"))
    if kind == "group_create":
        if errors:
            yield GroupCreateFailed(
                request_id=request_id,
                group_id=_str(item.get("group_id")),
                subject=_str(item.get("subject")),
                description=_str(item.get("description")),
                errors=errors,
                at=at,
            )
            return
        yield GroupCreated(
            request_id=request_id,
            group_id=_required_str(item, "group_id"),
            subject=_str(item.get("subject")),
            description=_str(item.get("description")),
            invite_link=_str(item.get("invite_link")),
            # Kept as received, known or not (the store shows "unknown: X").
            join_approval_mode=_str(item.get("join_approval_mode")) or None,
            at=at,
        )
    elif kind == "group_delete":
        group_id = _required_str(item, "group_id")
        if errors:
            yield GroupDeleteFailed(group_id=group_id, request_id=request_id, errors=errors, at=at)
        else:
            yield GroupDeleted(group_id=group_id, request_id=request_id, at=at)
    else:
        raise _Invalid(f"unknown lifecycle type {kind!r}")


# --- group_participants_update ----------------------------------------------------------


def _item_participant(item: Mapping[str, Any]) -> ParticipantRef:
    return ParticipantRef(
        wa_id=_str(item.get("wa_id")),
        user_id=_str(item.get("user_id")),
        username=_str(item.get("username")),
        profile_name=_str(_dict(item.get("profile")).get("name")),
        parent_user_id=_str(item.get("parent_user_id")),
    )


def _participants_update(
    item: Mapping[str, Any], value: Mapping[str, Any]
) -> Iterator[DomainEvent]:
    kind = _str(item.get("type"))
    at = _timestamp(item.get("timestamp"))
    group_id = _required_str(item, "group_id")
    if kind == "group_participants_add":
        joined = _participants(item.get("added_participants"))
        if not joined and _item_participant(item).key:
            joined = (_item_participant(item),)
        if not joined:
            raise _Invalid("add without participants")
        yield ParticipantsJoined(
            group_id=group_id,
            participants=joined,
            via=_str(item.get("reason")) or "unknown",
            at=at,
        )
    elif kind == "group_participants_remove":
        yield from _removal(item, value, group_id, at)
    elif kind in ("group_join_request_created", "group_join_request_revoked"):
        participant = _item_participant(item)
        join_request_id = _required_str(item, "join_request_id")
        cls = JoinRequestCreated if kind == "group_join_request_created" else JoinRequestRevoked
        yield cls(
            group_id=group_id,
            join_request_id=join_request_id,
            participant=participant,
            reason=_str(item.get("reason")),
            at=at,
        )
    else:
        raise _Invalid(f"unknown participants type {kind!r}")


def _removal(
    item: Mapping[str, Any], value: Mapping[str, Any], group_id: str, at: int
) -> Iterator[DomainEvent]:
    # Meta's samples put initiated_by outside the item (invalid JSON); read the item first.
    initiated_by = _str(item.get("initiated_by")) or _str(value.get("initiated_by"))
    request_id = _str(item.get("request_id"))
    removed = _participants(item.get("removed_participants"))
    if not removed and _item_participant(item).key:
        removed = (_item_participant(item),)
    failed = tuple(
        FailedParticipant(participant=_participant(raw), errors=_errors(_dict(raw).get("errors")))
        for raw in _list(item.get("failed_participants"))
        if _participant(raw).key
    )
    errors = _errors(item.get("errors"))
    left = initiated_by == "participant" or (
        initiated_by is None
        and request_id is None
        and not failed
        and all(p.input is None for p in removed)
    )
    if removed:
        if left:
            yield ParticipantsLeft(group_id=group_id, participants=removed, at=at)
        else:
            yield ParticipantsRemoved(
                group_id=group_id,
                participants=removed,
                initiated_by=initiated_by,
                request_id=request_id,
                at=at,
            )
    if failed or (errors and not removed):
        yield ParticipantsRemoveFailed(
            group_id=group_id,
            failed=failed,
            errors=errors,
            initiated_by=initiated_by,
            request_id=request_id,
            at=at,
        )
    if not removed and not failed and not errors:
        raise _Invalid("remove without participants")


# --- group_settings_update --------------------------------------------------------------

_SETTING_PARTS = (
    ("group_subject", "subject"),
    ("group_description", "description"),
    ("profile_picture", "picture"),
)


def _settings(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = _str(item.get("type"))
    if kind not in (None, "group_settings_update"):
        raise _Invalid(f"unknown settings type {kind!r}")
    at = _timestamp(item.get("timestamp"))
    group_id = _required_str(item, "group_id")
    request_id = _str(item.get("request_id"))
    changed: dict[str, Any] = {}
    failures: list[SettingFailure] = []
    for key, setting in _SETTING_PARTS:
        part = item.get(key)
        if not isinstance(part, dict):
            continue
        part_errors = _errors(part.get("errors"))
        ok = _bool_or_none(part.get("update_successful"))
        succeeded = ok if ok is not None else not part_errors
        if setting == "picture":
            content = _str(part.get("sha256"))
        else:
            content = _str(part.get("text"))
        if succeeded:
            if setting == "picture":
                changed["picture"] = PictureChange(
                    mime_type=_str(part.get("mime_type")), sha256=content
                )
            elif content is not None:
                changed[setting] = content
        else:
            failures.append(SettingFailure(setting=setting, value=content, errors=part_errors))
    errors = _errors(item.get("errors"))
    if changed or not (failures or errors):
        yield SettingsChanged(group_id=group_id, request_id=request_id, at=at, **changed)
    if failures or errors:
        yield SettingsChangeFailed(
            group_id=group_id,
            request_id=request_id,
            failures=tuple(failures),
            errors=errors,
            at=at,
        )


# --- group_status_update ----------------------------------------------------------------


def _group_status(item: Mapping[str, Any], value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    kind = _str(item.get("type"))
    at = _timestamp(item.get("timestamp"))
    group_id = _required_str(item, "group_id")
    if kind == "group_suspend":
        yield GroupSuspended(group_id=group_id, at=at)
    elif kind == "group_suspend_cleared":
        yield GroupSuspendCleared(group_id=group_id, at=at)
    else:
        raise _Invalid(f"unknown group status type {kind!r}")


_GROUP_PARSERS = {
    "group_lifecycle_update": _lifecycle,
    "group_participants_update": _participants_update,
    "group_settings_update": _settings,
    "group_status_update": _group_status,
}


# --- messages ---------------------------------------------------------------------------

_MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
_KINDS = {kind.value: kind for kind in MessageKind}
_KINDS["button"] = MessageKind.INTERACTIVE
_MESSAGE_COMMON = frozenset(
    {
        "from",
        "from_user_id",
        "from_parent_user_id",
        "id",
        "timestamp",
        "type",
        "group_id",
        "context",
        "errors",
    }
)


class _Contacts:
    """``contacts[]`` of a change, looked up by ``wa_id`` or ``user_id``."""

    def __init__(self, raw: Any) -> None:
        self._by_id: dict[str, ParticipantRef] = {}
        self.only: ParticipantRef | None = None
        refs = [_participant(c) for c in _list(raw) if isinstance(c, dict)]
        for ref in refs:
            for ident in (ref.wa_id, ref.user_id):
                if ident:
                    self._by_id.setdefault(ident, ref)
        if len(refs) == 1:
            self.only = refs[0]

    def find(self, *idents: str | None) -> ParticipantRef | None:
        for ident in idents:
            if ident and ident in self._by_id:
                return self._by_id[ident]
        return None


def _merge(base: ParticipantRef, contact: ParticipantRef | None) -> ParticipantRef:
    if contact is None:
        return base
    return ParticipantRef(
        wa_id=base.wa_id or contact.wa_id,
        user_id=base.user_id or contact.user_id,
        username=base.username or contact.username,
        profile_name=base.profile_name or contact.profile_name,
        parent_user_id=base.parent_user_id or contact.parent_user_id,
        input=base.input,
    )


def _parse_messages_value(value: Mapping[str, Any]) -> Iterator[DomainEvent]:
    contacts = _Contacts(value.get("contacts"))
    messages = value.get("messages")
    statuses = value.get("statuses")
    found = False
    if isinstance(messages, list):
        found = True
        for item in messages:
            yield from _guarded("messages", item, lambda i: [_inbound(i, contacts)])
    if isinstance(statuses, list):
        found = True
        for item in statuses:
            yield from _guarded("messages", item, lambda i: [_status(i, contacts)])
    if "errors" in value:
        found = True
        yield _unknown("messages", value, "change-level errors")
    if not found:
        yield _unknown("messages", value, "no messages[] or statuses[]")


def _media(obj: Mapping[str, Any]) -> MediaRef:
    return MediaRef(
        id=_str(obj.get("id")),
        mime_type=_str(obj.get("mime_type")),
        sha256=_str(obj.get("sha256")),
        caption=_str(obj.get("caption")),
        filename=_str(obj.get("filename")),
        size=_int_or_none(obj.get("file_size", obj.get("size"))),
        url=_str(obj.get("url")),
        voice=_bool_or_none(obj.get("voice")),
        animated=_bool_or_none(obj.get("animated")),
    )


def _inbound(item: Mapping[str, Any], contacts: _Contacts) -> InboundMessage:
    wamid = _required_str(item, "id")
    at = _timestamp(item.get("timestamp"))
    type_ = _str(item.get("type")) or "unknown"
    base = ParticipantRef(
        wa_id=_str(item.get("from")),
        user_id=_str(item.get("from_user_id")),
        parent_user_id=_str(item.get("from_parent_user_id")),
    )
    contact = contacts.find(base.wa_id, base.user_id)
    if contact is None and not base.key:
        contact = contacts.only
    sender = _merge(base, contact)
    kind = _KINDS.get(type_, MessageKind.UNSUPPORTED)
    body = item.get(type_)
    text: str | None = None
    media: MediaRef | None = None
    skip: set[str] = set()
    if type_ == "text":
        text = _str(_dict(body).get("body"))
        skip.add("text")
    elif type_ in _MEDIA_KINDS and isinstance(body, dict):
        media = _media(body)
        text = media.caption
        skip.add(type_)
    elif type_ == "reaction":
        text = _str(_dict(body).get("emoji"))
    elif type_ == "button":
        text = _str(_dict(body).get("text"))
    elif type_ == "system":
        text = _str(_dict(body).get("body"))
    extras = {
        _text(k): _clean(v) for k, v in item.items() if k not in _MESSAGE_COMMON and k not in skip
    }
    context = item.get("context")
    context_map = _clean(context) if isinstance(context, dict) else None
    forwarded = bool(
        context_map
        and (
            _bool_or_none(context_map.get("forwarded"))
            or _bool_or_none(context_map.get("frequently_forwarded"))
        )
    )
    return InboundMessage(
        wamid=wamid,
        group_id=_str(item.get("group_id")),
        sender=sender,
        kind=kind,
        type=type_,
        text=text,
        media=media,
        extras=extras,
        context=context_map,
        forwarded=forwarded,
        errors=_errors(item.get("errors")),
        at=at,
    )


def _pricing(item: Mapping[str, Any]) -> PricingInfo | None:
    # Current layout: beside conversation; some group samples: inside it (reference 9.5).
    raw = item.get("pricing")
    if not isinstance(raw, dict):
        raw = _dict(item.get("conversation")).get("pricing")
    if not isinstance(raw, dict):
        return None
    return PricingInfo(
        billable=_bool_or_none(raw.get("billable")),
        pricing_model=_str(raw.get("pricing_model")),
        type=_str(raw.get("type")),
        category=_str(raw.get("category")),
    )


def _status(item: Mapping[str, Any], contacts: _Contacts) -> MessageStatus:
    wamid = _required_str(item, "id")
    status = _required_str(item, "status")
    at = _timestamp(item.get("timestamp"))
    recipient_id = _str(item.get("recipient_id"))
    # Both spellings occur in Meta's samples (reference 9.4).
    participant_id = _str(item.get("recipient_participant_id")) or _str(
        item.get("participant_recipient_id")
    )
    participant_user_id = _str(item.get("recipient_participant_user_id"))
    is_group = (
        _str(item.get("recipient_type")) == "group"
        or participant_id is not None
        or participant_user_id is not None
    )
    participant: ParticipantRef | None = None
    if participant_id or participant_user_id:
        base = ParticipantRef(
            wa_id=participant_id,
            user_id=participant_user_id,
            parent_user_id=_str(item.get("recipient_participant_parent_user_id")),
        )
        participant = _merge(base, contacts.find(participant_id, participant_user_id))
    return MessageStatus(
        wamid=wamid,
        group_id=(_str(item.get("group_id")) or recipient_id) if is_group else None,
        recipient_id=recipient_id,
        status=status,
        participant=participant,
        pricing=_pricing(item),
        conversation_id=_str(_dict(item.get("conversation")).get("id")),
        errors=_errors(item.get("errors")),
        at=at,
    )
