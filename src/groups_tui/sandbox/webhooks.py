"""Webhook delivery as Meta does it: signed envelopes, POSTed, retried, sometimes batched,
duplicated or reordered.

The :class:`WebhookSender` takes *change* objects (``{"field", "value"}``) from the world,
wraps them in the envelope of reference section 3.2, signs the exact body bytes with the app
secret (``X-Hub-Signature-256: sha256=<hex>``) and POSTs them to the listener URL with
httpx. A non-200 answer or a connection error is retried with exponential backoff. Until a
URL is set, changes wait in the queue (the in-process listener may start later).

Bodies are serialised the way Meta's are: non-ASCII as ``\\uXXXX`` escapes and ``/`` as
``\\/``, so a listener that re-serialises the parsed JSON instead of hashing the raw bytes
fails the signature check, as it would against Meta.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["WebhookKnobs", "WebhookSender", "sign_body"]

log = logging.getLogger(__name__)

Json = dict[str, Any]


@dataclass
class WebhookKnobs:
    """Delivery knobs (for tests and demos).

    Attributes:
        batch_max: Changes per POST for live events (Meta: up to 1000; often 1).
        bulk_batch_max: Changes per POST for pre-population announcements.
        max_body_bytes: Upper bound of one POST body (Meta: 3 MB).
        duplicate_rate: Chance that a delivered POST is delivered again, byte for byte.
        reorder_rate: Chance that a batch is held back and sent after the next one.
        seed: Seed of the knob decisions.
        max_attempts: Attempts per POST before it is dropped.
        backoff_initial: First retry delay in real seconds (doubles each time).
        backoff_max: Longest retry delay.
        timeout: Per-request timeout in seconds.
        meta_escaping: Serialise like Meta (``\\uXXXX`` and ``\\/`` escapes).
    """

    batch_max: int = 1
    bulk_batch_max: int = 50
    max_body_bytes: int = 3 * 1024 * 1024
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    seed: int = 7
    max_attempts: int = 12
    backoff_initial: float = 0.2
    backoff_max: float = 30.0
    timeout: float = 10.0
    meta_escaping: bool = True


def sign_body(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``.

    Args:
        body: The exact bytes POSTed.
        app_secret: The app secret.

    Returns:
        ``"sha256=<hex digest>"``.
    """
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class _Item:
    change: Json
    bulk: bool
    size: int
    waba: str | None = None


@dataclass
class SenderStats:
    """Counters of what the sender did.

    Attributes:
        posts: POSTs answered with 200 (duplicates included).
        changes: Changes delivered (counted once per successful first delivery).
        failed_attempts: Attempts answered with non-200 or a connection error.
        duplicates: Extra deliveries made by the duplicate knob.
        reordered: Batches sent after a later one by the reorder knob.
        dropped: Changes given up after ``max_attempts``.
    """

    posts: int = 0
    changes: int = 0
    failed_attempts: int = 0
    duplicates: int = 0
    reordered: int = 0
    dropped: int = 0
    statuses: list[int] = field(default_factory=list)


class WebhookSender:
    """Queues changes and delivers them to the listener.

    Args:
        app_secret: Key of the HMAC signature.
        business_account_id: ``entry[].id`` of every envelope.
        url: Listener URL; ``None`` holds changes until :meth:`set_url`.
        knobs: Delivery knobs.
        sleep: Awaitable sleep used between retries (injectable).
    """

    def __init__(
        self,
        *,
        app_secret: str,
        business_account_id: str,
        url: str | None = None,
        knobs: WebhookKnobs | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._secret = app_secret
        self._waba = business_account_id
        self._url = url
        self.knobs = knobs or WebhookKnobs()
        self._sleep = sleep
        self._rng = random.Random(f"webhooks:{self.knobs.seed}")
        self._queue: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.stats = SenderStats()

    # ------------------------------------------------------------------ public

    @property
    def url(self) -> str | None:
        """Where webhooks go (``None`` while unset)."""
        return self._url

    def set_url(self, url: str | None) -> None:
        """Point deliveries at ``url`` (queued changes then start flowing)."""
        self._url = url
        self._wake.set()

    @property
    def pending(self) -> int:
        """Changes queued or in flight."""
        return len(self._queue) + self._in_flight

    def enqueue(self, change: Json, bulk: bool = False, *, waba: str | None = None) -> None:
        """Queue one change for delivery.

        Args:
            change: ``{"field": ..., "value": {...}}``.
            bulk: Part of a pre-population announcement (batched by ``bulk_batch_max``).
            waba: The WABA of the number the change is about (``entry[].id``), when it
                is not the sender's own (several business accounts of one app share one
                webhook URL).
        """
        size = len(self._dumps(change))
        self._queue.append(_Item(change, bulk, size, waba))
        self._idle.clear()
        self._wake.set()

    def envelope(self, changes: list[Json], wabas: list[str | None] | None = None) -> bytes:
        """The exact body bytes for a batch of changes.

        Consecutive changes of one WABA share an ``entry[]`` item; changes of several
        WABAs (``wabas``, one per change, ``None`` for the sender's own) make one entry
        each run, as Meta batches the updates of an app's accounts.
        """
        entries: list[Json] = []
        for change, waba in zip(changes, wabas or [None] * len(changes), strict=True):
            waba_id = waba or self._waba
            if entries and entries[-1]["id"] == waba_id:
                entries[-1]["changes"].append(change)
            else:
                entries.append({"id": waba_id, "changes": [change]})
        if not entries:
            entries.append({"id": self._waba, "changes": []})
        payload = {"object": "whatsapp_business_account", "entry": entries}
        return self._dumps(payload)

    async def start(self) -> None:
        """Start the delivery task (inside the running loop)."""
        if self._task is not None:
            return
        self._client = httpx.AsyncClient(timeout=self.knobs.timeout)
        self._task = asyncio.create_task(self._run(), name="sandbox-webhooks")

    async def stop(self) -> None:
        """Stop delivering; undelivered changes are discarded."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def drain(self, within: float = 10.0) -> None:
        """Wait until everything queued so far has been delivered (or dropped).

        Raises:
            TimeoutError: If that takes longer than ``within`` seconds.
        """
        await asyncio.wait_for(self._idle.wait(), within)

    # ------------------------------------------------------------------ internals

    def _dumps(self, obj: Any) -> bytes:
        if self.knobs.meta_escaping:
            text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
            # "/" only occurs inside JSON strings, so escaping it keeps the JSON valid.
            return text.replace("/", "\\/").encode()
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def _take(self) -> list[_Item]:
        first = self._queue.popleft()
        batch = [first]
        limit = self.knobs.bulk_batch_max if first.bulk else self.knobs.batch_max
        limit = max(1, min(limit, 1000))
        size = first.size
        while self._queue and len(batch) < limit:
            nxt = self._queue[0]
            if nxt.bulk != first.bulk or size + nxt.size > self.knobs.max_body_bytes:
                break
            batch.append(self._queue.popleft())
            size += nxt.size
        self._in_flight += len(batch)
        return batch

    async def _run(self) -> None:
        while True:
            if not self._queue or self._url is None:
                if not self._queue and self._in_flight == 0:
                    self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take()
            if self._queue and self._rng.random() < self.knobs.reorder_rate:
                later = self._take()
                self.stats.reordered += 1
                await self._deliver(later)
            await self._deliver(batch)

    async def _deliver(self, batch: list[_Item]) -> None:
        items = list(batch)
        if len(items) > 1 and self._rng.random() < self.knobs.reorder_rate:
            self._rng.shuffle(items)
        body = self.envelope([item.change for item in items], [item.waba for item in items])
        try:
            if await self._post(body):
                self.stats.changes += len(batch)
                if self._rng.random() < self.knobs.duplicate_rate:
                    self.stats.duplicates += 1
                    await self._post(body)
            else:
                self.stats.dropped += len(batch)
                log.warning("dropped a webhook batch of %d changes", len(batch))
        finally:
            self._in_flight -= len(batch)

    async def _post(self, body: bytes) -> bool:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature": "sha1="
            + hmac.new(self._secret.encode(), body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": sign_body(body, self._secret),
        }
        assert self._client is not None
        for attempt in range(max(1, self.knobs.max_attempts)):
            url = self._url
            if url is None:
                await self._sleep(self.knobs.backoff_initial)
                continue
            try:
                response = await self._client.post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                log.debug("webhook POST to %s failed: %s", url, exc)
                status = 0
            self.stats.statuses.append(status)
            del self.stats.statuses[:-100]
            if status == 200:
                self.stats.posts += 1
                return True
            self.stats.failed_attempts += 1
            delay = min(self.knobs.backoff_max, self.knobs.backoff_initial * (2**attempt))
            await self._sleep(delay)
        return False
