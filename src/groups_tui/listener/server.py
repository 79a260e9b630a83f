"""Run the webhook application inside an already running event loop.

:class:`ListenerServer` uses aiohttp's ``AppRunner`` + ``TCPSite``: it starts and stops
cleanly inside the TUI's loop and never installs signal handlers, so Ctrl-C stays the
TUI's. The headless ``groups-tui listen`` command wraps it with its own signal handling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from groups_tui.listener.access_log import AccessLogger, access_logger
from groups_tui.listener.app import INGEST_KEY, make_listener_app
from groups_tui.listener.ingest import IngestWriter
from groups_tui.store import Store

__all__ = ["ListenerServer"]


class ListenerServer:
    """The webhook listener as a start/stop object.

    Args:
        store: The open store (the caller keeps ownership and closes it after
            :meth:`stop`).
        app_secret: App secret that signs deliveries.
        verify_token: Token for the GET handshake.
        host: Interface to bind; loopback by default (put TLS termination in front).
        port: TCP port; ``0`` picks a free one (see :attr:`port`).
        path: Callback URL path.
        insecure_no_signature: Accept unsigned deliveries.
        clock: Returns epoch seconds.
        app: Serve this application instead of building the listener's (benchmarks).
        shutdown_timeout: Seconds :meth:`stop` waits for in-flight requests.
        access_log: Write one line per request to the access logger
            (:mod:`.access_log`); off inside the TUI.
    """

    def __init__(
        self,
        store: Store | None,
        *,
        app_secret: str | None = None,
        verify_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
        path: str = "/webhook",
        insecure_no_signature: bool = False,
        clock: Callable[[], float] = time.time,
        app: web.Application | None = None,
        shutdown_timeout: float = 5.0,
        access_log: bool = False,
    ) -> None:
        if app is None:
            if store is None:
                raise ValueError("a store is required unless an app is given")
            app = make_listener_app(
                store,
                app_secret=app_secret,
                verify_token=verify_token,
                path=path,
                insecure_no_signature=insecure_no_signature,
                clock=clock,
            )
        self._app = app
        self._host = host
        self._requested_port = port
        self._path = path
        self._shutdown_timeout = shutdown_timeout
        self._access_log = access_log
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def app(self) -> web.Application:
        """The served application."""
        return self._app

    @property
    def ingest(self) -> IngestWriter | None:
        """The listener's writer, when serving the listener application."""
        return self._app.get(INGEST_KEY)

    @property
    def port(self) -> int:
        """The bound port (the free one chosen when constructed with ``port=0``).

        Raises:
            RuntimeError: The server is not running.
        """
        if self._port is None:
            raise RuntimeError("listener is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The callback URL: ``http://host:port/path``."""
        return self.base_url + self._path

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._runner is not None

    async def start(self) -> None:
        """Bind and serve in the running loop (no signal handlers are installed)."""
        if self._runner is not None:
            return
        if self._access_log:
            runner = web.AppRunner(
                self._app,
                handle_signals=False,
                access_log=access_logger(),
                access_log_class=AccessLogger,
            )
        else:
            runner = web.AppRunner(self._app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(
                runner,
                self._host,
                self._requested_port,
                shutdown_timeout=self._shutdown_timeout,
                backlog=1024,
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests, then stop the writer (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            await runner.cleanup()
        finally:
            self._port = None

    async def __aenter__(self) -> ListenerServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
