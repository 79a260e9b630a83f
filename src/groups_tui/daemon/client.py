"""The daemon's clients: a service whose actions go through ``groups-tui serve``.

:class:`RemoteService` is an :class:`~groups_tui.service.InboxService` over the daemon's
database opened read-only, so reads (the inbox, conversations, search, the change feed)
stay local and fast; every method named in
:data:`~groups_tui.domain.roles.OPERATIONS` is replaced by a call to the daemon over its
Unix socket (HTTP with JSON bodies, :mod:`.wire`). The TUI and the CLI use it exactly as
they use the service: no special cases. The client never holds the Cloud API token.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx

from groups_tui.daemon.wire import (
    API_PREFIX,
    DEFAULT_SOCKET,
    FILE_ARGUMENTS,
    encode,
    error_from_body,
    find_socket,
)
from groups_tui.domain.roles import OPERATIONS, Grant, Role, required_role
from groups_tui.domain.sending import Refusal
from groups_tui.service import InboxService, ServiceError
from groups_tui.service.admin import Admin
from groups_tui.service.automations import Automations
from groups_tui.service.changes import Changes
from groups_tui.service.moderation import Moderation
from groups_tui.service.reading import Reading
from groups_tui.service.sending import Sending
from groups_tui.service.types import AccountInfo
from groups_tui.store import Store

__all__ = [
    "DEFAULT_SOCKET",
    "DaemonClient",
    "DaemonUnavailable",
    "RemoteService",
    "Session",
    "find_socket",
    "open_remote_service",
]

_BASE_URL: Final = "http://groups-tui"
T = TypeVar("T")


class DaemonUnavailable(ServiceError):
    """The daemon's socket is configured but nothing answers on it (a configuration
    error: it carries a refusal, so commands exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, refusal=Refusal("daemon_unavailable", message))


@dataclass(frozen=True, slots=True)
class Session:
    """Who the daemon says the caller is, and what the client needs to read locally."""

    user: str
    uid: int
    role: Role | None
    grants: tuple[Grant, ...]
    daily_cap: Decimal | None
    spent_today: Decimal
    db_path: Path
    account: AccountInfo
    daemon_pid: int
    automations_running: bool = False

    @property
    def remaining(self) -> Decimal | None:
        """Today's remaining template spend (``None``: no cap)."""
        if self.daily_cap is None:
            return None
        return max(self.daily_cap - self.spent_today, Decimal(0))

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Session:
        """The ``/v1/session`` body."""
        from groups_tui.daemon.wire import decode

        account = decode(body["account"])
        if not isinstance(account, AccountInfo):
            raise ServiceError("the daemon sent no account")
        return cls(
            user=str(body["user"]),
            uid=int(body["uid"]),
            role=Role.parse(body["role"]) if body.get("role") else None,
            grants=tuple(
                Grant(
                    Role.parse(g["role"]),
                    users=frozenset({str(body["user"])}),
                    tags=frozenset(g.get("tags", [])),
                    group_ids=frozenset(g.get("group_ids", [])),
                )
                for g in body.get("grants", [])
            ),
            daily_cap=Decimal(body["daily_cap"]) if body.get("daily_cap") is not None else None,
            spent_today=Decimal(body.get("spent_today", "0")),
            db_path=Path(body["db_path"]),
            account=account,
            daemon_pid=int(body.get("pid", 0)),
            automations_running=bool(body.get("automations", False)),
        )


class DaemonClient:
    """HTTP over the daemon's Unix socket.

    Args:
        socket_path: The daemon's socket.
        timeout: Seconds one call may take (an action waits for the Cloud API).
    """

    def __init__(self, socket_path: Path, *, timeout: float = 60.0) -> None:
        self.socket_path = socket_path
        self._http = httpx.AsyncClient(
            # No TLS on a Unix socket: no certificate store to load either.
            transport=httpx.AsyncHTTPTransport(uds=str(socket_path), verify=False),
            base_url=_BASE_URL,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        """Close the connection."""
        await self._http.aclose()

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise DaemonUnavailable(
                f"no daemon answers on {self.socket_path} ({exc or type(exc).__name__}); "
                "is `groups-tui serve` running?"
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200:
            raise error_from_body(data)
        return data

    async def health(self) -> dict[str, Any]:
        """The ``/healthz`` body."""
        data = await self._request("GET", "/healthz")
        return data if isinstance(data, dict) else {}

    async def session(self) -> Session:
        """Who the daemon says this process is, and where its database is."""
        return Session.from_json(await self._request("GET", f"{API_PREFIX}/session"))

    async def call(self, operation: str, arguments: Mapping[str, Any]) -> Any:
        """Run one of the service's actions in the daemon.

        Raises:
            ServiceError: The daemon or the service refused or failed (a role refusal
                carries a refusal, so the CLI exits 2).
        """
        from groups_tui.daemon.wire import decode

        body: dict[str, Any] = {"args": encode(dict(arguments))}
        file_argument = FILE_ARGUMENTS.get(operation)
        if file_argument is not None and arguments.get(file_argument) is not None:
            path = Path(arguments[file_argument])
            try:
                content = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise ServiceError(f"cannot read {path}: {exc.strerror or exc}") from None
            body["files"] = {file_argument: {"name": path.name, "content": encode(content)}}
        data = await self._request("POST", f"{API_PREFIX}/call/{operation}", body)
        return decode(data.get("result") if isinstance(data, dict) else None)


def _remote_method(operation: str, original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)
    variadic = [
        p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD
    ]

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop("self", None)
        for name in variadic:
            arguments.update(arguments.pop(name, {}))
        daemon: DaemonClient = self._daemon
        return await daemon.call(operation, arguments)

    method.__name__ = original.__name__
    method.__qualname__ = original.__qualname__
    method.__doc__ = original.__doc__
    return method


def _remote_class(base: type[T], prefix: str) -> type[T]:
    """`base` with each of its methods named in OPERATIONS calling the daemon instead."""
    namespace: dict[str, Any] = {}
    for operation in OPERATIONS:
        sub_api, _, name = operation.partition(".")
        original = getattr(base, name, None) if sub_api == prefix else None
        if original is not None:
            namespace[name] = _remote_method(operation, original)
    return type(f"Remote{base.__name__}", (base,), namespace)


_RemoteReading = _remote_class(Reading, "reading")
_RemoteSending = _remote_class(Sending, "sending")
_RemoteAdmin = _remote_class(Admin, "admin")
_RemoteModeration = _remote_class(Moderation, "moderation")
_RemoteAutomations = _remote_class(Automations, "automations")
_RemoteChanges = _remote_class(Changes, "changes")


class RemoteService(InboxService):
    """The service as a daemon's client: local reads, actions through the daemon.

    Args:
        store: The daemon's database, opened read-only.
        daemon: The connection to the daemon.
        session: Who the daemon says this process is.
    """

    def __init__(self, store: Store, daemon: DaemonClient, session: Session) -> None:
        super().__init__(store, None, account=session.account, os_user=session.user)
        core = self._core
        self.daemon = daemon
        """The connection to the daemon."""
        self.session = session
        """Who the daemon says this process is (user, role, scope, spend)."""
        self.reading = _attach(_RemoteReading(core), daemon)
        self.sending = _attach(_RemoteSending(core, self.reading), daemon)
        self.admin = _attach(_RemoteAdmin(core, self.reading), daemon)
        self.moderation = _attach(_RemoteModeration(core, self.admin), daemon)
        self.automations = _attach(_RemoteAutomations(core), daemon)
        self.changes = _attach(_RemoteChanges(core), daemon)
        # The automations panel says whether they run: in the daemon, not here.
        self.automations.running = session.automations_running

    @property
    def read_only(self) -> bool:
        """False: the daemon acts for this client."""
        return False

    @property
    def automations_run_here(self) -> bool:
        """False: the daemon runs the automations."""
        return False

    def permits(
        self,
        operation: str,
        group_id: str | None = None,
        tag: str | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> bool:
        """Whether a grant could let this caller run `operation` (for greying keys).

        Generous where it cannot know (no group given, or a tag-scoped grant and no
        tag): the daemon decides, this only greys what no grant allows.
        """
        needed = required_role(operation, arguments or {})
        if needed is None:
            return True
        roles = [
            g.role
            for g in self.session.grants
            if group_id is None or g.covers(group_id, tag) or (tag is None and g.tags)
        ]
        return bool(roles) and max(roles) >= needed


def _attach(api: T, daemon: DaemonClient) -> T:
    api._daemon = daemon  # type: ignore[attr-defined]
    return api


@asynccontextmanager
async def open_remote_service(socket_path: Path) -> AsyncIterator[RemoteService]:
    """Connect to the daemon at `socket_path` and open its database read-only.

    Raises:
        DaemonUnavailable: Nothing answers on the socket.
        ServiceError: The daemon's database cannot be read by this user.
    """
    daemon = DaemonClient(socket_path)
    try:
        session = await daemon.session()
        try:
            store = await Store.open_readonly(session.db_path)
        except Exception as exc:
            raise ServiceError(
                f"cannot read the daemon's database {session.db_path}: {exc}; "
                "are you in the operators' Unix group?"
            ) from exc
        try:
            yield RemoteService(store, daemon, session)
        finally:
            await store.close()
    finally:
        await daemon.aclose()
