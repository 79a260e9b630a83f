"""Cloud API client, typed errors and response models.

The names are imported from their modules when first used (PEP 562), so importing an
error type does not import the HTTP client (httpx) with it: a command that reads only the
local database never loads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import DEFAULT_TIMEOUT, CloudClient
    from .errors import (
        ApiError,
        AuthError,
        CloudConnectionError,
        CloudError,
        CloudTimeoutError,
        CreateGroupOutcomeUnknown,
        GroupSuspendedError,
        InvalidRequestError,
        NotFoundError,
        OutcomeUnknownError,
        PartialFailure,
        PermissionDeniedError,
        RateLimitError,
        SendOutcomeUnknown,
        ServerError,
        UnexpectedResponseError,
        error_from_response,
    )
    from .resources.groups import DEFAULT_GROUP_FIELDS
    from .resources.messages import MediaKind
    from .resources.templates import HeaderParam, template_components
    from .retry import RetryPolicy

_WHERE = {
    "DEFAULT_GROUP_FIELDS": ".resources.groups",
    "DEFAULT_TIMEOUT": ".client",
    "CloudClient": ".client",
    "HeaderParam": ".resources.templates",
    "MediaKind": ".resources.messages",
    "RetryPolicy": ".retry",
    "template_components": ".resources.templates",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE.get(name, ".errors"), __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_GROUP_FIELDS",
    "DEFAULT_TIMEOUT",
    "ApiError",
    "AuthError",
    "CloudClient",
    "CloudConnectionError",
    "CloudError",
    "CloudTimeoutError",
    "CreateGroupOutcomeUnknown",
    "GroupSuspendedError",
    "HeaderParam",
    "InvalidRequestError",
    "MediaKind",
    "NotFoundError",
    "OutcomeUnknownError",
    "PartialFailure",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "SendOutcomeUnknown",
    "ServerError",
    "UnexpectedResponseError",
    "error_from_response",
    "template_components",
]
