"""The one error the service raises: a refusal or failure worded for the operator."""

from __future__ import annotations

from groups_tui.domain.sending import Refusal

__all__ = ["ServiceError", "refused"]


class ServiceError(Exception):
    """A refusal or failure worded for the operator (one line).

    Args:
        message: The sentence to show.
        refusal: The domain rule that refused, when the service refused before calling
            the API.
        cause: The error behind the failure (a Cloud API error, typically), when there
            is one.

    Attributes:
        message: The sentence to show (also ``str(error)``).
        refusal: The domain refusal, or ``None``.
        cause: The underlying error, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        refusal: Refusal | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.refusal = refusal
        self.cause = cause

    def __str__(self) -> str:
        return self.message


def refused(refusal: Refusal) -> ServiceError:
    """A `ServiceError` carrying a domain refusal (its reason is the message)."""
    return ServiceError(refusal.reason, refusal=refusal)
