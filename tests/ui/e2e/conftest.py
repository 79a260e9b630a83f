"""Fixtures of the UI end-to-end tests: the app over the full stack (real HTTP sandbox).

The stack is the one of ``tests/integration/e2e`` (store, listener, sandbox over
loopback HTTP, client, service, a manual clock); the app runs on top of its service with
the same manual clock, so the Pilot drives exactly what an operator would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.e2e.support import Stack, running_stack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """One full stack on 2026-09-15 12:00 UTC."""
    async with running_stack(tmp_path / "inbox.db") as running:
        yield running
