"""Keeping the access token out of everything the client lets go: URLs, texts, bodies.

A server may echo the token in an error, verbatim or encoded, whole or truncated; these
functions mask every such form, and any ``access_token=`` value or ``Bearer`` credential
whatever token it names, before an error is logged or raised.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url", "scrub_text", "scrub_value"]

_SECRET_QUERY_KEYS = frozenset({"access_token", "appsecret_proof", "client_secret"})


def redact_url(url: str) -> str:
    """Replace secret query parameters (``access_token`` ...) in a URL with ``***``.

    Args:
        url: Any URL.

    Returns:
        The URL with secrets masked.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key in _SECRET_QUERY_KEYS for key, _ in pairs):
        return url
    masked = [(key, "***" if key in _SECRET_QUERY_KEYS else value) for key, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))


_SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|appsecret_proof|client_secret)(=|%3D|\"?\s*:\s*\"?)([^&\s\"'<>#,;}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})")
_MIN_PREFIX = 8


def _secret_forms(secret: str) -> tuple[str, ...]:
    """The token as a server may echo it: verbatim, URL-encoded, JSON-escaped."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    return tuple(sorted(forms, key=len, reverse=True))


def _mask_prefixes(text: str, secret: str) -> str:
    """Mask a truncated echo: a run of the token's first characters (at least half of it)."""
    least = max(_MIN_PREFIX, len(secret) // 2)
    if len(secret) < least:
        return text
    head = secret[:least]
    start = text.find(head)
    while start != -1:
        end = start + least
        while end < len(text) and end - start < len(secret) and text[end] == secret[end - start]:
            end += 1
        text = text[:start] + "***" + text[end:]
        start = text.find(head, start + 3)
    return text


def scrub_text(text: str, secret: str) -> str:
    """Remove ``secret`` from ``text`` in every form a server might echo it.

    Covers the token verbatim, URL-encoded and JSON-escaped, a truncated copy (a prefix of
    at least half of it), and the value of any ``access_token=`` (or ``appsecret_proof``,
    ``client_secret``) parameter or ``Bearer`` credential, whatever token it names.

    Args:
        text: Any text taken from a request or a response.
        secret: The access token; empty means nothing to remove.

    Returns:
        The text with each occurrence replaced by ``***``.
    """
    if secret:
        for form in _secret_forms(secret):
            text = text.replace(form, "***")
        text = _mask_prefixes(text, secret)
    text = _SECRET_PARAM.sub(lambda m: f"{m[1]}{m[2]}***", text)
    return _BEARER.sub(lambda m: f"{m[1]}***", text)


def scrub_value(value: Any, secret: str) -> Any:
    """:func:`scrub_text` applied to every string inside a decoded body or a model.

    Args:
        value: A string, a JSON-like structure, or a pydantic model.
        secret: The access token.

    Returns:
        A scrubbed copy (numbers, booleans and ``None`` unchanged).
    """
    if isinstance(value, str):
        return scrub_text(value, secret)
    if isinstance(value, dict):
        return {scrub_value(k, secret): scrub_value(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v, secret) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub_value(v, secret) for v in value)
    # A model exists only once pydantic is imported: the check does not import it (the
    # TUI's start, which scrubs what the sandbox answers, does without it).
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(value, pydantic.BaseModel):
        return type(value).model_validate(scrub_value(value.model_dump(), secret))
    return value
