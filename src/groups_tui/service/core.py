"""What every part of the service shares: the store, the clients, the clock, the audit.

Each sub-API (:mod:`.reading`, :mod:`.sending`, :mod:`.admin`, :mod:`.moderation`,
:mod:`.automations`, :mod:`.changes`) is a small class over one :class:`ServiceCore`; the
core is the only object that holds the store and the Cloud API clients, and nothing
outside ``service/`` reaches it.

An account may have several business numbers (:class:`~groups_tui.domain.numbers.
BusinessNumber`), each with its own client (its own token, its own rate limits): every
call about a group goes through the group's own number (:meth:`ServiceCore.api_for`).
"""

from __future__ import annotations

import asyncio
import getpass
import importlib
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from groups_tui.cloud.errors import ApiError, CloudError
from groups_tui.domain.models import Group
from groups_tui.domain.numbers import (
    UNASSIGNED,
    BusinessNumber,
    NumberChoiceError,
    choose_number,
)
from groups_tui.domain.pricing import PricingConfig, RateCard, RuleSet
from groups_tui.domain.sending import Refusal
from groups_tui.service.errors import ServiceError, refused
from groups_tui.service.types import PENDING_PREFIX, AccountInfo
from groups_tui.store import Store

if TYPE_CHECKING:
    from groups_tui.cloud.client import CloudClient

__all__ = ["Clock", "LazyClient", "ServiceCore", "acting_as", "result_summary"]

_ACTOR: ContextVar[tuple[str, str] | None] = ContextVar("groups_tui_actor", default=None)
"""The operator a daemon is acting for in this task: (user, role)."""


@contextmanager
def acting_as(user: str, role: str) -> Iterator[None]:
    """Audit what runs inside as `user` in `role` (the daemon's caller), not the OS user."""
    token = _ACTOR.set((user, role))
    try:
        yield
    finally:
        _ACTOR.reset(token)


Clock = Callable[[], float]
"""Returns now as epoch seconds."""


class LazyClient:
    """A Cloud API client built when it is first needed.

    The client's module imports the HTTP stack (httpx, TLS), which costs more than the
    rest of a read command; a command that only reads the local database, or a TUI
    painting its inbox, never pays for it.

    Args:
        build: Creates the client (called at most once).
        phone_number_id: The number the client serves.
    """

    def __init__(self, build: Callable[[], CloudClient], *, phone_number_id: str) -> None:
        self._build = build
        self.phone_number_id = phone_number_id
        """The number the client will serve (known before it is built)."""
        self._client: CloudClient | None = None

    def get(self) -> CloudClient:
        """The client, built now if it was not yet."""
        if self._client is None:
            self._client = self._build()
        return self._client

    @property
    def built(self) -> bool:
        """True once :meth:`get` has built the client."""
        return self._client is not None

    async def aclose(self) -> None:
        """Close the client if it was built."""
        if self._client is not None:
            await self._client.aclose()


class ServiceCore:
    """The store, the client and the settings every sub-API works with.

    Args:
        store: The open store.
        client: The Cloud API client, or a :class:`LazyClient` building it on first use
            (``None`` in read-only follower mode).
        account: The business number and LIVE/SANDBOX mode.
        clock: Returns now as epoch seconds.
        rate_card: The rate card for cost previews.
        listener_url: Where the in-process listener accepts webhooks, if one runs here.
        os_user: Who the audit log names.
        rules: The effective-dated charging rules.
        pricing: The ``[pricing]`` settings: the configured reading of each disputed rule
            (applied to ``rules``) and when the ledger's evidence wins over it.
        numbers: The account's business numbers, in configuration order.
        clients: One client per number (keyed by the number it serves); ``client`` is
            the first number's.
    """

    def __init__(
        self,
        store: Store,
        client: CloudClient | LazyClient | None,
        *,
        account: AccountInfo,
        clock: Clock,
        rate_card: RateCard,
        listener_url: str | None,
        os_user: str | None,
        rules: Sequence[RuleSet],
        pricing: PricingConfig,
        numbers: Sequence[BusinessNumber] = (),
        clients: Sequence[CloudClient | LazyClient] = (),
    ) -> None:
        self.store = store
        self._client = client
        self.numbers: tuple[BusinessNumber, ...] = tuple(numbers)
        self._clients: dict[str, CloudClient | LazyClient] = {c.phone_number_id: c for c in clients}
        if client is not None:
            self._clients.setdefault(client.phone_number_id, client)
        self.account = account
        self.clock = clock
        self.rate_card = rate_card
        self.listener_url = listener_url
        self.os_user = os_user or _os_user()
        self.pricing_config = pricing
        self.rules = pricing.rule_sets(rules)

    def now(self) -> int:
        """Now, as integer epoch seconds from the injected clock."""
        return int(self.clock())

    @property
    def has_client(self) -> bool:
        """True when a Cloud API client is configured (built or not yet)."""
        return self._client is not None

    @property
    def client(self) -> CloudClient | None:
        """The Cloud API client (built on first use when lazy), or ``None``."""
        if isinstance(self._client, LazyClient):
            return self._client.get()
        return self._client

    def api(self) -> CloudClient:
        """The first number's Cloud API client.

        Raises:
            ServiceError: Read-only mode (no client configured).
        """
        client = self.client
        if client is None:
            raise ServiceError("read-only: no Cloud API client is configured")
        return client

    def api_for(self, phone_number_id: str) -> CloudClient:
        """The client of one number (its token, its rate limits).

        A fact stored before the database knew its numbers (unassigned) goes through the
        first number's client.

        Raises:
            ServiceError: Read-only mode, or no client for that number.
        """
        if phone_number_id == UNASSIGNED:
            return self.api()
        client = self._clients.get(phone_number_id)
        if client is None:
            if not self.has_client:
                raise ServiceError("read-only: no Cloud API client is configured")
            raise ServiceError(
                f"number {self.label(phone_number_id)} is not configured here: "
                "its groups can be read, not acted on"
            )
        return client.get() if isinstance(client, LazyClient) else client

    def acts_for(self, phone_number_id: str) -> bool:
        """True when a client for that number is configured here (built or not yet)."""
        return phone_number_id in self._clients

    def api_for_group(self, group: Group) -> CloudClient:
        """The client of the number the group belongs to."""
        return self.api_for(group.phone_number_id)

    async def api_for_group_id(self, group_id: str) -> CloudClient:
        """The client of the number a group belongs to; a group the store does not know
        (yet) goes through the first number's, as it always did."""
        number = await self.store.groups.number_of(group_id)
        return self.api() if number is None else self.api_for(number)

    def label(self, phone_number_id: str) -> str:
        """How people name a number (its id when it is not configured)."""
        for number in self.numbers:
            if number.phone_number_id == phone_number_id:
                return number.label
        return phone_number_id or "(unassigned)"

    def number(self, wanted: str | None = None) -> BusinessNumber:
        """The number named by a label or id; without one, the only number.

        Raises:
            ServiceError: Unknown, or several numbers and none named (a usage refusal
                naming the choices).
        """
        try:
            return choose_number(self.numbers, wanted)
        except NumberChoiceError as exc:
            raise refused(Refusal("number_choice", str(exc))) from None

    def number_id(self, wanted: str | None) -> str | None:
        """The id of the number a label or id names (``None`` passes through)."""
        return None if wanted is None else self.number(wanted).phone_number_id

    async def audit(
        self,
        action: str,
        group_id: str | None,
        targets: Sequence[Any] = (),
        result: Any = None,
        cost: Decimal | None = None,
        *,
        phone_number_id: str | None = None,
    ) -> None:
        """Append an operator-visible action to the audit log (under the number given,
        else the group's): as the daemon's caller and role inside :func:`acting_as`,
        otherwise as this OS user."""
        user, role = _ACTOR.get() or (self.os_user, None)
        await self.store.audit.append(
            user,
            action,
            group_id=group_id,
            targets=list(targets),
            api_result=result,
            cost=cost,
            phone_number_id=phone_number_id,
            role=role,
        )

    @property
    def actor(self) -> str:
        """Who the audit log names now (the daemon's caller, or the OS user)."""
        current = _ACTOR.get()
        return current[0] if current else self.os_user

    async def call(
        self,
        action: str,
        group_id: str | None,
        targets: Sequence[Any],
        call: Awaitable[Any],
        *,
        phone_number_id: str | None = None,
    ) -> Any:
        """Run an API call, auditing its outcome; API errors become `ServiceError`."""
        number = phone_number_id
        try:
            result = await call
        except ApiError as exc:
            await self.audit(
                action,
                group_id,
                targets,
                {"error": str(exc), "code": exc.code},
                phone_number_id=number,
            )
            raise ServiceError(str(exc), cause=exc) from exc
        except CloudError as exc:
            await self.audit(action, group_id, targets, {"error": str(exc)}, phone_number_id=number)
            raise ServiceError(str(exc), cause=exc) from exc
        await self.audit(action, group_id, targets, result_summary(result), phone_number_id=number)
        return result

    async def find_group(self, group_id: str) -> Group | None:
        """A group by Meta id, or by ``pending:<request id>`` while it is being created."""
        if group_id.startswith(PENDING_PREFIX):
            return await self.store.groups.get_by_request(group_id[len(PENDING_PREFIX) :])
        return await self.store.groups.get(group_id)

    async def group(self, group_id: str) -> Group:
        """Like :meth:`find_group`, but an unknown group is refused.

        Raises:
            ServiceError: No such group.
        """
        group = await self.find_group(group_id)
        if group is None:
            raise ServiceError(f"unknown group {group_id}")
        return group


def result_summary(result: Any) -> Any:
    """An API result as the audit log keeps it (JSON-able)."""
    if result is None or isinstance(result, str | int | float | bool):
        return result
    dump = getattr(result, "model_dump", None)
    return dump(mode="json") if callable(dump) else str(result)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


async def import_in_thread(*names: str) -> None:
    """Import the modules ``names`` (in this order) on a worker thread, for code that runs
    beside the UI: an ``import`` statement on the event loop holds every key until it
    is done, while on a thread it gives the loop the interpreter back every switch
    interval (5 ms). Modules already imported cost nothing."""
    missing = [name for name in names if name not in sys.modules]
    if missing:
        await asyncio.to_thread(_import_modules, missing)


def _import_modules(names: Sequence[str]) -> None:
    for name in names:
        importlib.import_module(name)
