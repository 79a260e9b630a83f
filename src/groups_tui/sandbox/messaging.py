"""The messages edge of the simulated Graph API: what the business sends.

``POST /{phone}/messages`` for groups (and 1:1 templates, such as the group invite): the
throughput limit (130429), the recipient, the message types groups take (131051), the
group's state (131041, 131207, 131020), the 24-hour window for free-form messages (131047)
and the content, in Meta's order. An accepted message gets its statuses from
:class:`~groups_tui.sandbox.statuses.Statuses`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers

from groups_tui.domain.models import TemplateCategory

from .errors import GraphError
from .media import MediaStore
from .params import require_product
from .person_actions import PersonActions
from .scheduling import Ids, Timeline, TokenBucket
from .state import GroupRegistry, Json, MessageLog, OutboundMessage, SandboxKnobs, SimGroup, digits
from .statuses import Statuses
from .templates import Templates

__all__ = ["Messaging"]

_SEND_TYPES_MEDIA = ("image", "video", "audio", "document", "sticker")
_SEND_TYPES_OK = frozenset({"text", "template", "pin", "location", "contacts", *_SEND_TYPES_MEDIA})
_SEND_TYPES_REFUSED = frozenset({"interactive", "reaction", "order", "product", "product_list"})


class Messaging:
    """Checks and records what the business sends, and sets its statuses going.

    Args:
        groups: The group registry.
        templates: The WABA's templates.
        media: The media store (sends may name uploaded media).
        statuses: Schedules each message's statuses.
        persons: The simulated people (someone sent a group invite may join).
        ids: The world's id maker.
        timeline: Simulated time.
        log: The account's message log.
        knobs: Throttling status and limits.
        limiter: The messages token bucket (130429).
    """

    def __init__(
        self,
        *,
        groups: GroupRegistry,
        templates: Templates,
        media: MediaStore,
        statuses: Statuses,
        persons: PersonActions,
        ids: Ids,
        timeline: Timeline,
        log: MessageLog,
        knobs: SandboxKnobs,
        limiter: TokenBucket,
    ) -> None:
        self._groups = groups
        self._templates = templates
        self._media = media
        self._statuses = statuses
        self._persons = persons
        self._ids = ids
        self._timeline = timeline
        self._log = log
        self._knobs = knobs
        self.limiter = limiter
        self.on_sent: list[Callable[[OutboundMessage], None]] = []
        """Hooks run after the business sent a group message (members may answer)."""

    def send(self, body: Mapping[str, Any]) -> Json:
        """``POST /{phone}/messages`` for groups (and 1:1 template sends).

        Checks, in order: product, throughput (130429), recipient, type support (131051),
        group state (131041/131207/131020), window for free-form (131047), content.
        """
        require_product(body)
        if not self.limiter.take():
            raise GraphError(
                130429,
                "Cloud API message throughput has been reached.",
                status=self._knobs.throttle_http_status,
            )
        to = body.get("to")
        if not isinstance(to, str) or not to:
            raise GraphError(100, "The parameter to is required.")
        kind = body.get("type", "text")
        if not isinstance(kind, str):
            raise GraphError(100, "Param type must be a string.")
        recipient_type = body.get("recipient_type", "individual")
        is_group_id = to in self._groups
        if recipient_type == "group" and not is_group_id:
            if digits(to) == to.lstrip("+"):
                raise GraphError(131009, "recipient_type is group but to is not a group id.")
            raise GraphError(131041, f"Group {to} does not exist or you are not a member.")
        if recipient_type != "group" and is_group_id:
            raise GraphError(131009, "to is a group id; set recipient_type to group.")
        if kind in _SEND_TYPES_REFUSED or kind not in _SEND_TYPES_OK:
            raise GraphError(131051, f"Message type {kind} is not supported here.")
        if recipient_type != "group":
            return self._send_individual(to, kind, body)
        group = self._groups.writable(to)
        if not group.members:
            raise GraphError(131020, "Cannot send messages to single member groups.")
        now = self._timeline.now()
        category: TemplateCategory | None = None
        template_name: str | None = None
        extra: Json = {}
        if kind == "template":
            tpl = self._templates.check_send(body.get("template"))
            if tpl.category is TemplateCategory.AUTHENTICATION:
                raise GraphError(131051, "Authentication templates cannot be sent to groups.")
            category = tpl.category
            template_name = tpl.name
            extra["message_status"] = "accepted"
        elif kind == "pin":
            self._check_pin(group, body.get("pin"))
        else:
            if not group.window_open(now):
                raise GraphError(
                    131047,
                    "More than 24 hours have passed since a member last wrote; send a template.",
                )
            self._check_content(kind, body.get(kind))
        wamid = self._ids.wamid(str(group.seq))
        msg = OutboundMessage(
            id=wamid,
            to=to,
            group_id=group.id,
            type=kind,
            category=category,
            sent_at=now,
            window_open=group.window_open(now),
            recipients=tuple(group.members),
            template=template_name,
            body=dict(body),
        )
        self._log.sent[wamid] = msg
        self._statuses.schedule_group(msg)
        for hook in self.on_sent:
            hook(msg)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid, "group_id": group.id, **extra}],
        }

    def _send_individual(self, to: str, kind: str, body: Mapping[str, Any]) -> Json:
        wa_id = digits(to)
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse("+" + wa_id))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            raise GraphError(131026, f"{to} is not a valid WhatsApp user.")
        if kind != "template":
            raise GraphError(
                131047, "More than 24 hours have passed since the recipient last replied."
            )
        tpl_body = body.get("template")
        tpl = self._templates.check_send(tpl_body)
        group_param = _group_id_param(tpl_body)
        wamid = self._ids.wamid(wa_id)
        msg = OutboundMessage(
            id=wamid,
            to=wa_id,
            group_id=None,
            type=kind,
            category=tpl.category,
            sent_at=self._timeline.now(),
            window_open=False,
            recipients=(wa_id,),
            template=tpl.name,
            body=dict(body),
        )
        self._log.sent[wamid] = msg
        self._statuses.schedule_individual(msg)
        if group_param is not None and group_param in self._groups:
            self._persons.accept_invite_later(group_param, wa_id)
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }

    def _check_pin(self, group: SimGroup, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise GraphError(131008, "The parameter pin is required.")
        action = raw.get("type")
        mid = raw.get("message_id")
        if action not in ("pin", "unpin") or not isinstance(mid, str):
            raise GraphError(100, "pin.type must be pin or unpin, with a message_id.")
        sent = self._log.sent
        known = mid in self._log.received or (mid in sent and sent[mid].group_id == group.id)
        if not known:
            raise GraphError(100, f"Message {mid} is not in this group.")
        if action == "pin":
            days = raw.get("expiration_days")
            if isinstance(days, str) and days.isdigit():
                days = int(days)
            if not isinstance(days, int) or not 1 <= days <= 30:
                raise GraphError(100, "pin.expiration_days must be between 1 and 30.")
            if mid in group.pins:
                group.pins.remove(mid)
            group.pins.insert(0, mid)
            del group.pins[3:]
        elif mid in group.pins:
            group.pins.remove(mid)

    def _check_content(self, kind: str, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise GraphError(131008, f"The parameter {kind} is required.")
        if kind == "text":
            text = raw.get("body")
            if not isinstance(text, str) or not text:
                raise GraphError(131008, "The parameter text.body is required.")
            if len(text) > 4096:
                raise GraphError(100, "Param text.body must be at most 4096 characters long.")
        elif kind in _SEND_TYPES_MEDIA:
            mid, link = raw.get("id"), raw.get("link")
            if not mid and not link:
                raise GraphError(131008, f"{kind} needs an id or a link.")
            if mid and mid not in self._media:
                raise GraphError(131053, f"Media {mid} was not found.")
            caption = raw.get("caption")
            if caption is not None and (not isinstance(caption, str) or len(caption) > 1024):
                raise GraphError(100, "Param caption must be at most 1024 characters long.")
            if kind in ("audio", "sticker") and caption:
                raise GraphError(100, f"{kind} messages have no caption.")


def _group_id_param(template: Any) -> str | None:
    if not isinstance(template, Mapping):
        return None
    for comp in template.get("components") or []:
        if not isinstance(comp, Mapping):
            continue
        for param in comp.get("parameters") or []:
            if isinstance(param, Mapping) and param.get("type") == "group_id":
                value = param.get("group_id")
                return value if isinstance(value, str) else None
    return None
