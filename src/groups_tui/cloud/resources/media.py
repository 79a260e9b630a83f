"""Media: upload for later sends, read, download and delete (reference 2.15)."""

from __future__ import annotations

from ..models import MediaInfo, MediaUpload
from .base import WHATSAPP, Resource, nonempty, segment

__all__ = ["Media"]


class Media(Resource):
    """Uploaded and received media (``client.media``)."""

    async def upload(self, data: bytes, mime_type: str, filename: str) -> str:
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
        client = self._client
        response = await client._request(
            "POST",
            f"{client._pnid}/media",
            data={**WHATSAPP, "type": nonempty(mime_type, "mime_type")},
            files={"file": (filename, data, mime_type)},
            operation="upload media",
        )
        return client._parse(response, MediaUpload).id

    async def get(self, media_id: str) -> MediaInfo:
        """Return a media object's short-lived download URL and metadata (reference 2.15)."""
        client = self._client
        response = await client._request(
            "GET",
            segment(media_id, "media_id"),
            params={"phone_number_id": client.phone_number_id},
            operation="get media",
        )
        return client._parse(response, MediaInfo)

    async def download(self, url: str) -> bytes:
        """Download media from a URL returned by :meth:`get`, with the bearer token."""
        response = await self._client._request(
            "GET", nonempty(url, "url"), operation="download media"
        )
        return response.content

    async def delete(self, media_id: str) -> None:
        """Delete an uploaded media object (reference 2.15)."""
        await self._client._request(
            "DELETE", segment(media_id, "media_id"), operation="delete media"
        )
