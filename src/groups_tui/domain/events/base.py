"""What the events of every field family share: people, errors and dedupe keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from groups_tui.domain.identity import normalize_input

__all__ = ["EventError", "ParticipantRef", "join_key", "normalize_input", "participants_key"]


def join_key(*parts: object) -> str:
    return "|".join("" if p is None else str(p) for p in parts)


@dataclass(frozen=True, slots=True)
class EventError:
    """An asynchronous error as carried inside a webhook (reference 7.2).

    Attributes:
        code: Graph error code; ``None`` when absent or not numeric (codes arrive both as
            strings and as integers).
        title: Short error title.
        message: Error message.
        details: ``error_data.details``, if any.
        href: Documentation link, if any.
    """

    code: int | None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None


@dataclass(frozen=True, slots=True)
class ParticipantRef:
    """A person named by a webhook, as far as the webhook identifies them.

    Attributes:
        wa_id: Phone-number based WhatsApp id; may be missing from 2026.
        user_id: Business-scoped user id (BSUID), the preferred key when present.
        username: WhatsApp username, if shared.
        profile_name: Profile display name (from ``contacts[]``), if given.
        parent_user_id: Parent BSUID, if given.
        input: What the business sent when removing someone (removal webhooks only).
    """

    wa_id: str | None = None
    user_id: str | None = None
    username: str | None = None
    profile_name: str | None = None
    parent_user_id: str | None = None
    input: str | None = None

    @property
    def key(self) -> str:
        """Member key: ``user_id``, else ``wa_id``, else the normalised ``input`` (or ``""``)."""
        if self.user_id:
            return self.user_id
        if self.wa_id:
            return self.wa_id
        if self.input:
            return normalize_input(self.input)
        return ""


def participants_key(participants: Iterable[ParticipantRef]) -> str:
    return ",".join(sorted(p.key for p in participants))
