"""The access token never shows up in logs, reprs or error texts."""

from __future__ import annotations

import logging

import httpx
import pytest
import respx

from groups_tui.cloud import (
    AuthError,
    CloudClient,
    CloudError,
    SendOutcomeUnknown,
    UnexpectedResponseError,
)

from .support import API, GROUP_ID, PHONE_NUMBER_ID, TOKEN, graph_error


def assert_clean(error: BaseException) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        assert TOKEN not in text
    if isinstance(error, CloudError):
        assert TOKEN not in str(vars(error))


def test_client_repr_hides_the_token(client: CloudClient) -> None:
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    assert "access_token='***'" in repr(client)


async def test_errors_and_logs_never_carry_the_token(
    client: CloudClient, router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = graph_error(
        190,
        f"Error validating access token: {TOKEN} has expired",
        status=401,
        details=f"token {TOKEN}",
    )
    echoed.request = httpx.Request("GET", f"{API}/{GROUP_ID}?access_token={TOKEN}")
    router.get(f"{API}/{GROUP_ID}").mock(return_value=echoed)
    router.get(f"{API}/{GROUP_ID}/invite_link").mock(
        side_effect=[
            graph_error(2, f"temporarily unavailable for {TOKEN}", status=503),
            httpx.Response(200, json={"unexpected": TOKEN}),
        ]
    )
    router.post(f"{API}/{PHONE_NUMBER_ID}/messages").mock(
        side_effect=httpx.ReadTimeout("timed out")
    )

    with pytest.raises(AuthError) as auth:
        await client.groups.get(GROUP_ID)
    assert auth.value.code == 190
    assert_clean(auth.value)
    assert "***" in auth.value.message

    with pytest.raises(UnexpectedResponseError) as odd:
        await client.invite_links.get(GROUP_ID)
    assert_clean(odd.value)

    with pytest.raises(SendOutcomeUnknown) as unknown:
        await client.messages.send_text(GROUP_ID, "hello")
    assert_clean(unknown.value)

    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


async def test_paging_urls_with_a_token_are_not_followed_verbatim(
    client: CloudClient, router: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    route = router.get(f"{API}/{GROUP_ID}/join_requests").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [{"join_request_id": "J1"}],
                    "paging": {
                        "next": f"{API}/{GROUP_ID}/join_requests?access_token={TOKEN}&after=A1"
                    },
                },
            ),
            httpx.Response(200, json={"data": []}),
        ]
    )
    await client.join_requests.list(GROUP_ID)
    assert dict(route.calls[1].request.url.params) == {"after": "A1"}
    assert TOKEN not in caplog.text
