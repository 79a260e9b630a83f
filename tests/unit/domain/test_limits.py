"""Groups API limits and the validators built on them."""

from __future__ import annotations

import struct

import pytest

from groups_tui.domain.limits import (
    DESCRIPTION_MAX,
    MAX_GROUPS_PER_NUMBER,
    MAX_PARTICIPANTS,
    MAX_REMOVE_PER_CALL,
    PICTURE_MAX_BYTES,
    STICKER_ANIMATED_MAX_BYTES,
    STICKER_STATIC_MAX_BYTES,
    SUBJECT_MAX,
    check_capacity,
    check_description,
    check_media,
    check_picture,
    check_picture_data,
    check_remove_batch,
    check_subject,
    jpeg_dimensions,
)
from groups_tui.domain.models import MessageKind

MB = 1_000_000


def test_reference_numbers() -> None:
    assert MAX_PARTICIPANTS == 8
    assert MAX_GROUPS_PER_NUMBER == 10_000
    assert SUBJECT_MAX == 128
    assert DESCRIPTION_MAX == 2048
    assert MAX_REMOVE_PER_CALL == 8
    assert PICTURE_MAX_BYTES == 5 * MB


def test_subject() -> None:
    assert check_subject("x" * 128) is None
    assert check_subject("  " + "x" * 128 + "\n") is None
    too_long = check_subject("x" * 129)
    assert too_long is not None and too_long.code == "subject_too_long"
    empty = check_subject("   ")
    assert empty is not None and empty.code == "subject_empty"


def test_description() -> None:
    assert check_description("") is None
    assert check_description("d" * 2048) is None
    refusal = check_description("d" * 2049)
    assert refusal is not None and refusal.code == "description_too_long"


@pytest.mark.parametrize(
    ("width", "height", "size", "mime", "code", "api_code"),
    [
        (640, 640, 100_000, "image/png", "picture_not_jpeg", 131053),
        (640, 640, 5 * MB + 1, "image/jpeg", "picture_too_large", 131053),
        (640, 480, 100_000, "image/jpeg", "picture_not_square", 131209),
        (192, 192, 10_000, "image/jpeg", "picture_too_small", 131210),
    ],
)
def test_picture_refusals(
    width: int, height: int, size: int, mime: str, code: str, api_code: int
) -> None:
    refusal = check_picture(width, height, size, mime)
    assert refusal is not None
    assert (refusal.code, refusal.api_code) == (code, api_code)


def test_picture_accepted() -> None:
    assert check_picture(193, 193, 5 * MB, "image/jpeg") is None
    assert check_picture(640, 640, 100_000, "IMAGE/JPEG") is None


@pytest.mark.parametrize(
    ("kind", "mime", "size"),
    [
        (MessageKind.IMAGE, "image/png", 5 * MB),
        (MessageKind.VIDEO, "video/mp4", 16 * MB),
        (MessageKind.VIDEO, "video/3gpp", 1),
        (MessageKind.AUDIO, "audio/ogg; codecs=opus", 16 * MB),
        (MessageKind.AUDIO, "audio/mpeg", 1),
        (MessageKind.DOCUMENT, "application/pdf", 100 * MB),
        (MessageKind.DOCUMENT, "text/plain", 1),
        (MessageKind.STICKER, "image/webp", STICKER_ANIMATED_MAX_BYTES),
        ("document", "application/vnd.ms-excel", 1),
    ],
)
def test_media_accepted(kind: MessageKind | str, mime: str, size: int) -> None:
    assert check_media(kind, mime, size) is None


@pytest.mark.parametrize(
    ("kind", "mime", "size", "code"),
    [
        (MessageKind.IMAGE, "image/gif", 1, "media_type_not_allowed"),
        (MessageKind.IMAGE, "image/jpeg", 5 * MB + 1, "media_too_large"),
        (MessageKind.VIDEO, "video/quicktime", 1, "media_type_not_allowed"),
        (MessageKind.VIDEO, "video/mp4", 16 * MB + 1, "media_too_large"),
        (MessageKind.AUDIO, "audio/wav", 1, "media_type_not_allowed"),
        (MessageKind.DOCUMENT, "application/zip", 1, "media_type_not_allowed"),
        (MessageKind.DOCUMENT, "application/pdf", 100 * MB + 1, "media_too_large"),
        (MessageKind.STICKER, "image/png", 1, "media_type_not_allowed"),
        (MessageKind.TEXT, "text/plain", 1, "not_media"),
        ("hologram", "text/plain", 1, "not_media"),
    ],
)
def test_media_refused(kind: MessageKind | str, mime: str, size: int, code: str) -> None:
    refusal = check_media(kind, mime, size)
    assert refusal is not None and refusal.code == code


def test_static_sticker_cap() -> None:
    size = STICKER_STATIC_MAX_BYTES + 1
    assert check_media(MessageKind.STICKER, "image/webp", size) is None
    refusal = check_media(MessageKind.STICKER, "image/webp", size, animated=False)
    assert refusal is not None and refusal.code == "media_too_large"


def test_remove_batch() -> None:
    assert check_remove_batch(1) is None
    assert check_remove_batch(8) is None
    too_many = check_remove_batch(9)
    assert too_many is not None and too_many.code == "remove_batch_too_large"
    none = check_remove_batch(0)
    assert none is not None and none.code == "remove_batch_empty"


def test_capacity() -> None:
    assert check_capacity(0, 8) is None
    assert check_capacity(7, 1) is None
    full = check_capacity(7, 2)
    assert full is not None
    assert (full.code, full.api_code) == ("group_full", 131204)
    assert "room is left for 1" in full.reason


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg(width: int, height: int, sof: int = 0xC0, *, pad: int = 0) -> bytes:
    app0 = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = _segment(0xDB, b"\x00" + bytes(64))
    frame = _segment(sof, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")
    sos = _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return b"\xff\xd8" + app0 + dqt + b"\xff" * pad + frame + sos + b"\x00" * 16 + b"\xff\xd9"


def test_jpeg_dimensions_baseline() -> None:
    assert jpeg_dimensions(_jpeg(640, 480)) == (640, 480)


def test_jpeg_dimensions_progressive_and_fill_bytes() -> None:
    assert jpeg_dimensions(_jpeg(300, 200, sof=0xC2, pad=3)) == (300, 200)


def test_jpeg_dimensions_skips_dht() -> None:
    dht = _segment(0xC4, b"\x00" + bytes(16) + b"\x00")
    data = _jpeg(193, 193)
    data = data[:2] + dht + data[2:]
    assert jpeg_dimensions(data) == (193, 193)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + bytes(32),
        b"\xff\xd8",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"\xff\xd8" + _segment(0xDA, b"\x00\x00") + b"\xff\xd9",
        _jpeg(640, 480)[:30],
    ],
)
def test_jpeg_dimensions_rejects(data: bytes) -> None:
    assert jpeg_dimensions(data) is None


def test_picture_from_bytes() -> None:
    assert check_picture_data(_jpeg(640, 640)) is None
    not_square = check_picture_data(_jpeg(640, 480))
    assert not_square is not None and not_square.code == "picture_not_square"
    garbage = check_picture_data(b"GIF89a")
    assert garbage is not None and garbage.code == "picture_not_jpeg"
