"""Media of the simulated account: uploads by the business and media members send.

``POST /{phone}/media``, ``GET /{media_id}`` and ``DELETE /{media_id}`` (reference 2.12).
Uploads are checked against Meta's MIME types and size limits; media that simulated
members send has no stored bytes: deterministic filler is served, and its hash is the
filler's, as the webhook and ``GET /{media_id}`` tell it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .errors import GraphError
from .scheduling import Ids, Timeline
from .state import Json

__all__ = ["MediaItem", "MediaStore"]

_MEDIA_LIMITS: dict[str, int] = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "application": 100 * 1024 * 1024,
    "text": 100 * 1024 * 1024,
}
_MEDIA_MIMES: frozenset[str] = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/3gpp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
_MEMBER_MEDIA: dict[str, tuple[str, int, int]] = {
    "image": ("image/jpeg", 20_000, 3_000_000),
    "video": ("video/mp4", 300_000, 15_000_000),
    "audio": ("audio/ogg; codecs=opus", 5_000, 900_000),
    "document": ("application/pdf", 10_000, 8_000_000),
    "sticker": ("image/webp", 5_000, 90_000),
}
"""MIME type and size range of what members send, by message type."""


@dataclass
class MediaItem:
    """Uploaded (or member-sent) media; bytes are generated on demand when absent."""

    id: str
    mime_type: str
    size: int
    sha256: str
    created_at: float
    data: bytes | None = None
    filename: str | None = None

    def content(self) -> bytes:
        """The media bytes (deterministic filler for simulated member media)."""
        if self.data is not None:
            return self.data
        seed = hashlib.sha256(self.id.encode()).digest()
        return (seed * (self.size // len(seed) + 1))[: self.size]


class MediaStore(Mapping[str, MediaItem]):
    """Every media item by id, and the media edges of the API.

    Args:
        ids: The world's id maker.
        timeline: Simulated time.
    """

    def __init__(self, *, ids: Ids, timeline: Timeline) -> None:
        self._ids = ids
        self._timeline = timeline
        self._items: dict[str, MediaItem] = {}

    def __getitem__(self, media_id: str) -> MediaItem:
        return self._items[media_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, media_id: object) -> bool:
        return media_id in self._items

    def member_media(
        self, kind: str, t: float, rng: random.Random, *, max_size: int | None = None
    ) -> MediaItem:
        """Store the media of a message a member sends (filler bytes, hashed).

        Args:
            kind: The message type (``image``, ``video``, ``audio``, ``document``...).
            t: When it was sent.
            rng: Random source of its size.
            max_size: Cap on its size (pre-population keeps media small).
        """
        mime, low, high = _MEMBER_MEDIA.get(kind, ("application/octet-stream", 1_000, 10_000))
        size = rng.randint(low, high)
        if max_size is not None:
            size = min(size, max_size)
        item = MediaItem(
            id=self._ids.media_id(self._items), mime_type=mime, size=size, sha256="", created_at=t
        )
        item.sha256 = hashlib.sha256(item.content()).hexdigest()
        self._items[item.id] = item
        return item

    def upload(self, data: bytes, mime_type: str, filename: str | None) -> Json:
        """``POST /{phone}/media``: ``{"id": ...}``."""
        mime = mime_type.split(";")[0].strip().lower()
        if mime not in _MEDIA_MIMES:
            raise GraphError(131053, f"Unsupported MIME type {mime}.")
        family = mime.split("/")[0]
        limit = _MEDIA_LIMITS.get(family, 100 * 1024 * 1024)
        if mime == "image/webp":
            limit = 500 * 1024
        if len(data) > limit:
            raise GraphError(
                131053, f"File is larger than the {limit // (1024 * 1024) or 1} MB limit."
            )
        if not data:
            raise GraphError(131053, "The file is empty.")
        mid = self._ids.media_id(self._items)
        self._items[mid] = MediaItem(
            id=mid,
            mime_type=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=self._timeline.now(),
            data=data,
            filename=filename,
        )
        return {"id": mid}

    def info(self, media_id: str, download_url: str) -> Json:
        """``GET /{media_id}``: URL (valid 5 minutes), MIME type, hash and size."""
        item = self._items.get(media_id)
        if item is None:
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist.",
                subcode=33,
            )
        return {
            "messaging_product": "whatsapp",
            "url": download_url,
            "mime_type": item.mime_type,
            "sha256": item.sha256,
            "file_size": str(item.size),
            "id": item.id,
        }

    def delete(self, media_id: str) -> Json:
        """``DELETE /{media_id}``."""
        if self._items.pop(media_id, None) is None:
            raise GraphError(
                100,
                f"Unsupported delete request. Object with ID '{media_id}' does not exist.",
                subcode=33,
            )
        return {"success": True}
