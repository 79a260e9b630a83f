"""Exit codes tell the truth: an unknown outcome or a refused item is not a success.

The real CLI against a sandbox process (and a listener process storing its webhooks);
a gateway in front of the sandbox stands in for a Meta that gives no usable answer.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.helpers.gateway import Answer, gateway

from .conftest import CliWorld

pytestmark = pytest.mark.xdist_group("cli-world")

UNKNOWN_ID = "bm9wZQ"


def _fresh_people(world: CliWorld, n: int, skip: int) -> list[str]:
    """`n` people who are not hostile (distinct per caller through `skip`)."""
    people = httpx.get(f"{world.sandbox_url}/_sandbox/people?limit=1000", timeout=10).json()
    plain = [p["wa_id"] for p in people["people"] if not p["hostile"] and not p["spammer"]]
    return plain[skip : skip + n]


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_rejecting_a_request_meta_refuses_exits_1_with_the_reason(
    cli_world: CliWorld, as_json: bool
) -> None:
    # GIVEN a join request id the API does not know (it answers 131213 for it)
    # WHEN rejecting it
    code, out, err = cli_world.run(
        "requests", "reject", cli_world.approval_group, UNKNOWN_ID, *(["--json"] if as_json else [])
    )
    # THEN the command fails, saying why on stderr
    assert code == 1, (out, err)
    assert "131213" in err and UNKNOWN_ID in err and "not rejected" in err
    # AND the outcome is still described on stdout
    if as_json:
        result = json.loads(out)
        assert result["done"] == []
        assert [i for i, _ in result["failed"]] == [UNKNOWN_ID]
    else:
        assert out.startswith("rejected: none; failed: ")


def test_a_partly_refused_approval_exits_1_and_keeps_what_was_done(cli_world: CliWorld) -> None:
    # GIVEN one real join request and one the API does not know
    (wa_id,) = _fresh_people(cli_world, 1, skip=0)
    real = cli_world.request_to_join(wa_id)
    cli_world.run("requests", "list", cli_world.approval_group)
    # WHEN approving both
    code, out, err = cli_world.run(
        "requests", "approve", cli_world.approval_group, real, UNKNOWN_ID, "--json"
    )
    # THEN the real one was approved, the other refused, and the exit code says so
    assert code == 1, (out, err)
    result = json.loads(out)
    assert result["done"] == [real]
    assert [i for i, _ in result["failed"]] == [UNKNOWN_ID]
    assert "1 of 2 join request(s) not approved" in err and "131213" in err
    code, out, err = cli_world.run("requests", "list", cli_world.approval_group, "--json")
    assert real not in [r["request"]["join_request_id"] for r in json.loads(out)]


def test_the_sandbox_refuses_an_unknown_request_id_with_131213(cli_world: CliWorld) -> None:
    # The documented per-item shape (reference 2.9/2.10): failed_join_requests[].errors[].
    r = httpx.request(
        "DELETE",
        f"{cli_world.sandbox_url}/v25.0/{cli_world.approval_group}/join_requests",
        json={"messaging_product": "whatsapp", "join_requests": [UNKNOWN_ID]},
        headers={"Authorization": f"Bearer {cli_world.env['WHATSAPP_ACCESS_TOKEN']}"},
        timeout=10,
    )
    body = r.json()
    assert body["rejected_join_requests"] == []
    (failed,) = body["failed_join_requests"]
    assert failed["join_request_id"] == UNKNOWN_ID
    assert [e["code"] for e in failed["errors"]] == [131213]


@pytest.mark.parametrize("as_json", [False, True], ids=["plain", "json"])
def test_a_send_whose_outcome_is_unknown_exits_1(cli_world: CliWorld, as_json: bool) -> None:
    # GIVEN a gateway that answers the send with a 502 that says nothing about the outcome
    with gateway(cli_world.sandbox_url) as gw:
        gw.overrides[("POST", "/messages")] = Answer(502, "Bad Gateway")
        # WHEN sending
        code, out, err = cli_world.run(
            "send",
            "text",
            cli_world.open_group,
            "are you there?",
            *(["--json"] if as_json else []),
            env={"WHATSAPP_API_BASE_URL": gw.url},
        )
    # THEN it is not reported as a success: exit 1, the reason on stderr
    assert code == 1, (out, err)
    assert "outcome unknown" in err and "before sending again" in err
    if as_json:
        item = json.loads(out)
        assert item["state"] == "unknown" and item["wamid"] is None
    else:
        assert out.startswith("unknown: ")


def test_a_send_the_api_refuses_exits_1(cli_world: CliWorld) -> None:
    error = {"error": {"message": "(#131047) Re-engagement message", "code": 131047}}
    with gateway(cli_world.sandbox_url) as gw:
        gw.overrides[("POST", "/messages")] = Answer(400, error)
        code, out, err = cli_world.run(
            "send",
            "text",
            cli_world.open_group,
            "hello",
            "--json",
            env={"WHATSAPP_API_BASE_URL": gw.url},
        )
    assert code == 1, (out, err)
    assert json.loads(out)["state"] == "failed"
    assert "send failed" in err and "131047" in err


def test_an_accepted_send_exits_0(cli_world: CliWorld) -> None:
    code, out, err = cli_world.run("send", "text", cli_world.open_group, "hello", "--json")
    assert code == 0, err
    item = json.loads(out)
    assert item["state"] == "accepted" and item["wamid"]
    assert err == ""


def test_a_cost_preview_of_a_refused_send_is_a_usage_error_with_json_too(
    cli_world: CliWorld,
) -> None:
    code, out, err = cli_world.run(
        "cost", cli_world.open_group, "--template", "login_code", "--json"
    )
    assert code == 2, (out, err)
    assert json.loads(out)["refusal"]["code"] is not None
    assert "Authentication templates cannot be sent" in err


def test_a_removal_the_api_partly_refuses_at_once_exits_1(cli_world: CliWorld) -> None:
    # GIVEN an answer of 131201 (HTTP 206) naming one of two members as not removable
    code, out, err = cli_world.run("members", "list", cli_world.open_group, "--json")
    assert code == 0, err
    keep, gone = [m["wa_id"] for m in json.loads(out)][:2]
    partial = {
        "error": {
            "message": "(#131201) Request partially succeeded",
            "code": 131201,
            "error_data": {"details": "Some participants could not be removed"},
        },
        "removed_participants": [{"input": gone}],
        "failed_participants": [
            {"input": keep, "errors": [{"code": 131212, "message": "(#131212) Not in group"}]}
        ],
    }
    with gateway(cli_world.sandbox_url) as gw:
        gw.overrides[("DELETE", "/participants")] = Answer(206, partial)
        # WHEN removing both
        code, out, err = cli_world.run(
            "members",
            "remove",
            cli_world.open_group,
            keep,
            gone,
            "--json",
            env={"WHATSAPP_API_BASE_URL": gw.url},
        )
    # THEN the command fails naming the member the API refused, the operation on stdout
    assert code == 1, (out, err)
    assert f"1 of 2 member(s) will not be removed: {keep}: (#131212) Not in group" in err
    op = json.loads(out)
    assert op["kind"] == "remove" and op["payload"]["refused"] == [[keep, "(#131212) Not in group"]]
