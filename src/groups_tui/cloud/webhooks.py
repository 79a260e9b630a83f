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
from dataclasses import replace
from typing import Any

from groups_tui.domain.events import DomainEvent, UnknownEvent

from .webhook_fields.lifecycle import parse_lifecycle
from .webhook_fields.messages import parse_messages
from .webhook_fields.participants import parse_participants
from .webhook_fields.reading import as_mapping, guarded, str_or_none, unknown_event
from .webhook_fields.settings import parse_settings
from .webhook_fields.status import parse_status

__all__ = [
    "SIGNATURE_HEADER",
    "InvalidSignatureError",
    "MalformedPayloadError",
    "WebhookError",
    "body_number",
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


def body_number(payload: Any) -> str | None:
    """The business number the first change of a decoded body is for, if it says.

    Meta sends every number of a WABA (and several WABAs of one app) to one URL; each
    change's ``value.metadata.phone_number_id`` names its number (reference 3.2).

    Args:
        payload: The decoded JSON body.

    Returns:
        The first ``metadata.phone_number_id`` found, or ``None``.
    """
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            value = change.get("value") if isinstance(change, dict) else None
            number = _metadata_number(value)
            if number is not None:
                return number
    return None


def _metadata_number(value: Any) -> str | None:
    metadata = value.get("metadata") if isinstance(value, dict) else None
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    return number.strip() or None if isinstance(number, str) else None


def parse_payload(payload: Any) -> list[DomainEvent]:
    """Turn a decoded webhook body into domain events, in body order.

    Loops over ``entry[]``, ``changes[]`` and the arrays inside each change (a POST may
    batch many updates). An entry, change or item this version does not understand yields
    an :class:`UnknownEvent` and parsing carries on with the next one. Each event carries
    the business number its change names (``metadata.phone_number_id``), by which the
    store routes it.

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
            events.append(UnknownEvent(field="", raw=as_mapping(entry), reason="no changes[]"))
            continue
        for change in changes:
            number = _metadata_number(change.get("value")) if isinstance(change, dict) else None
            parsed = _parse_change(change, number)
            if number is not None:
                # Messages and statuses are built with their number already.
                parsed = [
                    event
                    if event.phone_number_id == number
                    else replace(event, phone_number_id=number)
                    for event in parsed
                ]
            events.extend(parsed)
    return events


# --- changes, dispatched by field ------------------------------------------------------


def _parse_change(change: Any, number: str | None) -> list[DomainEvent]:
    if not isinstance(change, dict):
        return [unknown_event("", change, "change is not an object")]
    field = str_or_none(change.get("field")) or ""
    value = change.get("value")
    if not isinstance(value, dict):
        return [unknown_event(field, change, "change has no value object")]
    if field == "messages":
        return parse_messages(value, number)
    group_parser = _GROUP_PARSERS.get(field)
    if group_parser is None:
        return [unknown_event(field, value, "unknown field")]
    items = value.get("groups")
    if not isinstance(items, list) or not items:
        return [unknown_event(field, value, "no groups[] items")]
    events: list[DomainEvent] = []
    for item in items:
        events.extend(guarded(field, item, lambda i: group_parser(i, value)))
    return events


_GROUP_PARSERS = {
    "group_lifecycle_update": parse_lifecycle,
    "group_participants_update": parse_participants,
    "group_settings_update": parse_settings,
    "group_status_update": parse_status,
}
