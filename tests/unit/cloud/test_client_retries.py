"""Retry decisions: by Graph code, never resending a send whose fate is unknown."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from groups_tui.cloud import (
    CloudClient,
    CloudConnectionError,
    CloudTimeoutError,
    CreateGroupOutcomeUnknown,
    InvalidRequestError,
    OutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    SendOutcomeUnknown,
    ServerError,
)

from .support import API, GROUP_ID, PHONE_NUMBER_ID, SleepRecorder, graph_error

GROUP_OK = httpx.Response(200, json={"id": GROUP_ID, "subject": "Order 1042"})
SEND_OK = httpx.Response(200, json={"messages": [{"id": "wamid.A", "group_id": GROUP_ID}]})
MESSAGES = f"{API}/{PHONE_NUMBER_ID}/messages"


def throttled(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return graph_error(
        130429,
        "(#130429) Rate limit hit",
        details="Cloud API message throughput has been reached.",
        status=status,
        subcode=2494055,
        headers=headers,
    )


@pytest.mark.parametrize("status", [400, 429], ids=["http-400", "http-429"])
async def test_throttling_is_retried_with_growing_delays(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder, status: int
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(
        side_effect=[throttled(status), throttled(status), throttled(status), GROUP_OK]
    )
    info = await client.groups.get(GROUP_ID)
    assert info.subject == "Order 1042"
    assert route.call_count == 4
    assert sleeps.delays == [0.5, 1.0, 2.0]


async def test_delays_are_capped_and_attempts_bounded(
    router: respx.Router, sleeps: SleepRecorder
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(return_value=throttled(400))
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=1.5, jitter=False)
    async with CloudClient(
        access_token="t",
        phone_number_id=PHONE_NUMBER_ID,
        base_url="https://graph.test",
        transport=httpx.MockTransport(router.async_handler),
        retry=policy,
        sleep=sleeps,
    ) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.groups.get(GROUP_ID)
    assert caught.value.code == 130429
    assert route.call_count == 6
    assert sleeps.delays == [0.5, 1.0, 1.5, 1.5, 1.5]


async def test_retry_after_header_is_honoured(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    router.get(f"{API}/{GROUP_ID}").mock(
        side_effect=[throttled(429, {"Retry-After": "7"}), GROUP_OK]
    )
    await client.groups.get(GROUP_ID)
    assert sleeps.delays == [7.0]


async def test_retry_after_beyond_max_delay_is_left_to_the_caller(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(
        return_value=throttled(429, {"Retry-After": "120"})
    )
    with pytest.raises(RateLimitError) as caught:
        await client.groups.get(GROUP_ID)
    assert caught.value.retry_after == 120.0
    assert route.call_count == 1
    assert sleeps.delays == []


async def test_waba_limit_waits_estimated_time_to_regain_access(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    usage = {
        "102290129340398": [
            {
                "type": "whatsapp_business_management",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 30,
                "estimated_time_to_regain_access": 0.25,
            }
        ]
    }
    limited = graph_error(
        "80007",
        "(#80007) There have been too many calls to this WhatsApp Business account.",
        headers={"X-Business-Use-Case-Usage": json.dumps(usage), "Retry-After": "2"},
    )
    router.get(f"{API}/{GROUP_ID}").mock(side_effect=[limited, GROUP_OK])
    await client.groups.get(GROUP_ID)
    assert sleeps.delays == [15.0]


async def test_app_usage_at_100_percent_waits_the_longest_delay(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    limited = graph_error(
        4,
        "(#4) Application request limit reached",
        headers={"X-App-Usage": '{"call_count":100,"total_cputime":12,"total_time":9}'},
    )
    router.get(f"{API}/{GROUP_ID}").mock(side_effect=[limited, GROUP_OK])
    await client.groups.get(GROUP_ID)
    assert sleeps.delays == [30.0]


@pytest.mark.parametrize(
    ("code", "message"),
    [(100, "(#100) Invalid parameter"), (131204, "(#131204) Participant overlimit")],
)
async def test_request_errors_are_not_retried(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder, code: int, message: str
) -> None:
    route = router.post(f"{API}/{GROUP_ID}/join_requests").mock(
        return_value=graph_error(code, message)
    )
    get = router.get(f"{API}/{GROUP_ID}").mock(return_value=graph_error(code, message))
    with pytest.raises(InvalidRequestError):
        await client.join_requests.approve(GROUP_ID, ["J1"])
    with pytest.raises(InvalidRequestError):
        await client.groups.get(GROUP_ID)
    assert route.call_count == 1
    assert get.call_count == 1
    assert sleeps.delays == []


async def test_server_code_is_retried_for_reads_even_as_http_400(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(
        side_effect=[graph_error(2, "Service temporarily unavailable", status=400), GROUP_OK]
    )
    await client.groups.get(GROUP_ID)
    assert route.call_count == 2
    assert len(sleeps.delays) == 1


async def test_read_timeout_on_a_read_is_retried_then_raised(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(CloudTimeoutError):
        await client.groups.get(GROUP_ID)
    assert route.call_count == 5
    assert sleeps.delays == [0.5, 1.0, 2.0, 4.0]


async def test_connection_drop_on_a_read_is_retried(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(
        side_effect=[httpx.RemoteProtocolError("Server disconnected"), GROUP_OK]
    )
    await client.groups.get(GROUP_ID)
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("timed out"), httpx.WriteTimeout("timed out")],
    ids=["read-timeout", "write-timeout"],
)
async def test_send_is_never_resent_after_a_timeout(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder, failure: Exception
) -> None:
    route = router.post(MESSAGES).mock(side_effect=[failure, SEND_OK])
    with pytest.raises(SendOutcomeUnknown) as caught:
        await client.messages.send_text(GROUP_ID, "Driver is 10 minutes away")
    assert route.call_count == 1
    assert sleeps.delays == []
    assert caught.value.operation == "send message"
    assert not caught.value.retryable


async def test_send_is_never_resent_after_a_dropped_connection(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(MESSAGES).mock(
        side_effect=[httpx.RemoteProtocolError("Server disconnected"), SEND_OK]
    )
    with pytest.raises(SendOutcomeUnknown):
        await client.messages.send_template(GROUP_ID, "delivery_update_group", "en_US")
    assert route.call_count == 1


async def test_send_gateway_error_without_graph_body_is_unknown(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(MESSAGES).mock(
        side_effect=[httpx.Response(502, text="Bad Gateway"), SEND_OK]
    )
    with pytest.raises(SendOutcomeUnknown):
        await client.messages.send_text(GROUP_ID, "hello")
    assert route.call_count == 1


async def test_send_unknown_failure_is_not_resent(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(MESSAGES).mock(
        side_effect=[graph_error(131000, "Something went wrong", status=500), SEND_OK]
    )
    with pytest.raises(ServerError) as caught:
        await client.messages.send_text(GROUP_ID, "hello")
    assert caught.value.retryable
    assert not caught.value.rejected_before_acceptance
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("code", "status"), [(130429, 400), (130429, 429), (4, 400), (80007, 400), (131057, 500)]
)
async def test_send_is_retried_when_throttling_proves_it_was_refused(
    client: CloudClient, router: respx.Router, code: int, status: int
) -> None:
    route = router.post(MESSAGES).mock(
        side_effect=[graph_error(code, f"(#{code}) throttled", status=status), SEND_OK]
    )
    sent = await client.messages.send_text(GROUP_ID, "hello")
    assert sent.message_id == "wamid.A"
    assert route.call_count == 2


async def test_pair_rate_limit_backs_off_by_powers_of_four(
    client: CloudClient, router: respx.Router, sleeps: SleepRecorder
) -> None:
    pair = graph_error(131056, "(#131056) (Business Account, Consumer Account) pair rate limit")
    router.post(MESSAGES).mock(side_effect=[pair, pair, pair, SEND_OK])
    await client.messages.send_text(GROUP_ID, "hello")
    assert sleeps.delays == [1.0, 4.0, 16.0]


async def test_send_connect_error_is_retried_because_nothing_was_sent(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(MESSAGES).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), SEND_OK]
    )
    await client.messages.send_text(GROUP_ID, "hello")
    assert route.call_count == 3


async def test_send_connect_error_exhausted_is_a_connection_error(
    client: CloudClient, router: respx.Router
) -> None:
    router.post(MESSAGES).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(CloudConnectionError):
        await client.messages.send_text(GROUP_ID, "hello")


async def test_create_group_is_not_resent_after_read_timeout(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/groups").mock(
        side_effect=[httpx.ReadTimeout("timed out"), httpx.Response(200, json={"request_id": "r"})]
    )
    with pytest.raises(CreateGroupOutcomeUnknown):
        await client.groups.create("Order 1042")
    assert route.call_count == 1


async def test_create_group_retries_group_operation_throttling(
    client: CloudClient, router: respx.Router
) -> None:
    limited = graph_error(131208, "(#131208) Too many group operations", status=429)
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/groups").mock(
        side_effect=[limited, httpx.Response(200, json={"request_id": "r"})]
    )
    assert await client.groups.create("Order 1042") == "r"
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"{GROUP_ID}/participants"),
        ("POST", f"{GROUP_ID}/join_requests"),
        ("DELETE", GROUP_ID),
    ],
)
async def test_at_most_once_group_operations_report_unknown_outcome(
    client: CloudClient, router: respx.Router, method: str, path: str
) -> None:
    route = router.route(method=method, url=f"{API}/{path}").mock(
        side_effect=httpx.ReadTimeout("timed out")
    )
    with pytest.raises(OutcomeUnknownError):
        if path.endswith("participants"):
            await client.participants.remove(GROUP_ID, ["16505551234"])
        elif path.endswith("join_requests"):
            await client.join_requests.approve(GROUP_ID, ["J1"])
        else:
            await client.groups.delete(GROUP_ID)
    assert route.call_count == 1


async def test_repeatable_writes_are_retried_after_timeout(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{GROUP_ID}/invite_link").mock(
        side_effect=[
            httpx.ReadTimeout("timed out"),
            httpx.Response(200, json={"invite_link": "https://chat.whatsapp.com/N"}),
        ]
    )
    assert await client.invite_links.reset(GROUP_ID) == "https://chat.whatsapp.com/N"
    assert route.call_count == 2


async def test_disabled_policy_never_retries(router: respx.Router) -> None:
    route = router.get(f"{API}/{GROUP_ID}").mock(return_value=throttled(429))
    async with CloudClient(
        access_token="t",
        phone_number_id=PHONE_NUMBER_ID,
        base_url="https://graph.test",
        transport=httpx.MockTransport(router.async_handler),
        retry=RetryPolicy.disabled(),
    ) as client:
        with pytest.raises(RateLimitError):
            await client.groups.get(GROUP_ID)
    assert route.call_count == 1
