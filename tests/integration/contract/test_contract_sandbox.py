"""Runs the client contract against the embedded sandbox over real loopback HTTP.

The same ``contract_*`` functions and assertions as ``tests/unit/cloud/test_contract_respx.py``,
with a :class:`SandboxBackend` that seeds state through the sandbox world's Python API (what
the simulated people do) and learns created group ids from the signed webhooks the sandbox
posts to the listener of :func:`groups_tui.runtime.sandbox_stack`, as the store keeps them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from groups_tui.cloud import CloudClient, RetryPolicy
from groups_tui.domain.models import TemplateCategory
from groups_tui.runtime import SandboxOptions, SandboxStack, sandbox_stack
from groups_tui.sandbox import ManualClock, SandboxKnobs, WebhookKnobs, World
from groups_tui.sandbox.templates import TemplateDef
from tests.unit.cloud.contract import CONTRACTS, ContractFn

TOKEN = "contract-sandbox-token"
APP_SECRET = "contract-sandbox-secret"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
START = datetime(2026, 9, 15, 12, 0, tzinfo=UTC).timestamp()


class SandboxBackend:
    """:class:`Backend` over the running sandbox stack (manual clock, no simulation)."""

    def __init__(self, stack: SandboxStack) -> None:
        self.stack = stack

    @property
    def world(self) -> World:
        return self.stack.world

    async def seed_group(
        self, subject: str, members: list[str], join_approval: bool = False
    ) -> str:
        mode = "approval_required" if join_approval else "auto_approve"
        group = self.world.groups.add(subject, mode=mode)
        for wa_id in members:
            if join_approval:
                # In an approval group people ask and the business approves (reference 2.9).
                request_id = self.world.persons.request_join(group.id, wa_id)
                result = self.world.members_api.approve_join_requests(
                    group.id, {"messaging_product": "whatsapp", "join_requests": [request_id]}
                )
                assert result["approved_join_requests"] == [request_id]
            else:
                self.world.persons.join(group.id, wa_id)
        await self.settle()
        return str(group.id)

    async def add_join_request(self, group_id: str, wa_id: str) -> str:
        request_id = str(self.world.persons.request_join(group_id, wa_id))
        await self.settle()
        return request_id

    async def set_window_open(self, group_id: str) -> None:
        self.world.persons.message(group_id, text="Is the driver on the way?")
        await self.settle()

    async def seed_template(self, name: str, language: str, category: str) -> None:
        templates: list[TemplateDef] = self.world.templates.defs
        if any(t.name == name and t.language == language for t in templates):
            return
        templates.append(
            TemplateDef(
                id=str(880000 + len(templates)),
                name=name,
                language=language,
                category=TemplateCategory(category.lower()),
                status="APPROVED",
                components=({"type": "BODY", "text": "Order {{1}} arrives at {{2}}"},),
                body_params=2,
            )
        )

    async def created_group_id(self, request_id: str) -> str | None:
        await self.settle()
        # The listener stored the signed group_create webhook; its group answers the request.
        group = await self.stack.store.groups.get_by_request(request_id)
        return group.id if group is not None and group.id else None

    async def settle(self) -> None:
        # Run whatever asynchronous operation is due, then wait until its webhooks are applied.
        await self.stack.settle(self.world.knobs.op_delay, within=10.0)

    async def add_hidden_member(self, group_id: str) -> str:
        # The world runs with the BSUID knob on, so these people come without `wa_id`.
        group = self.world.groups[group_id]
        person = next(p for p in self.world.population.phone_hidden if p.wa_id not in group.members)
        self.world.persons.join(group_id, person.wa_id)
        await self.settle()
        return str(person.user_id)

    async def raw_call(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with httpx.AsyncClient(
            base_url=f"{self.stack.sandbox.base_url}/v25.0/",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as http:
            response = await http.request(method, path, json=body)
        return response.status_code, response.json()

    def client_with_token(self, access_token: str) -> CloudClient:
        return CloudClient(
            access_token=access_token,
            phone_number_id=PHONE_NUMBER_ID,
            business_account_id=WABA_ID,
            base_url=self.stack.sandbox.base_url,
            retry=RetryPolicy(jitter=False, max_attempts=2, base_delay=0.01, max_delay=0.05),
        )


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[SandboxBackend]:
    clock = ManualClock(START)
    options = SandboxOptions(
        db_path=tmp_path / "contract.db",
        clock=clock,
        receipt_clock=clock.now,
        simulate=False,
        knobs=SandboxKnobs(
            op_delay=0,
            failure_rate=0.0,
            messages_per_second=0,
            group_ops_per_second=0,
            bsuid=True,
        ),
        webhook_knobs=WebhookKnobs(backoff_initial=0.01, backoff_max=0.05),
        population_size=300,
        app_secret=APP_SECRET,
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
    )
    async with sandbox_stack(options) as stack:
        yield SandboxBackend(stack)


@pytest.fixture
async def contract_client(backend: SandboxBackend) -> AsyncIterator[CloudClient]:
    async with backend.client_with_token(TOKEN) as client:
        yield client


def _case(contract: ContractFn) -> Any:
    name = contract.__name__.removeprefix("contract_")
    return pytest.param(contract, id=name)


@pytest.mark.parametrize("contract", [_case(c) for c in CONTRACTS])
async def test_contract(
    contract: ContractFn, contract_client: CloudClient, backend: SandboxBackend
) -> None:
    await asyncio.wait_for(contract(contract_client, backend), 20.0)
