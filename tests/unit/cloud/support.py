"""Shared constants and helpers of the Cloud client tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

TOKEN = "EAAGtest-SECRET-token-0123456789"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
BASE_URL = "https://graph.test"
API = f"{BASE_URL}/v25.0"
GROUP_ID = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"


class SleepRecorder:
    """Stands in for ``asyncio.sleep``: records each requested delay, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def graph_error(
    code: int | str,
    message: str,
    *,
    details: str | None = None,
    status: int = 400,
    error_type: str = "OAuthException",
    subcode: int | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> httpx.Response:
    """Build a Graph error response shaped like reference 7.1."""
    error: dict[str, Any] = {
        "message": message,
        "type": error_type,
        "code": code,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    body: dict[str, Any] = {"error": error, **(extra or {})}
    return httpx.Response(status, json=body, headers=headers)


def json_body(request: httpx.Request) -> Any:
    """Decode a captured request's JSON body."""
    return json.loads(request.content)
