"""A standalone sandbox in a child process, for tests of commands run as users run them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def sandbox_process(*args: str) -> Iterator[str]:
    """Run ``python -m groups_tui.sandbox ARGS`` on a free port; yield its base URL.

    Waits (bounded) until the control routes answer, and terminates it afterwards.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "groups_tui.sandbox", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/_sandbox/state", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("sandbox did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def listener_process(db: Path, env: Mapping[str, str]) -> Iterator[str]:
    """Run ``python -m groups_tui listen --port 0 --db DB``; yield its webhook URL.

    `env` is added to the environment (``WHATSAPP_APP_SECRET`` at least). The URL is read
    from the ``url ...`` line the command prints once it listens.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "groups_tui", "listen", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("url "):
            raise AssertionError(f"listener did not start: {line!r}")
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
