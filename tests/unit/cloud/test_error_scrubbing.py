"""A server that echoes the access token in every field of an error cannot leak it.

The token below contains ``+``, ``/`` and ``=`` so that its URL-encoded and JSON-escaped
forms differ from it; each string field of each response carries the token in every form
a server might echo it (verbatim, URL-encoded, truncated, as an ``access_token=`` value, as
a ``Bearer`` credential).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx

from groups_tui.cloud import (
    ApiError,
    CloudClient,
    InvalidRequestError,
    PartialFailure,
    RetryPolicy,
    ServerError,
)
from groups_tui.cloud.errors import error_from_response
from groups_tui.cloud.scrubbing import scrub_text

from .support import API, BASE_URL, GROUP_ID, PHONE_NUMBER_ID, WABA_ID, SleepRecorder

TOKEN = "EAAGsp1cy+t0k/en=0123456789abcdefZZ"
OTHER_TOKEN = "EAAGanotherTokenNotOurs42"
LEAK = " | ".join(
    [
        TOKEN,
        quote(TOKEN, safe=""),
        quote_plus(TOKEN),
        TOKEN[: len(TOKEN) // 2 + 3] + "...",
        f"?access_token={OTHER_TOKEN}&x=1",
        f"Authorization: Bearer {TOKEN}",
    ]
)
"""What the echoing server puts in every string it returns."""

FORBIDDEN = (
    TOKEN,
    quote(TOKEN, safe=""),
    quote_plus(TOKEN),
    TOKEN[: len(TOKEN) // 2],
    OTHER_TOKEN,
)


def leaky(text: str) -> str:
    return f"{text}: {LEAK}"


def echoing_error_body(code: int | str = 100) -> dict[str, Any]:
    """A Graph error whose every string field carries the token."""
    return {
        "error": {
            "message": leaky(f"(#{code}) Invalid parameter"),
            "type": leaky("OAuthException"),
            "code": code,
            "error_subcode": 2494010,
            "title": leaky("Title"),
            "error_user_title": leaky("User title"),
            "error_user_msg": leaky("User message"),
            "error_data": {
                "messaging_product": "whatsapp",
                "details": leaky("Details"),
                "echo": {"request_url": leaky(f"{API}/{GROUP_ID}")},
            },
            "fbtrace_id": leaky("AfbTrace"),
            "is_transient": False,
        },
        "extra": [leaky("top-level"), {"headers": {"authorization": f"Bearer {TOKEN}"}}],
    }


def leaked(error: BaseException) -> Iterator[str]:
    """Every text a caller could print of `error`: str, repr, args and every field."""
    yield str(error)
    yield repr(error)
    yield from (repr(a) for a in error.args)
    yield repr(vars(error))
    if isinstance(error, ApiError):
        yield error.headline


def assert_clean(error: BaseException) -> None:
    for text in leaked(error):
        for secret in FORBIDDEN:
            assert secret not in text, f"{secret!r} leaked in {text!r}"


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=API, assert_all_called=False)


@pytest.fixture
async def client(router: respx.Router) -> AsyncIterator[CloudClient]:
    async with CloudClient(
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(router.async_handler),
        retry=RetryPolicy(max_attempts=2, base_delay=0.1, jitter=False),
        sleep=SleepRecorder(),
    ) as cloud:
        yield cloud


async def test_every_field_of_an_api_error_is_scrubbed(
    client: CloudClient, router: respx.Router
) -> None:
    # GIVEN a server that echoes the token in every field of its error
    router.get(f"{API}/{GROUP_ID}").mock(
        return_value=httpx.Response(400, json=echoing_error_body())
    )

    # WHEN a call fails
    with pytest.raises(InvalidRequestError) as caught:
        await client.groups.get(GROUP_ID)

    # THEN no field, nor str/repr, carries the token in any form
    error = caught.value
    assert_clean(error)
    # AND the fields are still there, masked, not dropped
    assert error.fbtrace_id is not None and "***" in error.fbtrace_id
    assert error.error_type is not None and "***" in error.error_type
    assert error.details is not None and error.details.startswith("Details: ***")
    assert "fbtrace_id=AfbTrace: ***" in str(error)
    assert "access_token=***" in repr(error.body)


async def test_an_unknown_code_shows_meta_text_scrubbed(
    client: CloudClient, router: respx.Router
) -> None:
    # An unknown code makes str() fall back on Meta's own title and message.
    router.get(f"{API}/{GROUP_ID}").mock(
        return_value=httpx.Response(400, json=echoing_error_body(code="987654"))
    )
    with pytest.raises(ApiError) as caught:
        await client.groups.get(GROUP_ID)
    assert caught.value.code == 987654
    assert caught.value.headline.startswith("Title: ***")
    assert_clean(caught.value)


async def test_failed_items_of_a_partial_failure_are_scrubbed(
    client: CloudClient, router: respx.Router
) -> None:
    body = echoing_error_body(code=131201)
    body["failed_participants"] = [
        {
            "input": "16505551234",
            "errors": [
                {
                    "code": 131212,
                    "message": leaky("Not in group"),
                    "title": leaky("Title"),
                    "error_data": {"details": leaky("Details")},
                }
            ],
        }
    ]
    router.delete(f"{API}/{GROUP_ID}/participants").mock(
        return_value=httpx.Response(206, json=body)
    )
    with pytest.raises(PartialFailure) as caught:
        await client.participants.remove(GROUP_ID, ["16505551234"])
    assert caught.value.failed_refs == ["16505551234"]
    assert caught.value.failed[0].codes == [131212]
    assert_clean(caught.value)


async def test_join_request_errors_are_scrubbed(client: CloudClient, router: respx.Router) -> None:
    router.post(f"{API}/{GROUP_ID}/join_requests").mock(
        return_value=httpx.Response(200, json=echoing_error_body(code=131213))
    )
    with pytest.raises(ApiError) as caught:
        await client.join_requests.approve(GROUP_ID, ["J1"])
    assert_clean(caught.value)


async def test_retried_errors_are_scrubbed_before_they_are_logged(
    client: CloudClient, router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    router.get(f"{API}/{GROUP_ID}/invite_link").mock(
        return_value=httpx.Response(503, json=echoing_error_body(code=2))
    )
    with pytest.raises(ServerError) as caught:
        await client.invite_links.get(GROUP_ID)
    assert_clean(caught.value)
    assert "retrying" in caplog.text
    for secret in FORBIDDEN:
        assert secret not in caplog.text


def test_scrub_text_covers_every_echoed_form() -> None:
    scrubbed = scrub_text(LEAK, TOKEN)
    for secret in FORBIDDEN:
        assert secret not in scrubbed
    assert scrubbed.count("***") == 6
    # Text without the token is left alone.
    assert scrub_text("(#100) Invalid parameter", TOKEN) == "(#100) Invalid parameter"


def test_scrub_is_idempotent_and_keeps_numbers() -> None:
    response = httpx.Response(
        400,
        json=echoing_error_body(),
        request=httpx.Request("GET", f"{API}/{GROUP_ID}?access_token={TOKEN}"),
    )
    error = error_from_response(response)
    error.scrub(TOKEN)
    once = repr(vars(error))
    error.scrub(TOKEN)
    assert repr(vars(error)) == once
    assert error.code == 100 and error.status_code == 400 and error.error_subcode == 2494010
    assert error.request_url == f"{API}/{GROUP_ID}?access_token=***"
    assert_clean(error)
