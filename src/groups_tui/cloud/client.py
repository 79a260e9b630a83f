"""Async client for the WhatsApp Cloud API Groups endpoints (reference section 2).

Retry rules, by operation:

* **Repeatable** calls (every GET, reset invite link, update settings or picture, upload
  media) are retried on retryable Graph codes, connection failures and timeouts.
* **At-most-once** calls (send, create group, delete group, remove participants,
  approve or reject join requests) are retried only when the failure proves nothing
  happened: a throttling code in an error response, or a connection that was never
  established. Once the request may have reached Meta (read or write timeout, dropped
  connection, gateway error without a Graph body), they raise an
  :class:`~groups_tui.cloud.errors.OutcomeUnknownError` instead of repeating.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from groups_tui.domain.identity import is_bsuid, is_phone_number

from .. import __version__
from .errors import (
    CloudConnectionError,
    CloudError,
    CloudTimeoutError,
    CreateGroupOutcomeUnknown,
    InvalidRequestError,
    OutcomeUnknownError,
    SendOutcomeUnknown,
    UnexpectedResponseError,
    error_from_response,
    redact_url,
    scrub_value,
)
from .models import (
    ApproveResult,
    CreateGroupResponse,
    GroupInfo,
    GroupSummary,
    InviteLink,
    JoinRequestItem,
    MediaInfo,
    MediaUpload,
    MessageTemplate,
    RejectResult,
    SendResponse,
)
from .retry import RetryPolicy, SleepFn, usage_exhausted

__all__ = [
    "DEFAULT_GROUP_FIELDS",
    "DEFAULT_TIMEOUT",
    "CloudClient",
    "HeaderParam",
    "MediaKind",
    "participant_entry",
    "template_components",
]

logger = logging.getLogger("groups_tui.cloud")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
"""Connect 5 s, read 30 s, write 30 s, pool 5 s."""

DEFAULT_GROUP_FIELDS: tuple[str, ...] = (
    "subject",
    "description",
    "participants",
    "join_approval_mode",
    "suspended",
    "creation_timestamp",
    "total_participant_count",
)
"""Fields requested by :meth:`CloudClient.get_group` unless told otherwise."""

MAX_SUBJECT = 128
MAX_DESCRIPTION = 2048
MAX_PARTICIPANTS_PER_CALL = 8
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PICTURE_BYTES = 5 * 1024 * 1024
MAX_LIST_LIMIT = 1024
INVITE_LINK_PREFIX = "https://chat.whatsapp.com/"
CURSOR_EXPIRED_CODE = 131059

MediaKind = Literal["image", "video", "audio", "document"]
_MEDIA_KINDS: frozenset[str] = frozenset({"image", "video", "audio", "document"})
_WHATSAPP = {"messaging_product": "whatsapp"}
_PATH_SAFE = "!$&'()*+,;=:@"

_M = TypeVar("_M", bound=BaseModel)


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
        The ``components`` list for :meth:`CloudClient.send_template`.
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


def participant_entry(user: str) -> dict[str, str]:
    """The entry of a ``participants`` array that names one person (reference 2.7, 3.9).

    Meta's contract: a phone number or WhatsApp id goes in ``user``, a business-scoped
    user id in ``user_id``; include one of the two, never both. This is the only place
    that builds such an entry, so every call that addresses a person follows it.

    Args:
        user: A phone number (``+`` and punctuation allowed), a ``wa_id`` or a BSUID.

    Returns:
        ``{"user": phone}`` or ``{"user_id": bsuid}``.

    Raises:
        ValueError: ``user`` is neither.
    """
    value = user.strip()
    if is_bsuid(value):
        return {"user_id": value}
    if is_phone_number(value):
        return {"user": value}
    raise ValueError(f"{user!r} is neither a phone number nor a business-scoped user id")


def _individual(to: str) -> str:
    """A 1:1 recipient: a phone number or ``wa_id``; a BSUID is refused.

    Meta supports sending to a BSUID from May 2026 (reference 3.9), but the reference
    does not document the request field for it (pywa, 2026-08, sends ``recipient``
    instead of ``to``). Until it does, a BSUID is refused here rather than sent in ``to``,
    where it would name no one.
    """
    value = _nonempty(to, "to")
    if is_bsuid(value):
        raise ValueError(
            f"{value} is a business-scoped user id: sending 1:1 to one is not documented; "
            "use the person's phone number"
        )
    return value


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return quote(value.strip(), safe=_PATH_SAFE)


def _check_subject(subject: str) -> str:
    cleaned = subject.strip()
    if not cleaned:
        raise ValueError("subject must not be empty")
    if len(cleaned) > MAX_SUBJECT:
        raise ValueError(f"subject is {len(cleaned)} characters; the limit is {MAX_SUBJECT}")
    return cleaned


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise ValueError(
            f"description is {len(description)} characters; the limit is {MAX_DESCRIPTION}"
        )
    return description


def _check_ids(values: Sequence[str], what: str, *, limit: int | None = None) -> list[str]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of strings, not a string")
    cleaned = [v.strip() for v in values]
    if not cleaned:
        raise ValueError(f"{what} must not be empty")
    if any(not v for v in cleaned):
        raise ValueError(f"{what} must not contain empty values")
    if len(set(cleaned)) != len(cleaned):
        raise ValueError(f"{what} contains duplicates")
    if limit is not None and len(cleaned) > limit:
        raise ValueError(f"at most {limit} {what} per call; got {len(cleaned)}")
    return cleaned


class CloudClient:
    """Async client for the Groups endpoints of the WhatsApp Cloud API.

    Use it as an async context manager, or call :meth:`aclose` when done. The base URL
    and transport are injectable so tests and the sandbox use the production code path.

    Args:
        access_token: Bearer token; never logged or shown in reprs and errors.
        phone_number_id: Business phone number id (path of groups, messages, media).
        business_account_id: WABA id; needed only for :meth:`list_message_templates`.
        base_url: Graph host, or the sandbox's.
        graph_version: Version path segment such as ``v25.0``; empty for none.
        transport: httpx transport (tests pass a mock).
        timeout: httpx timeout; defaults to :data:`DEFAULT_TIMEOUT`.
        retry: Backoff policy; defaults to ``RetryPolicy()``.
        sleep: Awaitable sleep used between attempts.
    """

    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str,
        business_account_id: str | None = None,
        base_url: str = "https://graph.facebook.com",
        graph_version: str = "v25.0",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if not access_token:
            raise ValueError("access_token must not be empty")
        _segment(phone_number_id, "phone_number_id")
        self._token = access_token
        self.phone_number_id = phone_number_id.strip()
        self.business_account_id = business_account_id.strip() if business_account_id else None
        version = graph_version.strip("/")
        root = base_url.rstrip("/")
        self.base_url = f"{root}/{version}/" if version else f"{root}/"
        self.graph_version = version
        self._retry = retry if retry is not None else RetryPolicy()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
                "User-Agent": f"groups-tui/{__version__}",
            },
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return (
            f"CloudClient(base_url={self.base_url!r}, phone_number_id={self.phone_number_id!r}, "
            f"business_account_id={self.business_account_id!r}, access_token='***')"
        )

    async def __aenter__(self) -> CloudClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying HTTP connections."""
        await self._http.aclose()

    # -- groups -----------------------------------------------------------------------

    async def create_group(
        self, subject: str, description: str | None = None, join_approval: bool = False
    ) -> str:
        """Ask Meta to create a group (reference 2.1). Creation is asynchronous.

        Args:
            subject: Group subject; trimmed, 1 to 128 characters.
            description: Optional description, at most 2048 characters.
            join_approval: Require the business to approve join requests.

        Returns:
            The ``request_id`` that the ``group_create`` webhook will carry.

        Raises:
            ValueError: The subject or description breaks the documented limits.
            CreateGroupOutcomeUnknown: The request may have created a group.
            ApiError: Meta refused the request.
        """
        body: dict[str, Any] = {
            **_WHATSAPP,
            "subject": _check_subject(subject),
            "join_approval_mode": "approval_required" if join_approval else "auto_approve",
        }
        if description is not None:
            body["description"] = _check_description(description)
        response = await self._request(
            "POST",
            f"{self._pnid}/groups",
            json=body,
            repeatable=False,
            unknown=CreateGroupOutcomeUnknown,
            operation="create group",
        )
        return self._parse(response, CreateGroupResponse).request_id

    async def get_group(
        self, group_id: str, fields: Sequence[str] = DEFAULT_GROUP_FIELDS
    ) -> GroupInfo:
        """Read a group's metadata and participants (reference 2.2).

        Args:
            group_id: The group id.
            fields: Fields to request; empty for only ``id``.

        Returns:
            The group.
        """
        params = {"fields": ",".join(fields)} if fields else None
        response = await self._request(
            "GET", _segment(group_id, "group_id"), params=params, operation="get group"
        )
        return self._parse(response, GroupInfo)

    async def list_groups(self, limit: int = MAX_LIST_LIMIT) -> AsyncIterator[GroupSummary]:
        """Iterate over every active group, following the cursor to the last page.

        An expired cursor (131059) restarts the listing from the first page once;
        groups already yielded are not yielded again.

        Args:
            limit: Page size, 1 to 1024.

        Yields:
            One summary per group.
        """
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}")
        seen: set[str] = set()
        restarted = False
        while True:
            try:
                async for page in self._pages(
                    f"{self._pnid}/groups", {"limit": str(limit)}, "list groups"
                ):
                    for raw in _groups_of(page):
                        group = self._validate(raw, GroupSummary, "list groups")
                        if group.id not in seen:
                            seen.add(group.id)
                            yield group
                return
            except InvalidRequestError as exc:
                if exc.code != CURSOR_EXPIRED_CODE or restarted:
                    raise
                restarted = True
                logger.warning("Group list cursor expired (#131059); restarting from page 1")

    async def delete_group(self, group_id: str) -> None:
        """Delete a group, removing every participant (reference 2.4). Asynchronous.

        Args:
            group_id: The group id.
        """
        await self._request(
            "DELETE",
            _segment(group_id, "group_id"),
            repeatable=False,
            operation="delete group",
        )

    async def get_invite_link(self, group_id: str) -> str:
        """Return the group's current invite link (reference 2.5)."""
        response = await self._request(
            "GET", f"{_segment(group_id, 'group_id')}/invite_link", operation="get invite link"
        )
        return self._parse(response, InviteLink).invite_link

    async def reset_invite_link(self, group_id: str) -> str:
        """Revoke every issued link and return a new one (reference 2.6)."""
        response = await self._request(
            "POST",
            f"{_segment(group_id, 'group_id')}/invite_link",
            json=dict(_WHATSAPP),
            operation="reset invite link",
        )
        return self._parse(response, InviteLink).invite_link

    async def delete_invite_link(self, group_id: str) -> None:
        """Delete the current invite link (reference 2.6b, lightly documented)."""
        await self._request(
            "DELETE",
            f"{_segment(group_id, 'group_id')}/invite_link",
            json=dict(_WHATSAPP),
            operation="delete invite link",
        )

    async def remove_participants(self, group_id: str, users: Sequence[str]) -> str | None:
        """Remove up to 8 participants (reference 2.7). Asynchronous; see the webhook.

        Args:
            group_id: The group id.
            users: Phone numbers, ``wa_id`` or BSUIDs; 1 to 8, no duplicates. Each
                becomes a ``user`` or ``user_id`` entry (:func:`participant_entry`).

        Returns:
            The ``request_id`` when the response carries one, else ``None``.

        Raises:
            ValueError: Empty, duplicated, more than 8, or not a number nor a BSUID.
            PartialFailure: Some removals failed (131201 / HTTP 206); ``failed`` lists them.
            OutcomeUnknownError: The request may have been processed.
        """
        participants = _check_ids(users, "participants", limit=MAX_PARTICIPANTS_PER_CALL)
        entries = [participant_entry(u) for u in participants]
        response = await self._request(
            "DELETE",
            f"{_segment(group_id, 'group_id')}/participants",
            json={**_WHATSAPP, "participants": entries},
            repeatable=False,
            operation="remove participants",
        )
        payload = self._json(response)
        if response.status_code == 206 or payload.get("failed_participants"):
            raise self._scrubbed(error_from_response(response))
        return _request_id(payload)

    async def list_join_requests(self, group_id: str) -> list[JoinRequestItem]:
        """Return every pending join request, following paging (reference 2.8)."""
        items: list[JoinRequestItem] = []
        path = f"{_segment(group_id, 'group_id')}/join_requests"
        async for page in self._pages(path, {}, "list join requests"):
            data = page.get("data")
            if isinstance(data, dict):
                data = data.get("join_requests")
            for raw in data if isinstance(data, list) else []:
                items.append(self._validate(raw, JoinRequestItem, "list join requests"))
        return items

    async def approve_join_requests(self, group_id: str, ids: Sequence[str]) -> ApproveResult:
        """Approve join requests (reference 2.9).

        Args:
            group_id: The group id.
            ids: Join request ids, no duplicates.

        Returns:
            Approved ids and the failed ones with their errors (131204 when full).
        """
        return await self._decide_join_requests(group_id, ids, "POST", ApproveResult)

    async def reject_join_requests(self, group_id: str, ids: Sequence[str]) -> RejectResult:
        """Reject join requests (reference 2.10).

        Args:
            group_id: The group id.
            ids: Join request ids, no duplicates.

        Returns:
            Rejected ids and the failed ones with their errors.
        """
        return await self._decide_join_requests(group_id, ids, "DELETE", RejectResult)

    async def update_settings(
        self, group_id: str, *, subject: str | None = None, description: str | None = None
    ) -> str | None:
        """Change the subject and/or description (reference 2.11). Asynchronous.

        Args:
            group_id: The group id.
            subject: New subject; trimmed, 1 to 128 characters.
            description: New description, at most 2048 characters.

        Returns:
            The ``request_id`` when the response carries one, else ``None``.
        """
        body: dict[str, Any] = dict(_WHATSAPP)
        if subject is not None:
            body["subject"] = _check_subject(subject)
        if description is not None:
            body["description"] = _check_description(description)
        if len(body) == 1:
            raise ValueError("give a subject, a description or both")
        response = await self._request(
            "POST", _segment(group_id, "group_id"), json=body, operation="update settings"
        )
        return _request_id(self._json(response))

    async def update_picture(
        self, group_id: str, jpeg: bytes, filename: str = "picture.jpg"
    ) -> str | None:
        """Replace the group picture with a square JPEG of at most 5 MB (reference 2.11).

        Args:
            group_id: The group id.
            jpeg: JPEG bytes; Meta also requires square, at least 192x192.
            filename: File name given in the multipart part.

        Returns:
            The ``request_id`` when the response carries one, else ``None``.
        """
        if not jpeg.startswith(b"\xff\xd8\xff"):
            raise ValueError("the group picture must be a JPEG")
        if len(jpeg) > MAX_PICTURE_BYTES:
            raise ValueError("the group picture must be at most 5 MB")
        response = await self._request(
            "POST",
            _segment(group_id, "group_id"),
            data=dict(_WHATSAPP),
            files={"file": (filename, jpeg, "image/jpeg")},
            operation="update picture",
        )
        return _request_id(self._json(response))

    # -- messages ---------------------------------------------------------------------

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
            components: Parameters; see :func:`template_components`.
            recipient_type: ``group`` or ``individual``.

        Returns:
            The accepted message.
        """
        template: dict[str, Any] = {
            "name": _nonempty(name, "template name"),
            "language": {"code": _nonempty(language, "language")},
        }
        if components:
            template["components"] = [dict(c) for c in components]
        return await self._send(
            {
                **_WHATSAPP,
                "recipient_type": recipient_type,
                "to": _nonempty(to, "to") if recipient_type == "group" else _individual(to),
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
        value = _nonempty(invite_link_or_group_id, "invite_link_or_group_id")
        parameter = (
            {"type": "text", "text": value}
            if value.startswith(INVITE_LINK_PREFIX)
            else {"type": "group_id", "group_id": value}
        )
        return await self._send(
            {
                **_WHATSAPP,
                "to": _individual(to_wa_id),
                "type": "template",
                "template": {
                    "name": _nonempty(template_name, "template_name"),
                    "language": {"code": _nonempty(language, "language")},
                    "components": [{"type": "body", "parameters": [parameter]}],
                },
            }
        )

    async def pin_message(
        self, group_id: str, message_id: str, expiration_days: int
    ) -> SendResponse:
        """Pin a message in a group for 1 to 30 days (reference 2.14)."""
        if not 1 <= expiration_days <= 30:
            raise ValueError("expiration_days must be between 1 and 30")
        pin = {
            "type": "pin",
            "message_id": _nonempty(message_id, "message_id"),
            "expiration_days": int(expiration_days),
        }
        return await self._send({**_group_envelope(group_id), "type": "pin", "pin": pin})

    async def unpin_message(self, group_id: str, message_id: str) -> SendResponse:
        """Unpin a pinned message (reference 2.14)."""
        pin = {"type": "unpin", "message_id": _nonempty(message_id, "message_id")}
        return await self._send({**_group_envelope(group_id), "type": "pin", "pin": pin})

    # -- media ------------------------------------------------------------------------

    async def upload_media(self, data: bytes, mime_type: str, filename: str) -> str:
        """Upload media for later sends (reference 2.15); the id lives 30 days.

        Args:
            data: File bytes.
            mime_type: MIME type, e.g. ``image/jpeg``.
            filename: File name given in the multipart part.

        Returns:
            The media id.
        """
        if not data:
            raise ValueError("media must not be empty")
        response = await self._request(
            "POST",
            f"{self._pnid}/media",
            data={**_WHATSAPP, "type": _nonempty(mime_type, "mime_type")},
            files={"file": (filename, data, mime_type)},
            operation="upload media",
        )
        return self._parse(response, MediaUpload).id

    async def get_media(self, media_id: str) -> MediaInfo:
        """Return a media object's short-lived download URL and metadata (reference 2.15)."""
        response = await self._request(
            "GET",
            _segment(media_id, "media_id"),
            params={"phone_number_id": self.phone_number_id},
            operation="get media",
        )
        return self._parse(response, MediaInfo)

    async def download_media(self, url: str) -> bytes:
        """Download media from a URL returned by :meth:`get_media`, with the bearer token."""
        response = await self._request("GET", _nonempty(url, "url"), operation="download media")
        return response.content

    async def delete_media(self, media_id: str) -> None:
        """Delete an uploaded media object (reference 2.15)."""
        await self._request("DELETE", _segment(media_id, "media_id"), operation="delete media")

    # -- templates --------------------------------------------------------------------

    async def list_message_templates(
        self, status: str | None = "APPROVED"
    ) -> list[MessageTemplate]:
        """List the WABA's message templates, following paging.

        Args:
            status: Filter such as ``APPROVED``; ``None`` for all.

        Returns:
            Every template on every page.

        Raises:
            ValueError: The client was built without ``business_account_id``.
        """
        if not self.business_account_id:
            raise ValueError("business_account_id is required to list message templates")
        params = {"limit": "100"}
        if status:
            params["status"] = status
        path = f"{_segment(self.business_account_id, 'business_account_id')}/message_templates"
        templates: list[MessageTemplate] = []
        async for page in self._pages(path, params, "list message templates"):
            data = page.get("data")
            for raw in data if isinstance(data, list) else []:
                templates.append(self._validate(raw, MessageTemplate, "list message templates"))
        return templates

    # -- plumbing ---------------------------------------------------------------------

    @property
    def _pnid(self) -> str:
        return _segment(self.phone_number_id, "phone_number_id")

    async def _decide_join_requests(
        self,
        group_id: str,
        ids: Sequence[str],
        method: Literal["POST", "DELETE"],
        model: type[_M],
    ) -> _M:
        join_requests = _check_ids(ids, "join requests")
        operation = "approve join requests" if method == "POST" else "reject join requests"
        response = await self._request(
            method,
            f"{_segment(group_id, 'group_id')}/join_requests",
            json={**_WHATSAPP, "join_requests": join_requests},
            repeatable=False,
            operation=operation,
        )
        payload = self._json(response)
        if isinstance(payload.get("error"), dict):
            raise self._scrubbed(error_from_response(response))
        # Per-item errors are API errors too: their texts are scrubbed like the others.
        return self._validate(scrub_value(payload, self._token), model, operation)

    async def _send(self, body: dict[str, Any]) -> SendResponse:
        response = await self._request(
            "POST",
            f"{self._pnid}/messages",
            json=body,
            repeatable=False,
            unknown=SendOutcomeUnknown,
            operation="send message",
        )
        result = self._parse(response, SendResponse)
        if not result.messages:
            raise self._scrubbed(
                UnexpectedResponseError(
                    "send response has no message id",
                    status_code=response.status_code,
                    request_method="POST",
                    request_url=str(response.request.url),
                )
            )
        return result

    async def _pages(
        self, path: str, params: Mapping[str, str], operation: str
    ) -> AsyncIterator[dict[str, Any]]:
        current: dict[str, str] = dict(params)
        seen_cursors: set[str] = set()
        while True:
            response = await self._request("GET", path, params=current, operation=operation)
            page = self._json(response)
            yield page
            following = _next_params(page)
            if following is None or following["after"] in seen_cursors:
                return
            seen_cursors.add(following["after"])
            current = following

    async def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        repeatable: bool = True,
        unknown: type[OutcomeUnknownError] = OutcomeUnknownError,
    ) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            target = redact_url(str(self._http.build_request(method, path, params=params).url))
            error: CloudError
            hint: float | None = None
            code: int | None = None
            exhausted = False
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, data=data, files=files
                )
            except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this process: repeating it is always safe.
                error = CloudTimeoutError(
                    f"{operation}: timed out before sending",
                    request_method=method,
                    request_url=target,
                )
                error.__cause__ = exc
            except httpx.ConnectError as exc:
                error = CloudConnectionError(
                    f"{operation}: could not connect: {exc}",
                    request_method=method,
                    request_url=target,
                )
                error.__cause__ = exc
            except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
                raise self._scrubbed(
                    CloudConnectionError(
                        f"{operation}: {exc}", request_method=method, request_url=target
                    )
                ) from exc
            except httpx.TransportError as exc:
                # The request may have reached Meta.
                timed_out = isinstance(exc, httpx.TimeoutException)
                if not repeatable:
                    what = "timed out" if timed_out else f"connection lost ({type(exc).__name__})"
                    raise self._scrubbed(
                        unknown(
                            f"{operation}: {what} after the request was sent; outcome unknown",
                            operation=operation,
                            request_method=method,
                            request_url=target,
                        )
                    ) from exc
                error_cls = CloudTimeoutError if timed_out else CloudConnectionError
                error = error_cls(
                    f"{operation}: {'timed out' if timed_out else 'connection lost'}"
                    f" ({type(exc).__name__})",
                    request_method=method,
                    request_url=target,
                )
                error.__cause__ = exc
            else:
                if response.status_code < 300:
                    return response
                api_error = error_from_response(response)
                api_error.scrub(self._token)
                if not repeatable and api_error.code is None and response.status_code >= 500:
                    # A gateway error without a Graph body says nothing about the outcome.
                    raise self._scrubbed(
                        unknown(
                            f"{operation}: HTTP {response.status_code} without a Graph error;"
                            " outcome unknown",
                            operation=operation,
                            request_method=method,
                            request_url=target,
                        )
                    ) from api_error
                allowed = (
                    api_error.retryable if repeatable else api_error.rejected_before_acceptance
                )
                if not allowed:
                    raise api_error
                error = api_error
                hint = api_error.retry_after
                code = api_error.code
                exhausted = usage_exhausted(response.headers)

            # Scrubbed before it is logged as well as before it is raised.
            error.scrub(self._token)
            delay = self._retry.delay(attempt, retry_after=hint, code=code, exhausted=exhausted)
            if delay is None:
                raise error from error.__cause__
            logger.warning(
                "%s %s failed (attempt %d of %d): %s; retrying in %.2fs",
                method,
                target,
                attempt,
                self._retry.max_attempts,
                error,
                delay,
            )
            await self._sleep(delay)

    def _scrubbed(self, error: CloudError) -> CloudError:
        error.scrub(self._token)
        return error

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if not response.content:
            return {}
        try:
            payload = response.json()
        except ValueError as exc:
            raise self._unexpected(response, "response body is not JSON") from exc
        if not isinstance(payload, dict):
            raise self._unexpected(response, "response body is not a JSON object")
        return payload

    def _parse(self, response: httpx.Response, model: type[_M]) -> _M:
        try:
            return model.model_validate(self._json(response))
        except ValidationError as exc:
            raise self._unexpected(response, _validation_summary(model, exc)) from None

    def _validate(self, raw: Any, model: type[_M], operation: str) -> _M:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise UnexpectedResponseError(
                f"{operation}: {_validation_summary(model, exc)}", status_code=200
            ) from None

    def _unexpected(self, response: httpx.Response, what: str) -> UnexpectedResponseError:
        error = UnexpectedResponseError(
            f"HTTP {response.status_code}: {what}",
            status_code=response.status_code,
            request_method=response.request.method,
            request_url=str(response.request.url),
        )
        error.scrub(self._token)
        return error


def _validation_summary(model: type[BaseModel], exc: ValidationError) -> str:
    fields = sorted({".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors()})
    return f"unexpected {model.__name__} shape (fields: {', '.join(fields)})"


def _nonempty(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return value.strip()


def _group_envelope(group_id: str) -> dict[str, Any]:
    return {**_WHATSAPP, "recipient_type": "group", "to": _nonempty(group_id, "group_id")}


def _request_id(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("request_id")
    return str(value) if value is not None else None


def _groups_of(page: Mapping[str, Any]) -> list[Any]:
    data = page.get("data")
    if isinstance(data, dict):
        data = data.get("groups")
    return data if isinstance(data, list) else []


def _next_params(page: Mapping[str, Any]) -> dict[str, str] | None:
    """Query for the next page, or ``None`` on the last page (no ``paging.next``)."""
    paging = page.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    params = {
        key: value
        for key, value in httpx.URL(str(paging["next"])).params.multi_items()
        if key != "access_token"
    }
    if not params.get("after"):
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not after:
            return None
        params["after"] = str(after)
    return params
