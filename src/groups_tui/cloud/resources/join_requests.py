"""Join requests: list the pending ones, approve or reject them (reference 2.8-2.10)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel

from ..errors import error_from_response
from ..models import ApproveResult, JoinRequestItem, RejectResult
from ..scrubbing import scrub_value
from .base import WHATSAPP, Resource, check_ids, segment

__all__ = ["JoinRequests"]

_M = TypeVar("_M", bound=BaseModel)


class JoinRequests(Resource):
    """Requests to join a group that needs approval (``client.join_requests``)."""

    async def list(self, group_id: str) -> builtins.list[JoinRequestItem]:
        """Return every pending join request, following paging (reference 2.8)."""
        client = self._client
        items: builtins.list[JoinRequestItem] = []
        path = f"{segment(group_id, 'group_id')}/join_requests"
        async for page in client._pages(path, {}, "list join requests"):
            data = page.get("data")
            if isinstance(data, dict):
                data = data.get("join_requests")
            for raw in data if isinstance(data, builtins.list) else []:
                items.append(client._validate(raw, JoinRequestItem, "list join requests"))
        return items

    async def approve(self, group_id: str, ids: Sequence[str]) -> ApproveResult:
        """Approve join requests (reference 2.9).

        Args:
            group_id: The group id.
            ids: Join request ids, no duplicates.

        Returns:
            Approved ids and the failed ones with their errors (131204 when full).
        """
        return await self._decide(group_id, ids, "POST", ApproveResult)

    async def reject(self, group_id: str, ids: Sequence[str]) -> RejectResult:
        """Reject join requests (reference 2.10).

        Args:
            group_id: The group id.
            ids: Join request ids, no duplicates.

        Returns:
            Rejected ids and the failed ones with their errors.
        """
        return await self._decide(group_id, ids, "DELETE", RejectResult)

    async def _decide(
        self,
        group_id: str,
        ids: Sequence[str],
        method: Literal["POST", "DELETE"],
        model: type[_M],
    ) -> _M:
        join_requests = check_ids(ids, "join requests")
        operation = "approve join requests" if method == "POST" else "reject join requests"
        client = self._client
        response = await client._request(
            method,
            f"{segment(group_id, 'group_id')}/join_requests",
            json={**WHATSAPP, "join_requests": join_requests},
            repeatable=False,
            operation=operation,
        )
        payload = client._json(response)
        if isinstance(payload.get("error"), dict):
            raise client._scrubbed(error_from_response(response))
        # Per-item errors are API errors too: their texts are scrubbed like the others.
        return client._validate(scrub_value(payload, client._token), model, operation)
