"""How a file is sent to a group, or why not: the one decision of domain/media.py."""

from __future__ import annotations

import mimetypes

import pytest

from groups_tui.domain.limits import MEDIA_MAX_BYTES, MEDIA_MIME_TYPES
from groups_tui.domain.media import (
    MEDIA_EXTENSIONS,
    MEDIA_KINDS,
    MediaFile,
    media_for_file,
    media_kind,
    mime_for_name,
)
from groups_tui.domain.models import MessageKind
from groups_tui.domain.sending import Refusal


@pytest.mark.parametrize(
    ("name", "kind", "mime"),
    [
        ("cover.jpg", MessageKind.IMAGE, "image/jpeg"),
        ("COVER.JPEG", MessageKind.IMAGE, "image/jpeg"),
        ("shot.png", MessageKind.IMAGE, "image/png"),
        ("clip.mp4", MessageKind.VIDEO, "video/mp4"),
        ("clip.3gp", MessageKind.VIDEO, "video/3gpp"),
        ("voice.ogg", MessageKind.AUDIO, "audio/ogg"),
        ("voice.m4a", MessageKind.AUDIO, "audio/mp4"),
        ("song.mp3", MessageKind.AUDIO, "audio/mpeg"),
        ("report.pdf", MessageKind.DOCUMENT, "application/pdf"),
        ("sheet.xlsx", MessageKind.DOCUMENT, MEDIA_EXTENSIONS[".xlsx"]),
        ("notes.txt", MessageKind.DOCUMENT, "text/plain"),
    ],
)
def test_accepted_formats_are_sent_as_their_kind(name: str, kind: MessageKind, mime: str) -> None:
    assert media_for_file(name, 1_000) == MediaFile(kind, mime)


def test_webp_is_a_sticker_and_stickers_are_refused_in_groups() -> None:
    assert media_kind("image/webp") is MessageKind.STICKER
    refusal = media_for_file("smile.webp", 1_000)
    assert isinstance(refusal, Refusal)
    assert refusal.code == "unverified_in_groups"
    assert refusal.reason.startswith("Stickers are not documented as supported")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("archive.zip", "does not accept application/zip as document"),
        ("data.unknownext", "does not accept application/octet-stream as document"),
        ("no-extension", "does not accept application/octet-stream as document"),
        ("animation.gif", "does not accept image/gif as image"),
    ],
)
def test_other_types_are_refused_naming_the_type(name: str, says: str) -> None:
    refusal = media_for_file(name, 1_000)
    assert isinstance(refusal, Refusal) and refusal.code == "media_type_not_allowed"
    assert says in refusal.reason


@pytest.mark.parametrize(
    ("name", "kind"),
    [("cover.jpg", MessageKind.IMAGE), ("clip.mp4", MessageKind.VIDEO)],
)
def test_a_file_over_its_kind_cap_is_refused(name: str, kind: MessageKind) -> None:
    cap = MEDIA_MAX_BYTES[kind]
    assert isinstance(media_for_file(name, cap), MediaFile)
    refusal = media_for_file(name, cap + 1)
    assert isinstance(refusal, Refusal) and refusal.code == "media_too_large"


def test_a_stated_mime_type_wins_over_the_name() -> None:
    assert media_for_file("upload", 10, mime="video/mp4") == MediaFile(
        MessageKind.VIDEO, "video/mp4"
    )
    assert media_kind("Audio/OGG; codecs=opus") is MessageKind.AUDIO


def test_every_known_extension_is_a_type_meta_accepts_for_its_kind() -> None:
    for extension, mime in MEDIA_EXTENSIONS.items():
        kind = media_kind(mime)
        assert mime in MEDIA_MIME_TYPES[kind], extension
    assert MEDIA_KINDS == set(MEDIA_MAX_BYTES)


def test_the_decision_does_not_depend_on_the_machines_mime_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a machine whose MIME database knows nothing
    monkeypatch.setattr(mimetypes, "guess_type", lambda *_a, **_k: (None, None))
    # THEN the formats Meta accepts are still decided alike, and the rest is refused
    for extension, mime in MEDIA_EXTENSIONS.items():
        assert mime_for_name("file" + extension) == mime
    assert mime_for_name("archive.zip") == "application/octet-stream"
