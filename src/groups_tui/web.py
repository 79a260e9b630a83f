"""``groups-tui web``: the same TUI in a browser, for operators without SSH.

Each browser tab runs its own ``groups-tui`` process, served through ``textual-serve``
(the optional ``web`` extra). The server binds to 127.0.0.1 by default. It refuses to
bind to any other address unless an access token is configured
(``GROUPS_TUI_WEB_TOKEN``, from the environment or the config file -- never the command
line, where other users could read it): a browser then opens ``/?token=...`` once, gets
an HTTP-only, same-site cookie and is redirected to ``/`` (the token leaves the address
bar); scripts may send ``Authorization: Bearer ...``. Every request without the token or
the cookie gets 401. Whatever the bind, a request a page of another site makes (its
``Origin`` is not this host) gets 403, and without a token only loopback host names are
answered (a DNS name rebound to 127.0.0.1 is not). Put TLS in front (see ``deploy/``):
the token travels with every request.

Nothing here imports Textual or textual-serve until the server starts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import click
from aiohttp import web
from aiohttp.typedefs import Middleware

from groups_tui.cli_output import echo, fail
from groups_tui.config import ConfigError, load_settings

if TYPE_CHECKING:
    from textual_serve.server import Server

__all__ = [
    "COOKIE",
    "SERVER_KEY",
    "auth_middleware",
    "is_loopback",
    "loopback_host",
    "make_web_app",
    "same_origin",
    "serve",
    "web_command",
]

EXIT_USAGE = 2
COOKIE = "groups_tui_web"
"""The session cookie set after a correct token."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token, never the token itself."""
    return hmac.new(token.encode(), b"groups-tui web session", hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse requests a page of another site makes (cross-site websocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.split("://", 1)[-1] != request.host:
        return web.Response(status=403, text="forbidden: cross-origin request\n")
    return await handler(request)


@web.middleware
async def loopback_host(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Without a token, answer only to loopback names (a DNS name rebound to 127.0.0.1 is not)."""
    name = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if not is_loopback(name):
        return web.Response(status=403, text="forbidden: set GROUPS_TUI_WEB_TOKEN\n")
    return await handler(request)


def auth_middleware(token: str) -> Middleware:
    """Refuse every request that carries neither the token nor the session cookie."""
    session = _cookie_value(token)

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        bearer = request.headers.get("Authorization", "")
        if _same(request.cookies.get(COOKIE), session) or (
            bearer.startswith("Bearer ") and _same(bearer[7:], token)
        ):
            return await handler(request)
        if _same(request.query.get("token"), token):
            # Trade the token for a cookie and drop it from the address bar and history.
            response = web.HTTPSeeOther(location=request.rel_url.with_query(None).path or "/")
            response.set_cookie(
                COOKIE,
                session,
                httponly=True,
                samesite="Strict",
                secure=request.headers.get("X-Forwarded-Proto") == "https" or request.secure,
            )
            return response
        return web.Response(
            status=401,
            text="unauthorized: open the address groups-tui web printed, with ?token=...\n",
            headers={"WWW-Authenticate": 'Bearer realm="groups-tui"'},
        )

    return check


SERVER_KEY: web.AppKey[Server] = web.AppKey("textual_serve_server")
"""The textual-serve server whose handlers the application routes to."""


def make_web_app(command: str, public_url: str | None, token: str | None) -> web.Application:
    """The web application: textual-serve's page, websocket and files, behind the token.

    Args:
        command: What each browser tab runs (the TUI).
        public_url: The address browsers use (the page's websocket URL is built from it);
            ``None`` to set it once bound (:func:`serve`).
        token: The access token, or ``None`` for no authentication (loopback only).

    Returns:
        The application, not yet started.
    """
    import aiohttp_jinja2
    import jinja2
    from textual_serve.server import Server

    server = Server(command, title="groups-tui", public_url=public_url or "http://127.0.0.1")
    guard = auth_middleware(token) if token else loopback_host
    app = web.Application(middlewares=[same_origin, guard])
    app[SERVER_KEY] = server
    sessions: set[asyncio.Task[object]] = set()

    async def session(request: web.Request) -> web.StreamResponse:
        """One browser tab's TUI, remembered so that stopping the server ends it."""
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs every handler in a task
        sessions.add(task)
        try:
            return await server.handle_websocket(request)
        finally:
            sessions.discard(task)

    async def end_sessions(app: web.Application) -> None:
        # Each tab's handler closes its websocket and tells its TUI to quit when cancelled.
        for task in list(sessions):
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)

    app.on_shutdown.append(end_sessions)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(server.templates_path))
    app.add_routes(
        [
            web.get("/", server.handle_index, name="index"),
            web.get("/ws", session, name="websocket"),
            web.get("/download/{key}", server.handle_download, name="download"),
            web.static("/static", server.statics_path, name="static"),
        ]
    )
    return app


async def serve(
    app: web.Application,
    host: str,
    port: int,
    public_url: str | None,
    ready: Callable[[str], None],
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM.

    Args:
        app: From :func:`make_web_app`.
        host: Interface to bind.
        port: TCP port (``0`` picks a free one).
        public_url: The address browsers use; by default ``http://host:port`` as bound.
        ready: Called with the public URL once listening.
    """
    from groups_tui.listener.commands import wait_for_signal

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        shown = f"[{host}]" if ":" in host else host
        url = public_url or f"http://{shown}:{int(runner.addresses[0][1])}"
        app[SERVER_KEY].public_url = url.rstrip("/")
        ready(url.rstrip("/"))
        await wait_for_signal()
    finally:
        await runner.cleanup()


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.option(
    "--public-url",
    default=None,
    help="The address browsers use, e.g. https://ops.example.com (behind a TLS proxy).",
)
def web_command(host: str, port: int, public_url: str | None) -> None:
    """Serve the TUI to a browser (one TUI process per tab).

    Binds to 127.0.0.1 unless --host says otherwise; any other address needs
    GROUPS_TUI_WEB_TOKEN (environment or config file), and browsers then open
    /?token=TOKEN once. Requires the web extra: pip install 'groups-tui[web]'.
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    token = settings.web_token.get_secret_value() if settings.web_token else None
    if not token and not is_loopback(host):
        fail(
            f"refusing to serve the TUI on {host} without authentication: set "
            "GROUPS_TUI_WEB_TOKEN (a long random string, e.g. from `openssl rand -hex 32`) "
            "and put TLS in front, or bind to 127.0.0.1",
            EXIT_USAGE,
        )
    if "spacing_marks" not in settings.given:
        # xterm.js measures code points with wcwidth, as tmux does: each spacing mark of
        # Hindi, Bengali, Tamil... text takes a cell there (the TUIs inherit this).
        os.environ["GROUPS_TUI_SPACING_MARKS"] = "one"
    try:
        app = make_web_app(shlex.join([sys.executable, "-m", "groups_tui"]), public_url, token)
    except ImportError:
        fail("groups-tui web needs the web extra: pip install 'groups-tui[web]'", EXIT_USAGE)

    def ready(url: str) -> None:
        where = url + ("/?token=$GROUPS_TUI_WEB_TOKEN" if token else "/")
        echo(f"serving the TUI on {url}; open {where} (Ctrl-C to stop)", err=True)
        echo(f"url {url}")
        sys.stdout.flush()

    try:
        asyncio.run(serve(app, host, port, public_url, ready))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_USAGE)
