"""Recorded Cloud API webhook bodies from ``tests/fixtures/webhooks``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


EXCLUSIVE_ALTERNATIVES = {
    "lifecycle_group_create_failed": "same request_id as lifecycle_group_create",
    "lifecycle_group_delete_failed": "same request and time as lifecycle_group_delete",
    "participants_join_request_revoked": "the same request is approved in participants_add_approved",
    "participants_remove_failed": "same request and time as participants_remove_partial_failure",
    "settings_update_partial_failure": "same request and time as settings_update_success",
    "settings_update_failed": "same request and time as settings_update_success",
}
"""Reference samples describing another outcome of the same request, which Meta would never
send together with the sample named; left out where one consistent history is needed."""


def consistent_fixture_names() -> list[str]:
    """Fixtures that together form one possible history of one account."""
    return [n for n in fixture_names() if n not in EXCLUSIVE_ALTERNATIVES]


def fixture_names() -> list[str]:
    """Every fixture's name (file stem), sorted."""
    return sorted(p.stem for p in FIXTURE_DIR.glob("*.json"))


def fixture_bytes(name: str) -> bytes:
    """The fixture file's bytes, exactly as stored."""
    return (FIXTURE_DIR / f"{name}.json").read_bytes()


def fixture(name: str) -> Any:
    """The fixture, decoded."""
    return json.loads(fixture_bytes(name))
