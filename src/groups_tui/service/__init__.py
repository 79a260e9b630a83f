"""InboxService: the one way into the account for the UI, the CLI and the workers.

It composes the store, the Cloud API client and the domain rules, and hands out one
small sub-API per concern:

* :attr:`InboxService.reading` — the inbox, a group, its conversation, search, spend,
  the listener's health, and refreshing from the Cloud API (:mod:`.reading`);
* :attr:`InboxService.sending` — cost previews, send refusals, sends, 1:1 invites
  (:mod:`.sending`);
* :attr:`InboxService.admin` — groups, members, join requests, settings, contacts, the
  audit log (:mod:`.admin`);
* :attr:`InboxService.moderation` — flags, acting on them, the blocklist
  (:mod:`.moderation`);
* :attr:`InboxService.automations` — pause switches, runs, status and the durable rows of
  the automations' work (:mod:`.automations`);
* :attr:`InboxService.changes` — following the change feed (:mod:`.changes`);
* :attr:`InboxService.maintenance` — backing up and checking the database file
  (:mod:`.maintenance`).

Only this package holds the store and the client (in :class:`~.core.ServiceCore`). It
never imports Textual; every method is a coroutine safe to run in a worker. The records
it returns are in :mod:`.types`, its one error in :mod:`.errors`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from groups_tui.domain.numbers import BusinessNumber
from groups_tui.domain.pricing import RULE_SETS, PricingConfig, RateCard, RuleSet
from groups_tui.service.automations import Automations
from groups_tui.service.changes import Changes
from groups_tui.service.core import Clock, LazyClient, ServiceCore, import_in_thread
from groups_tui.service.errors import ServiceError, refused
from groups_tui.service.maintenance import Maintenance
from groups_tui.service.reading import Reading
from groups_tui.service.types import PENDING_PREFIX, AccountInfo
from groups_tui.store import Store

if TYPE_CHECKING:
    from groups_tui.cloud.client import CloudClient
    from groups_tui.service.admin import Admin
    from groups_tui.service.moderation import Moderation
    from groups_tui.service.sending import Sending

__all__ = [
    "PENDING_PREFIX",
    "InboxService",
    "LazyClient",
    "ServiceError",
    "import_in_thread",
    "refused",
]


class InboxService:
    """The façade: account facts, the clock, and the sub-APIs by concern.

    Args:
        store: The open `Store` (its cost ledger is priced where it was opened: give
            it the same rate card as ``rate_card``).
        client: The Cloud API client, or a :class:`LazyClient` building it on first use
            (``None`` in read-only follower mode).
        account: The business number and LIVE/SANDBOX mode.
        clock: Returns now as epoch seconds; injected so tests freeze time.
        rate_card: The rate card for cost previews (packaged default when ``None``).
        listener_url: Where the in-process listener accepts webhooks, if one runs here.
        os_user: Who the audit log names (the OS user by default).
        rules: The effective-dated charging rules.
        pricing: The ``[pricing]`` settings: the configured reading of each disputed rule
            (applied to ``rules``) and when the ledger's evidence wins over it.
        numbers: Every business number of the account, in configuration order (the
            first is the default); by default the numbers the store serves, else the
            account's one number.
        clients: One Cloud API client per number (each with its number's token);
            ``client`` is the first number's and need not be repeated.
    """

    def __init__(
        self,
        store: Store,
        client: CloudClient | LazyClient | None,
        *,
        account: AccountInfo,
        clock: Clock = time.time,
        rate_card: RateCard | None = None,
        listener_url: str | None = None,
        os_user: str | None = None,
        rules: Sequence[RuleSet] = RULE_SETS,
        pricing: PricingConfig | None = None,
        numbers: Sequence[BusinessNumber] = (),
        clients: Sequence[CloudClient | LazyClient] = (),
    ) -> None:
        known = tuple(numbers) or store.numbers.served or _account_number(account)
        core = ServiceCore(
            store,
            client,
            account=account,
            clock=clock,
            rate_card=rate_card or RateCard.load_default(),
            listener_url=listener_url,
            os_user=os_user,
            rules=rules,
            pricing=pricing or PricingConfig(),
            numbers=known,
            clients=clients,
        )
        self._core = core
        self.account = account
        """The business number and LIVE/SANDBOX mode (the header shows them)."""
        self.numbers: tuple[BusinessNumber, ...] = known
        """Every business number of the account, in configuration order."""
        self.clock = clock
        """Returns now as epoch seconds (the service's and the UI's one clock)."""
        self.reading = Reading(core)
        """The inbox, groups, conversations, search, spend and listener health."""
        self.automations = Automations(core)
        """Pause switches, runs and status of the automations, and their jobs' rows."""
        self.changes = Changes(core)
        """The change feed, for the TUI and the workers that follow it."""
        self.maintenance = Maintenance(core)
        """Online backup and integrity check of the database file."""

    # Built on first use: their modules (templates, previews, moderation rules, the
    # response models) are not needed to show the inbox or to list groups.

    @cached_property
    def sending(self) -> Sending:
        """Cost previews, send refusals, sends and 1:1 invites."""
        from groups_tui.service.sending import Sending

        return Sending(self._core, self.reading)

    @cached_property
    def admin(self) -> Admin:
        """Groups, members, join requests, settings, contacts and the audit log."""
        from groups_tui.service.admin import Admin

        return Admin(self._core, self.reading)

    @cached_property
    def moderation(self) -> Moderation:
        """Moderation flags, acting on them, and the blocklist."""
        from groups_tui.service.moderation import Moderation

        return Moderation(self._core, self.admin)

    async def load_parts(self) -> None:
        """Import the modules of the sub-APIs built on first use (:attr:`sending`,
        :attr:`admin`, :attr:`moderation`) on a worker thread: what starts after the
        inbox is drawn awaits this first, so the event loop keeps answering keys while
        the imports run (Python hands the loop back within its switch interval, 5 ms)."""
        await import_in_thread(*_PARTS)

    def now(self) -> int:
        """Now, as integer epoch seconds from the injected clock."""
        return self._core.now()

    def permits(
        self,
        operation: str,
        group_id: str | None = None,
        tag: str | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> bool:
        """Whether this operator may run `operation` (``sub_api.method``) on the group.

        Always true here, in single-user mode; a daemon's client answers from its roles.
        """
        return True

    @property
    def automations_run_here(self) -> bool:
        """Whether this process may run the automations (false for a team daemon's client)."""
        return True

    @property
    def os_user(self) -> str:
        """Who the audit log names."""
        return self._core.os_user

    @property
    def read_only(self) -> bool:
        """True without a Cloud API client (a follower of another process's database)."""
        return not self._core.has_client

    def label(self, phone_number_id: str) -> str:
        """How people name a number (its id when it is not configured here)."""
        return self._core.label(phone_number_id)

    def number(self, wanted: str | None = None) -> BusinessNumber:
        """The number named by a label or id; without one, the only number.

        Raises:
            ServiceError: An unknown name, or several numbers and none named (a usage
                refusal naming the choices).
        """
        return self._core.number(wanted)


_PARTS = (
    "groups_tui.service.sending",
    "groups_tui.service.admin",
    "groups_tui.service.moderation",
)
"""The sub-APIs' modules imported on first use (see :meth:`InboxService.load_parts`)."""


def _account_number(account: AccountInfo) -> tuple[BusinessNumber, ...]:
    """The one number an account record names (none when it names none)."""
    if not account.phone_number_id:
        return ()
    label = account.display_phone_number or "default"
    return (
        BusinessNumber(
            account.phone_number_id, label, display_phone_number=account.display_phone_number
        ),
    )
