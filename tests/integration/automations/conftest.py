"""Fixtures of the automation tests: full stacks on temporary databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from .support import Stack, running_stack

StackFactory = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[StackFactory]:
    """Start full stacks (each on its own database)."""
    async with AsyncExitStack() as stacks:
        count = 0

        async def factory(**kwargs: Any) -> Stack:
            nonlocal count
            count += 1
            return await stacks.enter_async_context(
                running_stack(tmp_path / f"automations-{count}.db", **kwargs)
            )

        yield factory


@pytest.fixture
async def stack(make_stack: StackFactory) -> Stack:
    """One full stack on 2026-09-15 12:00 UTC."""
    return await make_stack()
