"""``groups-tui web``: loopback by default, a token for anything else, checked on every request.

A real aiohttp server on an ephemeral loopback port, real HTTP requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from click.testing import CliRunner

from groups_tui.cli import main
from groups_tui.web import COOKIE, SERVER_KEY, is_loopback, make_web_app

TOKEN = "3f6c0d0f3b0a4e8e9d5b2a7c1e4f6a8b"


async def _start(token: str | None) -> tuple[web.AppRunner, str]:
    app = make_web_app("true", None, token)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    app[SERVER_KEY].public_url = url
    return runner, url


@pytest.fixture
async def guarded() -> AsyncIterator[str]:
    runner, url = await _start(TOKEN)
    try:
        yield url
    finally:
        await runner.cleanup()


async def test_without_the_token_everything_is_refused(guarded: str) -> None:
    async with httpx.AsyncClient(base_url=guarded) as client:
        for path in ("/", "/ws", "/static/css/xterm.css", "/download/x"):
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert TOKEN not in answer.text
        assert (await client.get("/", params={"token": TOKEN[:-1] + "0"})).status_code == 401
        assert (await client.get("/", headers={"Authorization": "Bearer nope"})).status_code == 401
    async with httpx.AsyncClient(base_url=guarded, cookies={COOKIE: "0" * 64}) as client:
        assert (await client.get("/")).status_code == 401


async def test_the_token_is_traded_for_a_cookie_once(guarded: str) -> None:
    async with httpx.AsyncClient(base_url=guarded) as client:
        answer = await client.get("/", params={"token": TOKEN})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert TOKEN not in cookie  # the cookie is derived from the token, not the token
        page = await client.get("/")  # the client keeps the cookie
        assert page.status_code == 200
        assert f'data-session-websocket-url="ws://{guarded[7:]}/ws"' in page.text
        assert (await client.get("/static/css/xterm.css")).status_code == 200
        # a page of another origin cannot use the operator's cookie
        foreign = await client.get("/ws", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403


async def test_scripts_may_send_a_bearer_token(guarded: str) -> None:
    async with httpx.AsyncClient(base_url=guarded) as client:
        answer = await client.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200


async def test_loopback_without_a_token_needs_none_but_refuses_other_sites() -> None:
    runner, url = await _start(None)
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/")).status_code == 200
            same = await client.get("/", headers={"Origin": url})
            assert same.status_code == 200
            # a page of another site driving the operator's TUI over the websocket
            foreign = await client.get("/ws", headers={"Origin": "https://evil.example"})
            assert foreign.status_code == 403
            # a DNS name rebound to 127.0.0.1: same origin, but not a loopback name
            rebound = await client.get(
                "/ws",
                headers={"Host": "evil.example:8000", "Origin": "http://evil.example:8000"},
            )
            assert rebound.status_code == 403
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "ops.example.com"])
def test_a_non_local_bind_without_a_token_is_refused(host: str, tmp_path: object) -> None:
    result = CliRunner().invoke(
        main,
        ["web", "--host", host, "--port", "0"],
        env={"GROUPS_TUI_WEB_TOKEN": "", "GROUPS_TUI_CONFIG": f"{tmp_path}/absent.toml"},
    )
    assert result.exit_code == 2
    assert "refusing to serve the TUI" in result.stderr
    assert "GROUPS_TUI_WEB_TOKEN" in result.stderr


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.8.9.10")
    assert is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::")
    assert not is_loopback("10.1.2.3") and not is_loopback("example.com")
