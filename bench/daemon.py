"""What team mode adds to an action: the same call single-user and through the daemon.

Starts the in-process sandbox stack (store, listener, sandbox, client, service), then
the daemon's socket server in front of that service on a temporary Unix socket, and a
client (:class:`~groups_tui.daemon.client.RemoteService`) in a second process, as an
operator's TUI or command would be. Each action is timed ``--rounds`` times in the
client process through the daemon, and the same number of times single-user (the
service called directly, in the daemon's process):

* ``admin.set_contact`` — a store write and nothing else (the daemon's overhead alone:
  HTTP over the socket, peer credentials, the role check, encoding);
* ``sending.send_text`` — a send to the sandbox over loopback HTTP (refusal checks, the
  outbox, the Cloud API call, the audit entry);
* ``reading.mark_read`` — the cheapest write.

Calls follow one another (``--gap MS`` spaces them, in both modes: a process that
sleeps between calls pays the scheduler's wake-up on a loaded machine, twice with a
daemon). Prints min/median/max per action and mode, and the added median (target: <= 5 ms).
Nothing is asserted.

Usage: ``python bench/daemon.py [--rounds 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ACTIONS = ("reading.mark_read", "admin.set_contact", "sending.send_text")
"""In this order: the sends last, so their status webhooks do not land amid the others."""


async def _time(
    call: Callable[[int], Awaitable[Any]], rounds: int, gap: float = 0.0
) -> list[float]:
    for i in range(5):  # warm up
        await call(-1 - i)
    out = []
    for i in range(rounds):
        if gap:
            await asyncio.sleep(gap)
        start = time.perf_counter()
        await call(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _calls(service: Any, group: str) -> dict[str, Callable[[int], Awaitable[Any]]]:
    return {
        "admin.set_contact": lambda i: service.admin.set_contact(
            "15550001111", display_name=f"bench {i}", note=None
        ),
        "sending.send_text": lambda i: service.sending.send_text(group, f"bench {i}"),
        "reading.mark_read": lambda i: service.reading.mark_read(group),
    }


async def client_main(socket_path: str, group: str, rounds: int, gap: float) -> None:
    """The client process: every action through the daemon."""
    from groups_tui.daemon.client import open_remote_service

    async with open_remote_service(Path(socket_path)) as service:
        calls = _calls(service, group)
        print(json.dumps({name: await _time(calls[name], rounds, gap) for name in ACTIONS}))


async def server_main(rounds: int, gap: float) -> None:
    from groups_tui.daemon.server import Daemon
    from groups_tui.domain.roles import Grant, Role, RolesConfig
    from groups_tui.runtime import SandboxOptions, sandbox_stack

    with tempfile.TemporaryDirectory(prefix="bench-daemon-") as tmp:
        db = Path(tmp) / "bench.db"
        options = SandboxOptions(db_path=db, groups=3, simulate=False, seed=7)
        async with sandbox_stack(options) as stack:
            await stack.settle(5)
            groups = await stack.service.reading.inbox_rows()
            group = groups[0].group_id
            # the window must be open for texts: a member writes first
            member = (await stack.service.reading.members(group))[0]
            stack.world.persons.message(group, member.wa_id, "hello")
            await stack.settle(1)
            single = _calls(stack.service, group)
            direct = {name: await _time(single[name], rounds, gap) for name in ACTIONS}
            await stack.settle(1)  # the sends' status webhooks applied before the client runs
            roles = RolesConfig(grants=(Grant(Role.ADMIN, users=frozenset({_me()})),))
            daemon = Daemon(
                stack.service,
                roles,
                roles_path=None,
                socket_path=Path(tmp) / "bench.sock",
                db_path=db,
            )
            await daemon.start()
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--client",
                    str(daemon.socket_path),
                    group,
                    "--rounds",
                    str(rounds),
                    "--gap",
                    str(gap * 1000),
                    stdout=subprocess.PIPE,
                )
                out, _ = await proc.communicate()
            finally:
                await daemon.stop()
            remote = json.loads(out)
    print(f"{rounds} calls each (after 5 warm-up calls), {gap * 1000:g} ms apart; ms")
    print(f"{'action':22} {'mode':12} {'min':>7} {'median':>7} {'max':>7}")
    for name in ACTIONS:
        for mode, figures in (("single-user", direct[name]), ("daemon", remote[name])):
            print(
                f"{name:22} {mode:12} {min(figures):7.2f} "
                f"{statistics.median(figures):7.2f} {max(figures):7.2f}"
            )
        added = statistics.median(remote[name]) - statistics.median(direct[name])
        print(f"{'':22} {'added':12} {'':7} {added:7.2f}   (target <= 5 ms)")


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.0, help="Milliseconds between calls.")
    parser.add_argument("--client", nargs=2, metavar=("SOCKET", "GROUP"))
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client[0], args.client[1], args.rounds, args.gap / 1000))
    else:
        asyncio.run(server_main(args.rounds, args.gap / 1000))


if __name__ == "__main__":
    main()
