"""``sandbox_stack()``: the one in-process stack that ``make run`` and the stack tests start.

Store, listener, sandbox, client and service on loopback ports, each option injected; and
``open_sandbox_runtime`` (``make run`` without credentials) built on it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from groups_tui.config import Settings
from groups_tui.runtime import (
    SANDBOX_PHONE_NUMBER_ID,
    SandboxOptions,
    SandboxStack,
    open_sandbox_runtime,
    sandbox_stack,
)
from groups_tui.sandbox import ManualClock, SandboxKnobs, ScaledClock, WebhookKnobs, sign_body
from groups_tui.service.types import Mode

SEED = 11
START = datetime(2026, 9, 15, 12, 0, tzinfo=UTC).timestamp()
SECRET = "stack-app-secret"
TOKEN = "stack-access-token"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"


class NamedStack(SandboxStack):
    """A handle subclass, as the stack tests add their helpers."""

    def name(self) -> str:
        return "named"


def options(db_path: Path, clock: ManualClock) -> SandboxOptions:
    return SandboxOptions(
        db_path=db_path,
        clock=clock,
        receipt_clock=clock.now,
        seed=SEED,
        simulate=False,
        knobs=SandboxKnobs(
            op_delay=2.0,
            failure_rate=0.0,
            read_rate=0.0,
            messages_per_second=0,
            group_ops_per_second=0,
            bsuid=True,
        ),
        webhook_knobs=WebhookKnobs(backoff_initial=0.01, backoff_max=0.05),
        population_size=300,
        app_secret=SECRET,
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        operator="stack-operator",
    )


async def test_stack_starts_every_part_with_the_options_given(tmp_path: Path) -> None:
    print(f"sandbox seed {SEED}")
    clock = ManualClock(START)
    db_path = tmp_path / "nested" / "stack.db"
    async with sandbox_stack(options(db_path, clock), handle=NamedStack) as stack:
        # GIVEN a stack started with injected options
        assert isinstance(stack, NamedStack) and stack.name() == "named"
        assert db_path.exists()
        assert stack.clock is clock and stack.service.clock() == START
        assert stack.world.seed == SEED and stack.world.knobs.bsuid
        assert len(stack.world.population) == 300
        assert stack.world.phone_number_id == PHONE_NUMBER_ID
        assert stack.sandbox.webhook_url == stack.listener.url
        assert stack.service.account.mode is Mode.SANDBOX
        assert stack.service.os_user == "stack-operator"

        # WHEN the service creates a group through the client and simulated time passes
        op = await stack.service.admin.create_group("Stack check")
        stats = await stack.settle(2.0)

        # THEN the sandbox's signed webhook reached the store through the listener
        assert stats.errors == 0 and stats.total == stats.applied >= 1
        group = await stack.store.groups.get_by_request(op.request_id)
        assert group is not None and group.id in stack.world.groups

        # AND the listener checks signatures with the injected secret
        body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
        async with httpx.AsyncClient() as http:
            forged = await http.post(
                stack.listener.url,
                content=body,
                headers={"X-Hub-Signature-256": sign_body(body, "another-secret")},
            )
            signed = await http.post(
                stack.listener.url,
                content=body,
                headers={"X-Hub-Signature-256": sign_body(body, SECRET)},
            )
        assert forged.status_code == 403
        assert signed.status_code == 200

        # AND the sandbox accepts the injected token only
        async with httpx.AsyncClient(base_url=stack.sandbox.base_url) as http:
            ok = await http.get(f"/v25.0/{group.id}", headers={"Authorization": f"Bearer {TOKEN}"})
            refused = await http.get(
                f"/v25.0/{group.id}", headers={"Authorization": "Bearer other"}
            )
        assert ok.status_code == 200 and refused.status_code == 401
        base_url = stack.sandbox.base_url

    # AND leaving the context stops the servers
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{base_url}/_sandbox/state")


async def test_make_run_sandbox_is_the_stack_on_a_fresh_database(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "groups.db")
    # GIVEN a sandbox database left over from an earlier run (not even SQLite)
    settings.sandbox_db_path.write_bytes(b"not a database from the last run")

    # WHEN make run opens the sandbox runtime with pre-populated groups
    async with open_sandbox_runtime(
        settings, demo=False, groups=3, seed=SEED, simulate=False
    ) as runtime:
        await runtime.settle()

        # THEN it is the shared stack, on its own recreated database, at real speed
        assert isinstance(runtime, SandboxStack)
        assert isinstance(runtime.clock, ScaledClock) and runtime.clock.speed == 1.0
        assert runtime.service.account.mode is Mode.SANDBOX
        assert runtime.service.account.phone_number_id == SANDBOX_PHONE_NUMBER_ID
        # AND its secrets are fresh random ones
        assert runtime.access_token.startswith("sandbox-") and len(runtime.app_secret) == 32
        # AND the pre-populated groups reached the inbox through signed webhooks
        assert runtime.world.groups.active_count == 3
        rows = await runtime.service.reading.inbox_rows()
        assert {r.group_id for r in rows} == {g.id for g in runtime.world.groups.active()}
