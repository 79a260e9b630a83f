"""Cloud API client, typed errors and response models."""

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
