"""Which kind a file is sent as, or why it cannot be sent: one decision for the TUI, the
service and every command that sends a file.

The kind follows the file's MIME type: WebP is a sticker (the only format Meta accepts
for stickers, reference section 2.12), other images, videos and audio go by their major
type, and everything else is a document. The reference's format table is the rule:

* Image: JPEG, PNG. A WebP is *not* an image to Meta (``image/webp`` sent as ``image``
  fails with 131053), so it is decided as a sticker, and stickers are refused in groups
  until verified (:data:`~groups_tui.domain.sending.UNVERIFIED_KINDS`).
* Video MP4 and 3GP; audio AAC, AMR, MP3, M4A and OGG; documents TXT, PDF, DOC(X),
  XLS(X) and PPT(X) (:data:`~groups_tui.domain.limits.MEDIA_MIME_TYPES`).

The MIME type of those formats comes from :data:`MEDIA_EXTENSIONS`, not from the
machine's MIME database (which may not know ``.webp`` or ``.m4a``, or may call ``.3gp``
audio), so every machine decides alike. Other names fall back to :mod:`mimetypes`, only
to name the type in the refusal.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import PurePath
from types import MappingProxyType
from typing import Final

from groups_tui.domain.limits import MEDIA_MIME_TYPES, check_media
from groups_tui.domain.models import MessageKind
from groups_tui.domain.sending import Refusal, kind_refusal

__all__ = [
    "MEDIA_EXTENSIONS",
    "MEDIA_KINDS",
    "MediaFile",
    "media_for_file",
    "media_kind",
    "mime_for_name",
]

OCTET_STREAM: Final = "application/octet-stream"
"""The MIME type of a file nothing is known about."""

MEDIA_KINDS: Final[frozenset[MessageKind]] = frozenset(MEDIA_MIME_TYPES)
"""The message kinds that carry a file (image, video, audio, document, sticker)."""

MEDIA_EXTENSIONS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".png": "image/png",
        ".webp": "image/webp",
        ".mp4": "video/mp4",
        ".3gp": "video/3gpp",
        ".aac": "audio/aac",
        ".amr": "audio/amr",
        ".mp3": "audio/mpeg",
        ".m4a": "audio/mp4",
        ".ogg": "audio/ogg",
        ".txt": "text/plain",
        ".pdf": "application/pdf",
        ".doc": "application/msword",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xls": "application/vnd.ms-excel",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".ppt": "application/vnd.ms-powerpoint",
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
"""The MIME type of each file extension of a format Meta accepts."""

_BY_MAJOR_TYPE: Final[MappingProxyType[str, MessageKind]] = MappingProxyType(
    {"image": MessageKind.IMAGE, "video": MessageKind.VIDEO, "audio": MessageKind.AUDIO}
)


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A file that may be sent to a group, as far as the file itself goes.

    Attributes:
        kind: The kind to send it as (image, video, audio or document).
        mime: Its MIME type, as uploaded.
    """

    kind: MessageKind
    mime: str


def mime_for_name(name: str) -> str:
    """The MIME type of a file, from its name.

    Args:
        name: The file name (a path is fine).

    Returns:
        The type of a format Meta accepts, else what :mod:`mimetypes` guesses, else
        ``application/octet-stream``.
    """
    known = MEDIA_EXTENSIONS.get(PurePath(name).suffix.lower())
    return known or mimetypes.guess_type(name)[0] or OCTET_STREAM


def media_kind(mime: str) -> MessageKind:
    """The kind a file of this MIME type is sent as.

    Args:
        mime: The MIME type; parameters such as ``; codecs=opus`` and case are ignored.

    Returns:
        Sticker for WebP, image/video/audio by major type, document otherwise.
    """
    base = mime.split(";", 1)[0].strip().lower()
    if base in MEDIA_MIME_TYPES[MessageKind.STICKER]:
        return MessageKind.STICKER
    return _BY_MAJOR_TYPE.get(base.split("/", 1)[0], MessageKind.DOCUMENT)


def media_for_file(name: str, size: int, mime: str | None = None) -> MediaFile | Refusal:
    """Decide how a file is sent to a group, or why it cannot be.

    Checks run from the kind itself (stickers are refused in groups until verified) to
    the type and the size Meta accepts for it. Whether the group can receive it now
    (its state, its window) is :func:`~groups_tui.domain.sending.can_send`'s to say.

    Args:
        name: The file name (only its extension counts).
        size: Its size in bytes.
        mime: Its MIME type when known; else decided from the name.

    Returns:
        The kind and type to send it as, or the first refusal that applies.
    """
    mime = mime or mime_for_name(name)
    kind = media_kind(mime)
    refusal = kind_refusal(kind) or check_media(kind, mime, size)
    return refusal if refusal is not None else MediaFile(kind, mime)
