"""Forwarding applied group events to HTTP endpoints or local commands.

Events come from the change feed and are normalised to
``{"id", "kind", "group_id", "at", "data"}`` by the service (``service.changes.events``). Each event is queued durably once per target
(``forward_outbox``) in the same transaction that moves the runner's feed position, so a
crash neither loses nor doubles an event, and a target that is down simply accumulates
its queue until it comes back.

Ordering: the queue of a target is split into lanes, one per group (events without a
group share one lane). Only the oldest pending event of a lane is ever attempted, so a
later event of a group is never delivered before an earlier one succeeded. Failed
attempts back off exponentially (``backoff_initial * 2**attempts``, capped).

HTTP deliveries are signed: ``X-Groups-Tui-Signature: sha256=<hex HMAC-SHA256 of the
body>`` with the target's own secret. A 2xx answer is a delivery; anything else is
retried. Commands receive the JSON on stdin; exit status 0 is a delivery.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from groups_tui.automations.config import ForwardTarget
from groups_tui.service import InboxService
from groups_tui.service.types import Change

if TYPE_CHECKING:
    import httpx

__all__ = [
    "SIGNATURE_HEADER",
    "DeliveryPass",
    "Forwarder",
    "sign",
]

SIGNATURE_HEADER = "X-Groups-Tui-Signature"
EVENT_ID_HEADER = "X-Groups-Tui-Event-Id"

MAX_PASS_ITEMS = 10_000
"""Most queued items looked at per target in one pass (bounds a pass's work)."""


def sign(key: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _wants(target: ForwardTarget, kind: str) -> bool:
    return not target.kinds or any(fnmatch.fnmatchcase(kind, p) for p in target.kinds)


class ForwardError(Exception):
    """One delivery attempt failed (the message names the target)."""


@dataclass(frozen=True, slots=True)
class DeliveryPass:
    """Outcome of one delivery pass over a target."""

    target: str
    delivered: int
    failed: int
    last_error: str | None


class Forwarder:
    """Queues events per target and delivers them in order.

    Args:
        service: The service (the change feed's events, the forwarding queue, runs).
        targets: The configured targets.
        clock: Epoch seconds (backoff schedule); injectable for tests.
        http: HTTP client (when ``None``, one is created for the first HTTP delivery, on
            a thread: importing httpx and loading the CA bundle take ~100 ms, which a
            runner with command targets only, or no event to forward yet, never pays;
            :meth:`aclose` closes it).
    """

    def __init__(
        self,
        service: InboxService,
        targets: Sequence[ForwardTarget],
        *,
        clock: Callable[[], float] = time.time,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.service = service
        self.targets = tuple(targets)
        self._clock = clock
        self._own_http = http is None
        self._http = http
        self._http_built = asyncio.Lock()
        self._keys: dict[str, bytes | None] = {t.name: t.signing_key() for t in self.targets}

    async def aclose(self) -> None:
        """Close the HTTP client if this forwarder created it."""
        if self._own_http and self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    async def _client(self) -> httpx.AsyncClient:
        """The HTTP client, created on a thread the first time (see ``http``)."""
        async with self._http_built:
            if self._http is None:
                self._http = await asyncio.to_thread(_new_client)
            return self._http

    async def enqueue(self, changes: Sequence[Change], *, position_key: str) -> int:
        """Queue the forwarded changes for every target and move the feed position.

        Returns:
            How many (target, event) items were queued.
        """
        if not changes:
            return 0
        events = await self.service.changes.events(changes)
        items: list[tuple[str, int, str, bytes]] = []
        for event in events:
            body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
            lane = event["group_id"] or ""
            for target in self.targets:
                if _wants(target, event["kind"]):
                    items.append((target.name, event["id"], lane, body))
        return await self.service.automations.forward_enqueue(
            items, position_key=position_key, position=changes[-1].id
        )

    async def deliver(self, paused: frozenset[str] | set[str] = frozenset()) -> list[DeliveryPass]:
        """Attempt every due event of every target that is not paused."""
        results = []
        for target in self.targets:
            if target.name in paused:
                continue
            results.append(await self._deliver_target(target))
        return results

    async def _deliver_target(self, target: ForwardTarget) -> DeliveryPass:
        delivered = failed = 0
        last_error: str | None = None
        # Pending items in feed order; a lane is blocked for the rest of the pass once its
        # oldest pending item is not due yet or fails, so no later event of that group
        # can overtake it.
        blocked: set[str] = set()
        after = 0
        for _ in range(MAX_PASS_ITEMS // 100):
            batch = await self.service.automations.forward_items(
                target.name, "pending", limit=100, after_id=after
            )
            if not batch:
                break
            after = batch[-1].id
            for item in batch:
                if item.lane in blocked:
                    continue
                if item.next_attempt_at > self._clock():
                    blocked.add(item.lane)
                    continue
                try:
                    await self._send(target, item.body, item.change_id)
                except ForwardError as exc:
                    failed += 1
                    last_error = str(exc)
                    blocked.add(item.lane)
                    delay = min(target.backoff_max, target.backoff_initial * 2**item.attempts)
                    await self.service.automations.forward_failed(
                        item.id, last_error, self._clock() + delay
                    )
                else:
                    delivered += 1
                    await self.service.automations.forward_delivered(item.id)
        if delivered:
            await self.service.automations.add_run(
                target.name, "forward", True, f"delivered {delivered} event(s)"
            )
        if failed:
            await self.service.automations.add_run(
                target.name, "forward", False, f"{failed} attempt(s) failed: {last_error}"
            )
        return DeliveryPass(target.name, delivered, failed, last_error)

    async def _send(self, target: ForwardTarget, body: bytes, event_id: int) -> None:
        if target.url is not None:
            await self._post(target, target.url, body, event_id)
        else:
            await self._run(target, body)

    async def _post(self, target: ForwardTarget, url: str, body: bytes, event_id: int) -> None:
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: str(event_id)}
        key = self._keys.get(target.name)
        if key is not None:
            headers[SIGNATURE_HEADER] = sign(key, body)
        http = await self._client()
        import httpx  # loaded by now, with the client

        try:
            response = await http.post(url, content=body, headers=headers, timeout=target.timeout)
        except httpx.TimeoutException:
            raise ForwardError(
                f"forward target {target.name!r} ({url}): no answer within {target.timeout:g}s"
            ) from None
        except httpx.TransportError as exc:
            raise ForwardError(
                f"forward target {target.name!r} ({url}) is unreachable: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise ForwardError(
                f"forward target {target.name!r} ({url}) answered HTTP {response.status_code}"
            )

    async def _run(self, target: ForwardTarget, body: bytes) -> None:
        assert target.command is not None
        program = target.command[0]
        try:
            proc = await asyncio.create_subprocess_exec(
                *target.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise ForwardError(
                f"forward target {target.name!r}: cannot run {program!r}: {exc.strerror}"
            ) from None
        try:
            _, err = await asyncio.wait_for(proc.communicate(body + b"\n"), target.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise ForwardError(
                f"forward target {target.name!r}: {program!r} did not finish within "
                f"{target.timeout:g}s"
            ) from None
        if proc.returncode != 0:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            raise ForwardError(
                f"forward target {target.name!r}: {program!r} exited with {proc.returncode}"
                + (f": {tail[0][:200]}" if tail else "")
            )


def _new_client() -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(follow_redirects=False)
