"""Timing a terminal app as its user feels it: a real pty in tmux, polled from outside.

:func:`run_in_tmux` starts a command in a new detached tmux session of a fixed size (on a
private tmux server socket, so nothing touches the user's tmux) and records, from the
moment the process is spawned:

* the first frame (a marker text visible in the pane),
* ready (a second marker: for the inbox, the counter of every row loaded),
* key -> frame: for each key sent with ``tmux send-keys`` (or a bracketed paste with
  ``paste-buffer -p``), the wall time until the pane shows something else, and the CPU the
  app's threads used for it (``/proc/PID/task/*/schedstat``, nanoseconds),
* the CPU once it has gone idle after ready ("settled": start-up work done after the
  ready frame counts there),
* the peak RSS of the process (``VmHWM``).

The pane is read with ``tmux capture-pane -p`` every couple of milliseconds; that read
costs a process spawn, which bounds the resolution (a few ms) and is the same for every
app measured, so paired figures compare.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Key", "TerminalRun", "run_in_tmux", "start_server", "stop_server"]

# One private tmux server per benchmark process: two runs at once never end each other's.
SOCKET = f"groups-tui-bench-{os.getpid()}"

POLL_SECONDS = 0.002


@dataclass(frozen=True)
class Key:
    """One input: a tmux key name (``BSpace``), literal text, or a bracketed paste."""

    label: str
    keys: str
    paste: bool = False
    literal: bool = False


@dataclass
class TerminalRun:
    """What one start of an app in tmux measured (milliseconds, MB)."""

    first_frame_ms: float
    ready_ms: float
    ready_cpu_ms: float = 0.0
    """CPU the app's threads had used when it was seen ready (less sensitive to a busy
    machine than the wall times)."""
    settled_cpu_ms: float = 0.0
    """CPU the app's threads had used once it went idle after ready (start-up work put
    after the ready frame -- background workers, header figures -- counts here)."""
    at_ready: tuple[float, float] | None = None
    """``(wall ms to the next frame, CPU ms)`` of the key sent as soon as ready was seen
    (while the work started after ready still runs)."""
    keys: list[tuple[str, float, float]] = field(default_factory=list)
    """``(label, wall ms to the next frame, CPU ms of the app's threads)`` per key."""
    peak_rss_mb: float = 0.0
    screen: str = ""


class _Tmux:
    def __init__(self, socket: str, session: str) -> None:
        self.base = ["tmux", "-L", socket]
        self.target = f"{session}:0.0"
        self.session = session

    def run(self, *args: str) -> str:
        return subprocess.run(
            [*self.base, *args], check=True, capture_output=True, text=True
        ).stdout

    def capture(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.target)

    def pid(self) -> int:
        return int(self.run("display-message", "-p", "-t", self.target, "#{pane_pid}").strip())


def _cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` so far, in nanoseconds."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def _peak_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _settled_cpu_ms(pid: int, limit: float = 3.0) -> float:
    """CPU (ms) of ``pid`` once it used under 2 ms of CPU in 100 ms (at most ``limit`` s on)."""
    deadline = time.perf_counter() + limit
    last = _cpu_ns(pid)
    while time.perf_counter() < deadline:
        time.sleep(0.1)
        now = _cpu_ns(pid)
        if now - last < 2_000_000:
            return now / 1e6
        last = now
    return last / 1e6


def _until(
    tmux: _Tmux, condition: Callable[[str], bool], timeout: float, what: str
) -> tuple[float, str]:
    deadline = time.perf_counter() + timeout
    while True:
        text = tmux.capture()
        now = time.perf_counter()
        if condition(text):
            return now, text
        if now > deadline:
            raise TimeoutError(f"{what} not seen within {timeout:g} s; the pane shows:\n{text}")
        time.sleep(POLL_SECONDS)


def run_in_tmux(
    command: Sequence[str],
    *,
    env: dict[str, str],
    first_frame: str,
    ready: str,
    keys: Sequence[Key] = (),
    before_keys: Sequence[Key] = (),
    at_ready: Key | None = None,
    size: tuple[int, int] = (120, 40),
    socket: str = SOCKET,
    timeout: float = 60.0,
    cwd: Path | None = None,
) -> TerminalRun:
    """Start ``command`` in a fresh tmux session and time it (see the module docstring).

    Args:
        command: The program and its arguments (run with ``exec``, so the pane's process
            is the app itself).
        env: Its environment (the pane gets exactly these variables, plus ``TERM``).
        first_frame: Text whose appearance marks the first frame.
        ready: Text whose appearance marks the app ready (every row loaded).
        keys: Inputs to time, one after another, each once the previous one has drawn.
        before_keys: Inputs sent first without timing (focusing the filter box).
        at_ready: An input sent the moment ready is seen, timed to the next frame (then
            the app settles before ``before_keys`` and ``keys``).
        size: Columns and lines of the pane.
        socket: The private tmux server's socket name.
        timeout: Seconds any one wait may take.
        cwd: Working directory of the command.
    """
    session = f"bench-{os.getpid()}-{time.monotonic_ns()}"
    tmux = _Tmux(socket, session)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    shell = f"cd {shlex.quote(str(cwd or Path.cwd()))} && exec env -i {exports} " + " ".join(
        shlex.quote(c) for c in command
    )
    started = time.perf_counter()
    tmux.run("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), shell)
    try:
        pid = tmux.pid()
        first, _ = _until(tmux, lambda t: first_frame in t, timeout, repr(first_frame))
        done, screen = _until(tmux, lambda t: ready in t, timeout, repr(ready))
        result = TerminalRun(
            (first - started) * 1000,
            (done - started) * 1000,
            ready_cpu_ms=_cpu_ns(pid) / 1e6,
            screen=screen,
        )
        if at_ready is not None:
            cpu = _cpu_ns(pid)
            sent = time.perf_counter()
            _send(tmux, at_ready)
            drawn, _ = _until(tmux, lambda t: t != screen, timeout, f"a frame after {at_ready}")
            result.at_ready = ((drawn - sent) * 1000, (_cpu_ns(pid) - cpu) / 1e6)
        # Let start-up work after the frame (workers, freezing the heap...) finish.
        result.settled_cpu_ms = _settled_cpu_ms(pid)
        time.sleep(0.1)
        for key in before_keys:
            _send(tmux, key)
            time.sleep(0.3)
        for key in keys:
            before = tmux.capture()
            cpu = _cpu_ns(pid)
            sent = time.perf_counter()
            _send(tmux, key)
            drawn, _ = _until(tmux, lambda t, b=before: t != b, timeout, f"a frame after {key}")
            time.sleep(0.05)  # what the key still costs after its first frame is counted
            result.keys.append((key.label, (drawn - sent) * 1000, (_cpu_ns(pid) - cpu) / 1e6))
        result.peak_rss_mb = _peak_rss_mb(pid)
        return result
    finally:
        subprocess.run([*tmux.base, "kill-session", "-t", session], capture_output=True)


def _send(tmux: _Tmux, key: Key) -> None:
    if key.paste:
        tmux.run("set-buffer", "-b", "bench", key.keys)
        tmux.run("paste-buffer", "-p", "-d", "-b", "bench", "-t", tmux.target)
    elif key.literal:
        tmux.run("send-keys", "-t", tmux.target, "-l", key.keys)
    else:
        tmux.run("send-keys", "-t", tmux.target, key.keys)


def start_server(socket: str = SOCKET) -> None:
    """Start the private tmux server with an idle session, so that no measured start
    pays for starting the server."""
    stop_server(socket)
    subprocess.run(
        ["tmux", "-L", socket, "new-session", "-d", "-s", "keepalive", "sleep 86400"],
        check=True,
        capture_output=True,
    )


def stop_server(socket: str = SOCKET) -> None:
    """End the private tmux server (and any session left on it), and remove its socket
    file (tmux leaves it behind)."""
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    tmp = Path(os.environ.get("TMUX_TMPDIR") or "/tmp")
    (tmp / f"tmux-{os.getuid()}" / socket).unlink(missing_ok=True)
