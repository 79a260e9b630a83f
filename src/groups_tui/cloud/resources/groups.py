"""Groups: create, read, list, delete, and change settings or picture (reference 2.1-2.4, 2.11)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ..errors import CreateGroupOutcomeUnknown, InvalidRequestError
from ..models import CreateGroupResponse, GroupInfo, GroupSummary
from .base import WHATSAPP, Resource, request_id, segment

__all__ = ["DEFAULT_GROUP_FIELDS", "Groups"]

logger = logging.getLogger("groups_tui.cloud")

DEFAULT_GROUP_FIELDS: tuple[str, ...] = (
    "subject",
    "description",
    "participants",
    "join_approval_mode",
    "suspended",
    "creation_timestamp",
    "total_participant_count",
)
"""Fields requested by :meth:`Groups.get` unless told otherwise."""

MAX_SUBJECT = 128
MAX_DESCRIPTION = 2048
MAX_PICTURE_BYTES = 5 * 1024 * 1024
MAX_LIST_LIMIT = 1024
CURSOR_EXPIRED_CODE = 131059


class Groups(Resource):
    """The groups of the business phone number (``client.groups``)."""

    async def create(
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
            **WHATSAPP,
            "subject": _check_subject(subject),
            "join_approval_mode": "approval_required" if join_approval else "auto_approve",
        }
        if description is not None:
            body["description"] = _check_description(description)
        client = self._client
        response = await client._request(
            "POST",
            f"{client._pnid}/groups",
            json=body,
            repeatable=False,
            unknown=CreateGroupOutcomeUnknown,
            operation="create group",
        )
        return client._parse(response, CreateGroupResponse).request_id

    async def get(self, group_id: str, fields: Sequence[str] = DEFAULT_GROUP_FIELDS) -> GroupInfo:
        """Read a group's metadata and participants (reference 2.2).

        Args:
            group_id: The group id.
            fields: Fields to request; empty for only ``id``.

        Returns:
            The group.
        """
        params = {"fields": ",".join(fields)} if fields else None
        response = await self._client._request(
            "GET", segment(group_id, "group_id"), params=params, operation="get group"
        )
        return self._client._parse(response, GroupInfo)

    async def list(self, limit: int = MAX_LIST_LIMIT) -> AsyncIterator[GroupSummary]:
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
        client = self._client
        seen: set[str] = set()
        restarted = False
        while True:
            try:
                async for page in client._pages(
                    f"{client._pnid}/groups", {"limit": str(limit)}, "list groups"
                ):
                    for raw in _groups_of(page):
                        group = client._validate(raw, GroupSummary, "list groups")
                        if group.id not in seen:
                            seen.add(group.id)
                            yield group
                return
            except InvalidRequestError as exc:
                if exc.code != CURSOR_EXPIRED_CODE or restarted:
                    raise
                restarted = True
                logger.warning("Group list cursor expired (#131059); restarting from page 1")

    async def delete(self, group_id: str) -> None:
        """Delete a group, removing every participant (reference 2.4). Asynchronous.

        Args:
            group_id: The group id.
        """
        await self._client._request(
            "DELETE",
            segment(group_id, "group_id"),
            repeatable=False,
            operation="delete group",
        )

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
        body: dict[str, Any] = dict(WHATSAPP)
        if subject is not None:
            body["subject"] = _check_subject(subject)
        if description is not None:
            body["description"] = _check_description(description)
        if len(body) == 1:
            raise ValueError("give a subject, a description or both")
        response = await self._client._request(
            "POST", segment(group_id, "group_id"), json=body, operation="update settings"
        )
        return request_id(self._client._json(response))

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
        response = await self._client._request(
            "POST",
            segment(group_id, "group_id"),
            data=dict(WHATSAPP),
            files={"file": (filename, jpeg, "image/jpeg")},
            operation="update picture",
        )
        return request_id(self._client._json(response))


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


def _groups_of(page: Mapping[str, Any]) -> list[Any]:
    data = page.get("data")
    if isinstance(data, dict):
        data = data.get("groups")
    return data if isinstance(data, list) else []
