"""Turning user-typed search text into a safe FTS5 MATCH expression."""

from __future__ import annotations

import re

__all__ = ["fts_query"]

# A token is a run of letters, digits or underscores (what the unicode61 tokenizer keeps);
# everything else, including FTS5 operators and quotes, is a separator.
_TOKEN = re.compile(r"\w+", re.UNICODE)

_MAX_TOKENS = 16


def fts_query(text: str) -> str | None:
    """Build a MATCH expression that matches messages containing every word typed.

    Each token becomes a double-quoted string (so ``OR``, ``NEAR``, ``*``, ``:``, ``^``,
    parentheses and stray quotes lose any special meaning) and the last token is a
    prefix query, for search-as-you-type.

    Args:
        text: Raw user input.

    Returns:
        The expression, or ``None`` when the input has no searchable word.
    """
    tokens = _TOKEN.findall(text)[:_MAX_TOKENS]
    if not tokens:
        return None
    quoted = [f'"{t}"' for t in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)
