"""How the rules read message text: the links in it, and its normalised form."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["LINK_RE", "contains_link", "find_links", "normalize_text"]

_BARE_TLDS = (
    "com", "net", "org", "info", "biz", "io", "co", "xyz", "top", "site", "online", "app",
    "dev", "shop", "store", "club", "live", "link", "click", "ly", "gg", "cc", "tv", "ws",
    "pw", "tk", "ml", "ga", "cf", "gq", "icu", "vip", "win", "bid", "loan", "work", "fun",
    "space", "website", "tech", "pro", "news", "buzz", "monster", "cyou", "sbs", "cfd",
    "uk", "de", "fr", "eu", "es", "nl", "pl", "ru", "cn", "br", "mx", "ar", "za", "ng",
    "gh", "ke", "au", "ca", "tr", "pk", "ph", "vn", "ir", "ua",
)  # fmt: skip
# Deliberately absent: TLDs that are everyday words or abbreviations ("in", "me", "it",
# "to", "at", "be", "us", "so", "do", "am", "no", "is", "my", "go"), which would turn
# "hello.it" or "10.am" into links. Full URLs with those TLDs still match via the scheme
# or www branches.

LINK_RE: re.Pattern[str] = re.compile(
    r"""
    (?:
        \bhttps?://\S+
      | \bwww\.[^\W_](?:[\w-]*)(?:\.[\w-]+)+\S*
      | (?<![\w@./-])(?:chat\.whatsapp\.com|wa\.me|(?:t|telegram)\.me)/\S*
      | (?<![\w@./-])
        (?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+
        (?:"""
    + "|".join(_BARE_TLDS)
    + r""")
        (?![\w-])
        (?::\d{1,5})?
        (?:/\S*)?
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
"""Matches http(s) URLs, ``www.`` hosts, bare domains with common TLDs, WhatsApp group
invites (``chat.whatsapp.com/…``), ``wa.me/…`` and Telegram (``t.me/…``) links.

Decimal numbers ("3.50"), abbreviations ("e.g.", "a.m.") and e-mail addresses do not
match: a bare domain needs a listed TLD and must not follow ``@``, a word character, a dot,
a slash or a hyphen."""

_TRAILING_PUNCTUATION = ".,;:!?)]}>'\"…"


def find_links(text: str) -> list[str]:
    """Every link in ``text``, in order, without trailing sentence punctuation.

    Args:
        text: Message text or caption.

    Returns:
        The matched links as written (``"bit.ly/x"``, ``"https://example.com/a"``...).
    """
    return [m.group(0).rstrip(_TRAILING_PUNCTUATION) for m in LINK_RE.finditer(text)]


def contains_link(text: str | None) -> bool:
    """Whether ``text`` contains at least one link (see :data:`LINK_RE`).

    Args:
        text: Message text or caption; ``None`` has no link.

    Returns:
        True if a link was found.
    """
    return text is not None and LINK_RE.search(text) is not None


_WHITESPACE_RE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Reduce a message text to what the cross-group rule compares.

    NFKC-normalised, invisible format characters (zero-width spaces and joiners, bidi
    marks) dropped, case-folded, whitespace runs collapsed to one space and trimmed. URLs
    are kept: the same pitch pointing at two different links is two different texts.

    Args:
        text: Message text or caption.

    Returns:
        The normalised text.
    """
    if not text.isascii():  # ASCII is already NFKC and has no format characters
        text = unicodedata.normalize("NFKC", text)
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _WHITESPACE_RE.sub(" ", text.casefold()).strip()
