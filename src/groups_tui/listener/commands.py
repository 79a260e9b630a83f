"""Headless commands: ``groups-tui listen`` and ``groups-tui events list|show|replay|stats``.

A delivery whose body holds an event that could not be applied keeps the rest of its
events applied; its raw row is marked ``error`` and each failed event is listed by
``events list --failed`` (and counted by ``events stats`` and the TUI header) until
``events replay --failed`` applies it, typically after an upgrade.

The top-level CLI registers :data:`listen_command` and :data:`events_group`;
``python -m groups_tui.listener`` runs ``listen`` on its own. Secrets come from the
settings (environment or config file), never from the command line, where other users
could read them in the process list.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from groups_tui.cli_output import LOG_LEVELS, echo, echo_json, fail, install_log_handler
from groups_tui.config import ConfigError, load_settings
from groups_tui.domain.numbers import BusinessNumber, NumberChoiceError, choose_number
from groups_tui.domain.pricing import RateCard
from groups_tui.jsonable import to_jsonable
from groups_tui.listener.ingest import events_from_body
from groups_tui.store import UNPRICED, EventFailure, Pricing, RawEvent, Store
from groups_tui.store.records import REFUSED_COUNTER

__all__ = ["events_group", "listen_command", "listener_pricing", "wait_for_signal"]

T = TypeVar("T")

EXIT_USAGE = 2

log = logging.getLogger("groups_tui.listener")


_INSECURE_WARNING = (
    "WARNING: webhook signature check is DISABLED (--insecure-no-signature).\n"
    "WARNING: anyone who can reach {url} can inject events into {db}.\n"
    "WARNING: use this only for local experiments; set WHATSAPP_APP_SECRET otherwise."
)


def _fail(message: str) -> NoReturn:
    fail(message, EXIT_USAGE)


def _db_path(override: Path | None) -> Path:
    """The existing database the ``events`` commands read."""
    if override is not None:
        path = override
    else:
        try:
            path = load_settings().db_path
        except ConfigError as exc:
            _fail(str(exc))
    if not path.exists():
        _fail(f"no database at {path} (pass --db or set GROUPS_TUI_DB)")
    return path


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def listener_pricing(rates_csv: Path | None) -> Pricing:
    """The cost ledger's pricing, from the configured rate card.

    The ledger is priced where statuses are applied: the listener, the TUI and a replay
    open the store with the same card (``GROUPS_TUI_RATES_CSV`` or the packaged one), or
    a replay would rebuild a different ledger.
    """
    return Pricing.from_rate_card(RateCard.configured(rates_csv))


def configured_numbers() -> list[BusinessNumber]:
    """The configured business numbers (the listener routes webhooks by them), if any."""
    try:
        return [n.number for n in load_settings().business_numbers()]
    except ConfigError as exc:
        _fail(str(exc))


def _configured_rates() -> Path | None:
    """``GROUPS_TUI_RATES_CSV`` from the settings (a replay prices like the listener)."""
    try:
        return load_settings().rates_csv
    except ConfigError as exc:
        _fail(str(exc))


def _iso(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kinds(raw: RawEvent) -> list[str] | None:
    """The kinds of the events in a delivery, in order (``None`` when it is not JSON)."""
    try:
        return [event.event_kind for event in events_from_body(raw.body)]
    except ValueError:
        return None


def _raw_json(raw: RawEvent) -> dict[str, Any]:
    """A logged delivery as JSON, one shape for ``events list`` and ``events show`` (which
    adds the body and the parsed events): docs/json.md."""
    return {
        "id": raw.id,
        "dedupe_key": raw.dedupe_key,
        "received_at": raw.received_at,
        "applied_at": raw.applied_at,
        "parse_state": raw.parse_state,
        "error": raw.error,
        "bytes": len(raw.body),
        "kinds": _kinds(raw),
        "phone_number_id": raw.phone_number_id,
        "other_number": raw.other_number,
    }


def _summary(raw: RawEvent) -> str:
    found = _kinds(raw)
    if found is None:
        return "(not JSON)"
    kinds: dict[str, int] = {}
    for kind in found:
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items()) or "(empty)"


# --------------------------------------------------------------------------- listen


@click.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option("--path", "path", default="/webhook", show_default=True, help="Callback path.")
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file (default: GROUPS_TUI_DB or the per-user data directory).",
)
@click.option(
    "--insecure-no-signature",
    is_flag=True,
    help="Accept webhooks without checking X-Hub-Signature-256 (local experiments only).",
)
@click.option(
    "--log-level",
    type=click.Choice(sorted(LOG_LEVELS, key=LOG_LEVELS.__getitem__)),
    default="info",
    show_default=True,
    help="info logs one access line per request; warning only problems.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per log line on stderr (for log collectors).",
)
@click.option("--bench-empty-handler", is_flag=True, hidden=True)
def listen_command(
    host: str,
    port: int,
    path: str,
    db: Path | None,
    insecure_no_signature: bool,
    log_level: str,
    log_format: str,
    bench_empty_handler: bool,
) -> None:
    """Receive Cloud API webhooks headless, storing each before acknowledging it.

    Reads WHATSAPP_APP_SECRET (signature check) and WHATSAPP_VERIFY_TOKEN (handshake)
    from the environment or the config file. Logs one line per request (method, path,
    status, bytes, milliseconds; never a body or a query string) at --log-level info.
    Stops cleanly on Ctrl-C or SIGTERM.
    """
    # The server (aiohttp) is imported by the command that serves, not by every command
    # of this module (``events replay`` starts faster without it).
    from groups_tui.listener.app import ListenerConfigError

    install_log_handler(LOG_LEVELS[log_level], json_lines=log_format == "json")
    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(str(exc))
    db_path = db if db is not None else settings.db_path
    secret = settings.app_secret.get_secret_value() if settings.app_secret else None
    token = settings.verify_token.get_secret_value() if settings.verify_token else None
    if not secret and not insecure_no_signature and not bench_empty_handler:
        _fail(
            "no app secret: set WHATSAPP_APP_SECRET (App Dashboard > Settings > Basic), "
            "or pass --insecure-no-signature to accept unsigned webhooks"
        )
    try:
        _run(
            _serve(
                host=host,
                port=port,
                path=path,
                db_path=db_path,
                app_secret=secret,
                verify_token=token,
                insecure=insecure_no_signature,
                empty=bench_empty_handler,
                rates_csv=settings.rates_csv,
                json_logs=log_format == "json",
                numbers=configured_numbers(),
            )
        )
    except ListenerConfigError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


async def _serve(
    *,
    host: str,
    port: int,
    path: str,
    db_path: Path,
    app_secret: str | None,
    verify_token: str | None,
    insecure: bool,
    empty: bool,
    rates_csv: Path | None = None,
    json_logs: bool = False,
    numbers: Sequence[BusinessNumber] = (),
) -> None:
    from groups_tui.listener.app import make_empty_app
    from groups_tui.listener.server import ListenerServer

    # One endpoint serves every configured number: the store routes each event by the
    # number its webhook names, and keeps another number's raw only.
    store = (
        None
        if empty
        else await Store.open(db_path, pricing=listener_pricing(rates_csv), numbers=numbers)
    )
    try:
        server = ListenerServer(
            store,
            app_secret=app_secret,
            verify_token=verify_token,
            host=host,
            port=port,
            path=path,
            insecure_no_signature=insecure,
            app=make_empty_app(path) if empty else None,
            access_log=not empty,
        )
        await server.start()
        try:
            if insecure:
                warning = _INSECURE_WARNING.format(url=server.url, db=db_path)
                if json_logs:
                    log.warning(" ".join(warning.replace("WARNING: ", "").split("\n")))
                else:
                    echo(warning, err=True, fg="red", bold=True)
            if verify_token is None and not empty:
                note = "WHATSAPP_VERIFY_TOKEN is not set; the GET handshake will be refused"
                log.warning(note) if json_logs else echo(f"note: {note}", err=True)
            started = f"listening on {server.url} (db {db_path})"
            log.info(started) if json_logs else echo(f"{started}; Ctrl-C to stop", err=True)
            echo(f"url {server.url}")
            sys.stdout.flush()
            await wait_for_signal()
        finally:
            await server.stop()
    finally:
        if store is not None:
            await store.close()


async def wait_for_signal() -> None:
    """Wait for SIGINT or SIGTERM (the headless servers' way to stop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


# --------------------------------------------------------------------------- events

_db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Database file (default: GROUPS_TUI_DB or the per-user data directory).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


async def _with_store(
    db: Path,
    body: Callable[[Store], Awaitable[T]],
    *,
    pricing: Pricing = UNPRICED,
    numbers: Sequence[BusinessNumber] = (),
) -> T:
    store = await Store.open(db, pricing=pricing, numbers=numbers)
    try:
        return await body(store)
    finally:
        await store.close()


@click.group("events")
def events_group() -> None:
    """Inspect and replay the raw webhook log."""


@events_group.command("list")
@click.option("--after", type=int, default=0, show_default=True, help="Start after this id.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option(
    "--failed",
    is_flag=True,
    help="List the events that could not be applied (one line per event), instead.",
)
@click.option(
    "--number",
    "number",
    default=None,
    metavar="LABEL|ID",
    help="Only the deliveries for this business number: a label of the database's "
    "numbers, or any phone number id (another number's deliveries are kept too).",
)
@_db_option
@_json_option
def events_list(
    after: int, limit: int, failed: bool, number: str | None, db: Path | None, as_json: bool
) -> None:
    """List logged webhook deliveries, oldest first."""
    if failed:
        _list_failed(after, limit, _db_path(db), as_json)
        return

    async def body(store: Store) -> list[RawEvent]:
        wanted = _raw_number(store.numbers.served, number)
        return await store.raw.events(after, limit, phone_number_id=wanted)

    rows = _run(_with_store(_db_path(db), body))
    if as_json:
        echo_json([_raw_json(r) for r in rows])
        return
    if not rows:
        echo("no events")
        return
    for r in rows:
        other = f"  (other number {r.phone_number_id or '?'}: kept only)" if r.other_number else ""
        echo(
            f"{r.id:>8}  {_iso(r.received_at)}  {r.parse_state:<8}  {len(r.body):>8} B  "
            f"{_summary(r)}{other}"
        )


def _raw_number(numbers: Sequence[BusinessNumber], wanted: str | None) -> str | None:
    """The phone number id ``--number`` names: a served number's label or id, or any id
    (the raw log keeps the deliveries of numbers nobody configured)."""
    if wanted is None:
        return None
    if wanted.strip().isdigit():
        return wanted.strip()
    try:
        return choose_number(numbers, wanted).phone_number_id
    except NumberChoiceError as exc:
        _fail(str(exc))


def _list_failed(after: int, limit: int, db: Path, as_json: bool) -> None:
    """``events list --failed``: every event not applied, by delivery then position."""

    async def body(store: Store) -> list[EventFailure]:
        return await store.raw.failures((after, -2), limit)

    failures = _run(_with_store(db, body))
    if as_json:
        echo_json(failures)
        return
    if not failures:
        echo("no failed events")
        return
    for f in failures:
        where = "whole body" if f.index < 0 else f"event {f.index}"
        echo(
            f"{f.raw_id:>8}  {where:<10}  {f.kind:<22}  {f.group_id or '-'}  "
            f"{_iso(f.at) if f.at is not None else '-'}  {f.reason}"
        )


@events_group.command("show")
@click.argument("raw_id", type=int)
@_db_option
@_json_option
def events_show(raw_id: int, db: Path | None, as_json: bool) -> None:
    """Show one logged delivery: its body and the events parsed from it."""

    async def body(store: Store) -> RawEvent | None:
        return await store.raw.get(raw_id)

    raw = _run(_with_store(_db_path(db), body))
    if raw is None:
        _fail(f"no event with id {raw_id}")
    try:
        payload: Any = json.loads(raw.body)
        events: Any = to_jsonable(events_from_body(raw.body))
    except ValueError as exc:
        payload = raw.body.decode("utf-8", "replace")
        events = {"error": str(exc)}
    record = {**_raw_json(raw), "body": payload, "events": events}
    if as_json:
        echo_json(record)
        return
    echo(f"id {raw.id}  received {_iso(raw.received_at)}  state {raw.parse_state}")
    if raw.error:
        echo(f"error: {raw.error}")
    echo("body:")
    echo_json(payload)
    echo("events:")
    echo_json(events)


@events_group.command("replay")
@click.option(
    "--failed",
    is_flag=True,
    help="Only apply again the events that could not be applied (after an upgrade).",
)
@_db_option
@_json_option
def events_replay(failed: bool, db: Path | None, as_json: bool) -> None:
    """Rebuild derived state from the raw log and compare it with the state before.

    The cost ledger is priced with the configured rate card (GROUPS_TUI_RATES_CSV or the
    packaged one), exactly as the listener prices it.
    """
    path = _db_path(db)
    rates = _configured_rates()
    if failed:
        _replay_failed(path, rates, as_json)
        return

    async def body(store: Store) -> dict[str, Any]:
        before_stats = await store.raw.stats()
        before = await store.raw.state_digest()
        # The first bodies are parsed while the reset runs on the writer's thread
        # (bodies never change; the replay takes those parses).
        ahead = await store.raw.read_ahead(events_from_body)
        await ahead.during(store.raw.reset_derived_state())
        applied = await store.raw.replay(events_from_body, ahead=ahead)
        after = await store.raw.state_digest()
        stats = await store.raw.stats()
        return {
            "replayed": applied,
            "digest_before": before,
            "digest_after": after,
            "identical": before == after,
            "unapplied_before": before_stats.total - before_stats.applied,
            "unparsed": stats.unparsed,
            "errors": stats.errors,
            "failed_events": stats.failed_events,
        }

    with _cyclic_gc_paused():
        result = _run(
            _with_store(path, body, pricing=listener_pricing(rates), numbers=configured_numbers())
        )
    if as_json:
        echo_json(result)
        return
    if result["identical"]:
        verdict = "identical to the state before"
    elif result["unapplied_before"]:
        verdict = f"rebuilt ({result['unapplied_before']} raw events had not been applied)"
    else:
        verdict = "DIFFERENT from the state before (parser or rules changed?)"
    echo(
        f"replayed {result['replayed']} raw events; state {verdict}; "
        f"unparsed {result['unparsed']}, errors {result['errors']}, "
        f"failed events {result['failed_events']}"
    )


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting goes on).

    A replay keeps tens of thousands of parsed events alive at a time (a batch being
    applied, the next one parsed, the bodies parsed ahead) and creates no cyclic garbage
    worth collecting; every collection walked them all: 0.6-0.8 s of the ~5.5 s of CPU
    replaying 100,000 webhooks took. The collector runs as before once this ends.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _replay_failed(db: Path, rates: Path | None, as_json: bool) -> None:
    """``events replay --failed``: apply the failed events again, nothing else."""

    async def body(store: Store) -> dict[str, Any]:
        before = await store.raw.stats()
        rows, still = await store.raw.reapply_failed(events_from_body)
        after = await store.raw.stats()
        return {
            "rows": rows,
            "failed_events_before": before.failed_events,
            "failed_events": after.failed_events,
            "rows_still_failing": len(still),
        }

    result = _run(
        _with_store(db, body, pricing=listener_pricing(rates), numbers=configured_numbers())
    )
    if as_json:
        echo_json(result)
        return
    fixed = result["failed_events_before"] - result["failed_events"]
    echo(
        f"applied again {result['rows']} raw events: {fixed} failed events now applied, "
        f"{result['failed_events']} still failing"
    )


@events_group.command("stats")
@_db_option
@_json_option
def events_stats(db: Path | None, as_json: bool) -> None:
    """Counts over the raw log and the listener's counters."""

    async def body(store: Store) -> dict[str, Any]:
        stats = await store.raw.stats()
        counters = await store.raw.counters()
        return {
            "events_stored": stats.total,
            "applied": stats.applied,
            "unapplied": stats.total - stats.applied,
            "unparsed": stats.unparsed,
            "errors": stats.errors,
            "failed_events": stats.failed_events,
            "other_number": stats.other_number,
            "last_event_at": stats.last_event_at,
            "signatures_refused": counters.get(REFUSED_COUNTER, 0),
            "latest_change_id": await store.feed.latest_id(),
            "counters": counters,
        }

    result = _run(_with_store(_db_path(db), body))
    if as_json:
        echo_json(result)
        return
    echo(
        f"events stored {result['events_stored']} (applied {result['applied']}, "
        f"unparsed {result['unparsed']}, errors {result['errors']})\n"
        f"failed events {result['failed_events']}"
        f"{' (groups-tui events list --failed)' if result['failed_events'] else ''}\n"
        f"other numbers' deliveries kept only {result['other_number']}\n"
        f"last event received {_iso(result['last_event_at'])}\n"
        f"signatures refused {result['signatures_refused']}"
    )
