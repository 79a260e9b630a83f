"""What the simulated people do: join by link, ask to join, withdraw, leave and write.

:class:`PersonActions` performs one act of one person, with the webhook Meta would send
about it. :mod:`.behaviour` decides *when* people act on their own; tests and the
``/_sandbox`` control routes make them act on demand. A refusal (the link was deleted,
the group is full, the person is not a member...) is a
:class:`~groups_tui.sandbox.errors.SandboxError`, never a Graph error: no API call failed.
"""

from __future__ import annotations

import base64
import random

from groups_tui.domain.events import FIELD_MESSAGES, FIELD_PARTICIPANTS

from .emitter import Emitter
from .errors import SandboxError
from .media import MediaStore
from .people import CAPTIONS, CHAT_LINES, Population
from .scheduling import Ids, Timeline
from .state import GroupRegistry, JoinRequestRec, Json, MessageLog, SandboxKnobs, SimGroup

__all__ = ["PersonActions"]


class PersonActions:
    """The acts of the simulated people, each with its webhook.

    Args:
        groups: The group registry.
        population: The simulated people.
        ids: The world's id maker.
        emitter: Where webhooks go.
        timeline: Simulated time.
        media: The media store (members send media too).
        log: The account's message log (inbound ids are recorded there).
        knobs: Limits (``max_participants``) and payload shapes.
        rng: The world's random source (acts may be given their own).
    """

    def __init__(
        self,
        *,
        groups: GroupRegistry,
        population: Population,
        ids: Ids,
        emitter: Emitter,
        timeline: Timeline,
        media: MediaStore,
        log: MessageLog,
        knobs: SandboxKnobs,
        rng: random.Random,
    ) -> None:
        self._groups = groups
        self._population = population
        self._ids = ids
        self._emitter = emitter
        self._timeline = timeline
        self._media = media
        self._log = log
        self._knobs = knobs
        self._rng = rng

    def join(
        self,
        group_id: str,
        wa_id: str | None = None,
        *,
        at: float | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """A simulated person taps the invite link and joins (auto-approve groups).

        Args:
            group_id: The group.
            wa_id: Who joins; a random outsider when omitted.
            at: Event time (defaults to now).
            rng: Random source for picking someone (the behaviour model passes its own).

        Returns:
            The ``wa_id`` of the new member.

        Raises:
            SandboxError: If the link cannot be used (deleted link, full, removed person,
                approval required, suspended group).
        """
        group = self._active_group(group_id)
        if group.mode == "approval_required":
            raise SandboxError("this group requires approval; file a join request")
        if group.invite_link is None:
            raise SandboxError("the invite link was deleted")
        wa = wa_id or self._pick_outsider(group, rng)
        self._population.meet(wa)
        if wa in group.removed:
            raise SandboxError("people removed by the business cannot rejoin by link")
        if wa in group.members:
            raise SandboxError("already a member")
        if len(group.members) >= self._knobs.max_participants:
            raise SandboxError("the group is full")
        t = self._timeline.now() if at is None else at
        group.members[wa] = t
        self._emitter.emit(
            FIELD_PARTICIPANTS,
            {
                "groups": [
                    {
                        "timestamp": self._emitter.ts(t),
                        "group_id": group.id,
                        "type": "group_participants_add",
                        "reason": "invite_link",
                        "added_participants": [self._emitter.person_ids(wa)],
                    }
                ]
            },
        )
        return wa

    def request_join(
        self,
        group_id: str,
        wa_id: str | None = None,
        *,
        at: float | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """A simulated person asks to join an approval group.

        Returns:
            The new ``join_request_id``.

        Raises:
            SandboxError: If the group does not require approval, or the person is a
                member or already waiting.
        """
        group = self._active_group(group_id)
        if group.mode != "approval_required":
            raise SandboxError("this group does not require approval; join by link")
        wa = wa_id or self._pick_outsider(group, rng)
        self._population.meet(wa)
        if wa in group.members:
            raise SandboxError("already a member")
        if any(jr.wa_id == wa for jr in group.join_requests.values()):
            raise SandboxError("already waiting for approval")
        t = self._timeline.now() if at is None else at
        jr = JoinRequestRec(self._ids.join_request_id(wa), wa, t)
        group.join_requests[jr.id] = jr
        self._emitter.emit(
            FIELD_PARTICIPANTS,
            {"groups": [self.join_request_item(group, jr, "group_join_request_created", t)]},
        )
        return jr.id

    def join_request_item(self, group: SimGroup, jr: JoinRequestRec, kind: str, t: float) -> Json:
        """The webhook ``groups[]`` item of a join request created or revoked."""
        return {
            "timestamp": self._emitter.ts(t),
            "group_id": group.id,
            "type": kind,
            "reason": "user_request",
            "join_request_id": jr.id,
            **self._emitter.person_ids(jr.wa_id),
        }

    def revoke_request(
        self,
        group_id: str,
        join_request_id: str | None = None,
        *,
        wa_id: str | None = None,
        at: float | None = None,
    ) -> str:
        """A person withdraws a pending join request.

        Returns:
            The revoked ``join_request_id``.

        Raises:
            SandboxError: If there is no such pending request.
        """
        group = self._active_group(group_id)
        jr = None
        if join_request_id is not None:
            jr = group.join_requests.get(join_request_id)
        elif wa_id is not None:
            jr = next((j for j in group.join_requests.values() if j.wa_id == wa_id), None)
        elif group.join_requests:
            jr = next(iter(group.join_requests.values()))
        if jr is None:
            raise SandboxError("no such pending join request")
        del group.join_requests[jr.id]
        t = self._timeline.now() if at is None else at
        self._emitter.emit(
            FIELD_PARTICIPANTS,
            {"groups": [self.join_request_item(group, jr, "group_join_request_revoked", t)]},
        )
        return jr.id

    def leave(self, group_id: str, wa_id: str | None = None, *, at: float | None = None) -> str:
        """A member leaves on their own.

        Returns:
            The ``wa_id`` of the leaver.

        Raises:
            SandboxError: If the person is not a member.
        """
        group = self._active_group(group_id, allow_suspended=True)
        wa = wa_id or self._pick_member(group)
        if wa not in group.members:
            raise SandboxError("not a member")
        del group.members[wa]
        t = self._timeline.now() if at is None else at
        self._emitter.emit(
            FIELD_PARTICIPANTS,
            {
                "groups": [
                    {
                        "timestamp": self._emitter.ts(t),
                        "group_id": group.id,
                        "type": "group_participants_remove",
                        "initiated_by": "participant",
                        "removed_participants": [self._emitter.person_ids(wa)],
                    }
                ]
            },
        )
        return wa

    def message(
        self,
        group_id: str,
        wa_id: str | None = None,
        text: str | None = None,
        *,
        kind: str = "text",
        at: float | None = None,
        rng: random.Random | None = None,
    ) -> str:
        """A member posts to the group (opens or refreshes the 24-hour window).

        Args:
            group_id: The group.
            wa_id: The sender; a random member when omitted.
            text: Body (or caption for media); a random line when omitted.
            kind: ``text``, ``image``, ``video``, ``audio``, ``document``, ``sticker`` or
                ``unsupported``.
            at: Event time (defaults to now).
            rng: Random source for choices (the behaviour model passes its own).

        Returns:
            The inbound message's wamid.

        Raises:
            SandboxError: If the sender is not a member.
        """
        group = self._active_group(group_id)
        rng = rng or self._rng
        wa = wa_id or self._pick_member(group, rng)
        if wa not in group.members:
            raise SandboxError("only members can post")
        t = self._timeline.now() if at is None else at
        message = self.inbound_message(group, wa, t, kind=kind, text=text, rng=rng)
        person = self._population.meet(wa)
        self._emitter.emit(
            FIELD_MESSAGES,
            {
                "contacts": [{"profile": {"name": person.name}, **self._emitter.person_ids(wa)}],
                "messages": [message],
            },
        )
        return str(message["id"])

    def inbound_message(
        self,
        group: SimGroup,
        wa_id: str,
        t: float,
        *,
        kind: str = "text",
        text: str | None = None,
        rng: random.Random | None = None,
        max_media_size: int | None = None,
    ) -> Json:
        """Record an inbound message and build its webhook ``messages[]`` item.

        Updates the group window; emits nothing (callers batch or emit).

        Args:
            group: The group.
            wa_id: The sender.
            t: Event time.
            kind: Message type.
            text: Body or caption (random when omitted).
            rng: Random source for choices.
            max_media_size: Cap on simulated media size (pre-population keeps media small
                so that hashing stays fast).
        """
        rng = rng or self._rng
        person = self._population.get(wa_id)
        hidden = self._emitter.phone_hidden(wa_id)
        # A wamid encodes the sender's number; a hidden number is not given away by it.
        wamid = self._ids.wamid(person.user_id if person is not None and hidden else wa_id)
        item: Json = {
            "from": wa_id,
            "group_id": group.id,
            "id": wamid,
            "timestamp": self._emitter.ts(t),
            "type": kind,
        }
        if hidden:
            del item["from"]
        if self._knobs.bsuid and person is not None:
            item["from_user_id"] = person.user_id
        if kind == "text":
            item["text"] = {"body": text if text is not None else rng.choice(CHAT_LINES)}
        elif kind == "unsupported":
            item["errors"] = [
                {
                    "code": 130501,
                    "message": "Message type is not currently supported",
                    "title": "Unsupported message type",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ]
        else:
            media = self._media.member_media(kind, t, rng, max_size=max_media_size)
            # The hash is of the deterministic filler bytes served on download: hex in
            # GET /{media_id}, base64 in the webhook, as Meta does.
            obj: Json = {
                "id": media.id,
                "mime_type": media.mime_type,
                "sha256": base64.b64encode(bytes.fromhex(media.sha256)).decode(),
            }
            if kind in ("image", "video", "document"):
                caption = text if text is not None else rng.choice(CAPTIONS)
                if caption:
                    obj["caption"] = caption
            if kind == "document":
                obj["filename"] = rng.choice(
                    ("invoice_1042.pdf", "menu.pdf", "отчёт.pdf", "تقرير.pdf")
                )
            if kind == "audio":
                obj["voice"] = True
            item[kind] = obj
        self._log.received.append(wamid)
        if group.last_inbound_at is None or t > group.last_inbound_at:
            group.last_inbound_at = t
        return item

    def accept_invite_later(self, group_id: str, wa_id: str) -> None:
        """Someone sent a group invite taps the link a little later (most of them do)."""
        self._population.meet(wa_id)
        if self._rng.random() > 0.8:
            return
        delay = self._rng.uniform(30, 900)

        def join(t: float) -> None:
            group = self._groups.get(group_id)
            if group is None or group.deleted or wa_id in group.members:
                return
            try:
                if group.mode == "approval_required":
                    self.request_join(group_id, wa_id, at=t)
                else:
                    self.join(group_id, wa_id, at=t)
            except SandboxError:
                return

        self._timeline.at(self._timeline.now() + delay, join)

    def _active_group(self, group_id: str, *, allow_suspended: bool = False) -> SimGroup:
        group = self._groups.get(group_id)
        if group is None or group.deleted:
            raise SandboxError(f"no active group {group_id}")
        if group.suspended and not allow_suspended:
            raise SandboxError("the group is suspended")
        return group

    def _pick_outsider(self, group: SimGroup, rng: random.Random | None = None) -> str:
        rng = rng or self._rng
        pending = {jr.wa_id for jr in group.join_requests.values()}
        people = self._population.people
        for _ in range(200):
            person = people[rng.randrange(len(people))]
            wa = person.wa_id
            if wa not in group.members and wa not in group.removed and wa not in pending:
                return wa
        raise SandboxError("no one left who could join this group")

    def _pick_member(self, group: SimGroup, rng: random.Random | None = None) -> str:
        if not group.members:
            raise SandboxError("the group has no members besides the business")
        rng = rng or self._rng
        return rng.choice(list(group.members))
