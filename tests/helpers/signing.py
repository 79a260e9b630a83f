"""Sign webhook bodies the way Meta does, for tests and benchmarks."""

from __future__ import annotations

import json
from typing import Any

from groups_tui.cloud.webhooks import SIGNATURE_HEADER, sign_body

TEST_APP_SECRET = "test-app-secret"
"""App secret every listener under test is configured with."""

TEST_VERIFY_TOKEN = "test-verify-token"
"""Verify token every listener under test is configured with."""


def signature(body: bytes, secret: str = TEST_APP_SECRET) -> str:
    """Return the ``X-Hub-Signature-256`` value for ``body``."""
    return sign_body(body, secret)


def signed_headers(body: bytes, secret: str = TEST_APP_SECRET) -> dict[str, str]:
    """Headers of a signed JSON delivery of ``body``."""
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(body, secret)}


def encode(payload: Any) -> bytes:
    """Serialise a payload compactly, as a delivery body."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
