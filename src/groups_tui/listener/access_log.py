"""One access log line per webhook request: method, path, status, bytes and milliseconds.

Never the body, the query string (the verification handshake carries the verify token
there) or a header: only what an operator needs to see deliveries arrive and how long
the listener took to answer them.
"""

from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

__all__ = ["ACCESS_LOGGER", "AccessLogger"]

ACCESS_LOGGER = "groups_tui.listener.access"
"""The logger the access lines go to (level INFO)."""


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access logger hook, writing ``POST /webhook 200 2B 1.4ms`` lines.

    The record's ``fields`` extra holds the same values for JSON logs.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Log one finished request (``time`` in seconds)."""
        ms = round(time * 1000, 1)
        size = response.body_length
        self.logger.info(
            "%s %s %s %dB %.1fms",
            request.method,
            request.path,
            response.status,
            size,
            ms,
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status,
                    "bytes": size,
                    "ms": ms,
                }
            },
        )


def access_logger() -> logging.Logger:
    """The logger :class:`AccessLogger` writes to."""
    return logging.getLogger(ACCESS_LOGGER)
