"""Command-line start-up as users feel it: wall time and peak RSS of whole processes.

Runs, ``--runs`` times each and in turns (so a noisy neighbour weighs on all of them):

* ``python -c pass`` and ``python -c "import textual.app"`` (the baselines),
* ``groups-tui --help``,
* ``groups-tui groups list --no-sync --json`` over a database of ``--groups`` groups (the
  one ``bench/ui.py`` builds; built here when ``--db`` does not exist), with live
  credentials pointing at a closed local port (nothing is called: ``--no-sync``).

Each process is timed from spawn to exit (wall, and the CPU it used); its peak RSS is the
child's ``ru_maxrss``.
Prints min/median/max; nothing is asserted.

Bytecode is cached as an installed package has it (``pip`` compiles every module): the runs
share a private ``PYTHONPYCACHEPREFIX`` that the warm-up run fills, for ``--src`` and
``--baseline`` alike (a read-only checkout gets its cache there too), whatever
``PYTHONDONTWRITEBYTECODE`` says. ``--no-bytecode-cache`` compiles the project's modules at
every run instead (copies of the ``src`` trees without ``__pycache__``, run with
``PYTHONDONTWRITEBYTECODE=1``, as a fresh checkout runs: about 70 ms more).

Usage: ``python bench/cli.py [--db PATH] [--groups 10000] [--runs 5] [--src DIR] [--baseline DIR]
[--no-bytecode-cache]``

``--baseline DIR`` runs the two groups-tui commands with another checkout's ``src`` too,
in the same turns.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall ms, CPU ms (user + system) and peak RSS MB of one run of ``cmd`` (its output
    discarded). CPU is the steadier figure on a busy machine: wall time there includes
    waiting for a core."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this file")
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the groups_tui to run")
    parser.add_argument("--baseline", type=Path, help="also run the commands with this src")
    parser.add_argument(
        "--no-bytecode-cache", action="store_true", help="compile every module at every run"
    )
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="groups-tui-cli-") if args.db is None else None
    db = args.db or Path(tmp.name) / "bench.db"  # type: ignore[union-attr]
    cache = tempfile.TemporaryDirectory(prefix="groups-tui-cli-pyc-")
    # A cache prefix hides the installed packages' own __pycache__: without it they keep
    # theirs, and the project's modules are compiled at every run.
    bytecode = (
        {"PYTHONDONTWRITEBYTECODE": "1"}
        if args.no_bytecode_cache
        else {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": cache.name}
    )
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    shown = {"src": args.src, "baseline": args.baseline}  # the trees named, not copies
    if args.no_bytecode_cache:  # copies without the __pycache__ a test run leaves behind
        for name in ("src", "baseline"):
            tree = getattr(args, name)
            if tree is not None:
                copy = Path(cache.name) / name
                shutil.copytree(tree, copy, ignore=shutil.ignore_patterns("__pycache__"))
                setattr(args, name, copy)
    env = dict(
        environ,
        **bytecode,
        PYTHONPATH=str(args.src),
        GROUPS_TUI_CONFIG=str(db.parent / "none.toml"),
        GROUPS_TUI_DB=str(db),
        WHATSAPP_ACCESS_TOKEN="bench-token",
        WHATSAPP_PHONE_NUMBER_ID="100000000000001",
        WHATSAPP_API_BASE_URL="http://127.0.0.1:9",
    )
    if not db.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "ui.py"),
                "--build-only",
                "--db",
                str(db),
                "--groups",
                str(args.groups),
                "--messages",
                str(args.messages),
            ],
            check=True,
            env=env,
        )
    py = sys.executable
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "import textual.app": [py, "-c", "import textual.app"],
        "groups-tui --help": [py, "-m", "groups_tui", "--help"],
        f"groups list --no-sync --json ({args.groups:,})": [
            py,
            "-m",
            "groups_tui",
            "groups",
            "list",
            "--no-sync",
            "--json",
        ],
    }
    envs = {name: env for name in commands}
    if args.baseline:
        # Its own copy of the database, made before either runs: the two checkouts may
        # differ in schema, and the newer one migrates the file it opens.
        baseline_db = db.with_name(f"{db.stem}-baseline{db.suffix}")
        if not baseline_db.exists():
            shutil.copyfile(db, baseline_db)
        for name in list(commands)[2:]:
            commands[f"{name} [baseline]"] = commands[name]
            envs[f"{name} [baseline]"] = env | {
                "PYTHONPATH": str(args.baseline),
                "GROUPS_TUI_DB": str(baseline_db),
            }

    def load_now() -> str:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())

    load_before = load_now()
    for name, cmd in commands.items():  # warm the page cache; not counted
        timed(cmd, envs[name])
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            wall, cpu, peak = timed(cmd, envs[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
            rss[name].append(peak)

    def spread(values: list[float]) -> str:
        return f"{min(values):.0f}/{statistics.median(values):.0f}/{max(values):.0f}"

    cached = "compiled at every run" if args.no_bytecode_cache else "cached"
    print(f"command start-up (src {shown['src']}), min/median/max of {args.runs} runs")
    print(f"bytecode {cached}; load average before {load_before}, after {load_now()}")
    if args.baseline:
        print(f"[baseline]: src {shown['baseline']}")
    print(f"{'command':<56}{'wall ms':>16}{'CPU ms':>16}{'peak RSS MB':>16}")
    for name in commands:
        print(f"{name:<56}{spread(walls[name]):>16}{spread(cpus[name]):>16}{spread(rss[name]):>16}")
    print("targets: --help <= 150 ms; groups list --no-sync --json at 10k <= 400 ms and <= 80 MB")
    if tmp is not None:
        tmp.cleanup()
    cache.cleanup()


if __name__ == "__main__":
    main()
