"""Groups API limits, and validators that catch a violation before the API does.

Figures come from the reference (cloud-api-groups.md sections 0, 2.11, 2.15 and 4.1).
Byte caps use decimal megabytes (1 MB = 1,000,000 bytes): Meta writes "5 MB" without
saying which, and the smaller reading never sends a file Meta would reject.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from groups_tui.domain.models import MessageKind
from groups_tui.domain.sending import Refusal

__all__ = [
    "DESCRIPTION_MAX",
    "MAX_GROUPS_PER_NUMBER",
    "MAX_PARTICIPANTS",
    "MAX_REMOVE_PER_CALL",
    "MEDIA_MAX_BYTES",
    "MEDIA_MIME_TYPES",
    "PICTURE_MAX_BYTES",
    "PICTURE_MIME",
    "PICTURE_MIN_SIDE",
    "STICKER_ANIMATED_MAX_BYTES",
    "STICKER_STATIC_MAX_BYTES",
    "SUBJECT_MAX",
    "check_capacity",
    "check_description",
    "check_group_count",
    "check_media",
    "check_picture",
    "check_picture_data",
    "check_remove_batch",
    "check_subject",
    "jpeg_dimensions",
]

_KB: Final = 1_000
_MB: Final = 1_000_000

MAX_PARTICIPANTS: Final = 8
"""Members per group besides the business (error 131204 beyond it)."""

MAX_GROUPS_PER_NUMBER: Final = 10_000
"""Groups per business phone number (error 131211 beyond it)."""

SUBJECT_MAX: Final = 128
"""Subject length in characters, counted after trimming surrounding whitespace."""

DESCRIPTION_MAX: Final = 2048
"""Description length in characters."""

MAX_REMOVE_PER_CALL: Final = 8
"""Participants per remove call."""

TEXT_MAX: Final = 4096
"""Characters in a text message body (Cloud API text messages)."""

PICTURE_MIME: Final = "image/jpeg"
"""The only format accepted for a group picture."""

PICTURE_MIN_SIDE: Final = 193
"""Smallest accepted side. Meta says "minimum 192x192" but error 131210 says "must be
greater than 192px", so 193 is the size that satisfies both readings."""

PICTURE_MAX_BYTES: Final = 5 * _MB
"""Largest group picture."""

STICKER_STATIC_MAX_BYTES: Final = 100 * _KB
"""Largest static sticker."""

STICKER_ANIMATED_MAX_BYTES: Final = 500 * _KB
"""Largest animated sticker."""

MEDIA_MAX_BYTES: Final[MappingProxyType[MessageKind, int]] = MappingProxyType(
    {
        MessageKind.IMAGE: 5 * _MB,
        MessageKind.VIDEO: 16 * _MB,
        MessageKind.AUDIO: 16 * _MB,
        MessageKind.DOCUMENT: 100 * _MB,
        MessageKind.STICKER: STICKER_ANIMATED_MAX_BYTES,
    }
)
"""Size cap per media kind (stickers: the animated cap; see :func:`check_media`)."""

MEDIA_MIME_TYPES: Final[MappingProxyType[MessageKind, frozenset[str]]] = MappingProxyType(
    {
        MessageKind.IMAGE: frozenset({"image/jpeg", "image/png"}),
        MessageKind.VIDEO: frozenset({"video/mp4", "video/3gpp"}),
        MessageKind.AUDIO: frozenset(
            {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}
        ),
        MessageKind.DOCUMENT: frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        MessageKind.STICKER: frozenset({"image/webp"}),
    }
)
"""Accepted MIME types per media kind (TXT, XLS(X), DOC(X), PPT(X), PDF for documents)."""


def _megabytes(n: int) -> str:
    if n >= _MB:
        return f"{n / _MB:g} MB"
    return f"{n / _KB:g} KB"


def check_subject(subject: str) -> Refusal | None:
    """Validate a group subject.

    Args:
        subject: The subject as typed; surrounding whitespace is ignored.

    Returns:
        A refusal if it is empty or longer than :data:`SUBJECT_MAX`, else ``None``.
    """
    trimmed = subject.strip()
    if not trimmed:
        return Refusal("subject_empty", "A group subject cannot be empty", 100)
    if len(trimmed) > SUBJECT_MAX:
        return Refusal(
            "subject_too_long",
            f"A group subject can have at most {SUBJECT_MAX} characters "
            f"(this one has {len(trimmed)})",
            100,
        )
    return None


def check_description(description: str) -> Refusal | None:
    """Validate a group description (an empty one clears it).

    Args:
        description: The description text.

    Returns:
        A refusal if it is longer than :data:`DESCRIPTION_MAX`, else ``None``.
    """
    if len(description) > DESCRIPTION_MAX:
        return Refusal(
            "description_too_long",
            f"A group description can have at most {DESCRIPTION_MAX} characters "
            f"(this one has {len(description)})",
            100,
        )
    return None


def check_picture(width: int, height: int, size_bytes: int, mime: str) -> Refusal | None:
    """Validate a group picture.

    Args:
        width: Width in pixels.
        height: Height in pixels.
        size_bytes: File size.
        mime: MIME type of the file.

    Returns:
        The first rule broken (format, size, squareness, minimum side), else ``None``.
    """
    if _base_mime(mime) != PICTURE_MIME:
        return Refusal("picture_not_jpeg", "A group picture must be a JPEG image", 131053)
    if size_bytes > PICTURE_MAX_BYTES:
        return Refusal(
            "picture_too_large",
            f"A group picture can be at most {_megabytes(PICTURE_MAX_BYTES)}",
            131053,
        )
    if width != height:
        return Refusal(
            "picture_not_square",
            f"A group picture must be square (this one is {width}x{height})",
            131209,
        )
    if width < PICTURE_MIN_SIDE:
        return Refusal(
            "picture_too_small",
            f"A group picture must be larger than 192x192 pixels (this one is {width}x{height})",
            131210,
        )
    return None


def check_picture_data(data: bytes, mime: str = PICTURE_MIME) -> Refusal | None:
    """Validate a group picture from its bytes.

    Args:
        data: The file contents.
        mime: Its declared MIME type.

    Returns:
        A refusal if the bytes are not a readable JPEG or break a rule, else ``None``.
    """
    dims = jpeg_dimensions(data)
    if dims is None:
        return Refusal("picture_not_jpeg", "A group picture must be a readable JPEG image", 131053)
    return check_picture(dims[0], dims[1], len(data), mime)


def _base_mime(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def check_media(
    kind: MessageKind | str, mime: str, size_bytes: int, *, animated: bool | None = None
) -> Refusal | None:
    """Validate media before upload.

    Args:
        kind: The media kind (image, video, audio, document or sticker).
        mime: The file's MIME type; parameters such as ``; codecs=opus`` are ignored.
        size_bytes: File size.
        animated: For stickers, whether the WebP is animated. ``None`` (unknown) applies
            the larger animated cap and leaves the final word to Meta.

    Returns:
        A refusal for a non-media kind, a MIME type Meta does not accept for the kind,
        or a file over the cap; else ``None``.
    """
    try:
        media_kind = MessageKind(str(kind))
    except ValueError:
        media_kind = MessageKind.UNSUPPORTED
    allowed = MEDIA_MIME_TYPES.get(media_kind)
    if allowed is None:
        return Refusal("not_media", f"{kind!s} is not a media kind", None)
    if _base_mime(mime) not in allowed:
        return Refusal(
            "media_type_not_allowed",
            f"WhatsApp does not accept {mime} as {media_kind.value} "
            f"(allowed: {', '.join(sorted(allowed))})",
            131053,
        )
    cap = MEDIA_MAX_BYTES[media_kind]
    if media_kind is MessageKind.STICKER and animated is False:
        cap = STICKER_STATIC_MAX_BYTES
    if size_bytes > cap:
        return Refusal(
            "media_too_large",
            f"WhatsApp accepts {media_kind.value} files of at most {_megabytes(cap)}",
            131053,
        )
    return None


def check_remove_batch(n: int) -> Refusal | None:
    """Validate the number of participants in one remove call.

    Args:
        n: Participants to remove.

    Returns:
        A refusal if none are given or more than :data:`MAX_REMOVE_PER_CALL`.
    """
    if n < 1:
        return Refusal("remove_batch_empty", "Choose at least one participant to remove", None)
    if n > MAX_REMOVE_PER_CALL:
        return Refusal(
            "remove_batch_too_large",
            f"At most {MAX_REMOVE_PER_CALL} participants can be removed in one call",
            100,
        )
    return None


def check_capacity(current_participants: int, adding: int) -> Refusal | None:
    """Check that a group has room for more members.

    Args:
        current_participants: Members now, besides the business.
        adding: Members about to join (approved requests, for instance).

    Returns:
        A refusal if the total would exceed :data:`MAX_PARTICIPANTS`.
    """
    if current_participants + max(adding, 0) > MAX_PARTICIPANTS:
        free = max(MAX_PARTICIPANTS - current_participants, 0)
        return Refusal(
            "group_full",
            f"A WhatsApp group can have at most {MAX_PARTICIPANTS} members besides the "
            f"business; room is left for {free}",
            131204,
        )
    return None


def check_group_count(groups_of_number: int, label: str = "this number") -> Refusal | None:
    """Check that a business number may create one more group.

    The limit is each number's (reference 4.1): a number at 10,000 cannot create more,
    whatever the other numbers of the account hold.

    Args:
        groups_of_number: The number's active groups and groups being created.
        label: How to name the number in the refusal.

    Returns:
        A refusal when the number already has :data:`MAX_GROUPS_PER_NUMBER` groups.
    """
    if groups_of_number >= MAX_GROUPS_PER_NUMBER:
        return Refusal(
            "group_limit",
            f"{label} already has {groups_of_number:,} groups; a business number can have "
            f"at most {MAX_GROUPS_PER_NUMBER:,} (delete some, or create it on another number)",
            131211,
        )
    return None


# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the
# range but are not frames.
_SOF_MARKERS: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers with no length field.
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8)})


def jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """Read a JPEG's size from its first start-of-frame segment.

    Args:
        data: The file contents.

    Returns:
        ``(width, height)``, or ``None`` if the bytes are not a JPEG or hold no frame
        header before the image data.
    """
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    i = 2
    n = len(data)
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):
            return None
        if i + 2 > n:
            return None
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2 or i + length > n:
            return None
        if marker in _SOF_MARKERS:
            if length < 7:
                return None
            height = int.from_bytes(data[i + 3 : i + 5], "big")
            width = int.from_bytes(data[i + 5 : i + 7], "big")
            return width, height
        i += length
    return None
