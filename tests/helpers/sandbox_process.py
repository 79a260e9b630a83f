"""A standalone sandbox in a child process, for tests of commands run as users run them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
