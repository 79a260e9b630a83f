"""``groups-tui serve``: one daemon per business account, offering the service on a socket.

The daemon owns the secrets (token, app secret, verify token), the webhook listener, the
automation runner, the moderation watcher and every write to the database. Operators'
TUIs and commands connect to its Unix domain socket (HTTP with JSON bodies: aiohttp's
``UnixSite``; :mod:`.client` is the other end). Each caller is identified by the socket's
peer credentials (``SO_PEERCRED``: uid → user, never what the client says), and each
action is checked against the roles file before it runs: the role it needs
(:data:`~groups_tui.domain.roles.OPERATIONS`), the scope of the caller's grants, and for
templates the daily spend cap against the cost preview. Every action and every refusal
is audited under the caller's name and role.

Routes: ``GET /healthz``; ``GET /v1/session`` (who the caller is, the database to read);
``POST /v1/call/{sub_api.method}`` with ``{"args": ...}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import pwd
import shutil
import socket
import stat
import struct
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from groups_tui.daemon.wire import (
    API_PREFIX,
    FILE_ARGUMENTS,
    WireError,
    decode,
    encode,
    error_body,
)
from groups_tui.domain.roles import (
    SPENDING_OPERATIONS,
    Role,
    RolesConfig,
    check,
    required_role,
    spend_refusal,
)
from groups_tui.domain.sending import Refusal
from groups_tui.service import InboxService, ServiceError, refused
from groups_tui.service.core import acting_as

__all__ = ["Daemon", "Peer", "RolesFileError", "load_roles", "peer_of"]

log = logging.getLogger("groups_tui.daemon")

_CRED = struct.Struct("3i")


class RolesFileError(ValueError):
    """The roles file is missing, unreadable, too open or malformed."""


def load_roles(path: Path, *, check_mode: bool = True) -> RolesConfig:
    """Read and validate the roles file.

    Args:
        path: The TOML file.
        check_mode: Refuse a file that others than its owner may read or write.

    Raises:
        RolesFileError: Why the file cannot be used, in one line.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RolesFileError(f"cannot read roles file {path}: {exc.strerror or exc}") from None
    if check_mode and stat.S_IMODE(mode) & 0o077:
        raise RolesFileError(
            f"roles file {path} is open to others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        return RolesConfig.from_mapping(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise RolesFileError(f"roles file {path}: {exc}") from None
    except ValueError as exc:
        raise RolesFileError(f"{exc} ({path})") from None


@dataclass(frozen=True, slots=True)
class Peer:
    """The process at the other end of a connection, from its peer credentials."""

    pid: int
    uid: int
    user: str
    unix_groups: tuple[str, ...]


def peer_of(request: web.Request, users: dict[int, tuple[str, tuple[str, ...]]]) -> Peer:
    """The caller of `request`, from ``SO_PEERCRED`` on its Unix socket.

    Args:
        request: The request.
        users: Known uids' names and Unix groups (filled here; cleared on SIGHUP).

    Raises:
        web.HTTPForbidden: The transport is not a Unix socket with credentials.
    """
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        raise web.HTTPForbidden(text="no peer credentials")
    pid, uid, gid = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    known = users.get(uid)
    if known is None:
        known = users[uid] = _user(uid, gid)
    return Peer(pid, uid, known[0], known[1])


def _user(uid: int, gid: int) -> tuple[str, tuple[str, ...]]:
    """The user name of `uid` and the names of its Unix groups."""
    try:
        entry = pwd.getpwuid(uid)
        user, groups = entry.pw_name, os.getgrouplist(entry.pw_name, entry.pw_gid)
    except KeyError:
        user, groups = f"uid:{uid}", [gid]
    names = []
    for g in groups:
        try:
            names.append(grp.getgrgid(g).gr_name)
        except KeyError:
            names.append(f"gid:{g}")
    return user, tuple(names)


class Daemon:
    """The socket server in front of one service.

    Args:
        service: The live service (it holds the store and the Cloud API client).
        roles: The roles file's grants and caps.
        roles_path: Where the roles file is (reloaded on SIGHUP).
        socket_path: The Unix socket to listen on.
        db_path: The database clients read (told to them in ``/v1/session``).
        socket_group: The Unix group of operators: the socket and the database become
            theirs to connect to and read (``None``: left to the umask and the owner).
        check_roles_mode: Refuse a roles file open to others on reload.
        listener_url: Where the daemon's webhook listener accepts deliveries.
        automations_running: Whether this process runs the automations now.
    """

    def __init__(
        self,
        service: InboxService,
        roles: RolesConfig,
        *,
        roles_path: Path | None,
        socket_path: Path,
        db_path: Path,
        socket_group: str | None = None,
        check_roles_mode: bool = True,
        listener_url: str | None = None,
        automations_running: Callable[[], bool] = lambda: False,
    ) -> None:
        self.service = service
        self.roles = roles
        self.roles_path = roles_path
        self.socket_path = socket_path
        self.db_path = db_path
        self.socket_group = socket_group
        self._check_roles_mode = check_roles_mode
        self._runner: web.AppRunner | None = None
        self._files = Path(tempfile.mkdtemp(prefix="groups-tui-daemon-"))
        self.listener_url = listener_url
        self.automations_running = automations_running
        self._users: dict[int, tuple[str, tuple[str, ...]]] = {}
        self._spend_locks: dict[str, asyncio.Lock] = {}

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on the socket (replacing a stale one) and set its permissions."""
        app = web.Application(client_max_size=128 * 1024 * 1024)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get(f"{API_PREFIX}/session", self._session)
        app.router.add_post(f"{API_PREFIX}/call/{{operation}}", self._call)
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        await _remove_stale_socket(self.socket_path)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.UnixSite(runner, str(self.socket_path))
        await site.start()
        self._runner = runner
        self._set_permissions()
        log.info("serving on %s (db %s)", self.socket_path, self.db_path)

    async def stop(self) -> None:
        """Stop answering and remove the socket."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.socket_path.unlink(missing_ok=True)
        shutil.rmtree(self._files, ignore_errors=True)

    def reload_roles(self) -> bool:
        """Read the roles file again (SIGHUP); a bad file keeps the roles in force."""
        self._users.clear()  # group memberships are read again too
        if self.roles_path is None:
            return False
        try:
            self.roles = load_roles(self.roles_path, check_mode=self._check_roles_mode)
        except RolesFileError as exc:
            log.error("roles not reloaded, the previous ones stay in force: %s", exc)
            return False
        log.info("roles reloaded from %s (%d grants)", self.roles_path, len(self.roles.grants))
        return True

    def _set_permissions(self) -> None:
        """Socket: owner and operators read/write. Database: owner writes, operators read."""
        gid = -1
        if self.socket_group is not None:
            gid = grp.getgrnam(self.socket_group).gr_gid
        mode_socket, mode_db = (0o660, 0o640) if gid != -1 else (0o666, 0o644)
        os.chown(self.socket_path, -1, gid)
        os.chmod(self.socket_path, mode_socket)
        for suffix in ("", "-wal", "-shm"):
            path = self.db_path.with_name(self.db_path.name + suffix)
            if path.exists():
                os.chown(path, -1, gid)
                os.chmod(path, mode_db)

    # --- routes ------------------------------------------------------------------------------
    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "pid": os.getpid(),
                "listener": self.listener_url,
                "automations": self.automations_running(),
            }
        )

    async def _session(self, request: web.Request) -> web.Response:
        peer = peer_of(request, self._users)
        grants = self.roles.grants_of(peer.user, peer.unix_groups)
        role = self.roles.highest_role(peer.user, peer.unix_groups)
        cap = self.roles.daily_cap(peer.user, role) if role is not None else None
        spent = await self.service.admin.spent_today_by(peer.user)
        return web.json_response(
            {
                "user": peer.user,
                "uid": peer.uid,
                "role": role.label if role is not None else None,
                "grants": [
                    {
                        "role": g.role.label,
                        "scope": g.scope_text(),
                        "tags": sorted(g.tags),
                        "group_ids": sorted(g.group_ids),
                    }
                    for g in grants
                ],
                "daily_cap": None if cap is None else str(cap),
                "spent_today": str(spent),
                "db_path": str(self.db_path),
                "account": encode(self.service.account),
                "pid": os.getpid(),
                "automations": self.automations_running(),
            }
        )

    async def _call(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        peer = peer_of(request, self._users)
        operation = request.match_info["operation"]
        try:
            body = await request.json()
            arguments = decode(body.get("args") if isinstance(body, dict) else None)
            if not isinstance(arguments, dict):
                raise WireError("args must be an object")
        except (ValueError, WireError) as exc:
            return _error(400, ServiceError(f"bad request: {exc}"))
        needed = required_role(operation, arguments)
        if needed is None:
            return _error(404, ServiceError(f"no such operation: {operation}"))
        group_id = arguments.get("group_id")
        group_id = group_id if isinstance(group_id, str) else None
        scoped_by_tag = any(g.tags for g in self.roles.grants)
        tag = await self.service.reading.tag(group_id) if group_id and scoped_by_tag else None
        held = self.roles.role_for(peer.user, peer.unix_groups, group_id, tag)
        with acting_as(peer.user, held.label if held is not None else "none"):
            # One spending call per user at a time: the cap sees the previous one audited.
            guard = (
                self._spend_locks.setdefault(peer.user, asyncio.Lock())
                if operation in SPENDING_OPERATIONS
                else contextlib.nullcontext()
            )
            async with guard:
                refusal = check(operation, needed, held, peer.user, group_id)
                if refusal is None and held is not None and operation in SPENDING_OPERATIONS:
                    refusal = await self._spend_check(peer.user, held, operation, arguments)
                if refusal is not None:
                    await self.service.admin.record_refusal(operation, group_id, refusal.reason)
                    log.warning(
                        "refused %s (%s, pid %d) %s: %s",
                        peer.user,
                        held.label if held else "no role",
                        peer.pid,
                        operation,
                        refusal.reason,
                    )
                    return _error(403, refused(refusal))
                try:
                    await self._receive_files(operation, arguments, body)
                    sub_api, _, name = operation.partition(".")
                    method = getattr(getattr(self.service, sub_api), name)
                    result = await method(**arguments)
                except ServiceError as exc:
                    self._log_call(peer, held, operation, f"failed: {exc.message}", started)
                    return _error(422, exc)
                except (KeyError, ValueError, LookupError, TypeError) as exc:
                    self._log_call(peer, held, operation, f"failed: {exc}", started)
                    return _error(400 if isinstance(exc, TypeError) else 422, exc)
        self._log_call(peer, held, operation, "ok", started)
        return web.json_response({"result": encode(result)})

    # --- helpers -----------------------------------------------------------------------------
    async def _spend_check(
        self, user: str, role: Role, operation: str, arguments: dict[str, Any]
    ) -> Refusal | None:
        cap = self.roles.daily_cap(user, role)
        if cap is None:
            return None
        template = arguments.get("template")
        if template is None:
            return None
        if operation == "sending.send_template":
            preview = await self.service.sending.preview_cost(arguments["group_id"], template)
        else:
            preview = self.service.sending.invite_preview(arguments.get("numbers", ()), template)
        spent = await self.service.admin.spent_today_by(user)
        return spend_refusal(user, cap, spent, Decimal(preview.total), role)

    async def _receive_files(
        self, operation: str, arguments: dict[str, Any], body: dict[str, Any]
    ) -> None:
        """Write a file the client sent to a private copy and pass its path on."""
        name = FILE_ARGUMENTS.get(operation)
        sent = (body.get("files") or {}).get(name) if name else None
        if name is None or not isinstance(sent, dict):
            return
        content = decode(sent.get("content"))
        if not isinstance(content, bytes):
            raise ValueError("the file's content is missing")
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, dir=self._files))
        target = folder / Path(str(sent.get("name") or "file")).name
        await asyncio.to_thread(target.write_bytes, content)
        arguments[name] = target

    def _log_call(
        self, peer: Peer, held: Role | None, operation: str, outcome: str, started: float
    ) -> None:
        log.info(
            "%s (%s, pid %d) %s: %s in %.1f ms",
            peer.user,
            held.label if held else "no role",
            peer.pid,
            operation,
            outcome,
            (time.perf_counter() - started) * 1000,
        )


def _error(status: int, exc: Exception) -> web.Response:
    return web.json_response(error_body(exc), status=status)


async def _remove_stale_socket(path: Path) -> None:
    """Remove a socket nobody answers on; refuse to start beside a live daemon."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise OSError(f"{path} exists and is not a socket")
    except FileNotFoundError:
        return
    try:
        _reader, writer = await asyncio.open_unix_connection(str(path))
    except OSError:
        os.unlink(path)
        return
    writer.close()
    raise OSError(f"a daemon already listens on {path}")
