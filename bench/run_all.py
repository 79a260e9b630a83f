"""Run every benchmark in turn; each prints its own figures (nothing is asserted).

The 10,000-group database is built once and shared by ``cli.py`` and ``ui.py``. Every
figure is printed as min/median/max of at least three runs, beside its baseline measured
in the same run. The whole takes about ten minutes on two cores.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    failed = []
    with tempfile.TemporaryDirectory(prefix="groups-tui-bench-") as tmp:
        db = Path(tmp) / "inbox-10k.db"
        benches: list[list[str]] = [
            ["apply.py"],
            ["store_fill.py"],
            ["replay.py"],
            ["cli.py", "--db", str(db)],
            ["ui.py", "--db", str(db)],
            ["ingest.py"],
            ["pricing_evidence.py"],
        ]
        for name, *args in benches:
            script = HERE / name
            if not script.exists():
                continue
            print(f"\n=== {name} ===", flush=True)
            started = time.perf_counter()
            if subprocess.run([sys.executable, str(script), *args], check=False).returncode:
                failed.append(name)
            print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
