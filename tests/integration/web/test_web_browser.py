"""``groups-tui web`` in a real browser: Debian's Chromium, headless, driven by Playwright.

The server is the real command in its own process (on the sandbox); the browser opens
it with the token, the inbox renders, a key opens a group, and a browser without the
token is refused. xterm.js draws on a canvas, so what the TUI showed is read from the
websocket frames the browser received (the terminal output it drew).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TOKEN = "b1d4c0ffee5eed5a1ad0dd5e7c0de000"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _chromium() -> str:
    for candidate in (shutil.which("chromium"), "/usr/lib/chromium/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip(
        "no Chromium on this machine: install Debian's `chromium` package "
        "(make test does so when it runs as root)"
    )


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the TUIs a web server started)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("WHATSAPP_", "GROUPS_TUI_", "TEXTUAL"))
    }
    env.update(
        GROUPS_TUI_WEB_TOKEN=TOKEN,
        GROUPS_TUI_CONFIG=str(tmp_path / "absent.toml"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "groups_tui", "web", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("url "), line
        yield line.split()[1], server
    finally:
        server.terminate()
        server.wait(timeout=60)


def _wait(what: str, check: Callable[[], bool], page: object, seconds: float = 25) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        page.wait_for_timeout(100)  # type: ignore[attr-defined]


def test_the_inbox_renders_a_key_opens_a_group_and_no_token_is_refused(
    web_server: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    web_url, server = web_server
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            # Without the token: refused, and no terminal is started.
            stranger = browser.new_page()
            answer = stranger.goto(web_url + "/")
            assert answer is not None and answer.status == 401
            assert "unauthorized" in stranger.inner_text("body")

            page = browser.new_page(viewport={"width": 1280, "height": 800})
            drawn: list[str] = []

            def follow(ws: object) -> None:
                def received(payload: str | bytes) -> None:
                    text = (
                        payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
                    )
                    drawn.append(text)

                ws.on("framereceived", received)  # type: ignore[attr-defined]

            page.on("websocket", follow)
            page.goto(f"{web_url}/?token={TOKEN}")
            assert page.url == web_url + "/"  # the token left the address bar
            _wait(
                "the inbox",
                lambda: "SANDBOX" in "".join(drawn) and "Last message" in "".join(drawn),
                page,
            )
            page.wait_for_timeout(500)
            page.screenshot(path=str(tmp_path / "inbox.png"))

            seen = len(drawn)
            page.focus(".xterm-helper-textarea")
            page.keyboard.press("Enter")  # open the highlighted group
            _wait(
                "the conversation",
                lambda: (
                    "beginning of the conversation" in "".join(drawn[seen:])
                    or "older messages" in "".join(drawn[seen:])
                ),
                page,
            )
            page.screenshot(path=str(tmp_path / "conversation.png"))

            # Stopping the server while the tab is open ends the tab's TUI too.
            tuis = _children(server.pid)
            assert tuis, "the tab's TUI runs as a child of the server"
            server.terminate()
            server.wait(timeout=60)
            assert [pid for pid in tuis if Path(f"/proc/{pid}").exists()] == []
        finally:
            browser.close()
