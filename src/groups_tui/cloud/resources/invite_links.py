"""Invite links: read the current link, reset it, delete it (reference 2.5, 2.6, 2.6b)."""

from __future__ import annotations

from ..models import InviteLink
from .base import WHATSAPP, Resource, segment

__all__ = ["InviteLinks"]


class InviteLinks(Resource):
    """A group's invite link (``client.invite_links``)."""

    async def get(self, group_id: str) -> str:
        """Return the group's current invite link (reference 2.5)."""
        response = await self._client._request(
            "GET", f"{segment(group_id, 'group_id')}/invite_link", operation="get invite link"
        )
        return self._client._parse(response, InviteLink).invite_link

    async def reset(self, group_id: str) -> str:
        """Revoke every issued link and return a new one (reference 2.6)."""
        response = await self._client._request(
            "POST",
            f"{segment(group_id, 'group_id')}/invite_link",
            json=dict(WHATSAPP),
            operation="reset invite link",
        )
        return self._client._parse(response, InviteLink).invite_link

    async def delete(self, group_id: str) -> None:
        """Delete the current invite link (reference 2.6b, lightly documented)."""
        await self._client._request(
            "DELETE",
            f"{segment(group_id, 'group_id')}/invite_link",
            json=dict(WHATSAPP),
            operation="delete invite link",
        )
