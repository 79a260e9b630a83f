"""Graph API errors as the sandbox raises them, with Meta's envelope, HTTP status and code.

The codes, titles and HTTP statuses follow the reference, section 7.3. :class:`GraphError`
is raised by the world's API methods and turned into a response by the HTTP app; the same
``code``/``title``/``message``/``error_data`` shape is used inside webhooks (section 7.2).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ERROR_TABLE", "GraphError", "SandboxError", "error_object", "graph_error"]

#: code -> (title, HTTP status as documented)
ERROR_TABLE: dict[int, tuple[str, int]] = {
    1: ("An unknown error occurred", 400),
    2: ("Service temporarily unavailable", 503),
    # Permission missing (reference 7.3: codes 3, 10, 200-299, 403). Which of them Meta
    # answers to a token of another business number is not documented; the sandbox uses 10.
    10: ("Application does not have permission for this action", 403),
    100: ("Invalid parameter", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", 401),
    130429: ("Rate limit hit", 400),
    130501: ("Unsupported message type", 400),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131020: ("Bad Group", 400),
    131026: ("Message Undeliverable", 400),
    131041: ("Group not found", 400),
    131047: ("Re-engagement message", 400),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.", 400),
    131051: ("Unsupported message type", 400),
    131053: ("Media upload error", 400),
    131059: ("Invalid pagination cursor", 400),
    131201: ("Request partially succeeded", 206),
    131202: ("Duplicate participant in the input", 400),
    131204: ("Participant overlimit", 400),
    131207: ("Group suspended", 403),
    131208: ("Too many group operations", 429),
    131209: ("Invalid Group Profile Picture Aspect Ratio", 400),
    131210: ("Group Profile Picture Too Small", 400),
    131211: ("Group create limit reached", 400),
    131212: ("Participant is not a part of the group.", 400),
    131213: ("Join request does not exist", 400),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
    132015: ("Template is Paused", 400),
}

_SUBCODES: dict[int, int] = {190: 467, 130429: 2494055, 100: 2494010}


class GraphError(Exception):
    """A synchronous Graph API error.

    Args:
        code: Meta's error ``code``.
        details: Human explanation for ``error_data.details``.
        status: HTTP status; defaults to the documented one for ``code``.
        title: Overrides the table title.
        subcode: ``error_subcode``; defaults to a known one for the code, if any.
    """

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        status: int | None = None,
        title: str | None = None,
        subcode: int | None = None,
    ) -> None:
        known_title, known_status = ERROR_TABLE.get(code, ("Error", 400))
        self.code = code
        self.title = title or known_title
        self.status = status if status is not None else known_status
        self.details = details or self.title
        self.subcode = subcode if subcode is not None else _SUBCODES.get(code)
        super().__init__(f"(#{code}) {self.title}: {self.details}")

    @property
    def message(self) -> str:
        """Meta's ``message``: ``(#code) title`` (190 has no ``#`` prefix)."""
        if self.code == 190:
            return self.title
        return f"(#{self.code}) {self.title}"

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        """The JSON error envelope Graph returns.

        Args:
            fbtrace_id: The trace id to include.

        Returns:
            ``{"error": {...}}``.
        """
        error: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
        }
        if self.code != 190:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def graph_error(code: int, details: str | None = None, **kwargs: Any) -> GraphError:
    """Shorthand for :class:`GraphError`."""
    return GraphError(code, details, **kwargs)


def error_object(
    code: int, details: str | None = None, *, title: str | None = None
) -> dict[str, Any]:
    """An asynchronous error item as it appears in webhooks and partial results.

    Args:
        code: Error code.
        details: ``error_data.details``.
        title: Overrides the table title.

    Returns:
        ``{code, message, title, error_data: {details}}``.
    """
    known = ERROR_TABLE.get(code, ("Error", 400))[0]
    title = title or known
    return {
        "code": code,
        "message": f"(#{code}) {title}",
        "title": title,
        "error_data": {"details": details or title},
    }


class SandboxError(ValueError):
    """A simulated person cannot do what a test or driver asked (not a Graph error)."""
