"""The ``groups-tui sandbox`` command line (argument handling only; serving is tested above)."""

from __future__ import annotations

from click.testing import CliRunner

from groups_tui.sandbox.commands import sandbox_command


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(sandbox_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--port", "--webhook-url", "--seed", "--speed", "--groups", "--token"):
        assert option in result.output


def test_marketing_in_window_option() -> None:
    runner = CliRunner()
    assert "--marketing-in-window" in runner.invoke(sandbox_command, ["--help"]).output
    refused = runner.invoke(sandbox_command, ["--marketing-in-window", "sometimes"])
    assert refused.exit_code == 2 and "sometimes" in refused.output


def test_refuses_non_loopback_hosts_and_too_many_groups() -> None:
    runner = CliRunner()
    assert runner.invoke(sandbox_command, ["--host", "0.0.0.0"]).exit_code != 0
    assert runner.invoke(sandbox_command, ["--groups", "10001"]).exit_code != 0


def test_bsuid_flag_serves_people_known_only_by_their_user_id() -> None:
    import httpx

    from tests.helpers.sandbox_process import sandbox_process

    token = "command-test-token"
    with sandbox_process("--bsuid", "--demo", "--no-simulate", "--token", token) as url:
        people = httpx.get(f"{url}/_sandbox/people", params={"limit": 1000}).json()["people"]
        hidden = {p["user_id"]: p["wa_id"] for p in people if p["phone_hidden"]}
        groups = httpx.get(
            f"{url}/v25.0/106540352242922/groups",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]["groups"]
        listed = [
            participant
            for g in groups
            for participant in httpx.get(
                f"{url}/v25.0/{g['id']}",
                params={"fields": "participants"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["participants"]
        ]
    assert hidden, "some simulated people hide their number"
    without_number = [p for p in listed if "wa_id" not in p]
    assert without_number and all(p["user_id"] in hidden for p in without_number)
    assert all("user_id" in p for p in listed)
