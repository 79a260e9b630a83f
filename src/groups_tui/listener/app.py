"""The webhook HTTP application (aiohttp.web).

Per delivery, in this order (reference 3.2):

1. size: bodies over :data:`MAX_BODY_BYTES` get 413 (Meta's payloads reach 3 MB);
2. signature: ``X-Hub-Signature-256`` over the raw bytes, before any parsing — missing
   gives 401, wrong or malformed gives 403; nothing is stored, and a counter goes up in
   the database before the answer is sent;
3. JSON: a body that does not decode gives 400 (Meta would retry a transient failure,
   but a body that is not JSON never becomes one);
4. durable log: the body and its dedupe key are committed by the single writer (group
   commit, ``synchronous=FULL``) and only then does the handler answer 200. A signed
   body of unknown shape is logged and acknowledged like any other, and kept for
   re-parsing.

Applying to state happens after the 200, in the writer (see :mod:`.ingest`): the body is
parsed here, on arrival, and applied right after its commit (an event that cannot be
applied is recorded as failed, and the rest of the body is applied). A body logged but
not yet applied when the process dies is applied at the next start.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from groups_tui.cloud.webhooks import SIGNATURE_HEADER, InvalidSignatureError, verify_signature
from groups_tui.listener.ingest import IngestClosedError, IngestWriter
from groups_tui.store import Store
from groups_tui.store.records import REFUSED_COUNTER

__all__ = [
    "INGEST_KEY",
    "MAX_BODY_BYTES",
    "ListenerConfigError",
    "make_empty_app",
    "make_listener_app",
]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
"""Largest accepted delivery; Meta documents payloads of up to 3 MB."""

INGEST_KEY: web.AppKey[IngestWriter] = web.AppKey("ingest", IngestWriter)
"""Where the application keeps its :class:`IngestWriter`."""


class ListenerConfigError(ValueError):
    """The listener cannot run with this configuration (worded as one actionable line)."""


class _State:
    def __init__(
        self,
        store: Store,
        ingest: IngestWriter,
        *,
        app_secret: str | None,
        verify_token: str | None,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.ingest = ingest
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.clock = clock
        self.started_at: float | None = None


_STATE_KEY: web.AppKey[_State] = web.AppKey("listener_state", _State)


def make_listener_app(
    store: Store,
    *,
    app_secret: str | None,
    verify_token: str | None,
    path: str = "/webhook",
    insecure_no_signature: bool = False,
    clock: Callable[[], float] = time.time,
) -> web.Application:
    """Build the webhook application.

    The application starts its :class:`IngestWriter` on startup (which first applies raw
    events a previous run logged but did not apply) and stops it on cleanup, after the
    server has stopped accepting requests.

    Args:
        store: The open store the listener writes to.
        app_secret: The app secret that signs deliveries.
        verify_token: Token for the GET handshake; ``None`` refuses every handshake.
        path: Where Meta posts (the callback URL's path).
        insecure_no_signature: Accept unsigned deliveries (local experiments only).
        clock: Returns epoch seconds (receipt times, ``started_at``).

    Returns:
        The application, not yet started.

    Raises:
        ListenerConfigError: No app secret and ``insecure_no_signature`` not set.
    """
    if not app_secret and not insecure_no_signature:
        raise ListenerConfigError(
            "no app secret: set WHATSAPP_APP_SECRET (App Dashboard > Settings > Basic) "
            "or pass --insecure-no-signature to accept unsigned webhooks"
        )
    if not path.startswith("/"):
        raise ListenerConfigError(f"webhook path must start with '/': {path!r}")
    ingest = IngestWriter(store, clock=clock)
    state = _State(
        store,
        ingest,
        app_secret=app_secret or None,
        verify_token=verify_token or None,
        clock=clock,
    )
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[INGEST_KEY] = ingest
    app[_STATE_KEY] = state

    async def on_startup(_: web.Application) -> None:
        await ingest.start()
        state.started_at = clock()

    async def on_cleanup(_: web.Application) -> None:
        await ingest.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get(path, _handshake)
    app.router.add_post(path, _deliver)
    app.router.add_get("/healthz", _healthz)
    return app


def make_empty_app(path: str = "/webhook") -> web.Application:
    """An application that answers 200 to every POST at ``path`` and does nothing else.

    The benchmark measures it in the same run as the real listener, as the ceiling the
    server itself imposes.
    """

    async def empty(request: web.Request) -> web.Response:
        await request.read()
        return web.Response()

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post(path, empty)
    return app


async def _handshake(request: web.Request) -> web.Response:
    state = request.app[_STATE_KEY]
    query = request.query
    token = query.get("hub.verify_token", "")
    challenge = query.get("hub.challenge")
    if (
        state.verify_token is not None
        and query.get("hub.mode") == "subscribe"
        and challenge is not None
        and hmac.compare_digest(token.encode("utf-8"), state.verify_token.encode("utf-8"))
    ):
        return web.Response(text=challenge, content_type="text/plain")
    return web.Response(status=403, text="verification refused")


async def _deliver(request: web.Request) -> web.Response:
    state = request.app[_STATE_KEY]
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY_BYTES, actual_size=request.content_length
        )
    body = await request.read()
    if state.app_secret is not None:
        try:
            verify_signature(body, request.headers.get(SIGNATURE_HEADER), state.app_secret)
        except InvalidSignatureError as exc:
            try:
                await state.ingest.note_refused_signature()
            except Exception:
                log.exception("could not count a refused delivery")
            log.warning("refused a delivery: %s", exc)
            status = 401 if exc.reason == "missing" else 403
            return web.Response(status=status, text=f"signature {exc.reason}")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return web.Response(status=400, text="body is not JSON")
    try:
        await state.ingest.submit(body, payload)
    except IngestClosedError:
        return web.Response(status=503, text="shutting down")
    except Exception:
        log.exception("could not store a delivery")
        return web.Response(status=503, text="not stored")
    return web.Response(text="ok")


async def _healthz(request: web.Request) -> web.Response:
    state = request.app[_STATE_KEY]
    stats = await state.store.raw.stats()
    counters = await state.store.raw.counters()
    refused = counters.get(REFUSED_COUNTER, 0)
    body: dict[str, Any] = {
        "ok": state.ingest.running,
        "last_event_at": stats.last_event_at,
        "events_stored": stats.total,
        "signatures_refused": refused,
        "started_at": state.started_at,
        "unapplied": stats.total - stats.applied,
        "signature_check": state.app_secret is not None,
    }
    return web.json_response(body, status=200 if body["ok"] else 503)
