"""A closed terminal (SIGHUP) or a SIGTERM ends the TUI as quitting does.

The TUI runs in a real pseudo-terminal, in its own process, on the sandbox. Closing the
terminal's master side is what a dropped SSH connection or a killed tmux window does:
the kernel hangs the session up. The sandbox must still keep its world (before, the
process died at once, and the next start began afresh with a new database).
"""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

from groups_tui.sandbox.persistence import load_world

pytestmark = pytest.mark.xdist_group("real-terminal")

READY = b"50/50"
"""The inbox's counter once the sandbox's demo groups are in."""


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WHATSAPP_", "GROUPS_TUI_"))
    } | {
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "GROUPS_TUI_DB": str(tmp_path / "groups.db"),
        "GROUPS_TUI_CONFIG": str(tmp_path / "none.toml"),
        "GROUPS_TUI_BELL": "false",
    }


def _on_new_terminal(args: list[str], tmp_path: Path) -> tuple[int, int]:
    """Run ``python args`` on a new pseudo-terminal (its controlling terminal, the
    session's leader); (pid, master side)."""
    pid, master = pty.fork()
    if pid == 0:  # the child: that program, nothing else
        try:
            os.execve(sys.executable, [sys.executable, *args], _env(tmp_path))
        finally:
            os._exit(127)
    return pid, master


def _start_tui(tmp_path: Path) -> tuple[int, int]:
    """The TUI on a new pseudo-terminal; (pid, master side)."""
    return _on_new_terminal(["-m", "groups_tui"], tmp_path)


_QUIET_PARENT = """
import signal, subprocess, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)  # and never passes it on
tui = subprocess.Popen(  # its output sent elsewhere: it draws on standard error
    [sys.executable, "-m", "groups_tui"],
    stdout=subprocess.DEVNULL,
    preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL),
)
open(sys.argv[1] + ".pid", "w").write(str(tui.pid))
open(sys.argv[1], "w").write(str(tui.wait()))
"""
"""The terminal's session leader, as ``make`` under ``sh -c`` is: the kernel's SIGHUP
goes to it alone, and it does not pass it on to the TUI it runs."""


def _read_until(master: int, wanted: bytes, timeout: float) -> None:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} never shown; last output: {seen[-400:]!r}"
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            seen = seen[-4096:] + os.read(master, 65536)


def _exit_code(pid: int, timeout: float, terminal: int | None = None) -> int:
    """The exit code of ``pid`` (which must exit cleanly), reading what it writes to a
    ``terminal`` still open meanwhile (a full terminal would block it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if terminal is not None:
            _drain(terminal)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WIFEXITED(status), f"ended by signal {os.WTERMSIG(status)}, not cleanly"
            return os.WEXITSTATUS(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"still running {timeout} s after the signal")


def _drain(master: int) -> None:
    """Keep reading what the app writes (a full terminal would block it)."""
    try:
        while select.select([master], [], [], 0)[0]:
            if not os.read(master, 65536):
                return
    except OSError:
        return


def test_closing_the_terminal_keeps_the_sandbox_world(tmp_path: Path) -> None:
    pid, master = _start_tui(tmp_path)
    try:
        _read_until(master, READY, timeout=60)
    finally:
        os.close(master)  # the terminal goes away: SIGHUP to the session
    assert _exit_code(pid, timeout=30) == 128 + signal.SIGHUP
    world = tmp_path / "sandbox.world"
    assert world.exists(), "the world was not kept"
    assert load_world(world) is not None, "the kept world cannot be read back"


def test_a_terminal_gone_without_a_sighup_still_ends_the_tui_as_quitting_does(
    tmp_path: Path,
) -> None:
    # GIVEN the TUI run by a parent that keeps the terminal's SIGHUP to itself
    code_file = tmp_path / "tui-exit-code"
    pid, master = _on_new_terminal(["-c", _QUIET_PARENT, str(code_file)], tmp_path)
    try:
        _read_until(master, READY, timeout=60)
    finally:
        os.close(master)  # WHEN the terminal goes away
    # THEN the TUI notices, ends as on a hang-up (129) and keeps the world, where it used
    # to hang for ever on writes to the vanished terminal, holding the runner lease
    try:
        assert _exit_code(pid, timeout=30) == 0  # the parent, once the TUI has ended
    finally:
        with contextlib.suppress(OSError, ValueError):  # never leave a hung TUI behind
            os.kill(int(Path(f"{code_file}.pid").read_text()), signal.SIGKILL)
    assert code_file.read_text() == str(128 + signal.SIGHUP)
    assert (tmp_path / "sandbox.world").exists(), "the world was not kept"


def test_sigterm_ends_the_tui_as_quitting_does(tmp_path: Path) -> None:
    pid, master = _start_tui(tmp_path)
    try:
        _read_until(master, READY, timeout=60)
        os.kill(pid, signal.SIGTERM)
        assert _exit_code(pid, timeout=30, terminal=master) == 128 + signal.SIGTERM
    finally:
        os.close(master)
    assert (tmp_path / "sandbox.world").exists(), "the world was not kept"
