"""Pydantic models of Cloud API responses.

Every model accepts unknown fields, because Meta adds fields without notice. Meta's
samples quote numbers and booleans as strings in some places and not in others
(reference 9.19), so integers, booleans and identifiers are parsed leniently.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

__all__ = [
    "ApproveResult",
    "CreateGroupResponse",
    "Cursors",
    "ErrorDetail",
    "FailedItem",
    "GroupInfo",
    "GroupSummary",
    "InviteLink",
    "JoinRequestItem",
    "MediaInfo",
    "MediaUpload",
    "MessageTemplate",
    "Paging",
    "Participant",
    "RejectResult",
    "SendContact",
    "SendResponse",
    "SentMessage",
    "SuccessResponse",
]


class CloudModel(BaseModel):
    """Base of every response model: unknown fields kept, numeric ids read as strings."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        coerce_numbers_to_str=True,
    )


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


OptInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
"""An integer that may arrive as a number, a numeric string or an empty string."""
OptBool = Annotated[bool | None, BeforeValidator(_blank_to_none)]
"""A boolean that may arrive as ``true`` or ``"true"``."""


class ErrorDetail(CloudModel):
    """One entry of an ``errors[]`` array (join-request results, partial failures)."""

    code: OptInt = None
    message: str | None = None
    title: str | None = None
    error_data: dict[str, Any] | None = None

    @field_validator("error_data", mode="before")
    @classmethod
    def _error_data_dict(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"details": value}
        return value

    @property
    def details(self) -> str | None:
        """The human explanation Meta puts in ``error_data.details``."""
        if self.error_data is None:
            return None
        details = self.error_data.get("details")
        return details if isinstance(details, str) else None


class FailedItem(CloudModel):
    """An item of a bulk operation that failed, with its errors.

    Join-request results name it by ``join_request_id``; participant operations by
    ``input`` (what was sent) and ``wa_id``/``user_id``.
    """

    join_request_id: str | None = None
    input: str | None = None
    user: str | None = None
    wa_id: str | None = None
    user_id: str | None = None
    errors: list[ErrorDetail] = Field(default_factory=list)

    @property
    def ref(self) -> str | None:
        """The identifier of the failed item, whichever form the response used."""
        return self.join_request_id or self.input or self.user or self.user_id or self.wa_id

    @property
    def codes(self) -> list[int]:
        """Error codes attached to this item."""
        return [e.code for e in self.errors if e.code is not None]


class Cursors(CloudModel):
    """Graph cursor pair."""

    before: str | None = None
    after: str | None = None


class Paging(CloudModel):
    """Graph paging block; ``next`` is absent on the last page."""

    cursors: Cursors | None = None
    next: str | None = None
    previous: str | None = None


class CreateGroupResponse(CloudModel):
    """Response of ``POST /<PHONE_NUMBER_ID>/groups`` (reference 2.1)."""

    messaging_product: str | None = None
    request_id: str


class Participant(CloudModel):
    """A group member as listed by get-group-info; ``wa_id`` may be missing since 2026."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None

    @property
    def key(self) -> str | None:
        """Stable identifier: the business-scoped ``user_id`` when present, else ``wa_id``."""
        return self.user_id or self.wa_id


class GroupInfo(CloudModel):
    """Response of ``GET /<GROUP_ID>?fields=...`` (reference 2.2)."""

    id: str | None = None
    messaging_product: str | None = None
    subject: str | None = None
    description: str | None = None
    join_approval_mode: str | None = None
    suspended: OptBool = None
    creation_timestamp: OptInt = None
    participants: list[Participant] = Field(default_factory=list)
    total_participant_count: OptInt = None

    @field_validator("participants", mode="before")
    @classmethod
    def _participants_list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            return value["data"]
        return value

    @property
    def approval_required(self) -> bool:
        """Whether joining needs the business's approval."""
        return self.join_approval_mode == "approval_required"


class GroupSummary(CloudModel):
    """One item of the list-active-groups response (reference 2.3)."""

    id: str
    subject: str | None = None
    created_at: OptInt = None


class InviteLink(CloudModel):
    """Response of get or reset invite link (reference 2.5, 2.6)."""

    messaging_product: str | None = None
    invite_link: str


class JoinRequestItem(CloudModel):
    """One pending join request (reference 2.8)."""

    join_request_id: str
    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    creation_timestamp: OptInt = None


class _JoinRequestResult(CloudModel):
    messaging_product: str | None = None
    failed: list[FailedItem] = Field(default_factory=list, alias="failed_join_requests")
    errors: list[ErrorDetail] = Field(default_factory=list)

    @property
    def failed_ids(self) -> list[str]:
        """Ids of the join requests that failed."""
        return [item.ref for item in self.failed if item.ref is not None]


class ApproveResult(_JoinRequestResult):
    """Response of approve join requests (reference 2.9)."""

    approved: list[str] = Field(default_factory=list, alias="approved_join_requests")


class RejectResult(_JoinRequestResult):
    """Response of reject join requests (reference 2.10)."""

    rejected: list[str] = Field(default_factory=list, alias="rejected_join_requests")


class SendContact(CloudModel):
    """``contacts[]`` item of a send response; for a group it echoes the group id."""

    input: str | None = None
    wa_id: str | None = None
    user_id: str | None = None


class SentMessage(CloudModel):
    """``messages[]`` item of a send response."""

    id: str
    group_id: str | None = None
    message_status: str | None = None


class SendResponse(CloudModel):
    """Response of ``POST /<PHONE_NUMBER_ID>/messages`` (reference 2.12)."""

    messaging_product: str | None = None
    contacts: list[SendContact] = Field(default_factory=list)
    messages: list[SentMessage] = Field(default_factory=list)

    @property
    def message_id(self) -> str:
        """The ``wamid`` of the accepted message."""
        return self.messages[0].id


class MediaUpload(CloudModel):
    """Response of ``POST /<PHONE_NUMBER_ID>/media``."""

    id: str


class MediaInfo(CloudModel):
    """Response of ``GET /<MEDIA_ID>``; ``url`` expires after five minutes."""

    id: str | None = None
    messaging_product: str | None = None
    url: str
    mime_type: str | None = None
    sha256: str | None = None
    file_size: OptInt = None


class SuccessResponse(CloudModel):
    """``{"success": true}`` style responses (the string ``"true"`` is accepted too)."""

    messaging_product: str | None = None
    success: OptBool = None


class MessageTemplate(CloudModel):
    """One item of ``GET /<WABA_ID>/message_templates``."""

    id: str | None = None
    name: str
    language: str | None = None
    category: str | None = None
    status: str | None = None
    components: list[dict[str, Any]] = Field(default_factory=list)
