"""Message templates: listing the account's templates, and the components a send fills in."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..models import MessageTemplate
from .base import Resource, segment

__all__ = ["HeaderParam", "Templates", "template_components"]


@dataclass(frozen=True, slots=True)
class HeaderParam:
    """The parameter of a template's header: text, or media by id or link.

    Attributes:
        kind: ``text``, ``image``, ``video`` or ``document``.
        text: The text value when ``kind`` is ``text``.
        media_id: An uploaded media id (for media kinds).
        link: A hosted media URL (for media kinds), instead of ``media_id``.
        filename: Shown for documents.
    """

    kind: Literal["text", "image", "video", "document"]
    text: str | None = None
    media_id: str | None = None
    link: str | None = None
    filename: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "text":
            if self.text is None or self.media_id is not None or self.link is not None:
                raise ValueError("a text header takes text only")
            return
        if self.text is not None:
            raise ValueError("a media header takes media_id or link, not text")
        if (self.media_id is None) == (self.link is None):
            raise ValueError("a media header takes exactly one of media_id and link")
        if self.filename is not None and self.kind != "document":
            raise ValueError("filename is only for document headers")

    def to_parameter(self) -> dict[str, Any]:
        """Return the Graph parameter object for this header."""
        if self.kind == "text":
            return {"type": "text", "text": self.text}
        media: dict[str, Any] = (
            {"id": self.media_id} if self.media_id is not None else {"link": self.link}
        )
        if self.filename is not None:
            media["filename"] = self.filename
        return {"type": self.kind, self.kind: media}


def template_components(
    body_params: Sequence[str] = (), header: HeaderParam | None = None
) -> list[dict[str, Any]]:
    """Build template ``components`` from positional body values and an optional header.

    Args:
        body_params: Values for ``{{1}}``, ``{{2}}``... of the body, in order.
        header: The header parameter of a text- or media-based template.

    Returns:
        The ``components`` list for
        :meth:`~groups_tui.cloud.resources.messages.Messages.send_template`.
    """
    components: list[dict[str, Any]] = []
    if header is not None:
        components.append({"type": "header", "parameters": [header.to_parameter()]})
    if body_params:
        components.append(
            {
                "type": "body",
                "parameters": [{"type": "text", "text": value} for value in body_params],
            }
        )
    return components


class Templates(Resource):
    """The WhatsApp Business Account's message templates (``client.templates``)."""

    async def list(self, status: str | None = "APPROVED") -> builtins.list[MessageTemplate]:
        """List the WABA's message templates, following paging.

        Args:
            status: Filter such as ``APPROVED``; ``None`` for all.

        Returns:
            Every template on every page.

        Raises:
            ValueError: The client was built without ``business_account_id``.
        """
        client = self._client
        if not client.business_account_id:
            raise ValueError("business_account_id is required to list message templates")
        params = {"limit": "100"}
        if status:
            params["status"] = status
        path = f"{segment(client.business_account_id, 'business_account_id')}/message_templates"
        templates: builtins.list[MessageTemplate] = []
        async for page in client._pages(path, params, "list message templates"):
            data = page.get("data")
            for raw in data if isinstance(data, builtins.list) else []:
                templates.append(client._validate(raw, MessageTemplate, "list message templates"))
        return templates
