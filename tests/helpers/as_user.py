"""Run the real CLI in a child process as another Unix user (tests run as root).

The interpreter and the checkout of the test environment may live where other users
cannot read them (a home directory, a 0700 temporary directory), so the child starts as
root, imports everything the command needs and reads the packaged rate card, then drops to the user (``setgroups``/``setgid``/``setuid``) before running the command:
the daemon sees the user in the socket's peer credentials, as it would a real operator.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Mapping, Sequence

_BOOTSTRAP = r"""
import importlib, os, sys, json
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
import encodings.idna  # httpx encodes the host name
from groups_tui.domain.pricing import RateCard
RateCard.load_default()  # package data, read (and cached) while the checkout is readable
uid, gid, groups = json.loads(sys.argv[2])
os.setgroups(groups)
os.setgid(gid)
os.setuid(uid)
from groups_tui.cli import main
sys.argv = ["groups-tui", *json.loads(sys.argv[3])]
main()
"""

PRELOAD = (
    "asyncio",
    "groups_tui.cli",
    "groups_tui.cli.common",
    "groups_tui.cli.team",
    "groups_tui.cli.groups",
    "groups_tui.cli.members",
    "groups_tui.cli.sending",
    "groups_tui.cli.audit",
    "groups_tui.automations.commands",
    "groups_tui.daemon.client",
    "groups_tui.runtime",
    "groups_tui.store",
    "groups_tui.service",
    "groups_tui.config",
    "groups_tui.completion",
    "groups_tui.cli_output",
    "groups_tui.jsonable",
    "httpx",
    "httpcore",
    "anyio",
    "anyio._backends._asyncio",
    "sqlite3",
    "getpass",
    "uuid",
    "concurrent.futures.thread",
    "importlib.readers",
    "importlib.resources",
    "email.utils",
    "decimal",
    "tomllib",
)


def run_as(
    user: str,
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run ``groups-tui ARGS`` as `user` with exactly `env` (plus PATH); return the result."""
    import json

    entry = pwd.getpwnam(user)
    groups = os.getgrouplist(user, entry.pw_gid)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            _BOOTSTRAP,
            json.dumps(list(PRELOAD)),
            json.dumps([entry.pw_uid, entry.pw_gid, groups]),
            json.dumps(list(args)),
        ],
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
