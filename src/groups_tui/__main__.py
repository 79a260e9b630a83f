"""``groups-tui`` and ``python -m groups_tui``: the command line, or the TUI without one.

A bare launch (no argument) opens the TUI as :func:`groups_tui.cli.main` would, without
importing click and the command line's modules first (~8 ms of a ~450 ms start); any
argument, or shell completion asking, goes through :func:`groups_tui.cli.main`.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    """The ``groups-tui`` entry point."""
    if len(sys.argv) > 1 or any(
        name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ
    ):
        from groups_tui.cli import main

        main()
        return
    _open_tui()


def _open_tui() -> None:
    """What ``groups-tui`` without a command does (see :func:`groups_tui.cli.main`), with
    click's answers to an interrupt (``Aborted!``, exit code 1) and its exit code 0."""
    import gc

    # No cyclic collection while the TUI starts (as the command line does).
    gc.disable()
    from groups_tui.config import ConfigError, load_settings
    from groups_tui.tui_runner import run_tui

    try:
        try:
            run_tui(load_settings())
        except ConfigError as exc:
            from groups_tui.cli.common import EXIT_USAGE
            from groups_tui.cli_output import fail

            fail(str(exc), EXIT_USAGE)
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\nAborted!\n")
        sys.stderr.flush()
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    run()
