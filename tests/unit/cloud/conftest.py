"""Fixtures of the Cloud client tests: dummy credentials, a respx router, a sleep recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from groups_tui.cloud import CloudClient, RetryPolicy

from .support import API, BASE_URL, PHONE_NUMBER_ID, TOKEN, WABA_ID, SleepRecorder


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=API, assert_all_called=False)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=30.0, jitter=False)


@pytest.fixture
async def client(
    router: respx.Router, sleeps: SleepRecorder, policy: RetryPolicy
) -> AsyncIterator[CloudClient]:
    async with CloudClient(
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=WABA_ID,
        base_url=BASE_URL,
        transport=httpx.MockTransport(router.async_handler),
        retry=policy,
        sleep=sleeps,
    ) as cloud:
        yield cloud
