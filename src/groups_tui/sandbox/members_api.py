"""The membership edges of the simulated Graph API: participants and join requests.

``POST|DELETE /{group_id}/participants`` and ``GET|POST|DELETE /{group_id}/join_requests``
(reference sections 2.7-2.9). Businesses cannot add people (they share the invite link);
they remove up to 8 per call, the outcome told by webhook, and approve or reject the
requests of approval groups with per-item results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from groups_tui.domain.events import FIELD_PARTICIPANTS
from groups_tui.domain.identity import is_bsuid

from .emitter import Emitter
from .errors import GraphError, error_object
from .params import decode_cursor, encode_cursor, require_product
from .people import Population
from .scheduling import Ids, Timeline
from .state import GroupRegistry, Json, SandboxKnobs, digits

__all__ = ["MembersApi"]


class MembersApi:
    """Who is in a group, as the business manages it through the API.

    Args:
        groups: The group registry.
        population: The simulated people (to resolve business-scoped user ids).
        ids: The world's id maker.
        emitter: Where webhooks go.
        timeline: Simulated time.
        knobs: Limits and delays.
    """

    def __init__(
        self,
        *,
        groups: GroupRegistry,
        population: Population,
        ids: Ids,
        emitter: Emitter,
        timeline: Timeline,
        knobs: SandboxKnobs,
    ) -> None:
        self._groups = groups
        self._population = population
        self._ids = ids
        self._emitter = emitter
        self._timeline = timeline
        self._knobs = knobs

    def add_participants(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``POST /{group_id}/participants``: the guide says businesses cannot add people."""
        self._groups.require(group_id)
        raise GraphError(
            100,
            "Businesses cannot add participants directly; share the invite link instead.",
        )

    def remove_participants(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``DELETE /{group_id}/participants``: at most 8 per call, outcome by webhook."""
        require_product(body)
        group = self._groups.writable(group_id)
        users = body.get("participants")
        if not isinstance(users, list) or not users:
            raise GraphError(100, "Param participants must be a non-empty array.")
        inputs = [_participant_input(entry) for entry in users]
        if len(inputs) > 8:
            raise GraphError(100, "Param participants must have at most 8 elements.")
        keys = [self._resolve_user(u, by_user_id) for u, by_user_id in inputs]
        if len(set(keys)) != len(keys):
            raise GraphError(131202, "The participants array contains the same user twice.")
        self._groups.take_op()
        request_id = self._ids.request_id()

        def finish(t: float) -> None:
            removed: list[Json] = []
            failed: list[Json] = []
            for (raw, _), key in zip(inputs, keys, strict=True):
                if key in group.members and not group.deleted:
                    del group.members[key]
                    group.removed.add(key)
                    removed.append({"input": raw})
                else:
                    failed.append(
                        {
                            "input": raw,
                            "errors": [error_object(131212, f"{raw} is not in the group.")],
                        }
                    )
            item: Json = {
                "timestamp": self._emitter.ts(t),
                "group_id": group.id,
                "type": "group_participants_remove",
                "request_id": request_id,
                "initiated_by": "business",
            }
            if removed:
                item["removed_participants"] = removed
            if failed:
                item["failed_participants"] = failed
                if removed:
                    item["errors"] = [
                        error_object(
                            131201,
                            "Failed to remove some participants from the group",
                            title="Not All Participants Remove Succeeded",
                        )
                    ]
                else:
                    item["failed_participants"] = [{"input": f["input"]} for f in failed]
                    item["errors"] = [error_object(131212, "None of the users are in the group.")]
            self._emitter.emit(FIELD_PARTICIPANTS, {"groups": [item]})

        self._timeline.later(self._knobs.op_delay, finish)
        return {"messaging_product": "whatsapp", "request_id": request_id}

    def _resolve_user(self, user: str, by_user_id: bool) -> str:
        """Member key (``wa_id``) from a remove-call ``user`` or ``user_id``.

        Someone unknown keeps what was sent as the key, which matches no member, so the
        removal fails for them with 131212 as Meta's does.
        """
        if by_user_id:
            person = self._population.by_bsuid(user.strip())
            return person.wa_id if person is not None else user
        return digits(user) or user

    def list_join_requests(self, group_id: str, limit: str | None, after: str | None) -> Json:
        """``GET /{group_id}/join_requests``."""
        group = self._groups.writable(group_id)
        try:
            size = 25 if limit is None else max(1, min(1024, int(limit)))
        except ValueError:
            raise GraphError(100, "Param limit must be an integer.") from None
        pending = list(group.join_requests.values())
        start = 0
        if after is not None:
            start = decode_cursor(after)
        page = pending[start : start + size]
        body: Json = {
            "data": [
                {
                    "join_request_id": jr.id,
                    **self._emitter.person_ids(jr.wa_id),
                    "creation_timestamp": int(jr.created_at),
                }
                for jr in page
            ]
        }
        if page:
            body["paging"] = {
                "cursors": {
                    "before": encode_cursor(start),
                    "after": encode_cursor(start + len(page)),
                }
            }
        return body

    def approve_join_requests(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``POST /{group_id}/join_requests``: per-item results; adds go out by webhook."""
        ids = _join_request_ids(body)
        group = self._groups.writable(group_id)
        self._groups.take_op()
        approved: list[str] = []
        failed: list[Json] = []
        added: list[Json] = []
        t = self._timeline.now()
        for jr_id in ids:
            jr = group.join_requests.get(jr_id)
            if jr is None:
                failed.append(
                    {
                        "join_request_id": jr_id,
                        "errors": [error_object(131213, "No such join request.")],
                    }
                )
                continue
            if len(group.members) >= self._knobs.max_participants:
                failed.append(
                    {
                        "join_request_id": jr_id,
                        "errors": [
                            error_object(
                                131204,
                                f"The group already has {self._knobs.max_participants} participants.",
                            )
                        ],
                    }
                )
                continue
            del group.join_requests[jr_id]
            group.members[jr.wa_id] = t
            approved.append(jr_id)
            # What `input` holds for someone whose number is hidden is not documented;
            # their user id stands in, so the hidden number never shows.
            person = self._population.get(jr.wa_id)
            hidden = self._emitter.phone_hidden(jr.wa_id)
            shown = person.user_id if person and hidden else "+" + jr.wa_id
            added.append({"input": shown, **self._emitter.person_ids(jr.wa_id)})
        result: Json = {"messaging_product": "whatsapp", "approved_join_requests": approved}
        if failed:
            result["failed_join_requests"] = failed
            result["errors"] = [error_object(131201, "Some join requests could not be approved.")]
        if added:
            self._emitter.emit(
                FIELD_PARTICIPANTS,
                {
                    "groups": [
                        {
                            "timestamp": self._emitter.ts(t),
                            "group_id": group.id,
                            "type": "group_participants_add",
                            "reason": "invite_link",
                            "added_participants": added,
                        }
                    ]
                },
            )
        return result

    def reject_join_requests(self, group_id: str, body: Mapping[str, Any]) -> Json:
        """``DELETE /{group_id}/join_requests``: no webhook (per the guide)."""
        ids = _join_request_ids(body)
        group = self._groups.writable(group_id)
        self._groups.take_op()
        rejected: list[str] = []
        failed: list[Json] = []
        for jr_id in ids:
            if group.join_requests.pop(jr_id, None) is None:
                failed.append(
                    {
                        "join_request_id": jr_id,
                        "errors": [error_object(131213, "No such join request.")],
                    }
                )
            else:
                rejected.append(jr_id)
        result: Json = {"messaging_product": "whatsapp", "rejected_join_requests": rejected}
        if failed:
            result["failed_join_requests"] = failed
            result["errors"] = [error_object(131201, "Some join requests could not be rejected.")]
        return result


def _join_request_ids(body: Mapping[str, Any]) -> list[str]:
    require_product(body)
    ids = body.get("join_requests")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise GraphError(100, "Param join_requests must be a non-empty array of ids.")
    return list(ids)


def _participant_input(entry: Any) -> tuple[str, bool]:
    """What one ``participants[]`` entry of a removal names, and whether it is a user id.

    Meta's contract (reference 2.7, 3.9): ``user`` holds a phone number or WhatsApp id,
    ``user_id`` a business-scoped user id; "include user or user_id, but not both". The
    reference gives no dedicated code for breaking it, so the documented generic
    invalid-parameter code 100 answers, as for the array's other shape errors.
    """
    if not isinstance(entry, Mapping):
        raise GraphError(100, "Each participant must be an object with user or user_id.")
    user, user_id = entry.get("user"), entry.get("user_id")
    if user is not None and user_id is not None:
        raise GraphError(100, "Include user or user_id, but not both.")
    if user_id is not None:
        if not isinstance(user_id, str) or not is_bsuid(user_id):
            raise GraphError(100, "Param user_id must be a business-scoped user ID.")
        return user_id, True
    if not isinstance(user, str) or not user.strip():
        raise GraphError(100, "Each participant needs a user or a user_id.")
    if is_bsuid(user):
        raise GraphError(
            100,
            "Param user takes a phone number or WhatsApp ID; "
            "pass a business-scoped user ID in user_id.",
        )
    return user, False
