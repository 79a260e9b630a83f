"""Async client for the WhatsApp Cloud API Groups endpoints (reference section 2).

The endpoints are grouped as resources (:mod:`groups_tui.cloud.resources`):
``client.groups``, ``.participants``, ``.join_requests``, ``.invite_links``, ``.messages``,
``.media`` and ``.templates``. Every one of them sends through this client's request core,
which holds the retry policy below, maps failures to typed errors and scrubs the access
token from them.

Retry rules, by operation:

* **Repeatable** calls (every GET, reset invite link, update settings or picture, upload
  media) are retried on retryable Graph codes, connection failures and timeouts.
* **At-most-once** calls (send, create group, delete group, remove participants,
  approve or reject join requests) are retried only when the failure proves nothing
  happened: a throttling code in an error response, or a connection that was never
  established. Once the request may have reached Meta (read or write timeout, dropped
  connection, gateway error without a Graph body), they raise an
  :class:`~groups_tui.cloud.errors.OutcomeUnknownError` instead of repeating.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from .. import __version__
from .errors import (
    CloudConnectionError,
    CloudError,
    CloudTimeoutError,
    OutcomeUnknownError,
    UnexpectedResponseError,
    error_from_response,
)
from .resources.base import segment
from .resources.groups import Groups
from .resources.invite_links import InviteLinks
from .resources.join_requests import JoinRequests
from .resources.media import Media
from .resources.messages import Messages
from .resources.participants import Participants
from .resources.templates import Templates
from .retry import RetryPolicy, SleepFn, usage_exhausted
from .scrubbing import redact_url

__all__ = ["DEFAULT_TIMEOUT", "CloudClient"]

logger = logging.getLogger("groups_tui.cloud")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
"""Connect 5 s, read 30 s, write 30 s, pool 5 s."""

_M = TypeVar("_M", bound=BaseModel)


class CloudClient:
    """Async client for the Groups endpoints of the WhatsApp Cloud API.

    Use it as an async context manager, or call :meth:`aclose` when done. The base URL
    and transport are injectable so tests and the sandbox use the production code path.
    The endpoints are its resources, e.g. ``await client.groups.create("Order 1042")``.

    Args:
        access_token: Bearer token; never logged or shown in reprs and errors.
        phone_number_id: Business phone number id (path of groups, messages, media).
        business_account_id: WABA id; needed only for ``client.templates.list()``.
        base_url: Graph host, or the sandbox's.
        graph_version: Version path segment such as ``v25.0``; empty for none.
        transport: httpx transport (tests pass a mock).
        timeout: httpx timeout; defaults to :data:`DEFAULT_TIMEOUT`.
        retry: Backoff policy; defaults to ``RetryPolicy()``.
        sleep: Awaitable sleep used between attempts.
    """

    def __init__(
        self,
        *,
        access_token: str,
        phone_number_id: str,
        business_account_id: str | None = None,
        base_url: str = "https://graph.facebook.com",
        graph_version: str = "v25.0",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        sleep: SleepFn = asyncio.sleep,
    ) -> None:
        if not access_token:
            raise ValueError("access_token must not be empty")
        segment(phone_number_id, "phone_number_id")
        self._token = access_token
        self.phone_number_id = phone_number_id.strip()
        self.business_account_id = business_account_id.strip() if business_account_id else None
        version = graph_version.strip("/")
        root = base_url.rstrip("/")
        self.base_url = f"{root}/{version}/" if version else f"{root}/"
        self.graph_version = version
        self._retry = retry if retry is not None else RetryPolicy()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
                "User-Agent": f"groups-tui/{__version__}",
            },
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )
        self.groups = Groups(self)
        """Groups: create, get, list, delete, settings and picture."""
        self.participants = Participants(self)
        """Participants: remove people from a group."""
        self.join_requests = JoinRequests(self)
        """Join requests: list, approve, reject."""
        self.invite_links = InviteLinks(self)
        """Invite links: get, reset, delete."""
        self.messages = Messages(self)
        """Messages: text, media, templates, invite templates, pins."""
        self.media = Media(self)
        """Media: upload, get, download, delete."""
        self.templates = Templates(self)
        """Message templates of the business account: list."""

    def __repr__(self) -> str:
        return (
            f"CloudClient(base_url={self.base_url!r}, phone_number_id={self.phone_number_id!r}, "
            f"business_account_id={self.business_account_id!r}, access_token='***')"
        )

    async def __aenter__(self) -> CloudClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying HTTP connections."""
        await self._http.aclose()

    # -- the request core (used by the resources) ----------------------------------------

    @property
    def _pnid(self) -> str:
        return segment(self.phone_number_id, "phone_number_id")

    async def _pages(
        self, path: str, params: Mapping[str, str], operation: str
    ) -> AsyncIterator[dict[str, Any]]:
        current: dict[str, str] = dict(params)
        seen_cursors: set[str] = set()
        while True:
            response = await self._request("GET", path, params=current, operation=operation)
            page = self._json(response)
            yield page
            following = _next_params(page)
            if following is None or following["after"] in seen_cursors:
                return
            seen_cursors.add(following["after"])
            current = following

    async def _request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        repeatable: bool = True,
        unknown: type[OutcomeUnknownError] = OutcomeUnknownError,
    ) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            target = redact_url(str(self._http.build_request(method, path, params=params).url))
            error: CloudError
            hint: float | None = None
            code: int | None = None
            exhausted = False
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, data=data, files=files
                )
            except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this process: repeating it is always safe.
                error = CloudTimeoutError(
                    f"{operation}: timed out before sending",
                    request_method=method,
                    request_url=target,
                )
                error.__cause__ = exc
            except httpx.ConnectError as exc:
                error = CloudConnectionError(
                    f"{operation}: could not connect: {exc}",
                    request_method=method,
                    request_url=target,
                )
                error.__cause__ = exc
            except (httpx.UnsupportedProtocol, httpx.LocalProtocolError) as exc:
                raise self._scrubbed(
                    CloudConnectionError(
                        f"{operation}: {exc}", request_method=method, request_url=target
                    )
                ) from exc
            except httpx.TransportError as exc:
                # The request may have reached Meta.
                timed_out = isinstance(exc, httpx.TimeoutException)
                if not repeatable:
                    what = "timed out" if timed_out else f"connection lost ({type(exc).__name__})"
                    raise self._scrubbed(
                        unknown(
                            f"{operation}: {what} after the request was sent; outcome unknown",
                            operation=operation,
                            request_method=method,
                            request_url=target,
                        )
                    ) from exc
                error_cls = CloudTimeoutError if timed_out else CloudConnectionError
                error = error_cls(
                    f"{operation}: {'timed out' if timed_out else 'connection lost'}"
                    f" ({type(exc).__name__})",
                    request_method=method,
                    request_url=target,
                )
                error.__cause__ = exc
            else:
                if response.status_code < 300:
                    return response
                api_error = error_from_response(response)
                api_error.scrub(self._token)
                if not repeatable and api_error.code is None and response.status_code >= 500:
                    # A gateway error without a Graph body says nothing about the outcome.
                    raise self._scrubbed(
                        unknown(
                            f"{operation}: HTTP {response.status_code} without a Graph error;"
                            " outcome unknown",
                            operation=operation,
                            request_method=method,
                            request_url=target,
                        )
                    ) from api_error
                allowed = (
                    api_error.retryable if repeatable else api_error.rejected_before_acceptance
                )
                if not allowed:
                    raise api_error
                error = api_error
                hint = api_error.retry_after
                code = api_error.code
                exhausted = usage_exhausted(response.headers)

            # Scrubbed before it is logged as well as before it is raised.
            error.scrub(self._token)
            delay = self._retry.delay(attempt, retry_after=hint, code=code, exhausted=exhausted)
            if delay is None:
                raise error from error.__cause__
            logger.warning(
                "%s %s failed (attempt %d of %d): %s; retrying in %.2fs",
                method,
                target,
                attempt,
                self._retry.max_attempts,
                error,
                delay,
            )
            await self._sleep(delay)

    def _scrubbed(self, error: CloudError) -> CloudError:
        error.scrub(self._token)
        return error

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if not response.content:
            return {}
        try:
            payload = response.json()
        except ValueError as exc:
            raise self._unexpected(response, "response body is not JSON") from exc
        if not isinstance(payload, dict):
            raise self._unexpected(response, "response body is not a JSON object")
        return payload

    def _parse(self, response: httpx.Response, model: type[_M]) -> _M:
        try:
            return model.model_validate(self._json(response))
        except ValidationError as exc:
            raise self._unexpected(response, _validation_summary(model, exc)) from None

    def _validate(self, raw: Any, model: type[_M], operation: str) -> _M:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            raise UnexpectedResponseError(
                f"{operation}: {_validation_summary(model, exc)}", status_code=200
            ) from None

    def _unexpected(self, response: httpx.Response, what: str) -> UnexpectedResponseError:
        error = UnexpectedResponseError(
            f"HTTP {response.status_code}: {what}",
            status_code=response.status_code,
            request_method=response.request.method,
            request_url=str(response.request.url),
        )
        error.scrub(self._token)
        return error


def _validation_summary(model: type[BaseModel], exc: ValidationError) -> str:
    fields = sorted({".".join(str(p) for p in e["loc"]) or "<root>" for e in exc.errors()})
    return f"unexpected {model.__name__} shape (fields: {', '.join(fields)})"


def _next_params(page: Mapping[str, Any]) -> dict[str, str] | None:
    """Query for the next page, or ``None`` on the last page (no ``paging.next``)."""
    paging = page.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    params = {
        key: value
        for key, value in httpx.URL(str(paging["next"])).params.multi_items()
        if key != "access_token"
    }
    if not params.get("after"):
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not after:
            return None
        params["after"] = str(after)
    return params
