"""Typed errors of the Cloud API client, and the one place that maps responses to them.

Tree::

    CloudError
    ├── CloudConnectionError          request did not complete (network)
    ├── CloudTimeoutError             request timed out
    ├── OutcomeUnknownError           a non-repeatable call may or may not have happened
    │   ├── SendOutcomeUnknown
    │   └── CreateGroupOutcomeUnknown
    ├── UnexpectedResponseError       a 2xx body that does not parse
    └── ApiError                      Graph answered with an error
        ├── AuthError
        ├── PermissionDeniedError
        ├── NotFoundError
        ├── RateLimitError
        ├── ServerError
        ├── InvalidRequestError
        ├── GroupSuspendedError
        └── PartialFailure

Classes are chosen by Graph ``code`` first and HTTP status only when the code is absent or
unknown, because Meta sends throttling as HTTP 400 as often as 429 (reference 7.1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .error_codes import (
    AUTH_CODES,
    CODE_TITLES,
    GRAPH_NOT_FOUND_SUBCODE,
    INVALID_REQUEST_CODES,
    NOT_FOUND_CODES,
    PARTIAL_CODES,
    PERMISSION_CODES,
    RATE_LIMIT_CODES,
    REJECTED_BEFORE_ACCEPTANCE_CODES,
    RETRYABLE_CODES,
    SERVER_CODES,
    SUSPENDED_CODES,
    TEMPLATE_CODES,
)
from .retry import server_wait_hint
from .scrubbing import redact_url, scrub_value

if TYPE_CHECKING:
    import httpx

    from .models import ErrorDetail, FailedItem

__all__ = [
    "ApiError",
    "AuthError",
    "CloudConnectionError",
    "CloudError",
    "CloudTimeoutError",
    "CreateGroupOutcomeUnknown",
    "GroupSuspendedError",
    "InvalidRequestError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PartialFailure",
    "PermissionDeniedError",
    "RateLimitError",
    "SendOutcomeUnknown",
    "ServerError",
    "UnexpectedResponseError",
    "error_from_response",
    "errors_of",
]

_WHITESPACE = re.compile(r"\s+")
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


class CloudError(Exception):
    """Base of every error raised by the Cloud API client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retryable(self) -> bool:
        """Whether repeating an idempotent call after this error makes sense."""
        return False

    def scrub(self, secret: str) -> None:
        """Remove ``secret`` from every field of this error (see :func:`.scrubbing.scrub_text`).

        Every attribute is covered, not a list of known ones: Meta's message, title and
        details, ``fbtrace_id``, the decoded body, the request URL, failed items, and the
        exception's ``args``; so a server echoing the token anywhere cannot leak it
        through ``str``, ``repr`` or any field a caller prints.

        Args:
            secret: The access token; when empty, only ``access_token=`` values and
                ``Bearer`` credentials are masked.
        """
        for name, value in list(vars(self).items()):
            setattr(self, name, scrub_value(value, secret))
        self.args = tuple(scrub_value(a, secret) for a in self.args)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class _RequestError(CloudError):
    def __init__(
        self,
        message: str,
        *,
        request_method: str | None = None,
        request_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.request_method = request_method
        self.request_url = redact_url(request_url) if request_url else None

    def __str__(self) -> str:
        if self.request_method and self.request_url:
            return f"{self.message} ({self.request_method} {self.request_url})"
        return self.message


class CloudConnectionError(_RequestError):
    """The request could not be completed: DNS, refused connection, dropped connection."""

    @property
    def retryable(self) -> bool:
        """Connection failures are transient."""
        return True


class CloudTimeoutError(_RequestError):
    """The request timed out (connect, pool, read or write)."""

    @property
    def retryable(self) -> bool:
        """Timeouts are transient."""
        return True


class OutcomeUnknownError(_RequestError):
    """A call that must not be repeated may have taken effect: its outcome is unknown.

    Raised instead of a timeout or connection error for sends, group creation and the
    other non-repeatable operations, once the request may have reached Meta. Re-query
    (list groups, wait for webhooks) rather than repeating the call.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        request_method: str | None = None,
        request_url: str | None = None,
    ) -> None:
        super().__init__(message, request_method=request_method, request_url=request_url)
        self.operation = operation


class SendOutcomeUnknown(OutcomeUnknownError):
    """A message may or may not have been accepted; it must not be resent blindly."""


class CreateGroupOutcomeUnknown(OutcomeUnknownError):
    """A group may or may not have been created; resending could create two groups."""


class UnexpectedResponseError(_RequestError):
    """A successful response whose body does not have the documented shape."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_method: str | None = None,
        request_url: str | None = None,
    ) -> None:
        super().__init__(message, request_method=request_method, request_url=request_url)
        self.status_code = status_code


class ApiError(CloudError):
    """Graph answered with an error object.

    Attributes:
        status_code: HTTP status of the response.
        code: Graph error ``code`` (always an ``int``; Meta sends strings too).
        error_subcode: Deprecated Graph subcode, still sent sometimes.
        error_type: Graph ``type``, e.g. ``OAuthException``.
        title: Meta's short title, when given.
        details: ``error_data.details``, the human explanation.
        fbtrace_id: Meta's trace id, to quote to support.
        is_transient: Graph's own transience flag, when given.
        body: The decoded response body (or text when not JSON).
        request_method: Method of the failed request.
        request_url: URL of the failed request, secrets masked.
        retry_after: Seconds the server asked us to wait, when it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        error_subcode: int | None = None,
        error_type: str | None = None,
        title: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool | None = None,
        body: Any = None,
        request_method: str | None = None,
        request_url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.error_subcode = error_subcode
        self.error_type = error_type
        self.title = title
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.body = body
        self.request_method = request_method
        self.request_url = redact_url(request_url) if request_url else None
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Decided by code; by HTTP status (429, 5xx) only when Graph sent no code."""
        if self.code is not None:
            return self.code in RETRYABLE_CODES
        return self.status_code == 429 or self.status_code >= 500

    @property
    def rejected_before_acceptance(self) -> bool:
        """The error proves nothing happened (throttled), so even a send may be repeated."""
        if self.code is not None:
            return self.code in REJECTED_BEFORE_ACCEPTANCE_CODES
        return self.status_code == 429

    @property
    def headline(self) -> str:
        """Short human title: ours for known codes, else Meta's title or message."""
        if self.code is not None and self.code in CODE_TITLES:
            return CODE_TITLES[self.code]
        if self.code is not None and self.code in range(200, 300):
            return CODE_TITLES[200]
        if self.title:
            return _one_line(self.title)
        return _one_line(_CODE_PREFIX.sub("", self.message)) or f"HTTP {self.status_code}"

    def __str__(self) -> str:
        prefix = f"(#{self.code}) " if self.code is not None else f"(HTTP {self.status_code}) "
        text = prefix + self.headline
        if self.details:
            details = _one_line(self.details)
            if details and details.rstrip(".").lower() != self.headline.rstrip(".").lower():
                text += f" — {details}"
        if self.fbtrace_id:
            text += f" [fbtrace_id={self.fbtrace_id}]"
        return text


class AuthError(ApiError):
    """The access token is missing, invalid or expired (codes 0, 190; HTTP 401)."""


class PermissionDeniedError(ApiError):
    """A permission is missing or the account is restricted (3, 10, 200-299, ...; HTTP 403)."""


class NotFoundError(ApiError):
    """The object does not exist or is not visible (131041 unknown group; HTTP 404)."""


class RateLimitError(ApiError):
    """A throttling limit was hit (4, 80007, 130429, 131056, 131208, ...; HTTP 429)."""


class ServerError(ApiError):
    """Meta failed or is unavailable (1, 2, 131000, 131016, 131057, 133004; HTTP 5xx)."""


class InvalidRequestError(ApiError):
    """The request cannot succeed as sent (100, 131008, 131009, group rules, templates)."""


class GroupSuspendedError(ApiError):
    """The group is suspended for a policy violation (131207)."""


class PartialFailure(ApiError):
    """Part of a bulk operation failed (131201, HTTP 206).

    Attributes:
        failed: The items that failed, each with its errors.
        succeeded: Identifiers reported as done, when the response lists them.
    """

    def __init__(
        self,
        message: str,
        *,
        failed: Iterable[FailedItem] = (),
        succeeded: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.failed = list(failed)
        self.succeeded = list(succeeded)

    @property
    def failed_refs(self) -> list[str]:
        """Identifiers of the failed items."""
        return [item.ref for item in self.failed if item.ref is not None]

    def __str__(self) -> str:
        text = super().__str__()
        if self.failed_refs:
            text += f" (failed: {', '.join(self.failed_refs)})"
        return text


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _error_data(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            decoded = json.loads(raw)
        except ValueError:
            return {"details": raw}
        return decoded if isinstance(decoded, dict) else {"details": raw}
    return raw if isinstance(raw, dict) else {}


def _class_for(code: int | None, status: int, subcode: int | None) -> type[ApiError]:
    if 200 <= status < 300:
        # Only a partial result reaches the mapper with a success status (206 and kin).
        return PartialFailure
    if code is not None:
        if code in PARTIAL_CODES:
            return PartialFailure
        if code in SUSPENDED_CODES:
            return GroupSuspendedError
        if code == 100 and subcode == GRAPH_NOT_FOUND_SUBCODE:
            return NotFoundError
        for codes, cls in (
            (AUTH_CODES, AuthError),
            (PERMISSION_CODES, PermissionDeniedError),
            (NOT_FOUND_CODES, NotFoundError),
            (RATE_LIMIT_CODES, RateLimitError),
            (SERVER_CODES, ServerError),
            (INVALID_REQUEST_CODES, InvalidRequestError),
        ):
            if code in codes:
                return cls
        if code in TEMPLATE_CODES:
            return InvalidRequestError
    if status == 401:
        return AuthError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return InvalidRequestError
    return ApiError


def _failed_items(*sources: dict[str, Any]) -> list[FailedItem]:
    # Imported here: the response models (pydantic) are only needed to read an error.
    from pydantic import ValidationError

    from .models import FailedItem

    items: list[FailedItem] = []
    for source in sources:
        for key in ("failed_participants", "failed_join_requests", "failed"):
            raw = source.get(key)
            if not isinstance(raw, list):
                continue
            for entry in raw:
                if isinstance(entry, str):
                    items.append(FailedItem(input=entry))
                elif isinstance(entry, dict):
                    try:
                        items.append(FailedItem.model_validate(entry))
                    except ValidationError:
                        continue
    return items


def _succeeded(*sources: dict[str, Any]) -> list[str]:
    done: list[str] = []
    for source in sources:
        for key in (
            "removed_participants",
            "added_participants",
            "approved_join_requests",
            "rejected_join_requests",
        ):
            raw = source.get(key)
            if isinstance(raw, list):
                for entry in raw:
                    if isinstance(entry, dict):
                        ref = entry.get("input") or entry.get("wa_id") or entry.get("user_id")
                        if ref is not None:
                            done.append(str(ref))
                    elif entry is not None:
                        done.append(str(entry))
    return done


def error_from_response(response: httpx.Response) -> ApiError:
    """Map a Graph error response to the matching :class:`ApiError` subclass.

    Reads ``{"error": {...}}`` (and, failing that, a top-level ``errors[]``), accepts
    ``code`` as a string or a number, and reads ``Retry-After`` and Meta's usage headers
    into ``retry_after``. A success status (206, or a 200 listing failed items) maps to
    :class:`PartialFailure` with the failed items it lists.

    Args:
        response: A response whose body has been read.

    Returns:
        The error to raise; never raises itself.
    """
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text or None
    top: dict[str, Any] = body if isinstance(body, dict) else {}
    err: dict[str, Any] = {}
    if isinstance(top.get("error"), dict):
        err = top["error"]
    elif isinstance(top.get("errors"), list) and top["errors"]:
        first = top["errors"][0]
        err = first if isinstance(first, dict) else {}

    code = _as_int(err.get("code"))
    subcode = _as_int(err.get("error_subcode"))
    data = _error_data(err.get("error_data"))
    details = _as_str(data.get("details"))
    message = _as_str(err.get("message")) or _as_str(err.get("error_user_msg"))
    if not message:
        message = f"HTTP {status} {response.reason_phrase}".strip()

    try:
        request: httpx.Request | None = response.request
    except RuntimeError:
        request = None

    cls = _class_for(code, status, subcode)
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "error_subcode": subcode,
        "error_type": _as_str(err.get("type")),
        "title": _as_str(err.get("title")) or _as_str(err.get("error_user_title")),
        "details": details,
        "fbtrace_id": _as_str(err.get("fbtrace_id")) or _as_str(top.get("fbtrace_id")),
        "is_transient": _as_bool(err.get("is_transient")),
        "body": body,
        "request_method": request.method if request is not None else None,
        "request_url": str(request.url) if request is not None else None,
        "retry_after": server_wait_hint(response.headers, code),
    }
    if cls is PartialFailure:
        if kwargs["code"] is None:
            kwargs["code"] = next(iter(PARTIAL_CODES))
        return PartialFailure(
            message,
            failed=_failed_items(top, data),
            succeeded=_succeeded(top, data),
            **kwargs,
        )
    return cls(message, **kwargs)


def errors_of(items: Iterable[ErrorDetail]) -> str:
    """Render item-level errors as ``(#code) title`` joined by ``; ``.

    Args:
        items: Errors from ``failed_*[].errors`` or a top-level ``errors[]``.

    Returns:
        One line, suitable for a notification.
    """
    parts = []
    for item in items:
        title = CODE_TITLES.get(item.code, "") if item.code is not None else ""
        title = title or item.title or _CODE_PREFIX.sub("", item.message or "")
        parts.append(f"(#{item.code}) {_one_line(title)}" if item.code is not None else title)
    return "; ".join(p for p in parts if p)
