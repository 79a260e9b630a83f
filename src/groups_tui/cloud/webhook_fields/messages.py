"""Parsing the ``messages`` field: inbound messages and the statuses of sent ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groups_tui.domain.events import (
    DomainEvent,
    InboundMessage,
    MediaRef,
    MessageStatus,
    ParticipantRef,
    PricingInfo,
)
from groups_tui.domain.models import MessageKind

from .reading import (
    as_dict,
    as_list,
    bool_or_none,
    clean_json,
    event_errors,
    guarded_one,
    int_or_none,
    participant_ref,
    required_str,
    storable_text,
    str_or_none,
    timestamp,
    unknown_event,
)

__all__ = ["parse_messages"]

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
        refs = [participant_ref(c) for c in as_list(raw) if isinstance(c, dict)]
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


def parse_messages(value: Mapping[str, Any], number: str | None = None) -> list[DomainEvent]:
    """The messages and statuses of a ``messages`` change, for the business ``number``."""
    contacts = _Contacts(value.get("contacts"))
    messages = value.get("messages")
    statuses = value.get("statuses")
    found = False
    events: list[DomainEvent] = []
    if isinstance(messages, list):
        found = True
        for item in messages:
            events.append(guarded_one("messages", item, _inbound, contacts, number))
    if isinstance(statuses, list):
        found = True
        for item in statuses:
            events.append(guarded_one("messages", item, _status, contacts, number))
    if "errors" in value:
        found = True
        events.append(unknown_event("messages", value, "change-level errors"))
    if not found:
        events.append(unknown_event("messages", value, "no messages[] or statuses[]"))
    return events


def _media(obj: Mapping[str, Any]) -> MediaRef:
    return MediaRef(
        id=str_or_none(obj.get("id")),
        mime_type=str_or_none(obj.get("mime_type")),
        sha256=str_or_none(obj.get("sha256")),
        caption=str_or_none(obj.get("caption")),
        filename=str_or_none(obj.get("filename")),
        size=int_or_none(obj.get("file_size", obj.get("size"))),
        url=str_or_none(obj.get("url")),
        voice=bool_or_none(obj.get("voice")),
        animated=bool_or_none(obj.get("animated")),
    )


def _inbound(item: Mapping[str, Any], contacts: _Contacts, number: str | None) -> InboundMessage:
    wamid = required_str(item, "id")
    at = timestamp(item.get("timestamp"))
    type_ = str_or_none(item.get("type")) or "unknown"
    base = ParticipantRef(
        wa_id=str_or_none(item.get("from")),
        user_id=str_or_none(item.get("from_user_id")),
        parent_user_id=str_or_none(item.get("from_parent_user_id")),
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
        text = str_or_none(as_dict(body).get("body"))
        skip.add("text")
    elif type_ in _MEDIA_KINDS and isinstance(body, dict):
        media = _media(body)
        text = media.caption
        skip.add(type_)
    elif type_ == "reaction":
        text = str_or_none(as_dict(body).get("emoji"))
    elif type_ == "button":
        text = str_or_none(as_dict(body).get("text"))
    elif type_ == "system":
        text = str_or_none(as_dict(body).get("body"))
    extras = {
        storable_text(k): clean_json(v)
        for k, v in item.items()
        if k not in _MESSAGE_COMMON and k not in skip
    }
    context = item.get("context")
    context_map = clean_json(context) if isinstance(context, dict) else None
    forwarded = bool(
        context_map
        and (
            bool_or_none(context_map.get("forwarded"))
            or bool_or_none(context_map.get("frequently_forwarded"))
        )
    )
    return InboundMessage(
        phone_number_id=number,
        wamid=wamid,
        group_id=str_or_none(item.get("group_id")),
        sender=sender,
        kind=kind,
        type=type_,
        text=text,
        media=media,
        extras=extras,
        context=context_map,
        forwarded=forwarded,
        errors=event_errors(item.get("errors")),
        at=at,
    )


def _pricing(item: Mapping[str, Any]) -> PricingInfo | None:
    # Current layout: beside conversation; some group samples: inside it (reference 9.5).
    raw = item.get("pricing")
    if not isinstance(raw, dict):
        raw = as_dict(item.get("conversation")).get("pricing")
    if not isinstance(raw, dict):
        return None
    return PricingInfo(
        billable=bool_or_none(raw.get("billable")),
        pricing_model=str_or_none(raw.get("pricing_model")),
        type=str_or_none(raw.get("type")),
        category=str_or_none(raw.get("category")),
    )


def _status(item: Mapping[str, Any], contacts: _Contacts, number: str | None) -> MessageStatus:
    wamid = required_str(item, "id")
    status = required_str(item, "status")
    at = timestamp(item.get("timestamp"))
    recipient_id = str_or_none(item.get("recipient_id"))
    # Both spellings occur in Meta's samples (reference 9.4).
    participant_id = str_or_none(item.get("recipient_participant_id")) or str_or_none(
        item.get("participant_recipient_id")
    )
    participant_user_id = str_or_none(item.get("recipient_participant_user_id"))
    is_group = (
        str_or_none(item.get("recipient_type")) == "group"
        or participant_id is not None
        or participant_user_id is not None
    )
    participant: ParticipantRef | None = None
    if participant_id or participant_user_id:
        base = ParticipantRef(
            wa_id=participant_id,
            user_id=participant_user_id,
            parent_user_id=str_or_none(item.get("recipient_participant_parent_user_id")),
        )
        participant = _merge(base, contacts.find(participant_id, participant_user_id))
    return MessageStatus(
        phone_number_id=number,
        wamid=wamid,
        group_id=(str_or_none(item.get("group_id")) or recipient_id) if is_group else None,
        recipient_id=recipient_id,
        status=status,
        participant=participant,
        pricing=_pricing(item),
        conversation_id=str_or_none(as_dict(item.get("conversation")).get("id")),
        errors=event_errors(item.get("errors")),
        at=at,
    )
