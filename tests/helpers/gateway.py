"""A real HTTP gateway in front of the sandbox that can answer some calls itself.

Commands under test talk to the gateway as they would to Meta. Every request is forwarded
to the sandbox unchanged, except those matching an override, which get the override's
answer instead: a Graph error the sandbox would never send (hostile error text), or a
502 without a Graph body (an answer that says nothing about the outcome).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

_FORWARDED = ("authorization", "content-type", "accept")


@dataclass
class Answer:
    """What the gateway answers instead of the sandbox."""

    status: int
    body: Any
    """A JSON value, or ``str`` for a plain-text body."""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Gateway:
    """A started gateway: its URL and the overrides, keyed by (method, path suffix)."""

    url: str
    overrides: dict[tuple[str, str], Answer] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, method: str, path: str) -> Answer | None:
        for (m, suffix), answer in self.overrides.items():
            if m == method and path.split("?", 1)[0].endswith(suffix):
                return answer
        return None


@contextmanager
def gateway(upstream: str) -> Iterator[Gateway]:
    """Serve a gateway to `upstream` on a free loopback port until the block ends."""
    state = Gateway(url="")
    client = httpx.Client(base_url=upstream, timeout=30.0)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.hits.append((self.command, self.path))
            override = state.answer(self.command, self.path)
            if override is not None:
                if isinstance(override.body, str):
                    payload, ctype = override.body.encode(), "text/plain"
                else:
                    payload, ctype = json.dumps(override.body).encode(), "application/json"
                self._reply(override.status, ctype, payload, override.headers)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED}
            upstream_response = client.request(
                self.command, self.path, headers=headers, content=body
            )
            self._reply(
                upstream_response.status_code,
                upstream_response.headers.get("content-type", "application/json"),
                upstream_response.content,
            )

        def _reply(
            self, status: int, ctype: str, payload: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        client.close()
