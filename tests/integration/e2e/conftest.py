"""Fixtures of the end-to-end tests: the whole stack on a temporary database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from groups_tui.sandbox import SandboxKnobs

from .support import SEPT_15, Stack, running_stack

StackFactory = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[StackFactory]:
    """Start full stacks (each on its own database) at a chosen simulated date."""
    async with AsyncExitStack() as stacks:
        count = 0

        async def factory(*, start: float = SEPT_15, knobs: SandboxKnobs | None = None) -> Stack:
            nonlocal count
            count += 1
            return await stacks.enter_async_context(
                running_stack(tmp_path / f"inbox-{count}.db", start=start, knobs=knobs)
            )

        yield factory


@pytest.fixture
async def stack(make_stack: StackFactory) -> Stack:
    """One full stack on 2026-09-15 12:00 UTC."""
    return await make_stack()
