"""Graph error codes by family, and a short title for each code the reference lists.

:func:`~groups_tui.cloud.errors.error_from_response` picks an error class by these families
(code first, HTTP status only when the code is absent or unknown), and the retry policy of
the client decides by :data:`RETRYABLE_CODES` and :data:`REJECTED_BEFORE_ACCEPTANCE_CODES`.
"""

from __future__ import annotations

__all__ = [
    "AUTH_CODES",
    "CODE_TITLES",
    "GRAPH_NOT_FOUND_SUBCODE",
    "INVALID_REQUEST_CODES",
    "NOT_FOUND_CODES",
    "PARTIAL_CODES",
    "PERMISSION_CODES",
    "RATE_LIMIT_CODES",
    "REJECTED_BEFORE_ACCEPTANCE_CODES",
    "RETRYABLE_CODES",
    "SERVER_CODES",
    "SUSPENDED_CODES",
    "TEMPLATE_CODES",
]

AUTH_CODES = frozenset({0, 102, 190})
PERMISSION_CODES = frozenset({3, 10, 368, 130497, 131005, 131031, *range(200, 300)})
NOT_FOUND_CODES = frozenset({803, 131041})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131048, 131049, 131056, 131208})
SERVER_CODES = frozenset({1, 2, 131000, 131016, 131057, 133004})
SUSPENDED_CODES = frozenset({131207})
PARTIAL_CODES = frozenset({131201})
INVALID_REQUEST_CODES = frozenset(
    {
        100,
        131008,
        131009,
        131020,
        131021,
        131026,
        131047,
        131050,
        131051,
        131052,
        131053,
        131059,
        131202,
        131203,
        131204,
        *range(131209, 131216),
    }
)
TEMPLATE_CODES = range(132000, 133000)
"""Template errors (1320xx), all invalid requests."""

RETRYABLE_CODES = frozenset((RATE_LIMIT_CODES - {131048, 131049}) | SERVER_CODES)
"""Codes after which repeating an *idempotent* call is sensible."""

REJECTED_BEFORE_ACCEPTANCE_CODES = frozenset(
    {4, 17, 32, 613, 80007, 130429, 131056, 131057, 131208}
)
"""Throttling codes that prove the request was refused before any effect, so even a send
or a group creation may be repeated."""

GRAPH_NOT_FOUND_SUBCODE = 33
"""Subcode of code 100 meaning the object does not exist (a not-found, not a bad request)."""

CODE_TITLES: dict[int, str] = {
    0: "Authentication failed",
    1: "Unknown API error",
    2: "Service temporarily unavailable",
    3: "Capability or permission missing",
    4: "Too many API calls from this app",
    10: "Permission denied",
    17: "User request limit reached",
    32: "Page request limit reached",
    100: "Invalid parameter",
    102: "Session invalid",
    190: "Access token invalid or expired",
    200: "Permission missing",
    368: "Temporarily blocked for policy violations",
    613: "Call rate limit reached",
    803: "Object does not exist",
    80007: "WhatsApp Business Account rate limit reached",
    130429: "Throughput limit reached",
    130497: "Messaging to this country is restricted",
    131000: "Unknown send failure",
    131005: "Access denied",
    131008: "Required parameter missing",
    131009: "Parameter value invalid",
    131016: "Service overloaded",
    131020: "Group has no other members",
    131021: "Recipient cannot be the sender",
    131026: "Message undeliverable",
    131031: "Business account locked",
    131041: "Group unknown, or the business is not a member",
    131047: "24-hour window closed; send a template",
    131048: "Spam rate limit hit",
    131049: "Held back for ecosystem engagement",
    131050: "Recipient opted out of marketing",
    131051: "Unsupported message type",
    131052: "Media download failed",
    131053: "Media upload failed",
    131056: "Too many messages to the same recipient",
    131057: "Account in maintenance",
    131059: "Pagination cursor invalid or expired",
    131201: "Request partially succeeded",
    131202: "Duplicate participant in the request",
    131203: "Recipient has not accepted the Terms of Service",
    131204: "Participant limit exceeded",
    131207: "Group suspended",
    131208: "Too many group operations",
    131209: "Group picture is not square",
    131210: "Group picture is too small",
    131211: "Group limit reached",
    131212: "Participant is not in the group",
    131213: "Join request does not exist",
    131214: "Group creation temporarily disabled",
    131215: "Phone number not eligible for groups",
    132000: "Template parameter count mismatch",
    132001: "Template does not exist",
    132005: "Template text too long",
    132007: "Template violates policy",
    132012: "Template parameter format mismatch",
    132015: "Template paused",
    132016: "Template disabled",
    133004: "Server temporarily unavailable",
}
