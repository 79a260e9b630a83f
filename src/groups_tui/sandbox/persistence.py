"""Keeping the embedded sandbox's world between runs.

The TUI's sandbox keeps its simulated Meta state (groups, people, messages, scheduled
deliveries, the clock) in a file beside its database, so quitting and starting again
finds the audit log, the spend and the removed spammers where they were. The file is
written by this program into the user's own data directory (mode 0600) and read back
only from there; it is a :mod:`pickle`, so it is never taken from anywhere else.

Scheduled actions are code, not data: the caller completes what is in flight
(:meth:`~.world.World.finish_in_flight`) and delivers its webhooks before saving.

A file that cannot be read (another version of the program, damage) is set aside and
the sandbox starts afresh from its seed: the caller then starts a fresh database too, so
world and database always agree.
"""

from __future__ import annotations

import logging
import os
import pickle
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .world import World

__all__ = ["load_world", "save_world"]

log = logging.getLogger(__name__)

_FORMAT = 1
"""Bumped when what the file holds changes shape."""


def _version() -> str:
    try:
        return version("groups-tui")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def save_world(world: World, path: Path) -> None:
    """Write ``world`` to ``path`` atomically (a temporary file renamed over it).

    The webhook sink (a live delivery queue) is not part of the world and is left out;
    the caller re-attaches one after :func:`load_world`.
    """
    sink = world.emitter.sink
    world.attach_sink(None)
    try:
        data = pickle.dumps((_FORMAT, _version(), world), protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        world.attach_sink(sink)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def load_world(path: Path) -> World | None:
    """The world kept at ``path``, or ``None`` when there is none or it cannot be used.

    The file is consumed: a run that ends without saving (killed) starts afresh next
    time rather than pairing an old world with a newer database.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    path.unlink(missing_ok=True)
    try:
        fmt, made_by, world = pickle.loads(data)  # our own file (see the module docstring)
    except Exception as exc:  # an old or damaged file: start afresh
        log.warning("the kept sandbox world could not be read (%s); starting afresh", exc)
        return None
    if fmt != _FORMAT or made_by != _version() or not isinstance(world, World):
        log.warning("the kept sandbox world is from another version; starting afresh")
        return None
    return world
