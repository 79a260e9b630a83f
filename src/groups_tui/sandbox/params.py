"""Request-parameter rules every Graph edge of the sandbox shares: the product and cursors."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from .errors import GraphError

__all__ = ["decode_cursor", "encode_cursor", "require_product"]


def require_product(body: Mapping[str, Any]) -> None:
    """Refuse a body without ``"messaging_product": "whatsapp"``.

    Raises:
        GraphError: 100.
    """
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required.")


def encode_cursor(n: int) -> str:
    """An opaque paging cursor for position or sequence number ``n``."""
    return base64.b64encode(f"sandbox:{n}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The number a cursor of :func:`encode_cursor` holds.

    Raises:
        GraphError: 131059 for a cursor the sandbox did not make.
    """
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        prefix, _, number = text.partition(":")
        if prefix != "sandbox":
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise GraphError(131059, "The pagination cursor is invalid or has expired.") from None
