"""Everything the command line writes to a terminal goes through here.

Plain output holds untrusted text (subjects, names, message bodies, webhook bodies and the
Cloud API's error texts, which a server may fill with anything), so every line is passed
through :func:`groups_tui.domain.text.visible` — the rule the TUI uses — before it is
written: no escape sequence, C1 control or bidi override reaches the operator's terminal.
``--json`` output goes through :func:`groups_tui.jsonable.dumps`, which writes the same
code points as ``\\uXXXX`` escapes. ``--csv`` output (:func:`echo_csv`) has the columns
of the records' JSON, quotes every cell that needs it, guards cells a spreadsheet would
run as a formula, and is made visible like plain output. Log records (retry warnings, listener errors) get a
handler that does the same.

Nothing here imports Textual or rich.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, NoReturn

import click

from groups_tui.domain.text import visible
from groups_tui.jsonable import dumps, iterdumps, iterdumps_records, to_jsonable

__all__ = [
    "LOG_LEVELS",
    "JsonLogFormatter",
    "cell",
    "csv_cell",
    "csv_text",
    "echo",
    "echo_csv",
    "echo_json",
    "echo_json_records",
    "fail",
    "install_log_handler",
    "no_color",
]

_CELL: Final[dict[int, str]] = {
    0x09: "\u2409",  # ␉, the control picture visible() gives the other C0 controls
    0x0A: "\u240a",  # ␊
    0x2028: "<U+2028>",  # line and paragraph separators: lines to str.splitlines()
    0x2029: "<U+2029>",
}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP "CSV injection")."""


def echo(text: str = "", *, err: bool = False, nl: bool = True, **style: Any) -> None:
    """Write one piece of plain output, its untrusted characters made visible.

    Args:
        text: The text (may hold untrusted parts; newlines and tabs are kept).
        err: Write to stderr instead of stdout.
        nl: End with a newline.
        **style: ``click.style`` arguments (``fg``, ``bold``...) applied after escaping,
            unless ``NO_COLOR`` is set.
    """
    safe = visible(text)
    if style and not no_color():
        safe = click.style(safe, **style)
    click.echo(safe, err=err, nl=nl)


def cell(value: object) -> str:
    """One untrusted field of a plain output line (a subject, a name, a message body).

    Its tabs and line breaks are shown as the control pictures ``␉`` and ``␊`` (as
    :func:`echo` shows the other C0 controls; a carriage return is ``␍`` there), and the
    Unicode line and paragraph separators by code point, so a record stays on one line
    with its columns. The rest is made visible by :func:`echo` when the line is written.
    """
    return str(value).translate(_CELL)


def no_color() -> bool:
    """True when ``NO_COLOR`` is set to a non-empty value (https://no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


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
    _write_json(iterdumps(value, properties, indent=indent), err)


def echo_json_records(
    records: Sequence[Any], extra: Mapping[str, Callable[[Any], Any]] | None = None
) -> None:
    """Write a listing of records as :func:`echo_json` writes it, each record's object
    with the ``extra`` fields added after its own (a faster way for named tuples; see
    :func:`groups_tui.jsonable.iterdumps_records`).

    Args:
        records: The records.
        extra: Fields to add to each record's object: name -> its value for a record.
    """
    _write_json(iterdumps_records(records, extra), False)


def _write_json(pieces: Iterator[str], err: bool) -> None:
    # Written in pieces of about 64 kB: a listing of 10,000 groups never exists in memory
    # as one text (nor as one converted copy of its records).
    pending: list[str] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= 65_536:
            click.echo("".join(pending), err=err, nl=False)
            pending, size = [], 0
    pending.append("\n")
    click.echo("".join(pending), err=err, nl=False)


def csv_cell(value: Any) -> str:
    """One JSON-ready value as a CSV cell.

    ``None`` is empty, booleans ``true``/``false``, numbers as written, lists and objects
    compact JSON. Text (anything that was a string or becomes JSON text) starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so that a
    spreadsheet shows it instead of running it; numbers are never text here, so a
    negative amount stays a number.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_text(records: Iterable[Any], properties: Iterable[str] = ()) -> str:
    """Records as CSV: a header of their JSON fields, then one line per record.

    The columns are the keys of each record's JSON (:func:`groups_tui.jsonable.
    to_jsonable`, so times are ISO-8601 UTC and the names are the JSON contract's), in
    the order first seen; cells go through :func:`csv_cell` and are quoted when they hold
    a comma, a quote or a line break.
    """
    rows = [to_jsonable(r, properties) for r in records]
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row if isinstance(row, dict) else {"value": None}))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        values = row if isinstance(row, dict) else {"value": row}
        writer.writerow(csv_cell(values.get(name)) for name in header)
    return out.getvalue()


def echo_csv(records: Iterable[Any], properties: Iterable[str] = ()) -> None:
    """Write records as CSV (:func:`csv_text`), made visible as plain output is."""
    echo(csv_text(records, properties), nl=False)


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


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC), ``level``, ``logger``, ``message``.

    A record's ``fields`` extra (a dict, such as the access log's method, path, status,
    bytes and ms) is merged in. Written by :func:`groups_tui.jsonable.dumps`, so the line
    is terminal-safe.
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, Any] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return dumps(line, indent=None)


LOG_LEVELS: dict[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
"""The ``--log-level`` choices of the long-running commands (``listen``, ``serve``)."""


def install_log_handler(
    level: int = logging.WARNING, *, json_lines: bool = False, levels: bool = False
) -> None:
    """Write the library's log records of ``level`` and above to stderr, made visible.

    Without a handler Python's last-resort handler would print them raw; this one prints
    ``message`` lines (or, with ``json_lines``, :class:`JsonLogFormatter` lines) through
    :func:`visible`. Calling it again changes the level and format of the handler it
    installed. Does nothing when the root logger has another handler (the embedding
    program decides).

    Args:
        level: The lowest level written (``logging.INFO`` shows the access log).
        json_lines: Write one JSON object per record instead of the bare message.
        levels: Start each text line with the record's level (``INFO``, ``WARNING``...).
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _VisibleStderrHandler)]
    if root.handlers and not ours:
        return
    handler = ours[0] if ours else _VisibleStderrHandler()
    handler.setLevel(level)
    text = "%(levelname)s %(message)s" if levels else "%(message)s"
    handler.setFormatter(JsonLogFormatter() if json_lines else logging.Formatter(text))
    if not ours:
        root.addHandler(handler)
    if level < root.getEffectiveLevel():
        root.setLevel(level)
