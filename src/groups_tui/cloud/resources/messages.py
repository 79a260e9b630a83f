"""Messages: text, media and templates to a group, invite templates 1:1, pins (2.12-2.14)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from groups_tui.domain.identity import is_bsuid

from ..errors import SendOutcomeUnknown, UnexpectedResponseError
from ..models import SendResponse
from .base import WHATSAPP, Resource, nonempty

__all__ = ["INVITE_LINK_PREFIX", "MediaKind", "Messages"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
INVITE_LINK_PREFIX = "https://chat.whatsapp.com/"

MediaKind = Literal["image", "video", "audio", "document"]
_MEDIA_KINDS: frozenset[str] = frozenset({"image", "video", "audio", "document"})


class Messages(Resource):
    """Sending messages (``client.messages``); every send is at most once."""

    async def send_text(self, group_id: str, body: str, preview_url: bool = False) -> SendResponse:
        """Send a free-form text to a group (reference 2.12); needs an open window.

        Args:
            group_id: The group id.
            body: Text, 1 to 4096 characters.
            preview_url: Render a link preview.

        Returns:
            The accepted message.

        Raises:
            SendOutcomeUnknown: The message may have been accepted; do not resend.
        """
        if not body.strip():
            raise ValueError("text body must not be empty")
        if len(body) > MAX_TEXT:
            raise ValueError(f"text body is limited to {MAX_TEXT} characters")
        return await self._send(
            {
                **_group_envelope(group_id),
                "type": "text",
                "text": {"preview_url": preview_url, "body": body},
            }
        )

    async def send_media(
        self,
        group_id: str,
        kind: MediaKind,
        *,
        media_id: str | None = None,
        link: str | None = None,
        caption: str | None = None,
        filename: str | None = None,
    ) -> SendResponse:
        """Send an image, video, audio or document to a group (reference 2.12).

        Args:
            group_id: The group id.
            kind: ``image``, ``video``, ``audio`` or ``document``.
            media_id: An uploaded media id (preferred).
            link: A hosted URL, instead of ``media_id``.
            caption: At most 1024 characters; not for audio.
            filename: Documents only.

        Returns:
            The accepted message.
        """
        if kind not in _MEDIA_KINDS:
            raise ValueError(f"unsupported media kind {kind!r}")
        if (media_id is None) == (link is None):
            raise ValueError("give exactly one of media_id and link")
        media: dict[str, Any] = {"id": media_id} if media_id is not None else {"link": link}
        if caption is not None:
            if kind == "audio":
                raise ValueError("audio messages have no caption")
            if len(caption) > MAX_CAPTION:
                raise ValueError(f"caption is limited to {MAX_CAPTION} characters")
            media["caption"] = caption
        if filename is not None:
            if kind != "document":
                raise ValueError("filename is only for documents")
            media["filename"] = filename
        return await self._send({**_group_envelope(group_id), "type": kind, kind: media})

    async def send_template(
        self,
        to: str,
        name: str,
        language: str,
        *,
        components: Sequence[Mapping[str, Any]] | None = None,
        recipient_type: Literal["group", "individual"] = "group",
    ) -> SendResponse:
        """Send an approved template to a group or a person (reference 2.12).

        Args:
            to: Group id, or phone number / ``wa_id`` when ``recipient_type`` is individual
                (a BSUID is refused: see :func:`_individual`).
            name: Template name.
            language: Language code, e.g. ``en_US``.
            components: Parameters; see
                :func:`~groups_tui.cloud.resources.templates.template_components`.
            recipient_type: ``group`` or ``individual``.

        Returns:
            The accepted message.
        """
        template: dict[str, Any] = {
            "name": nonempty(name, "template name"),
            "language": {"code": nonempty(language, "language")},
        }
        if components:
            template["components"] = [dict(c) for c in components]
        return await self._send(
            {
                **WHATSAPP,
                "recipient_type": recipient_type,
                "to": nonempty(to, "to") if recipient_type == "group" else _individual(to),
                "type": "template",
                "template": template,
            }
        )

    async def send_invite_link_template(
        self,
        to_wa_id: str,
        template_name: str,
        language: str,
        invite_link_or_group_id: str,
    ) -> SendResponse:
        """Send the Template Library invite-link template 1:1 (reference 2.13).

        A group id goes in as a ``group_id`` body parameter, which WhatsApp swaps for the
        live link at delivery. A full ``https://chat.whatsapp.com/...`` link (for a
        template of your own) goes in as a text parameter.

        Args:
            to_wa_id: Phone number or ``wa_id`` of the prospective member (not a BSUID).
            template_name: Name of the copied template, e.g. ``group_invite_upon_request``.
            language: Language code of the template, e.g. ``en``.
            invite_link_or_group_id: Group id, or an invite link.

        Returns:
            The accepted message.
        """
        value = nonempty(invite_link_or_group_id, "invite_link_or_group_id")
        parameter = (
            {"type": "text", "text": value}
            if value.startswith(INVITE_LINK_PREFIX)
            else {"type": "group_id", "group_id": value}
        )
        return await self._send(
            {
                **WHATSAPP,
                "to": _individual(to_wa_id),
                "type": "template",
                "template": {
                    "name": nonempty(template_name, "template_name"),
                    "language": {"code": nonempty(language, "language")},
                    "components": [{"type": "body", "parameters": [parameter]}],
                },
            }
        )

    async def pin(self, group_id: str, message_id: str, expiration_days: int) -> SendResponse:
        """Pin a message in a group for 1 to 30 days (reference 2.14)."""
        if not 1 <= expiration_days <= 30:
            raise ValueError("expiration_days must be between 1 and 30")
        pin = {
            "type": "pin",
            "message_id": nonempty(message_id, "message_id"),
            "expiration_days": int(expiration_days),
        }
        return await self._send({**_group_envelope(group_id), "type": "pin", "pin": pin})

    async def unpin(self, group_id: str, message_id: str) -> SendResponse:
        """Unpin a pinned message (reference 2.14)."""
        pin = {"type": "unpin", "message_id": nonempty(message_id, "message_id")}
        return await self._send({**_group_envelope(group_id), "type": "pin", "pin": pin})

    async def _send(self, body: dict[str, Any]) -> SendResponse:
        client = self._client
        response = await client._request(
            "POST",
            f"{client._pnid}/messages",
            json=body,
            repeatable=False,
            unknown=SendOutcomeUnknown,
            operation="send message",
        )
        result = client._parse(response, SendResponse)
        if not result.messages:
            raise client._scrubbed(
                UnexpectedResponseError(
                    "send response has no message id",
                    status_code=response.status_code,
                    request_method="POST",
                    request_url=str(response.request.url),
                )
            )
        return result


def _individual(to: str) -> str:
    """A 1:1 recipient: a phone number or ``wa_id``; a BSUID is refused.

    Meta supports sending to a BSUID from May 2026 (reference 3.9), but the reference
    does not document the request field for it (pywa, 2026-08, sends ``recipient``
    instead of ``to``). Until it does, a BSUID is refused here rather than sent in ``to``,
    where it would name no one.
    """
    value = nonempty(to, "to")
    if is_bsuid(value):
        raise ValueError(
            f"{value} is a business-scoped user id: sending 1:1 to one is not documented; "
            "use the person's phone number"
        )
    return value


def _group_envelope(group_id: str) -> dict[str, Any]:
    return {**WHATSAPP, "recipient_type": "group", "to": nonempty(group_id, "group_id")}
