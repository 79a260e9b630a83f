"""Participants: removing people from a group (reference 2.7), and how a request names one.

:func:`participant_entry` is the one place that builds the entry naming a person, so every
request that addresses people follows Meta's contract.
"""

from __future__ import annotations

from collections.abc import Sequence

from groups_tui.domain.identity import is_bsuid, is_phone_number

from ..errors import error_from_response
from .base import WHATSAPP, Resource, check_ids, request_id, segment

__all__ = ["MAX_PARTICIPANTS_PER_CALL", "Participants", "participant_entry"]

MAX_PARTICIPANTS_PER_CALL = 8


def participant_entry(user: str) -> dict[str, str]:
    """The entry of a ``participants`` array that names one person (reference 2.7, 3.9).

    Meta's contract: a phone number or WhatsApp id goes in ``user``, a business-scoped
    user id in ``user_id``; include one of the two, never both. This is the only place
    that builds such an entry, so every call that addresses a person follows it.

    Args:
        user: A phone number (``+`` and punctuation allowed), a ``wa_id`` or a BSUID.

    Returns:
        ``{"user": phone}`` or ``{"user_id": bsuid}``.

    Raises:
        ValueError: ``user`` is neither.
    """
    value = user.strip()
    if is_bsuid(value):
        return {"user_id": value}
    if is_phone_number(value):
        return {"user": value}
    raise ValueError(f"{user!r} is neither a phone number nor a business-scoped user id")


class Participants(Resource):
    """The members of a group (``client.participants``)."""

    async def remove(self, group_id: str, users: Sequence[str]) -> str | None:
        """Remove up to 8 participants (reference 2.7). Asynchronous; see the webhook.

        Args:
            group_id: The group id.
            users: Phone numbers, ``wa_id`` or BSUIDs; 1 to 8, no duplicates. Each
                becomes a ``user`` or ``user_id`` entry (:func:`participant_entry`).

        Returns:
            The ``request_id`` when the response carries one, else ``None``.

        Raises:
            ValueError: Empty, duplicated, more than 8, or not a number nor a BSUID.
            PartialFailure: Some removals failed (131201 / HTTP 206); ``failed`` lists them.
            OutcomeUnknownError: The request may have been processed.
        """
        participants = check_ids(users, "participants", limit=MAX_PARTICIPANTS_PER_CALL)
        entries = [participant_entry(u) for u in participants]
        client = self._client
        response = await client._request(
            "DELETE",
            f"{segment(group_id, 'group_id')}/participants",
            json={**WHATSAPP, "participants": entries},
            repeatable=False,
            operation="remove participants",
        )
        payload = client._json(response)
        if response.status_code == 206 or payload.get("failed_participants"):
            raise client._scrubbed(error_from_response(response))
        return request_id(payload)
