"""Mapping of Graph error responses to the typed error tree."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groups_tui.cloud import (
    ApiError,
    AuthError,
    CloudError,
    GroupSuspendedError,
    InvalidRequestError,
    NotFoundError,
    PartialFailure,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    error_from_response,
)
from groups_tui.cloud.errors import errors_of
from groups_tui.cloud.models import ErrorDetail
from groups_tui.cloud.scrubbing import redact_url

from .support import API, GROUP_ID, graph_error

REQUEST = httpx.Request("POST", f"{API}/106540352242922/messages")


def mapped(response: httpx.Response) -> ApiError:
    response.request = REQUEST
    return error_from_response(response)


@pytest.mark.parametrize(
    ("code", "status", "cls", "retryable"),
    [
        (0, 401, AuthError, False),
        (190, 401, AuthError, False),
        (3, 403, PermissionDeniedError, False),
        (10, 403, PermissionDeniedError, False),
        (200, 403, PermissionDeniedError, False),
        (299, 403, PermissionDeniedError, False),
        (131005, 403, PermissionDeniedError, False),
        (368, 403, PermissionDeniedError, False),
        (131031, 403, PermissionDeniedError, False),
        (130497, 403, PermissionDeniedError, False),
        (131041, 400, NotFoundError, False),
        (4, 400, RateLimitError, True),
        (80007, 400, RateLimitError, True),
        (130429, 400, RateLimitError, True),
        (130429, 429, RateLimitError, True),
        (131056, 400, RateLimitError, True),
        (131208, 429, RateLimitError, True),
        (131048, 400, RateLimitError, False),
        (1, 400, ServerError, True),
        (2, 503, ServerError, True),
        (131016, 500, ServerError, True),
        (133004, 503, ServerError, True),
        (131000, 500, ServerError, True),
        (131057, 500, ServerError, True),
        (100, 400, InvalidRequestError, False),
        (131008, 400, InvalidRequestError, False),
        (131009, 400, InvalidRequestError, False),
        (131020, 400, InvalidRequestError, False),
        (131047, 400, InvalidRequestError, False),
        (131051, 400, InvalidRequestError, False),
        (131059, 400, InvalidRequestError, False),
        (131202, 400, InvalidRequestError, False),
        (131204, 400, InvalidRequestError, False),
        (131209, 400, InvalidRequestError, False),
        (131211, 400, InvalidRequestError, False),
        (131213, 400, InvalidRequestError, False),
        (131215, 400, InvalidRequestError, False),
        (132001, 404, InvalidRequestError, False),
        (132015, 400, InvalidRequestError, False),
        (131207, 403, GroupSuspendedError, False),
        (131201, 206, PartialFailure, False),
    ],
)
@pytest.mark.parametrize("as_string", [False, True], ids=["int-code", "str-code"])
def test_code_decides_the_class(
    code: int, status: int, cls: type[ApiError], retryable: bool, as_string: bool
) -> None:
    error = mapped(graph_error(str(code) if as_string else code, f"(#{code}) x", status=status))
    assert type(error) is cls
    assert error.code == code
    assert error.status_code == status
    assert error.retryable is retryable
    assert isinstance(error, CloudError)


def test_code_wins_over_http_status() -> None:
    assert type(mapped(graph_error(130429, "throttled", status=400))) is RateLimitError
    assert type(mapped(graph_error(100, "bad", status=500))) is InvalidRequestError
    assert type(mapped(graph_error(190, "expired", status=400))) is AuthError


def test_graph_object_does_not_exist_is_not_found() -> None:
    error = mapped(
        graph_error(
            100,
            "Unsupported get request. Object with ID 'x' does not exist",
            subcode=33,
            error_type="GraphMethodException",
        )
    )
    assert type(error) is NotFoundError


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (401, AuthError, False),
        (403, PermissionDeniedError, False),
        (404, NotFoundError, False),
        (429, RateLimitError, True),
        (500, ServerError, True),
        (502, ServerError, True),
        (400, InvalidRequestError, False),
        (409, InvalidRequestError, False),
    ],
)
def test_http_status_is_the_fallback_without_a_code(
    status: int, cls: type[ApiError], retryable: bool
) -> None:
    error = mapped(httpx.Response(status, text="<html>upstream trouble</html>"))
    assert type(error) is cls
    assert error.code is None
    assert error.retryable is retryable
    assert error.body == "<html>upstream trouble</html>"


def test_unknown_code_falls_back_to_status() -> None:
    assert type(mapped(graph_error(999999, "new", status=400))) is InvalidRequestError
    assert type(mapped(graph_error(999999, "new", status=503))) is ServerError


def test_fields_are_carried() -> None:
    error = mapped(
        graph_error(
            130429,
            "(#130429) Rate limit hit",
            details="Cloud API message throughput has been reached.",
            subcode=2494055,
            headers={"Retry-After": "3"},
        )
    )
    assert error.message == "(#130429) Rate limit hit"
    assert error.details == "Cloud API message throughput has been reached."
    assert error.error_subcode == 2494055
    assert error.error_type == "OAuthException"
    assert error.fbtrace_id == "Az8or2yhqkZfEZ-_4Qn_Bam"
    assert error.request_method == "POST"
    assert error.request_url == str(REQUEST.url)
    assert error.retry_after == 3.0
    assert isinstance(error.body, dict) and "error" in error.body


def test_str_is_one_human_line() -> None:
    error = mapped(
        graph_error(
            131204,
            "(#131204) Participant overlimit",
            details="The group already has 8 members\nand cannot take more.",
        )
    )
    assert str(error) == (
        "(#131204) Participant limit exceeded — The group already has 8 members and cannot"
        " take more. [fbtrace_id=Az8or2yhqkZfEZ-_4Qn_Bam]"
    )
    assert "\n" not in str(error)
    assert repr(error) == f"InvalidRequestError({str(error)!r})"


def test_str_for_unknown_code_uses_meta_title_then_message() -> None:
    titled = mapped(
        httpx.Response(
            400,
            json={"error": {"code": 777777, "message": "(#777777) Odd", "title": "Odd title"}},
        )
    )
    assert str(titled) == "(#777777) Odd title"
    untitled = mapped(
        httpx.Response(400, json={"error": {"code": 777777, "message": "(#777777) Odd"}})
    )
    assert str(untitled) == "(#777777) Odd"
    bare = mapped(httpx.Response(502, text=""))
    assert str(bare) == "(HTTP 502) HTTP 502 Bad Gateway"


def test_error_data_as_json_string_and_top_level_errors() -> None:
    stringly = mapped(
        httpx.Response(
            400,
            json={
                "error": {
                    "code": "131009",
                    "message": "(#131009) Parameter value is not valid",
                    "error_data": '{"details": "subject too long"}',
                    "is_transient": "false",
                }
            },
        )
    )
    assert stringly.details == "subject too long"
    assert stringly.is_transient is False
    listed = mapped(
        httpx.Response(
            400,
            json={"errors": [{"code": 131212, "message": "m", "error_data": {"details": "gone"}}]},
        )
    )
    assert type(listed) is InvalidRequestError
    assert listed.details == "gone"


def test_partial_failure_collects_failed_items() -> None:
    error = mapped(
        httpx.Response(
            206,
            json={
                "failed_participants": [
                    {"input": "+16505551234", "errors": [{"code": 131212, "message": "m"}]},
                    "447700900123",
                ],
                "removed_participants": ["4915112345678"],
            },
        )
    )
    assert isinstance(error, PartialFailure)
    assert error.code == 131201
    assert error.failed_refs == ["+16505551234", "447700900123"]
    assert error.succeeded == ["4915112345678"]
    assert "failed: +16505551234, 447700900123" in str(error)


def test_retryable_and_rejected_before_acceptance_differ_for_unknown_send_failure() -> None:
    unknown = mapped(graph_error(131000, "Something went wrong", status=500))
    assert unknown.retryable and not unknown.rejected_before_acceptance
    throttled = mapped(graph_error(131056, "pair", status=400))
    assert throttled.retryable and throttled.rejected_before_acceptance


def test_response_without_request_is_mapped() -> None:
    error = error_from_response(httpx.Response(404, json={"error": {"message": "gone"}}))
    assert type(error) is NotFoundError
    assert error.request_url is None


def test_redact_url_masks_tokens() -> None:
    url = f"{API}/{GROUP_ID}/join_requests?after=A1&access_token=EAAsecret"
    assert "EAAsecret" not in redact_url(url)
    assert "after=A1" in redact_url(url)
    assert redact_url(f"{API}/x?limit=2") == f"{API}/x?limit=2"


def test_errors_of_renders_item_errors() -> None:
    items = [
        ErrorDetail(code=131204, message="(#131204) Participant overlimit"),
        ErrorDetail(code=None, message="(#1) Free text"),
    ]
    assert errors_of(items) == "(#131204) Participant limit exceeded; Free text"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    status=st.sampled_from([206, 400, 401, 403, 404, 429, 500, 503]),
    error=st.dictionaries(
        st.sampled_from(["code", "message", "error_data", "error_subcode", "title", "type"]),
        json_values,
    ),
)
def test_mapping_never_fails_on_odd_bodies(status: int, error: dict[str, Any]) -> None:
    result = mapped(httpx.Response(status, json={"error": error}))
    assert isinstance(result, ApiError)
    assert isinstance(str(result), str)
    assert "\n" not in str(result)
