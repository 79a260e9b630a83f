"""``groups-tui config``: where settings live, whether they are complete, whether each
business number answers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import click

from groups_tui.cli.common import EXIT_USAGE, emit, json_option, number_option
from groups_tui.cli_output import echo, fail
from groups_tui.config import ConfigError, config_path, load_settings
from groups_tui.domain.numbers import NumberChoiceError, choose_number

if TYPE_CHECKING:
    from groups_tui.config import NumberSettings, Settings

__all__ = ["config"]

PROBE_TIMEOUT = 5.0
"""Seconds a number has to answer ``config check``."""


@click.group()
def config() -> None:
    """Where settings live and whether they are complete."""


@config.command("path")
@json_option
def config_path_cmd(as_json: bool) -> None:
    """Print the config file's path."""
    emit({"config_file": str(config_path())}, as_json, lambda d: d["config_file"])


async def _probe(settings: Settings, item: NumberSettings) -> str | None:
    """Ask the Cloud API for one of the number's groups: ``None`` when it answers, else
    why not (an error worded by the client, never carrying the token)."""
    import httpx

    from groups_tui.cloud import RetryPolicy
    from groups_tui.cloud.client import CloudClient
    from groups_tui.cloud.errors import CloudError

    if item.access_token is None:
        return "no access token"
    client = CloudClient(
        access_token=item.access_token.get_secret_value(),
        phone_number_id=item.number.phone_number_id,
        business_account_id=item.number.business_account_id,
        base_url=settings.api_base_url,
        graph_version=settings.graph_version,
        timeout=httpx.Timeout(PROBE_TIMEOUT),
        retry=RetryPolicy(max_attempts=1),
    )
    try:
        async for _ in client.groups.list(limit=1):
            break
    except CloudError as exc:
        return str(exc)
    finally:
        await client.aclose()
    return None


async def _probe_all(settings: Settings, numbers: list[NumberSettings]) -> list[str | None]:
    return list(await asyncio.gather(*(_probe(settings, n) for n in numbers)))


@config.command("check")
@json_option
@number_option
@click.option(
    "--no-probe",
    is_flag=True,
    help="Do not ask the Cloud API whether each number answers.",
)
def config_check(as_json: bool, number: str | None, no_probe: bool) -> None:
    """Show each setting as set or missing (never its value), and each business number
    (or the one of --number) with LIVE or SANDBOX and whether it answers."""
    try:
        settings = load_settings()
        numbers = settings.business_numbers()
        if number is not None:
            chosen = choose_number([n.number for n in numbers], number)
            numbers = [n for n in numbers if n.number == chosen]
    except (ConfigError, NumberChoiceError) as exc:
        fail(str(exc), EXIT_USAGE)
    rows = settings.status_lines()
    live = settings.is_live
    mode = "live" if live else "sandbox"
    answers: list[str | None] = [None] * len(numbers)
    probed = live and not no_probe
    if probed:
        answers = asyncio.run(_probe_all(settings, numbers))
    listed: list[dict[str, Any]] = [
        {
            "label": n.number.label,
            "phone_number_id": n.number.phone_number_id,
            "business_account_id": n.number.business_account_id,
            "mode": mode.upper(),
            "token": "set" if n.access_token is not None else "missing",
            "answers": (answer is None) if probed else None,
            "error": answer if probed else None,
        }
        for n, answer in zip(numbers, answers, strict=True)
    ]
    if as_json:
        emit(
            {
                "mode": mode,
                "config_file": str(config_path()),
                "settings": {name: ("set" if present else "missing") for name, _, present in rows},
                "numbers": listed,
            },
            True,
            str,
        )
        return
    echo(f"config file: {config_path()}")
    for name, _desc, present in rows:
        echo(f"  {name:<32} {'set' if present else 'missing'}")
    if live:
        echo("mode: LIVE (talks to the Cloud API)")
    else:
        echo(
            "mode: SANDBOX (no WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID; "
            "the TUI runs on simulated users)"
        )
    if not numbers:
        simulated = settings.sandbox_numbers
        echo(f"numbers: none configured; the sandbox simulates {simulated}")
        return
    echo(f"numbers: {len(numbers)}")
    for item in listed:
        if not probed:
            state = "not checked" if live else "not checked (sandbox mode)"
        elif item["answers"]:
            state = "answers"
        else:
            state = f"does not answer: {item['error']}"
        waba = item["business_account_id"] or "-"
        echo(
            f"  {item['label']:<12} {item['phone_number_id']:<18} WABA {waba:<18} "
            f"{item['mode']:<8} token {item['token']:<8} {state}"
        )
