"""Everything the command line writes to a terminal goes through here.

Plain output holds untrusted text (subjects, names, message bodies, webhook bodies and the
Cloud API's error texts, which a server may fill with anything), so every line is passed
through :func:`groups_tui.domain.text.visible` — the rule the TUI uses — before it is
written: no escape sequence, C1 control or bidi override reaches the operator's terminal.
``--json`` output goes through :func:`groups_tui.jsonable.dumps`, which writes the same
code points as ``\\uXXXX`` escapes. Log records (retry warnings, listener errors) get a
handler that does the same.

Nothing here imports Textual or rich.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import click

from groups_tui.domain.text import visible
from groups_tui.jsonable import dumps

__all__ = ["echo", "echo_json", "fail", "install_log_handler"]


def echo(text: str = "", *, err: bool = False, nl: bool = True, **style: Any) -> None:
    """Write one piece of plain output, its untrusted characters made visible.

    Args:
        text: The text (may hold untrusted parts; newlines and tabs are kept).
        err: Write to stderr instead of stdout.
        nl: End with a newline.
        **style: ``click.style`` arguments (``fg``, ``bold``...) applied after escaping.
    """
    safe = visible(text)
    if style:
        safe = click.style(safe, **style)
    click.echo(safe, err=err, nl=nl)


def echo_json(
    value: Any, properties: Iterable[str] = (), *, indent: int | None = 2, err: bool = False
) -> None:
    """Write a value as terminal-safe JSON (see :func:`groups_tui.jsonable.dumps`).

    Args:
        value: The result.
        properties: Derived properties to include.
        indent: Indentation, or ``None`` for one line.
        err: Write to stderr instead of stdout.
    """
    click.echo(dumps(value, properties, indent=indent), err=err)


def fail(message: str, code: int) -> NoReturn:
    """Write ``groups-tui: message`` to stderr (made visible) and exit with ``code``.

    Args:
        message: The reason (may quote untrusted text such as an API error).
        code: The exit code.
    """
    echo(f"groups-tui: {message}", err=True)
    sys.exit(code)


class _VisibleStderrHandler(logging.Handler):
    """Writes formatted records to the current ``sys.stderr``, made visible."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(visible(self.format(record)) + "\n")
            sys.stderr.flush()
        except Exception:  # logging must never raise into the caller
            self.handleError(record)


def install_log_handler() -> None:
    """Write warnings and errors of the library's loggers to stderr, made visible.

    Without a handler Python's last-resort handler would print them raw; this one prints
    the same ``message`` lines (level WARNING and above) through :func:`visible`. Does
    nothing when the root logger already has a handler (the embedding program decides).
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = _VisibleStderrHandler(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
