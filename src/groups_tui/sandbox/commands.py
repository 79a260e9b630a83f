"""``groups-tui sandbox``: the simulator as a standalone server.

What it prints goes through :mod:`groups_tui.cli_output`, like every command's output.
"""

from __future__ import annotations

import asyncio

import click

from groups_tui.cli_output import echo, install_log_handler

from .clock import ScaledClock
from .numbers import MAX_NUMBERS, sim_numbers
from .server import SandboxServer
from .state import MARKETING_IN_WINDOW_CHOICES, SandboxKnobs

__all__ = ["DEFAULT_APP_SECRET", "DEFAULT_TOKEN", "sandbox_command"]

DEFAULT_TOKEN = "sandbox-access-token"
DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_PHONE_NUMBER_ID = "106540352242922"
DEFAULT_WABA_ID = "102290129340398"


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@click.option("--webhook-url", default=None, help="Listener URL that receives signed webhooks.")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the simulation.")
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Simulated seconds per real second (60 = a minute per second).",
)
@click.option(
    "--groups",
    default=0,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Pre-populate this many groups with members and history.",
)
@click.option("--demo", is_flag=True, help="Pre-populate the ~50-group demo world instead.")
@click.option("--no-simulate", is_flag=True, help="No spontaneous activity of simulated people.")
@click.option(
    "--bsuid",
    is_flag=True,
    help="2026 payloads: business-scoped user ids, and people known only by theirs.",
)
@click.option(
    "--marketing-in-window",
    type=click.Choice(MARKETING_IN_WINDOW_CHOICES),
    default="charged",
    show_default=True,
    help="How marketing sent to a group whose window is open is priced (Meta's pages disagree).",
)
@click.option("--app-secret", default=DEFAULT_APP_SECRET, help="Secret that signs webhooks.")
@click.option("--token", default=DEFAULT_TOKEN, help="Bearer token the API accepts.")
@click.option("--phone-number-id", default=DEFAULT_PHONE_NUMBER_ID, show_default=True)
@click.option("--business-account-id", default=DEFAULT_WABA_ID, show_default=True)
@click.option(
    "--numbers",
    "number_count",
    default=1,
    show_default=True,
    type=click.IntRange(1, MAX_NUMBERS),
    help="Business numbers to simulate (each with its own groups and people of its market, "
    "all signing to the one webhook URL); the first is --phone-number-id.",
)
def sandbox_command(
    host: str,
    port: int,
    webhook_url: str | None,
    seed: int,
    speed: float,
    groups: int,
    demo: bool,
    no_simulate: bool,
    bsuid: bool,
    marketing_in_window: str,
    app_secret: str,
    token: str,
    phone_number_id: str,
    business_account_id: str,
    number_count: int,
) -> None:
    """Run the WhatsApp Groups API sandbox until Ctrl-C."""
    install_log_handler()
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.BadParameter("the sandbox only listens on loopback", param_hint="--host")

    numbers = sim_numbers(
        number_count, phone_number_id=phone_number_id, business_account_id=business_account_id
    )

    async def run() -> None:
        server = SandboxServer(
            numbers=numbers,
            host=host,
            port=port,
            webhook_url=webhook_url,
            app_secret=app_secret,
            access_token=token,
            phone_number_id=phone_number_id,
            business_account_id=business_account_id,
            seed=seed,
            clock=ScaledClock(speed=speed),
            groups=groups,
            demo=demo,
            simulate=not no_simulate,
            knobs=SandboxKnobs(bsuid=bsuid, marketing_in_window=marketing_in_window),
        )
        await server.start()
        try:
            shown_token = token if token == DEFAULT_TOKEN else "<the value given to --token>"
            shown_secret = (
                app_secret
                if app_secret == DEFAULT_APP_SECRET
                else "<the value given to --app-secret>"
            )
            echo(f"Sandbox listening on {server.base_url} (seed {seed}, speed {speed:g}x)")
            echo(f"  marketing inside an open group window: {marketing_in_window}")
            echo(
                f"  groups: {server.world.groups.active_count}, people: {len(server.world.population)}"
            )
            echo(f"  webhooks -> {webhook_url or '(none yet: POST /_sandbox/webhook_url)'}")
            echo("Point groups-tui at it with:")
            echo(f"  export WHATSAPP_API_BASE_URL={server.base_url}")
            echo(f"  export WHATSAPP_ACCESS_TOKEN={shown_token}")
            echo(f"  export WHATSAPP_APP_SECRET={shown_secret}")
            if len(numbers) == 1:
                echo(f"  export WHATSAPP_PHONE_NUMBER_ID={phone_number_id}")
                echo(f"  export WHATSAPP_BUSINESS_ACCOUNT_ID={business_account_id}")
            else:
                echo("and, in the config file (`groups-tui config path`):")
                for number in numbers:
                    echo("  [[numbers]]")
                    echo(f'  phone_number_id = "{number.phone_number_id}"')
                    echo(f'  label = "{number.label}"')
                    echo(f'  business_account_id = "{number.business_account_id}"')
                    echo(f'  display_phone_number = "+{number.display_phone_number}"')
            echo("Press Ctrl-C to stop.")
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        echo("Sandbox stopped.")
