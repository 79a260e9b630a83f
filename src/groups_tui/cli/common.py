"""What every command of the command line shares: output, exit codes, the service.

Exit codes: 0 on success, 1 on a Cloud API error or an outcome that is not a success (a
send whose outcome is unknown, a join request or a removal the API refused; the reason on
stderr), 2 on a usage or configuration error. Every line printed goes through
:mod:`groups_tui.cli_output` (untrusted text never reaches the terminal raw).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from groups_tui.cli_output import echo, echo_csv, echo_json, fail

__all__ = [
    "EXIT_API",
    "EXIT_USAGE",
    "csv_option",
    "emit",
    "json_option",
    "local_db_path",
    "number_option",
    "on_number",
    "refresh",
    "run_async",
    "sync_option",
    "with_service",
]

T = TypeVar("T")

EXIT_API = 1
EXIT_USAGE = 2


def emit(
    value: Any,
    as_json: bool,
    text: Callable[[Any], str],
    properties: tuple[str, ...] = (),
    *,
    csv_rows: Any = None,
) -> None:
    """Print `value` as JSON, as CSV or as the human text `text(value)` (all terminal-safe).

    Args:
        value: The result.
        as_json: Print JSON.
        text: The human text of the result.
        properties: Derived properties to add to the JSON of a dataclass.
        csv_rows: Print these records as CSV instead (their JSON's fields as columns).
    """
    if as_json:
        echo_json(value, properties)
    elif csv_rows is not None:
        echo_csv(csv_rows, properties)
    else:
        echo(text(value))


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Run an async command body, mapping errors to one line and an exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        import asyncio  # here, not at the top: `--help` and completion need no event loop

        from groups_tui.cloud.errors import ApiError, CloudError
        from groups_tui.config import ConfigError
        from groups_tui.service import ServiceError

        # A one-shot command: its few cycles are freed at exit, so the collector's passes
        # over a heap of thousands of records (a listing of every group) are saved.
        gc.disable()
        try:
            return asyncio.run(fn(*args, **kwargs))
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        except ApiError as exc:
            fail(f"API error: {exc}", EXIT_API)
        except CloudError as exc:
            fail(f"Cloud API unreachable: {exc}", EXIT_API)
        except ServiceError as exc:
            fail(exc.message, EXIT_USAGE if exc.refusal is not None else EXIT_API)
        except (OSError, ValueError) as exc:
            if os.environ.get("GROUPS_TUI_DEBUG"):
                raise
            fail(f"{type(exc).__name__}: {exc} (GROUPS_TUI_DEBUG=1 shows a traceback)", EXIT_API)
        finally:
            gc.enable()

    return wrapper


def with_service(
    body: Callable[..., Awaitable[T]],
) -> Callable[..., Coroutine[Any, Any, T]]:
    """Open the service around a command body: the live account, or without credentials
    the sandbox the TUI uses (see :func:`groups_tui.runtime.open_cli_service`)."""

    async def runner(*args: Any, **kwargs: Any) -> T:
        from groups_tui.config import load_settings
        from groups_tui.runtime import open_cli_service

        async with open_cli_service(load_settings()) as service:
            return await body(service, *args, **kwargs)

    return runner


def local_db_path(db: Path | None = None) -> Path:
    """The database a local-only command reads: `db`, else the configured one.

    The configured one is the live database with Meta credentials, the sandbox's without.
    Exits with a usage error when the file does not exist (nothing is created).
    """
    if db is None:
        from groups_tui.config import ConfigError, load_settings

        try:
            settings = load_settings()
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        db = settings.db_path if settings.is_live else settings.sandbox_db_path
    if not db.is_file():
        fail(f"no database at {db}", EXIT_USAGE)
    return db


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")

sync_option = click.option(
    "--sync/--no-sync",
    default=True,
    help="Refresh from the Cloud API first (unreachable: local state, with a warning).",
)
"""The read verbs' choice between a refresh from the API and the local state alone."""


async def refresh(sync: bool, read: Callable[[], Awaitable[Any]]) -> None:
    """Refresh local state from the API before a read verb answers.

    When the API cannot be reached the verb answers from local state and says so on
    stderr; an error the API answered with still fails the command.

    Args:
        sync: False for ``--no-sync``: nothing is asked of the API.
        read: The refresh to run.
    """
    if not sync:
        return
    from groups_tui.cloud.errors import ApiError, CloudError

    try:
        await read()
    except ApiError:
        raise
    except CloudError as exc:
        echo(f"warning: Cloud API unreachable ({exc}); showing local state", err=True)


number_option = click.option(
    "--number",
    "number",
    default=None,
    metavar="LABEL|ID",
    help="The business number (its label or phone number id). Default: the only one; "
    "with several, a command that needs one names the choices. A group's own number is "
    "always the one used for it.",
)
"""``--number`` of every verb."""


async def on_number(service: Any, number: str | None, group_id: str | None = None) -> str | None:
    """Check ``--number`` against the account (and the group) and return its id.

    Args:
        service: The open service.
        number: What ``--number`` said, if anything.
        group_id: The group the command acts on, if any: it must be that number's.

    Returns:
        The chosen number's id, or ``None`` when none was named.

    Raises:
        ServiceError: An unknown number (naming the choices), or a group of another
            number (a usage error: exit 2).
    """
    if number is None:
        return None
    from groups_tui.domain.sending import Refusal
    from groups_tui.service import refused

    chosen = service.number(number)
    if group_id is not None:
        actual = await service.reading.number_of(group_id)
        if actual is not None and actual != chosen.phone_number_id:
            raise refused(
                Refusal(
                    "other_number",
                    f"group {group_id} belongs to number {service.label(actual)}, "
                    f"not {chosen.label}",
                )
            )
    return str(chosen.phone_number_id)


csv_option = click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="CSV output (the JSON's fields as columns; formula-like cells quoted with ').",
)
