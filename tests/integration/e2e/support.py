"""The full stack for end-to-end tests: store, listener, sandbox, client and service.

The stack is :func:`groups_tui.runtime.sandbox_stack`, the one ``make run`` starts:
everything talks over real loopback HTTP: the service calls the sandbox through the Cloud
API client, and the sandbox posts signed webhooks to the listener, which writes the store
the service reads. Time is a manual clock shared by every part; :meth:`Stack.settle`
moves it, lets the sandbox run what became due, and waits (bounded) until every webhook
was delivered and applied.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from groups_tui.cloud import RetryPolicy
from groups_tui.domain.models import Template, TemplateCategory
from groups_tui.runtime import SandboxOptions, SandboxStack, sandbox_stack
from groups_tui.sandbox import ManualClock, SandboxKnobs, WebhookKnobs
from groups_tui.sandbox.world import World
from groups_tui.service.types import InboxRow, MessageView
from groups_tui.store.records import AuditEntry, RawStats

APP_SECRET = "e2e-app-secret"
TOKEN = "e2e-access-token"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
OPERATOR = "e2e-operator"
OP_DELAY = 5.0
"""Simulated seconds before an asynchronous group operation takes effect."""
STATUS_HORIZON = 120.0
"""Simulated seconds after which every delivery status of a send has been emitted."""
SETTLE_WITHIN = 15.0
"""Real seconds a settle may take before the test fails."""

SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC).timestamp()
NOV_02 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC).timestamp()

# Members with a known market on the packaged rate card (marketing and utility rates).
DE = "4915112345678"
BR = "5511987654321"
IN = "919876543210"
US = "16505551234"
MX = "5215512345678"


class Stack(SandboxStack):
    """The running parts of one end-to-end test, with helpers that act as people would."""

    async def settle(self, seconds: float = 0.0, *, within: float = SETTLE_WITHIN) -> RawStats:
        """Advance simulated time, run what became due, and wait until it is applied.

        Args:
            seconds: Simulated seconds to move the clock forward first.
            within: Real seconds each wait may take.
        """
        stats = await super().settle(seconds, within=within)
        assert stats.errors == 0, "a webhook could not be applied"
        return stats

    async def create_group(
        self, subject: str, *, approval: bool = False, number: str | None = None
    ) -> str:
        """Create a group through the service (on a number: label or id) and return its id
        once the webhook says so."""
        op = await self.service.admin.create_group(subject, join_approval=approval, number=number)
        await self.settle(OP_DELAY)
        group = await self.store.groups.get_by_request(op.request_id)
        assert group is not None and group.id, "the group_create webhook never arrived"
        return group.id

    async def join(self, group_id: str, *wa_ids: str) -> None:
        """Simulated people tap the invite link (auto-approve groups)."""
        for wa_id in wa_ids:
            self.group_world(group_id).persons.join(group_id, wa_id)
        await self.settle()

    async def say(self, group_id: str, wa_id: str, text: str) -> None:
        """A member writes to the group (opens the 24-hour window)."""
        self.group_world(group_id).persons.message(group_id, wa_id, text)
        await self.settle()

    def group_world(self, group_id: str) -> World:
        """The simulated state of the number the group belongs to."""
        return next((w for w in self.sandbox.worlds if group_id in w.groups), self.world)

    async def template(self, category: TemplateCategory) -> Template:
        """An approved template of `category` whose body takes parameters."""
        for template in await self.service.reading.templates():
            if template.category is category and template.status == "APPROVED":
                return template
        raise AssertionError(f"no approved {category.value} template")

    async def row(self, group_id: str) -> InboxRow:
        """The group's inbox row, as the UI lists it."""
        rows = {r.group_id: r for r in await self.service.reading.inbox_rows()}
        assert group_id in rows, f"{group_id} is not in the inbox"
        return rows[group_id]

    async def outbound(self, group_id: str) -> list[MessageView]:
        """The group's outbound messages, oldest first, through the service."""
        page = await self.service.reading.messages_page(group_id)
        return [v for v in page.messages if v.outbox_state is not None]

    async def audit(self) -> list[AuditEntry]:
        """Every audit entry, oldest first."""
        return list(reversed(await self.store.audit.entries(limit=500)))


def params_for(template: Template) -> list[str]:
    """Body parameters for a template."""
    return [f"value {i}" for i in range(1, template.body_params + 1)]


def money(value: Decimal | None) -> Decimal:
    """A ledger amount for comparison (unknown is a test failure)."""
    assert value is not None, "an amount is unknown"
    return value


@asynccontextmanager
async def running_stack(
    db_path: Path,
    *,
    start: float = SEPT_15,
    knobs: SandboxKnobs | None = None,
    numbers: int = 1,
    number_tokens: bool = False,
) -> AsyncIterator[Stack]:
    """Start store, listener, sandbox, clients and service; stop them in reverse order.

    With ``numbers`` above one the sandbox simulates that many business numbers (each
    after the first with a token of its own when ``number_tokens``).
    """
    clock = ManualClock(start)
    options = SandboxOptions(
        numbers=numbers,
        number_tokens=number_tokens,
        db_path=db_path,
        clock=clock,
        receipt_clock=clock.now,
        simulate=False,
        knobs=knobs or default_knobs(),
        webhook_knobs=WebhookKnobs(backoff_initial=0.01, backoff_max=0.05),
        population_size=300,
        app_secret=APP_SECRET,
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        retry=RetryPolicy(jitter=False, max_attempts=2, base_delay=0.01, max_delay=0.05),
        operator=OPERATOR,
    )
    async with sandbox_stack(options, handle=Stack) as running:
        yield running


def default_knobs() -> SandboxKnobs:
    """Deterministic Meta-side behaviour: no random failures, no reads, no throttling."""
    return SandboxKnobs(
        op_delay=OP_DELAY,
        failure_rate=0.0,
        read_rate=0.0,
        messages_per_second=0,
        group_ops_per_second=0,
    )
