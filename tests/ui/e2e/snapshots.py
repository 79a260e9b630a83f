"""Snapshots of screens driven over the full stack, at 80x24 and 120x40.

``snap_compare`` runs an app in a loop of its own, but the stack's servers live in the
test's loop; these tests drive the app with the Pilot in the test's loop and compare
its SVG export with the stored snapshot through the same syrupy extension (and the
same ``--snapshot-update`` flag) as ``snap_compare``.
"""

from __future__ import annotations

from pytest_textual_snapshot import SVGImageExtension
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot

SIZES: dict[str, tuple[int, int]] = {"80x24": (80, 24), "120x40": (120, 40)}
"""The two sizes every changed screen is drawn at."""


async def matches_snapshot(pilot: Pilot[None], snapshot: SnapshotAssertion) -> bool:
    """Whether the app's screen, once idle, matches the stored snapshot."""
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    app = pilot.app
    svg = app.export_screenshot(title=app.title, simplify=True)
    return bool(snapshot.use_extension(SVGImageExtension) == svg)
