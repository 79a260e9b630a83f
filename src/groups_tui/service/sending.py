"""Sending: what a send would cost, whether it is allowed, and the sends themselves.

Every group send goes through the store's outbox, written before the API call: a crash
leaves it visible as queued, and an answer that never came leaves it ``unknown`` (never
resent blindly). Invite-link templates go 1:1 to people, outside the outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from groups_tui.cloud.errors import ApiError, CloudError, OutcomeUnknownError
from groups_tui.domain import limits
from groups_tui.domain.media import media_for_file
from groups_tui.domain.models import GroupState, Media, MessageKind, Template
from groups_tui.domain.pricing import (
    CALIBRATION_MAX_AGE,
    Calibration,
    CostPreview,
    MemberRef,
    calibrate,
    evidence_period,
    preview_cost,
)
from groups_tui.domain.sending import Refusal, SendKind, can_send
from groups_tui.domain.templates import parameter_refusal, render_template
from groups_tui.service.core import ServiceCore
from groups_tui.service.errors import ServiceError, refused
from groups_tui.service.reading import Reading
from groups_tui.service.types import GroupDetail, InviteOutcome, OutboxItem

__all__ = ["INVITE_TEMPLATE", "Sending", "read_file"]

INVITE_TEMPLATE = "group_invite_upon_request"
"""The Template Library's invite-link template (copied into the account)."""


class Sending:
    """Cost previews, send refusals, and sends to groups and people.

    Args:
        core: The store, client and clock shared by the service's parts.
        reading: Reads the group a send is checked against.
    """

    def __init__(self, core: ServiceCore, reading: Reading) -> None:
        self._core = core
        self._store = core.store
        self._reading = reading
        self._calibration: tuple[float, Calibration] | None = None

    # --- cost and refusals -----------------------------------------------------------------
    async def preview_cost(self, group_id: str, template: Template | None) -> CostPreview:
        """What sending `template` (or, with ``None``, a free-form message) would cost now:
        one charge per current member at the member's market rate, under the charging
        rules in force today and the monthly service allowance used so far."""
        detail = await self._reading.group_detail(group_id)
        return await self._preview(detail, template)

    async def _preview(self, detail: GroupDetail, template: Template | None) -> CostPreview:
        members = [MemberRef(m.key, m.wa_id, m.display_name) for m in detail.members]
        today = datetime.fromtimestamp(self._core.clock(), UTC).date()
        return preview_cost(
            members,
            template.category if template else None,
            today,
            window_open=detail.window.open,
            # The free allowance is each number's: the group's number's counts.
            service_used_this_month=await self._reading.service_allowance_used(
                detail.group.phone_number_id
            ),
            card=self._core.rate_card,
            rules=self._core.rules,
            calibration=await self.pricing_calibration(),
        )

    async def pricing_calibration(self) -> Calibration:
        """What Meta charged recently under each disputed charging rule in force today
        (the cost ledger's evidence, weighed by the ``[pricing]`` thresholds): what
        previews apply, and what contradicts the configuration. Reused for
        ``CALIBRATION_MAX_AGE`` seconds of the same day."""
        now = self._core.clock()
        today = datetime.fromtimestamp(now, UTC).date()
        cached = self._calibration
        if cached and cached[1].on == today and 0 <= now - cached[0] < CALIBRATION_MAX_AGE:
            return cached[1]
        config = self._core.pricing_config
        since, until = evidence_period(today, config)
        tallies = await self._store.ledger.pricing_evidence(since, until)
        calibration = calibrate(tallies, today, rules=self._core.rules, config=config)
        self._calibration = (now, calibration)
        return calibration

    def refusal(
        self, kind: SendKind, detail: GroupDetail, template: Template | None = None
    ) -> Refusal | None:
        """Why `kind` cannot be sent to the group now, or ``None`` (no I/O)."""
        group = detail.group
        if group.participant_count != len(detail.members):
            group = replace(group, participant_count=len(detail.members))
        return can_send(
            kind,
            group,
            self._core.now(),
            template_category=template.category if template else None,
        )

    async def _checked(
        self, group_id: str, kind: SendKind, template: Template | None = None
    ) -> GroupDetail:
        detail = await self._reading.group_detail(group_id)
        refusal = self.refusal(kind, detail, template)
        if refusal is not None:
            raise refused(refusal)
        return detail

    # --- sends to a group ------------------------------------------------------------------
    async def _dispatch(
        self,
        item: OutboxItem,
        send: Callable[[], Awaitable[Any]],
        action: str,
        cost: Decimal | None = None,
    ) -> OutboxItem:
        """Call the API for an enqueued outbox item and record its fate.

        The item is in the outbox before the call, so a crash leaves it visible as queued;
        an answer that never came leaves it ``unknown`` and it is never resent blindly.
        """
        outbox, audit = self._store.outbox, self._core.audit
        try:
            response = await send()
        except OutcomeUnknownError as exc:
            stored = await outbox.mark_unknown(item.id)
            await audit(
                action, item.group_id, [item.id], {"outcome": "unknown", "error": str(exc)}, cost
            )
        except ApiError as exc:
            stored = await outbox.mark_failed(item.id, exc.code, exc.headline)
            await audit(
                action, item.group_id, [item.id], {"error": str(exc), "code": exc.code}, cost
            )
        except (CloudError, ValueError) as exc:
            stored = await outbox.mark_failed(item.id, None, str(exc))
            await audit(action, item.group_id, [item.id], {"error": str(exc)}, cost)
        else:
            stored = await outbox.mark_accepted(item.id, response.message_id)
            await audit(action, item.group_id, [item.id], {"wamid": response.message_id}, cost)
        return stored or item

    async def send_text(self, group_id: str, text: str) -> OutboxItem:
        """Send free-form text through the outbox (refused when the window is closed)."""
        if not text.strip():
            raise ServiceError("nothing to send: the message is empty")
        if len(text) > limits.TEXT_MAX:
            raise ServiceError(f"text is limited to {limits.TEXT_MAX} characters")
        detail = await self._checked(group_id, MessageKind.TEXT)
        api = self._core.api_for_group(detail.group)
        item = await self._store.outbox.enqueue(
            group_id,
            MessageKind.TEXT,
            {"type": "text", "text": {"body": text}},
            text=text,
            at=self._core.now(),
        )
        return await self._dispatch(
            item, lambda: api.messages.send_text(group_id, text), "send.text"
        )

    async def send_media(self, group_id: str, path: Path, caption: str | None = None) -> OutboxItem:
        """Upload a file and send it; type and size are checked before upload."""
        data = await asyncio.to_thread(read_file, path)
        size = len(data)
        decided = media_for_file(path.name, size)
        if isinstance(decided, Refusal):
            raise refused(decided)
        kind, mime = decided.kind, decided.mime
        detail = await self._checked(group_id, kind)
        api = self._core.api_for_group(detail.group)
        media = Media(
            kind=kind,
            mime_type=mime,
            size=size,
            caption=caption,
            filename=path.name if kind is MessageKind.DOCUMENT else None,
        )
        item = await self._store.outbox.enqueue(
            group_id,
            kind,
            {"type": kind.value, "path": str(path), "caption": caption},
            text=caption,
            media=media,
            at=self._core.now(),
        )

        async def send() -> Any:
            media_id = await api.media.upload(data, mime, path.name)
            return await api.messages.send_media(
                group_id,
                kind.value,  # type: ignore[arg-type]
                media_id=media_id,
                caption=caption if kind is not MessageKind.AUDIO else None,
                filename=path.name if kind is MessageKind.DOCUMENT else None,
            )

        return await self._dispatch(item, send, f"send.{kind.value}")

    async def send_template(
        self, group_id: str, template: Template, params: Sequence[str] = ()
    ) -> OutboxItem:
        """Send an approved template with body parameters.

        Raises:
            ServiceError: A refusal: a parameter missing or blank (nothing the operator did
                not see is sent), or the group cannot receive the template now.
        """
        refusal = parameter_refusal(template, params)
        if refusal is not None:
            raise refused(refusal)
        detail = await self._checked(group_id, MessageKind.TEMPLATE, template)
        api = self._core.api_for_group(detail.group)
        preview = await self._preview(detail, template)
        # The Cloud API's response models (pydantic) load with the first template sent,
        # not with the sub-API (which the header's figures and the watcher build).
        from groups_tui.cloud.resources.templates import template_components

        components = template_components(list(params))
        item = await self._store.outbox.enqueue(
            group_id,
            MessageKind.TEMPLATE,
            {
                "type": "template",
                "name": template.name,
                "language": template.language,
                "components": components,
            },
            text=render_template(template, params).text,
            template_name=template.name,
            template_category=template.category.value,
            at=self._core.now(),
        )
        return await self._dispatch(
            item,
            lambda: api.messages.send_template(
                group_id, template.name, template.language, components=components
            ),
            "send.template",
            cost=preview.total,
        )

    async def outbox(self, group_id: str, limit: int = 50) -> list[OutboxItem]:
        """The group's newest outbox items (what became of its sends), newest first."""
        return await self._store.outbox.for_group(group_id, limit=limit)

    # --- invite links, 1:1 ------------------------------------------------------------------
    async def invite_template(self, number: str | None = None) -> Template | None:
        """The approved invite-link template (``group_invite_upon_request``) of a number's
        business account (label or id; the first number's by default), if any."""
        for template in await self._reading.templates(number=number):
            if template.name == INVITE_TEMPLATE and template.status == "APPROVED":
                return template
        return None

    def invite_preview(self, numbers: Sequence[str], template: Template) -> CostPreview:
        """Expected cost of sending `template` 1:1 to each number (no I/O).

        Each 1:1 send is priced like a one-member group message with the customer
        service window closed: the conservative price.
        """
        today = datetime.fromtimestamp(self._core.clock(), UTC).date()
        return preview_cost(
            [MemberRef(n, n) for n in numbers],
            template.category,
            today,
            window_open=False,
            service_used_this_month=0,
            card=self._core.rate_card,
            rules=self._core.rules,
        )

    def invite_cost(self, number: str, template: Template) -> Decimal | None:
        """Expected cost of one 1:1 template to `number` (``None`` when unknown or refused)."""
        preview = self.invite_preview([number], template)
        if preview.refusal is not None or preview.unknown:
            return None
        return preview.total

    async def send_invites(
        self, group_id: str, numbers: Sequence[str], template: Template
    ) -> list[InviteOutcome]:
        """Send the invite-link template 1:1 to each number; one audit entry per send.

        The group id goes in as the template's ``group_id`` parameter, which WhatsApp
        replaces with the live link at delivery (a reset link never goes out stale).
        """
        group = await self._core.group(group_id)
        if not group.id or group.state is not GroupState.ACTIVE:
            raise ServiceError("the group is not active yet: invite once Meta confirms it")
        if group.suspended:
            raise ServiceError(f"the group is suspended: {group.suspended_reason or 'no reason'}")
        self._core.api_for_group(group)
        out: list[InviteOutcome] = []
        for number in dict.fromkeys(n.lstrip("+") for n in numbers):
            preview = self.invite_preview([number], template)
            cost = None if preview.unknown else preview.total
            outcome, result = await self._invite(number, template, group.id, group.phone_number_id)
            await self._core.audit("invite.send", group.id, [number], result, cost)
            if outcome.state == "unknown":
                outcome = InviteOutcome(number, "failed", error=outcome.error)
            out.append(outcome)
        return out

    async def send_invite(self, number: str, template: Template, group_id: str) -> InviteOutcome:
        """Send the invite-link template 1:1 to one number, for an automation.

        Not audited here: the automation audits the send under its own action.

        Returns:
            ``accepted`` (with the wamid), ``failed`` (with the reason) or ``unknown``
            (no answer: it may have been sent, and must not be sent again blindly).

        Raises:
            ServiceError: Read-only mode.
        """
        group = await self._core.find_group(group_id)
        pnid = group.phone_number_id if group is not None else self._core.api().phone_number_id
        outcome, _result = await self._invite(number, template, group_id, pnid)
        return outcome

    async def _invite(
        self, number: str, template: Template, group_id: str, phone_number_id: str
    ) -> tuple[InviteOutcome, dict[str, Any]]:
        """One 1:1 invite send through the group's number: its outcome, and the result
        the audit log keeps. The 1:1 message, its statuses and its charge are that
        number's."""
        api = self._core.api_for(phone_number_id)
        try:
            response = await api.messages.send_invite_link_template(
                number, template.name, template.language, group_id
            )
        except OutcomeUnknownError as exc:
            return InviteOutcome(number, "unknown", error=str(exc)), {"error": str(exc)}
        except ApiError as exc:
            error = str(exc)
            return InviteOutcome(number, "failed", error=error), {"error": error, "code": exc.code}
        except (CloudError, ValueError) as exc:
            # ValueError: the client refuses what it cannot send (a BSUID as `to`).
            return InviteOutcome(number, "failed", error=str(exc)), {"error": str(exc)}
        wamid = response.message_id
        return InviteOutcome(number, "accepted", wamid=wamid), {"wamid": wamid}


def read_file(path: Path) -> bytes:
    """A file's bytes, or a `ServiceError` naming why it cannot be read."""
    path = Path(path).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ServiceError(f"no such file: {path}") from None
    except OSError as exc:
        raise ServiceError(f"cannot read {path}: {exc.strerror}") from None
