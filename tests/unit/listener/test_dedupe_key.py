"""The raw log's dedupe key: a function of the exact bytes, ordered by event time."""

from __future__ import annotations

import hashlib

from groups_tui.listener.ingest import dedupe_key_for
from tests.helpers.webhooks import fixture_bytes, fixture_names


def test_a_retry_of_the_same_bytes_has_the_same_key() -> None:
    for name in fixture_names():
        body = fixture_bytes(name)
        assert dedupe_key_for(body) == dedupe_key_for(bytes(body))


def test_the_key_ends_with_the_body_hash_and_differs_for_other_bytes() -> None:
    body = fixture_bytes("statuses_read_with_pricing")
    key = dedupe_key_for(body)
    assert key.endswith("-" + hashlib.sha256(body).hexdigest())
    assert dedupe_key_for(body + b" ") != key


def test_later_events_sort_after_earlier_ones() -> None:
    early = b'{"entry":[{"changes":[{"value":{"statuses":[{"timestamp":"1767225605"}]}}]}]}'
    late = b'{"entry":[{"changes":[{"value":{"statuses":[{"timestamp": 1767232000}]}}]}]}'
    assert dedupe_key_for(early).startswith("01767225605-")
    assert dedupe_key_for(late).startswith("01767232000-")
    assert dedupe_key_for(early) < dedupe_key_for(late)


def test_a_body_without_a_timestamp_still_gets_a_key() -> None:
    assert dedupe_key_for(b'{"object":"x"}').startswith("00000000000-")
