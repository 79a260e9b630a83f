"""The group edges of the simulated Graph API: create, list, read, delete, settings, links.

``POST /{phone}/groups``, ``GET /{phone}/groups``, ``GET|POST|DELETE /{group_id}`` and
``/{group_id}/invite_link`` (reference section 2). Each method takes the parsed request,
returns the response body and raises :class:`~groups_tui.sandbox.errors.GraphError` for
what Meta refuses. Asynchronous operations (create, delete, settings) answer at once and
take effect, with their webhook, ``op_delay`` simulated seconds later.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from groups_tui.domain.events import FIELD_LIFECYCLE, FIELD_SETTINGS, FIELD_STATUS

from .emitter import Emitter
from .errors import GraphError, error_object
from .params import decode_cursor, encode_cursor, require_product
from .scheduling import Ids, Timeline
from .state import GroupRegistry, Json, SandboxKnobs

__all__ = ["GroupsApi", "jpeg_size"]

_GROUP_FIELDS = frozenset(
    {
        "id",
        "messaging_product",
        "subject",
        "description",
        "join_approval_mode",
        "suspended",
        "creation_timestamp",
        "participants",
        "total_participant_count",
    }
)


class GroupsApi:
    """Groups as the business manages them through the API.

    Args:
        groups: The group registry.
        ids: The world's id maker.
        emitter: Where webhooks go.
        timeline: Simulated time.
        knobs: Limits and delays.
    """

    def __init__(
        self,
        *,
        groups: GroupRegistry,
        ids: Ids,
        emitter: Emitter,
        timeline: Timeline,
        knobs: SandboxKnobs,
    ) -> None:
        self._groups = groups
        self._ids = ids
        self._emitter = emitter
        self._timeline = timeline
        self._knobs = knobs
        self.pending_creates = 0
        """Creations answered whose ``group_create`` webhook has not gone out yet."""

    def create(self, body: Mapping[str, Any]) -> Json:
        """``POST /{phone}/groups``: validate, answer a ``request_id``, create later.

        The ``group_create`` webhook (success with id and invite link, or failure such as
        131211 when the limit is reached) follows after ``op_delay``.
        """
        require_product(body)
        subject = body.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            raise GraphError(100, "The parameter subject is required.", title="Invalid parameter")
        subject = subject.strip()
        if len(subject) > 128:
            raise GraphError(100, "Param subject must be at most 128 characters long.")
        description = body.get("description", "")
        if not isinstance(description, str) or len(description) > 2048:
            raise GraphError(100, "Param description must be a string of at most 2048 characters.")
        mode = body.get("join_approval_mode", "auto_approve")
        if mode not in ("auto_approve", "approval_required"):
            raise GraphError(
                100, "Param join_approval_mode must be one of {auto_approve, approval_required}."
            )
        self._groups.take_op()
        request_id = self._ids.request_id()
        self.pending_creates += 1

        def finish(t: float) -> None:
            self.pending_creates -= 1
            item: Json = {
                "timestamp": self._emitter.ts(t),
                "type": "group_create",
                "request_id": request_id,
                "subject": subject,
            }
            if self._groups.active_count >= self._knobs.max_groups:
                item["description"] = description
                item["errors"] = [
                    error_object(
                        131211,
                        f"This phone number already has {self._knobs.max_groups} groups.",
                    )
                ]
                self._emitter.emit(FIELD_LIFECYCLE, {"groups": [item]})
                return
            group = self._groups.add(subject, description=description, mode=mode, created_at=t)
            item.update(
                {
                    "group_id": group.id,
                    "invite_link": group.invite_link,
                    "join_approval_mode": mode,
                }
            )
            if description:
                item["description"] = description
            self._emitter.emit(FIELD_LIFECYCLE, {"groups": [item]})

        self._timeline.later(self._knobs.op_delay, finish)
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def list_groups(
        self, *, limit: str | None, after: str | None, before: str | None, page_url: str
    ) -> Json:
        """``GET /{phone}/groups``: active groups, paged with Graph cursors.

        Args:
            limit: Page size, 1..1024 (default 25).
            after: Cursor of the last item seen.
            before: Cursor of the first item seen.
            page_url: URL of this edge without query, for ``paging.next``/``previous``.
        """
        try:
            size = 25 if limit is None else int(limit)
        except ValueError:
            raise GraphError(100, "Param limit must be an integer.") from None
        if not 1 <= size <= 1024:
            raise GraphError(100, "Param limit must be between 1 and 1024.")
        active = self._groups.active()
        if after is not None:
            seq = decode_cursor(after)
            rest = [g for g in active if g.seq > seq]
            page = rest[:size]
            has_prev = any(g.seq <= seq for g in active)
            has_next = len(rest) > size
        elif before is not None:
            seq = decode_cursor(before)
            earlier = [g for g in active if g.seq < seq]
            page = earlier[-size:]
            has_prev = len(earlier) > size
            has_next = any(g.seq >= seq for g in active)
        else:
            page = active[:size]
            has_prev = False
            has_next = len(active) > size
        body: Json = {
            "data": {
                "groups": [
                    {"id": g.id, "subject": g.subject, "created_at": str(int(g.created_at))}
                    for g in page
                ]
            }
        }
        if page:
            first, last = encode_cursor(page[0].seq), encode_cursor(page[-1].seq)
            paging: Json = {"cursors": {"after": last, "before": first}}
            if has_prev:
                paging["previous"] = f"{page_url}?limit={size}&before={first}"
            if has_next:
                paging["next"] = f"{page_url}?limit={size}&after={last}"
            body["paging"] = paging
        return body

    def info(self, group_id: str, fields: str | None) -> Json:
        """``GET /{group_id}?fields=...``."""
        group = self._groups.require(group_id)
        body: Json = {"messaging_product": "whatsapp", "id": group.id}
        wanted = [f.strip() for f in (fields or "").split(",") if f.strip()]
        for name in wanted:
            if name not in _GROUP_FIELDS:
                raise GraphError(
                    100, f"Tried accessing nonexisting field ({name}) on node type (WhatsAppGroup)"
                )
        for name in wanted:
            if name == "subject":
                body["subject"] = group.subject
            elif name == "description":
                if group.description:
                    body["description"] = group.description
            elif name == "join_approval_mode":
                body["join_approval_mode"] = group.mode
            elif name == "suspended":
                body["suspended"] = group.suspended
            elif name == "creation_timestamp":
                body["creation_timestamp"] = int(group.created_at)
            elif name == "participants":
                body["participants"] = [self._emitter.person_ids(w) for w in group.members]
            elif name == "total_participant_count":
                body["total_participant_count"] = len(group.members)
        return body

    def delete(self, group_id: str) -> Json:
        """``DELETE /{group_id}``: ``{"success": true}`` now, ``group_delete`` webhook later."""
        group = self._groups.require(group_id)
        self._groups.take_op()
        request_id = self._ids.request_id()

        def finish(t: float) -> None:
            item: Json = {
                "timestamp": self._emitter.ts(t),
                "group_id": group.id,
                "type": "group_delete",
                "request_id": request_id,
            }
            if group.deleted:
                item["errors"] = [error_object(131041, "The group was already deleted.")]
            else:
                group.deleted = True
                group.members.clear()
                group.join_requests.clear()
                self._groups.set_link(group, None)
            self._emitter.emit(FIELD_LIFECYCLE, {"groups": [item]})

        self._timeline.later(self._knobs.op_delay, finish)
        return {"success": True}

    def get_invite_link(self, group_id: str) -> Json:
        """``GET /{group_id}/invite_link`` (a deleted link is replaced by a new one)."""
        group = self._groups.writable(group_id)
        if group.invite_link is None:
            self._groups.set_link(group, self._groups.new_link())
        return {"messaging_product": "whatsapp", "invite_link": group.invite_link}

    def reset_invite_link(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``POST /{group_id}/invite_link``: a new link; every earlier one stops working."""
        require_product(body)
        group = self._groups.writable(group_id)
        self._groups.take_op()
        self._groups.set_link(group, self._groups.new_link())
        return {"messaging_product": "whatsapp", "invite_link": group.invite_link}

    def delete_invite_link(self, group_id: str) -> Json:
        """``DELETE /{group_id}/invite_link``: nobody can join by link until a new one."""
        group = self._groups.writable(group_id)
        self._groups.take_op()
        self._groups.set_link(group, None)
        return {"messaging_product": "whatsapp", "success": True}

    def update_settings(
        self,
        group_id: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        picture: tuple[bytes, str] | None = None,
    ) -> Json:
        """``POST /{group_id}``: parameters checked now; each part's outcome by webhook.

        Picture problems (not JPEG, over 5 MB, not square, 192 px or less) arrive as a
        failed ``profile_picture`` part of the ``group_settings_update`` webhook.
        """
        group = self._groups.writable(group_id)
        if subject is None and description is None and picture is None:
            raise GraphError(100, "Nothing to update: pass subject, description or file.")
        if subject is not None:
            subject = subject.strip()
            if not subject:
                raise GraphError(100, "Param subject must not be empty.")
            if len(subject) > 128:
                raise GraphError(100, "Param subject must be at most 128 characters long.")
        if description is not None and len(description) > 2048:
            raise GraphError(100, "Param description must be at most 2048 characters long.")
        self._groups.take_op()
        request_id = self._ids.request_id()

        def finish(t: float) -> None:
            item: Json = {
                "timestamp": self._emitter.ts(t),
                "group_id": group.id,
                "type": "group_settings_update",
                "request_id": request_id,
            }
            any_failed = False
            if picture is not None:
                data, mime = picture
                sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
                part: Json = {"mime_type": mime, "sha256": sha}
                problem = _picture_problem(data, mime)
                if problem is None and not group.deleted:
                    group.picture_sha256 = sha
                    part["update_successful"] = True
                else:
                    any_failed = True
                    part["update_successful"] = False
                    part["errors"] = [error_object(*(problem or (131041, "Group deleted")))]
                item["profile_picture"] = part
            if subject is not None:
                item["group_subject"] = {"text": subject, "update_successful": not group.deleted}
                if not group.deleted:
                    group.subject = subject
            if description is not None:
                item["group_description"] = {
                    "text": description,
                    "update_successful": not group.deleted,
                }
                if not group.deleted:
                    group.description = description
            if any_failed:
                item["errors"] = [error_object(131009, "Some group settings could not be updated.")]
            self._emitter.emit(FIELD_SETTINGS, {"groups": [item]})

        self._timeline.later(self._knobs.op_delay, finish)
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def suspend(self, group_id: str, *, cleared: bool = False, at: float | None = None) -> None:
        """WhatsApp suspends a group (or clears the suspension), with its webhook.

        Not an API call: WhatsApp's own action, for tests and the control routes.
        """
        group = self._groups.require(group_id)
        group.suspended = not cleared
        t = self._timeline.now() if at is None else at
        self._emitter.emit(
            FIELD_STATUS,
            {
                "groups": [
                    {
                        "timestamp": self._emitter.ts(t),
                        "type": "group_suspend_cleared" if cleared else "group_suspend",
                        "group_id": group.id,
                    }
                ]
            },
        )


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a JPEG from its SOF marker, or ``None`` if not a JPEG.

    Args:
        data: File bytes.

    Returns:
        ``(width, height)`` or ``None``.
    """
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    i = 2
    for _ in range(10_000):  # bounded walk over segments
        if i + 4 > len(data) or data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if i + 9 > len(data):
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if marker == 0xD9:
            return None
        i += 2 + length
    return None


def _picture_problem(data: bytes, mime: str) -> tuple[int, str] | None:
    if mime.split(";")[0].strip().lower() != "image/jpeg":
        return 131053, "The group picture must be a JPEG image."
    if len(data) > 5 * 1024 * 1024:
        return 131053, "The group picture must be at most 5 MB."
    size = jpeg_size(data)
    if size is None:
        return 131053, "The file is not a readable JPEG image."
    width, height = size
    if width != height:
        return 131209, f"The picture is {width}x{height}; it must be square."
    if width <= 192:
        return 131210, f"The picture is {width}x{height}; it must be larger than 192 px."
    return None
