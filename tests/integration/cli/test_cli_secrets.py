"""The CLI never prints the access token, even when the server echoes it everywhere.

The commands run in-process through click's runner against a Graph stand-in behind respx
(the client's production code path); every string field of its errors carries the token
in each form a server might echo it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from click.testing import CliRunner

from groups_tui.cli import main
from tests.unit.cloud.test_error_scrubbing import FORBIDDEN, TOKEN, echoing_error_body, leaky

BASE_URL = "https://graph.test"
API = f"{BASE_URL}/v25.0"
PNID = "106540352242922"
GROUP_ID = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
MEMBER = "16505551234"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "WHATSAPP_API_BASE_URL": BASE_URL,
        "WHATSAPP_ACCESS_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PNID,
        "GROUPS_TUI_DB": str(tmp_path / "live.db"),
        "GROUPS_TUI_CONFIG": str(tmp_path / "none.toml"),
    }


@pytest.fixture
def graph() -> Iterator[respx.Router]:
    with respx.mock(base_url=API, assert_all_called=False) as router:
        yield router


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in FORBIDDEN:
            assert secret not in text, f"{secret!r} leaked in {text!r}"


def test_api_errors_reach_stderr_and_json_without_the_token(
    env: dict[str, str], graph: respx.Router
) -> None:
    # GIVEN a server echoing the token in every field of every error
    graph.get(f"/{GROUP_ID}").mock(return_value=httpx.Response(400, json=echoing_error_body()))
    partial = echoing_error_body(code=131201)
    partial["failed_participants"] = [
        {"input": MEMBER, "errors": [{"code": 131212, "message": leaky("Not in group")}]}
    ]
    graph.delete(f"/{GROUP_ID}/participants").mock(
        side_effect=[
            httpx.Response(206, json=partial),
            httpx.Response(400, json=echoing_error_body(code=100)),
        ]
    )
    graph.delete(f"/{GROUP_ID}/join_requests").mock(
        return_value=httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "rejected_join_requests": [],
                "failed_join_requests": [
                    {
                        "join_request_id": "J1",
                        "errors": [{"code": 131213, "message": leaky("No such request")}],
                    }
                ],
            },
        )
    )

    # WHEN reading a group, removing a member twice and rejecting a request
    show = run(env, "groups", "show", GROUP_ID, "--json")
    partly = run(env, "members", "remove", GROUP_ID, MEMBER, "--json")
    refused = run(env, "members", "remove", GROUP_ID, MEMBER, "--json")
    reject = run(env, "requests", "reject", GROUP_ID, "J1", "--json")
    audit = run(env, "audit", "--json")

    # THEN each command says what happened, with the exit code it should
    assert show[0] == 1 and "(#100) Invalid parameter" in show[2]
    # (a member the API refused at once makes the removal exit 1, its outcome on stdout)
    assert partly[0] == 1 and json.loads(partly[1])["kind"] == "remove"
    assert refused[0] == 1 and "(#100)" in refused[2]
    assert reject[0] == 1
    assert json.loads(reject[1])["failed"][0][0] == "J1"
    assert audit[0] == 0
    entries = json.loads(audit[1])
    assert {e["action"] for e in entries} >= {"participants.remove", "join_requests.reject"}
    # AND neither stderr nor the --json output carries the token in any form
    for _code, out, err in (show, partly, refused, reject, audit):
        assert_clean(out, err)
    assert "***" in show[2] and "***" in audit[1] and "***" in reject[1]
