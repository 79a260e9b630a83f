"""InboxService: the one façade the UI and the CLI call.

It composes the store, the Cloud API client and the domain rules. It never imports
Textual; screens only talk to it. Every method is a coroutine safe to run in a worker.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from groups_tui.cloud.client import CloudClient
from groups_tui.cloud.errors import (
    ApiError,
    CloudError,
    CreateGroupOutcomeUnknown,
    OutcomeUnknownError,
    PartialFailure,
)
from groups_tui.cloud.models import FailedItem
from groups_tui.cloud.resources.templates import template_components
from groups_tui.domain import limits
from groups_tui.domain.events import (
    GroupRead,
    JoinRequestCreated,
    ParticipantRef,
)
from groups_tui.domain.identity import is_bsuid, is_phone_number
from groups_tui.domain.media import media_for_file
from groups_tui.domain.models import (
    Direction,
    GroupState,
    JoinApproval,
    MessageKind,
    Participant,
    Template,
    TemplateCategory,
)
from groups_tui.domain.pricing import (
    CALIBRATION_MAX_AGE,
    RULE_SETS,
    Calibration,
    CostPreview,
    MemberRef,
    PricingConfig,
    RateCard,
    RuleSet,
    calibrate,
    evidence_period,
    preview_cost,
)
from groups_tui.domain.sending import Refusal, SendKind, can_send
from groups_tui.domain.window import window_state
from groups_tui.service_types import (
    AccountInfo,
    Change,
    DecisionResult,
    GroupDetail,
    InboxRow,
    InviteOutcome,
    JoinRequestView,
    KnownPerson,
    ListenerStatus,
    MemberRow,
    MessagePage,
    MessageView,
    OutboxItem,
    PendingOperation,
    SearchHit,
)
from groups_tui.store import Store
from groups_tui.store.records import (
    FAILED_EVENTS_COUNTER,
    REFUSED_COUNTER,
    AuditEntry,
    Contact,
    HistoryEntry,
    StoredFlag,
)
from groups_tui.store.records import OutboxItem as StoredOutboxItem

Clock = Callable[[], float]
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
PENDING_PREFIX = "pending:"
HEARTBEAT_KEY = "listener.heartbeat"
HEARTBEAT_FRESH = 30.0
INVITE_TEMPLATE = "group_invite_upon_request"
"""The Template Library's invite-link template (copied into the account)."""


class ServiceError(Exception):
    """A refusal or failure worded for the operator (one line).

    ``args[0]`` is the message; ``args[1]``, when present, is the domain `Refusal` or the
    API error behind it.
    """

    @property
    def refusal(self) -> Refusal | None:
        """The domain refusal, when the service refused before calling the API."""
        cause = self.args[1] if len(self.args) > 1 else None
        return cause if isinstance(cause, Refusal) else None


def refused(refusal: Refusal) -> ServiceError:
    """A `ServiceError` carrying a domain refusal."""
    return ServiceError(refusal.reason, refusal)


def _template_from_api(raw: Any) -> Template | None:
    try:
        category = TemplateCategory(str(raw.category or "").lower())
    except ValueError:
        return None
    body_params = 0
    header_format: str | None = None
    for component in raw.components:
        kind = str(component.get("type", "")).upper()
        if kind == "BODY":
            text = str(component.get("text", ""))
            body_params = len(set(PLACEHOLDER.findall(text)))
        elif kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
    return Template(
        name=raw.name,
        language=raw.language or "en_US",
        category=category,
        status=raw.status or "APPROVED",
        body_params=body_params,
        header_format=header_format,
        components=tuple(raw.components),
    )


class InboxService:
    """Facade over store, client and domain rules.

    Args:
        store: The open `Store` (its cost ledger is priced where it was opened: give
            it the same rate card as ``rate_card``).
        client: The Cloud API client (``None`` in read-only follower mode).
        account: The business number and LIVE/SANDBOX mode.
        clock: Returns now as epoch seconds; injected so tests freeze time.
        rate_card: The rate card for cost previews (packaged default when ``None``).
        listener_url: Where the in-process listener accepts webhooks, if one runs here.
        os_user: Who the audit log names (the OS user by default).
        rules: The effective-dated charging rules.
        pricing: The ``[pricing]`` settings: the configured reading of each disputed rule
            (applied to ``rules``) and when the ledger's evidence wins over it.
    """

    def __init__(
        self,
        store: Store,
        client: CloudClient | None,
        *,
        account: AccountInfo,
        clock: Clock = time.time,
        rate_card: RateCard | None = None,
        listener_url: str | None = None,
        os_user: str | None = None,
        rules: Sequence[RuleSet] = RULE_SETS,
        pricing: PricingConfig | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.account = account
        self.clock = clock
        self.rate_card = rate_card or RateCard.load_default()
        self.listener_url = listener_url
        self.os_user = os_user or _os_user()
        self.pricing_config = pricing or PricingConfig()
        self.rules = self.pricing_config.rule_sets(rules)
        self._calibration: tuple[float, Calibration] | None = None

    # --- helpers -------------------------------------------------------------------------
    def now(self) -> int:
        """Now, as integer epoch seconds from the injected clock."""
        return int(self.clock())

    def _api(self) -> CloudClient:
        if self.client is None:
            raise ServiceError("read-only: no Cloud API client is configured")
        return self.client

    async def audit(
        self,
        action: str,
        group_id: str | None,
        targets: Sequence[Any] = (),
        result: Any = None,
        cost: Decimal | None = None,
    ) -> None:
        """Append an operator-visible action, as this OS user, to the audit log."""
        await self.store.audit.append(
            self.os_user,
            action,
            group_id=group_id,
            targets=list(targets),
            api_result=result,
            cost=cost,
        )

    async def _call(
        self, action: str, group_id: str | None, targets: Sequence[Any], call: Awaitable[Any]
    ) -> Any:
        """Run an API call, auditing its outcome; API errors become `ServiceError`."""
        try:
            result = await call
        except ApiError as exc:
            await self.audit(action, group_id, targets, {"error": str(exc), "code": exc.code})
            raise ServiceError(str(exc), exc) from exc
        except CloudError as exc:
            await self.audit(action, group_id, targets, {"error": str(exc)})
            raise ServiceError(str(exc), exc) from exc
        await self.audit(action, group_id, targets, _result_summary(result))
        return result

    # --- reading -------------------------------------------------------------------------
    async def inbox_rows(self) -> list[InboxRow]:
        """Every group as a compact row, most recent activity first."""
        return [_inbox_row(r) for r in await self.store.groups.inbox_row_list()]

    async def inbox_row(self, group_id: str) -> InboxRow | None:
        """One group's row, to patch the inbox after a change."""
        row = await self.store.groups.inbox_row(group_id)
        return _inbox_row(row) if row else None

    async def _group(self, group_id: str) -> Any:
        if group_id.startswith(PENDING_PREFIX):
            group = await self.store.groups.get_by_request(group_id[len(PENDING_PREFIX) :])
        else:
            group = await self.store.groups.get(group_id)
        if group is None:
            raise ServiceError(f"unknown group {group_id}")
        return group

    async def group_detail(self, group_id: str) -> GroupDetail:
        """The group, its current members and its window state at `clock()`."""
        group = await self._group(group_id)
        members = await self.store.groups.members(group.id) if group.id else []
        window = window_state(group.last_inbound_at, self.now(), group.last_inbound_by)
        ops = [
            op
            for op in await self.store.operations.pending("pending")
            if (group.id and op.group_id == group.id) or op.request_id == group.request_id
        ]
        return GroupDetail(
            group=group, members=tuple(members), window=window, pending_operations=tuple(ops)
        )

    async def messages_page(
        self, group_id: str, older: tuple[int, str] | None = None, limit: int = 50
    ) -> MessagePage:
        """A page of the conversation ending before `older` (keyset), oldest first."""
        page = await self.store.messages.page(group_id, before=older, limit=limit)
        items = list(reversed(page.items))
        outbound = [m.id for m in items if m.direction is Direction.OUTBOUND]
        summaries = {}
        outbox: dict[str, StoredOutboxItem] = {}
        if outbound:
            # Recipients are the members present when the message was sent, not now.
            current = len(await self.store.groups.members(group_id))
            history = await self.store.groups.member_history(group_id, limit=1_000_000)
            totals = {
                m.id: _members_at(history, m.at, current)
                for m in items
                if m.direction is Direction.OUTBOUND
            }
            summaries = await self.store.messages.statuses(outbound, totals=totals)
            for item in await self.store.outbox.for_group(group_id, limit=200):
                outbox[item.message_id] = item
                if item.wamid:
                    outbox[item.wamid] = item
        views = []
        for m in items:
            if m.direction is not Direction.OUTBOUND:
                views.append(MessageView(message=m))
                continue
            box = outbox.get(m.id)
            cost: Decimal | None = None
            unknown = False
            if m.kind is MessageKind.TEMPLATE or m.template_name:
                lines = await self.store.ledger.for_message(m.id)
                known = [ln.amount for ln in lines if ln.amount is not None]
                unknown = any(ln.amount is None for ln in lines)
                cost = sum(known, Decimal(0)) if known else None
            views.append(
                MessageView(
                    message=m,
                    delivery=summaries.get(m.id),
                    outbox_state=box.state if box else None,
                    error=_outbox_error(box) if box else None,
                    cost=cost,
                    cost_unknown=unknown,
                )
            )
        return MessagePage(messages=tuple(views), older=page.next_before)

    async def mark_read(self, group_id: str) -> None:
        """Reset the group's unread count."""
        await self.store.groups.mark_read(group_id)

    async def members(self, group_id: str) -> list[Participant]:
        """Current participants besides the business."""
        return await self.store.groups.members(group_id)

    async def join_requests(self, group_id: str) -> list[JoinRequestView]:
        """Pending join requests with their moderation signals."""
        views = []
        for request in await self.store.groups.join_requests(group_id):
            signals = await self.store.groups.member_signals(request.key, exclude_group=group_id)
            match = self.rate_card.match_member(request.wa_id, request.user_id)
            views.append(
                JoinRequestView(
                    request=request,
                    country=match.country_iso2 if match else None,
                    in_other_groups=signals.groups,
                    removed_before=signals.removed_before,
                    blocklisted=await self.store.moderation.is_blocked(request.key),
                )
            )
        return views

    async def templates(self, refresh: bool = False) -> list[Template]:
        """Approved message templates (cached in the store)."""
        cached = await self.store.messages.templates()
        if cached and not refresh:
            return cached
        if self.client is None or not self.client.business_account_id:
            return cached
        raw = await self._api().templates.list()
        fresh = [t for t in (_template_from_api(r) for r in raw) if t is not None]
        await self.store.messages.save_templates(fresh)
        return fresh

    async def find_template(self, name: str, language: str | None = None) -> Template:
        """The approved template called `name` (in `language`, if given)."""
        for template in await self.templates():
            if template.name == name and (language is None or template.language == language):
                return template
        raise ServiceError(
            f"no approved template named {name!r}" + (f" in {language}" if language else "")
        )

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search across every group's messages."""
        hits = await self.store.messages.search(query, limit=limit)
        subjects: dict[str, str] = {}
        out = []
        for hit in hits:
            if hit.group_id not in subjects:
                group = await self.store.groups.get(hit.group_id)
                subjects[hit.group_id] = group.subject if group else hit.group_id
            message = await self.store.messages.get(hit.message_id)
            out.append(
                SearchHit(
                    group_id=hit.group_id,
                    message_id=hit.message_id,
                    subject=subjects[hit.group_id],
                    snippet=hit.snippet,
                    at=hit.at,
                    sender_name=message.sender_name if message else None,
                    spans=hit.spans,
                )
            )
        return out

    async def spend_today(self) -> Decimal:
        """Sum of the cost ledger since local midnight."""
        now = self.clock()
        local = time.localtime(now)
        midnight = int(now) - (local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec)
        return (await self.store.ledger.spend_between(midnight, midnight + 86_400)).total

    async def service_allowance_used(self) -> int:
        """Service deliveries this calendar month (the 1,000 free allowance)."""
        today = datetime.fromtimestamp(self.clock(), UTC)
        return await self.store.ledger.service_messages_delivered_in_month(today.year, today.month)

    async def listener_status(self) -> ListenerStatus:
        """How webhooks reach us, and their health."""
        stats = await self.store.raw.stats()
        counters = await self.store.raw.counters()
        refused = counters.get(REFUSED_COUNTER, 0)
        if self.listener_url:
            mode = "in-process"
        else:
            beat = await self.store.feed.get_meta(HEARTBEAT_KEY)
            fresh = beat is not None and time.time() - float(beat) < HEARTBEAT_FRESH
            mode = "following" if fresh else "none"
        return ListenerStatus(
            mode=mode,
            last_event_at=stats.last_event_at,
            events_stored=stats.total,
            signatures_refused=refused,
            url=self.listener_url,
            failed_events=counters.get(FAILED_EVENTS_COUNTER, 0),
        )

    # --- change feed ---------------------------------------------------------------------
    async def latest_change_id(self) -> int:
        """The newest change-feed id (start following from here)."""
        return await self.store.feed.latest_id()

    async def changes_since(self, after_id: int, limit: int = 500) -> list[Change]:
        """Change-feed rows after `after_id`, oldest first."""
        return await self.store.feed.since(after_id, limit)

    async def follow_changes(
        self, after_id: int, poll_interval: float = 0.25
    ) -> AsyncIterator[list[Change]]:
        """Yield batches of changes as they are written, by this or another process.

        Polls ``PRAGMA data_version`` first, so an idle follower costs one cheap query
        per interval.
        """
        last = after_id
        seen_version: int | None = None
        while True:
            version = await self.store.feed.data_version()
            if version != seen_version:
                seen_version = version
                while batch := await self.store.feed.since(last, 1000):
                    last = batch[-1].id
                    yield batch
                    if len(batch) < 1000:
                        break
            await asyncio.sleep(poll_interval)

    # --- cost ----------------------------------------------------------------------------
    async def preview_cost(self, group_id: str, template: Template | None) -> CostPreview:
        """What sending `template` (or, with ``None``, a free-form message) would cost now:
        one charge per current member at the member's market rate, under the charging
        rules in force today and the monthly service allowance used so far."""
        detail = await self.group_detail(group_id)
        return await self._preview(detail, template)

    async def _preview(self, detail: GroupDetail, template: Template | None) -> CostPreview:
        members = [MemberRef(m.key, m.wa_id, m.display_name) for m in detail.members]
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        return preview_cost(
            members,
            template.category if template else None,
            today,
            window_open=detail.window.open,
            service_used_this_month=await self.service_allowance_used(),
            card=self.rate_card,
            rules=self.rules,
            calibration=await self.pricing_calibration(),
        )

    async def pricing_calibration(self) -> Calibration:
        """What Meta charged recently under each disputed charging rule in force today
        (the cost ledger's evidence, weighed by the ``[pricing]`` thresholds): what
        previews apply, and what contradicts the configuration. Reused for
        ``CALIBRATION_MAX_AGE`` seconds of the same day."""
        now = self.clock()
        today = datetime.fromtimestamp(now, UTC).date()
        cached = self._calibration
        if cached and cached[1].on == today and 0 <= now - cached[0] < CALIBRATION_MAX_AGE:
            return cached[1]
        since, until = evidence_period(today, self.pricing_config)
        tallies = await self.store.ledger.pricing_evidence(since, until)
        calibration = calibrate(tallies, today, rules=self.rules, config=self.pricing_config)
        self._calibration = (now, calibration)
        return calibration

    def refusal(
        self, kind: SendKind, detail: GroupDetail, template: Template | None = None
    ) -> Refusal | None:
        """Why `kind` cannot be sent to the group now, or ``None`` (no I/O)."""
        group = detail.group
        if group.participant_count != len(detail.members):
            from dataclasses import replace

            group = replace(group, participant_count=len(detail.members))
        return can_send(
            kind, group, self.now(), template_category=template.category if template else None
        )

    # --- sending -------------------------------------------------------------------------
    async def _dispatch(
        self,
        item: StoredOutboxItem,
        send: Callable[[], Awaitable[Any]],
        action: str,
        cost: Decimal | None = None,
    ) -> OutboxItem:
        """Call the API for an enqueued outbox item and record its fate.

        The item is in the outbox before the call, so a crash leaves it visible as queued;
        an answer that never came leaves it ``unknown`` and it is never resent blindly.
        """
        try:
            response = await send()
        except OutcomeUnknownError as exc:
            stored = await self.store.outbox.mark_unknown(item.id)
            await self.audit(
                action, item.group_id, [item.id], {"outcome": "unknown", "error": str(exc)}, cost
            )
        except ApiError as exc:
            stored = await self.store.outbox.mark_failed(item.id, exc.code, exc.headline)
            await self.audit(
                action, item.group_id, [item.id], {"error": str(exc), "code": exc.code}, cost
            )
        except (CloudError, ValueError) as exc:
            stored = await self.store.outbox.mark_failed(item.id, None, str(exc))
            await self.audit(action, item.group_id, [item.id], {"error": str(exc)}, cost)
        else:
            stored = await self.store.outbox.mark_accepted(item.id, response.message_id)
            await self.audit(action, item.group_id, [item.id], {"wamid": response.message_id}, cost)
        return _outbox_view(stored or item)

    async def _checked(
        self, group_id: str, kind: SendKind, template: Template | None = None
    ) -> GroupDetail:
        detail = await self.group_detail(group_id)
        refusal = self.refusal(kind, detail, template)
        if refusal is not None:
            raise refused(refusal)
        return detail

    async def send_text(self, group_id: str, text: str) -> OutboxItem:
        """Send free-form text through the outbox (refused when the window is closed)."""
        if not text.strip():
            raise ServiceError("nothing to send: the message is empty")
        if len(text) > limits.TEXT_MAX:
            raise ServiceError(f"text is limited to {limits.TEXT_MAX} characters")
        await self._checked(group_id, MessageKind.TEXT)
        item = await self.store.outbox.enqueue(
            group_id,
            MessageKind.TEXT,
            {"type": "text", "text": {"body": text}},
            text=text,
            at=self.now(),
        )
        return await self._dispatch(
            item, lambda: self._api().messages.send_text(group_id, text), "send.text"
        )

    async def send_media(self, group_id: str, path: Path, caption: str | None = None) -> OutboxItem:
        """Upload a file and send it; type and size are checked before upload."""
        data = await asyncio.to_thread(_read_file, path)
        size = len(data)
        decided = media_for_file(path.name, size)
        if isinstance(decided, Refusal):
            raise refused(decided)
        kind, mime = decided.kind, decided.mime
        await self._checked(group_id, kind)
        from groups_tui.domain.models import Media

        media = Media(
            kind=kind,
            mime_type=mime,
            size=size,
            caption=caption,
            filename=path.name if kind is MessageKind.DOCUMENT else None,
        )
        item = await self.store.outbox.enqueue(
            group_id,
            kind,
            {"type": kind.value, "path": str(path), "caption": caption},
            text=caption,
            media=media,
            at=self.now(),
        )

        async def send() -> Any:
            api = self._api()
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
        """Send an approved template with body parameters."""
        if len(params) != template.body_params:
            raise ServiceError(
                f"template {template.name} takes {template.body_params} parameter(s), "
                f"got {len(params)}"
            )
        detail = await self._checked(group_id, MessageKind.TEMPLATE, template)
        preview = await self._preview(detail, template)
        components = template_components(list(params))
        rendered = _render_template(template, params)
        item = await self.store.outbox.enqueue(
            group_id,
            MessageKind.TEMPLATE,
            {
                "type": "template",
                "name": template.name,
                "language": template.language,
                "components": components,
            },
            text=rendered,
            template_name=template.name,
            template_category=template.category.value,
            at=self.now(),
        )
        return await self._dispatch(
            item,
            lambda: self._api().messages.send_template(
                group_id, template.name, template.language, components=components
            ),
            "send.template",
            cost=preview.total,
        )

    # --- administration ------------------------------------------------------------------
    async def create_group(
        self, subject: str, description: str | None = None, join_approval: bool = False
    ) -> PendingOperation:
        """Ask Meta to create a group; it stays pending until the lifecycle webhook."""
        subject = subject.strip()
        for refusal in (limits.check_subject(subject), limits.check_description(description or "")):
            if refusal is not None:
                raise refused(refusal)
        try:
            request_id = await self._call(
                "group.create",
                None,
                [subject],
                self._api().groups.create(subject, description, join_approval),
            )
        except ServiceError as exc:
            if len(exc.args) > 1 and isinstance(exc.args[1], CreateGroupOutcomeUnknown):
                raise ServiceError(
                    "no answer to the create request: the group may exist; check the "
                    "group list before creating it again",
                    exc.args[1],
                ) from exc
            raise
        await self.store.groups.create_pending(
            request_id,
            subject,
            description=description or "",
            join_approval=(
                JoinApproval.APPROVAL_REQUIRED if join_approval else JoinApproval.AUTO_APPROVE
            ),
        )
        op = await self.store.operations.get(request_id)
        assert op is not None
        return op

    async def _pending(
        self, kind: str, group_id: str, request_id: str | None, payload: dict[str, Any]
    ) -> PendingOperation:
        rid = request_id or f"local:{kind}:{uuid.uuid4().hex}"
        await self.store.operations.add(rid, kind, group_id=group_id, payload=payload)
        op = await self.store.operations.get(rid)
        assert op is not None
        return op

    async def delete_group(self, group_id: str) -> PendingOperation:
        """Delete a group; pending until the lifecycle webhook."""
        group = await self._group(group_id)
        if group.state is GroupState.DELETED:
            raise ServiceError(f"group {group.subject!r} is already deleted")
        await self._call(
            "group.delete", group_id, [group.subject], self._api().groups.delete(group_id)
        )
        return await self._pending("delete", group_id, None, {"subject": group.subject})

    async def invite_link(self, group_id: str, reset: bool = False) -> str:
        """The group's invite link, optionally reset first."""
        api = self._api()
        if reset:
            link = await self._call(
                "invite_link.reset", group_id, [], api.invite_links.reset(group_id)
            )
        else:
            try:
                link = await api.invite_links.get(group_id)
            except ApiError as exc:
                raise ServiceError(str(exc), exc) from exc
        await self.store.groups.set_invite_link(group_id, link)
        return str(link)

    async def remove_participants(self, group_id: str, keys: Sequence[str]) -> PendingOperation:
        """Remove members in calls of at most 8; pending until the webhook confirms.

        Members are addressed by ``wa_id`` (or the business-scoped id when that is all
        we have, which the client sends as ``user_id``); `keys` may be member keys,
        phone numbers or business-scoped user ids.
        """
        if not keys:
            raise ServiceError("nobody to remove")
        members = {m.key: m for m in await self.store.groups.members(group_id)}
        by_wa = {m.wa_id: m for m in members.values() if m.wa_id}
        users: list[str] = []
        for key in dict.fromkeys(keys):
            digits = key.lstrip("+").replace(" ", "")
            member = members.get(key) or by_wa.get(digits)
            user = member.wa_id or member.key if member else digits
            if not (is_phone_number(user) or is_bsuid(user)):
                raise refused(
                    Refusal(
                        "not_a_person",
                        f"{key!r} is neither a phone number nor a business-scoped user id",
                        100,
                    )
                )
            users.append(user)
        request_ids: list[str | None] = []
        refused_at_once: list[list[str]] = []
        for start in range(0, len(users), limits.MAX_REMOVE_PER_CALL):
            chunk = users[start : start + limits.MAX_REMOVE_PER_CALL]
            try:
                request_ids.append(
                    await self._call(
                        "participants.remove",
                        group_id,
                        chunk,
                        self._api().participants.remove(group_id, chunk),
                    )
                )
            except ServiceError as exc:
                cause = exc.args[1] if len(exc.args) > 1 else None
                if not isinstance(cause, PartialFailure):
                    raise
                request_ids.append(None)
                refused_at_once += [[f.ref or "?", _failed_reason(f)] for f in cause.failed]
        rid = next((r for r in request_ids if r), None)
        payload: dict[str, Any] = {"users": users}
        if refused_at_once:
            # A synchronous partial answer (131201, HTTP 206): these will not be removed.
            payload["refused"] = refused_at_once
        return await self._pending("remove", group_id, rid, payload)

    async def remove_everywhere(self, key: str) -> list[PendingOperation]:
        """Remove one member (key or number) from every group they are in."""
        ops = []
        for group_id in await self.store.groups.of_member(key.lstrip("+")):
            ops.append(await self.remove_participants(group_id, [key]))
        return ops

    async def _decide(
        self, group_id: str, request_ids: Sequence[str], approve: bool
    ) -> DecisionResult:
        if not request_ids:
            raise ServiceError("no join requests chosen")
        if approve:
            detail = await self.group_detail(group_id)
            refusal = limits.check_capacity(len(detail.members), len(request_ids))
            if refusal is not None:
                raise refused(refusal)
        api = self._api()
        call = (
            api.join_requests.approve(group_id, list(request_ids))
            if approve
            else api.join_requests.reject(group_id, list(request_ids))
        )
        verb = "approved" if approve else "rejected"
        result = await self._call(
            f"join_requests.{'approve' if approve else 'reject'}", group_id, list(request_ids), call
        )
        done = list(result.approved if approve else result.rejected)
        failed = [(f.ref or "?", _failed_reason(f)) for f in result.failed]
        if done:
            await self.store.groups.decide_join_requests(done, verb, self.now())
        return DecisionResult(done=tuple(done), failed=tuple(failed))

    async def approve_join_requests(
        self, group_id: str, request_ids: Sequence[str]
    ) -> DecisionResult:
        """Approve join requests (refused when the group would exceed 8 members)."""
        return await self._decide(group_id, request_ids, True)

    async def reject_join_requests(
        self, group_id: str, request_ids: Sequence[str]
    ) -> DecisionResult:
        """Reject join requests."""
        return await self._decide(group_id, request_ids, False)

    async def update_settings(
        self,
        group_id: str,
        *,
        subject: str | None = None,
        description: str | None = None,
        picture: Path | None = None,
    ) -> PendingOperation:
        """Change subject, description or picture; pending until the settings webhook."""
        if subject is None and description is None and picture is None:
            raise ServiceError("nothing to change")
        checks = [
            limits.check_subject(subject) if subject is not None else None,
            limits.check_description(description) if description is not None else None,
        ]
        data: bytes | None = None
        if picture is not None:
            data = await asyncio.to_thread(_read_file, picture)
            checks.append(limits.check_picture_data(data))
        for refusal in checks:
            if refusal is not None:
                raise refused(refusal)
        api = self._api()
        rid: str | None = None
        payload: dict[str, Any] = {}
        if subject is not None or description is not None:
            rid = await self._call(
                "group.settings",
                group_id,
                [],
                api.groups.update_settings(group_id, subject=subject, description=description),
            )
            payload.update(
                {
                    k: v
                    for k, v in (("subject", subject), ("description", description))
                    if v is not None
                }
            )
        if data is not None:
            rid = (
                await self._call(
                    "group.picture", group_id, [], api.groups.update_picture(group_id, data)
                )
                or rid
            )
            payload["picture"] = str(picture)
        return await self._pending("settings", group_id, rid, payload)

    # --- moderation ----------------------------------------------------------------------
    async def moderation_queue(
        self, states: Sequence[str] = ("open",), limit: int = 200
    ) -> list[StoredFlag]:
        """Flags raised by the moderation rules, newest first."""
        return await self.store.moderation.flags(states, limit=limit)

    async def act_on_flag(self, flag_id: int) -> StoredFlag:
        """Do what a flag calls for: reject its join request, or remove the member."""
        flag = await self.store.moderation.get_flag(flag_id)
        if flag is None:
            raise ServiceError(f"no moderation flag {flag_id}")
        if flag.state != "open":
            raise ServiceError(f"flag {flag_id} is already {flag.state}")
        if flag.group_id is None or flag.participant_key is None:
            raise ServiceError("this flag names no group member to act on")
        if flag.join_request_id:
            await self.reject_join_requests(flag.group_id, [flag.join_request_id])
            outcome = "join request rejected"
        else:
            await self.remove_participants(flag.group_id, [flag.participant_key])
            outcome = "member removed"
        await self.store.moderation.set_flag_state(flag_id, "acted", outcome)
        updated = await self.store.moderation.get_flag(flag_id)
        assert updated is not None
        return updated

    async def dismiss_flag(self, flag_id: int) -> None:
        """Close a flag without acting."""
        await self.store.moderation.set_flag_state(
            flag_id, "dismissed", f"dismissed by {self.os_user}"
        )
        await self.audit("moderation.dismiss", None, [flag_id])

    async def remove_sender(self, message_id: str) -> PendingOperation:
        """Remove the member who sent `message_id` from its group."""
        message = await self.store.messages.get(message_id)
        if message is None or message.direction is not Direction.INBOUND:
            raise ServiceError("choose a message sent by a member")
        if not message.sender_key:
            raise ServiceError("the sender of this message is unknown")
        return await self.remove_participants(message.group_id, [message.sender_key])

    async def block(self, key: str, reason: str | None = None) -> None:
        """Put a number or member key on the local blocklist."""
        await self.store.moderation.block(key.lstrip("+"), reason)
        await self.audit("blocklist.add", None, [key], reason)

    # --- administration views ------------------------------------------------------------
    # Read models and small actions the administration screens need. They only combine
    # store queries the store already has, bounded so a big group never loads whole.

    MEMBER_SCAN_LIMIT = 2_000
    """Newest messages scanned per group for the members screen's counts."""

    async def operation(self, request_id: str) -> PendingOperation | None:
        """One asynchronous operation (create, remove, settings, delete) by request id."""
        return await self.store.operations.get(request_id)

    async def member_rows(self, group_id: str) -> list[MemberRow]:
        """Current members with their activity, open flags and local details.

        Message counts come from the newest :attr:`MEMBER_SCAN_LIMIT` messages (read by
        keyset); ``count_is_partial`` says when older history was not scanned.
        """
        members = await self.store.groups.members(group_id)
        last: dict[str, tuple[int, str | None]] = {}
        counts: dict[str, int] = {}
        # Join webhooks often carry no profile name; messages do.
        names: dict[str, str] = {}
        scanned = 0
        cursor: tuple[int, str] | None = None
        partial = False
        while True:
            page = await self.store.messages.page(group_id, before=cursor, limit=500)
            for m in page.items:
                if m.direction is Direction.INBOUND and m.sender_key:
                    counts[m.sender_key] = counts.get(m.sender_key, 0) + 1
                    last.setdefault(m.sender_key, (m.at, m.text))
                    if m.sender_name:
                        names.setdefault(m.sender_key, m.sender_name)
            scanned += len(page.items)
            cursor = page.next_before
            if cursor is None:
                break
            if scanned >= self.MEMBER_SCAN_LIMIT:
                partial = True
                break
        flags: dict[str, list[str]] = {}
        for flag in await self.store.moderation.flags(("open",), limit=500):
            if flag.group_id == group_id and flag.participant_key:
                flags.setdefault(flag.participant_key, []).append(flag.rule)
        removing: set[str] = set()
        for op in await self.store.operations.pending("pending"):
            if op.group_id == group_id and op.kind == "remove":
                removing.update(str(u) for u in op.payload.get("users", ()))
        rows = []
        for m in members:
            contact = await self.store.moderation.contact(m.key)
            match = self.rate_card.match_member(m.wa_id, m.user_id)
            at, text = last.get(m.key, (None, None))
            if not m.profile_name and m.key in names:
                m = replace(m, profile_name=names[m.key])
            rows.append(
                MemberRow(
                    member=m,
                    country=match.country_iso2 if match else None,
                    last_message_at=at,
                    last_message=text,
                    message_count=counts.get(m.key, 0),
                    count_is_partial=partial,
                    flags=tuple(flags.get(m.key, ())),
                    contact_name=contact.display_name if contact else None,
                    note=contact.note if contact else None,
                    removing=bool({m.key, m.wa_id} & removing),
                    blocklisted=await self.store.moderation.is_blocked(m.key)
                    or (m.wa_id is not None and await self.store.moderation.is_blocked(m.wa_id)),
                )
            )
        return rows

    async def member_history(self, group_id: str, limit: int = 200) -> list[HistoryEntry]:
        """The group's newest joins, leaves and removals (at most `limit`), oldest first.

        A group holds at most eight members, so its membership history stays small; the
        store pages it oldest first by a row id the entries do not carry, hence one read.
        """
        return (await self.store.groups.member_history(group_id, limit=100_000))[-limit:]

    async def contact(self, key: str) -> Contact | None:
        """Local details about a member."""
        return await self.store.moderation.contact(key)

    async def set_contact(self, key: str, *, display_name: str | None, note: str | None) -> None:
        """Save local details about a member (audited; never sent to Meta)."""
        await self.store.moderation.set_contact(
            key, display_name=display_name or None, note=note or None
        )
        await self.audit(
            "contact.update", None, [key], {"display_name": display_name, "note": note}
        )

    async def known_people(self, groups: int = 100) -> list[KnownPerson]:
        """People the invite picker offers: members of the most recently active groups.

        Bounded to `groups` groups, so it costs the same on an account with 10,000.
        """
        listed, _cursor = await self.store.groups.page(limit=groups)
        people: dict[str, KnownPerson] = {}
        for group in listed:
            if not group.id:
                continue
            for m in await self.store.groups.members(group.id):
                if not m.wa_id:
                    continue
                known = people.get(m.wa_id)
                if known is None:
                    contact = await self.store.moderation.contact(m.key)
                    name = (contact.display_name if contact else None) or m.display_name
                    people[m.wa_id] = KnownPerson(m.key, m.wa_id, name, 1)
                else:
                    people[m.wa_id] = KnownPerson(
                        known.key, known.wa_id, known.name, known.groups + 1
                    )
        return sorted(people.values(), key=lambda p: (p.name.lower(), p.wa_id))

    async def invite_template(self) -> Template | None:
        """The approved invite-link template (``group_invite_upon_request``), if any."""
        for template in await self.templates():
            if template.name == INVITE_TEMPLATE and template.status == "APPROVED":
                return template
        return None

    def invite_preview(self, numbers: Sequence[str], template: Template) -> CostPreview:
        """Expected cost of sending `template` 1:1 to each number (no I/O).

        Each 1:1 send is priced like a one-member group message with the customer
        service window closed: the conservative price.
        """
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        return preview_cost(
            [MemberRef(n, n) for n in numbers],
            template.category,
            today,
            window_open=False,
            service_used_this_month=0,
            card=self.rate_card,
            rules=self.rules,
        )

    async def send_invites(
        self, group_id: str, numbers: Sequence[str], template: Template
    ) -> list[InviteOutcome]:
        """Send the invite-link template 1:1 to each number; one audit entry per send.

        The group id goes in as the template's ``group_id`` parameter, which WhatsApp
        replaces with the live link at delivery (a reset link never goes out stale).
        """
        group = await self._group(group_id)
        if not group.id or group.state is not GroupState.ACTIVE:
            raise ServiceError("the group is not active yet: invite once Meta confirms it")
        if group.suspended:
            raise ServiceError(f"the group is suspended: {group.suspended_reason or 'no reason'}")
        api = self._api()
        out: list[InviteOutcome] = []
        for number in dict.fromkeys(n.lstrip("+") for n in numbers):
            preview = self.invite_preview([number], template)
            cost = None if preview.unknown else preview.total
            try:
                response = await api.messages.send_invite_link_template(
                    number, template.name, template.language, group.id
                )
            except ApiError as exc:
                await self.audit(
                    "invite.send", group.id, [number], {"error": str(exc), "code": exc.code}, cost
                )
                out.append(InviteOutcome(number, "failed", error=str(exc)))
            except (CloudError, ValueError) as exc:
                # ValueError: the client refuses what it cannot send (a BSUID as `to`).
                await self.audit("invite.send", group.id, [number], {"error": str(exc)}, cost)
                out.append(InviteOutcome(number, "failed", error=str(exc)))
            else:
                await self.audit(
                    "invite.send", group.id, [number], {"wamid": response.message_id}, cost
                )
                out.append(InviteOutcome(number, "accepted", wamid=response.message_id))
        return out

    async def flags_page(
        self, states: Sequence[str] = ("open",), before_id: int | None = None, limit: int = 50
    ) -> list[StoredFlag]:
        """A keyset page of moderation flags, newest first."""
        return await self.store.moderation.flags(states, before_id=before_id, limit=limit)

    async def audit_page(
        self, before_id: int | None = None, limit: int = 100, group_id: str | None = None
    ) -> list[AuditEntry]:
        """A keyset page of the audit log, newest first."""
        return await self.store.audit.entries(group_id=group_id, before_id=before_id, limit=limit)

    async def subjects(self, group_ids: Sequence[str]) -> dict[str, str]:
        """Subjects of groups by id (unknown ids are left out)."""
        out: dict[str, str] = {}
        for group_id in dict.fromkeys(group_ids):
            group = await self.store.groups.get(group_id)
            if group is not None:
                out[group_id] = group.subject
        return out

    # --- synchronising from the API (live mode, or a missed webhook) -----------------------
    async def sync_group(self, group_id: str) -> None:
        """Fetch one group's info and members from the API into the store.

        Idempotent: a read records only what changed since the store last knew (a
        member not seen before, one gone since), never the same members again; see
        :class:`~groups_tui.domain.events.GroupRead`.
        """
        if self.client is None or group_id.startswith(PENDING_PREFIX):
            return
        try:
            info = await self.client.groups.get(group_id)
        except ApiError as exc:
            raise ServiceError(str(exc), exc) from exc
        now = self.now()
        read = GroupRead(
            group_id=group_id,
            subject=info.subject,
            description=info.description,
            join_approval_mode=info.join_approval_mode,
            created_at=int(info.creation_timestamp or now),
            participants=tuple(
                ParticipantRef(wa_id=p.wa_id, user_id=p.user_id, username=p.username)
                for p in info.participants
            ),
            at=now,
        )
        await self.store.raw.apply_events(None, [read])

    async def sync_groups(self) -> int:
        """List the account's active groups and fetch those the store does not know."""
        if self.client is None:
            return 0
        fetched = 0
        try:
            async for summary in self.client.groups.list():
                if await self.store.groups.get(summary.id) is None:
                    await self.sync_group(summary.id)
                    fetched += 1
        except ApiError as exc:
            raise ServiceError(str(exc), exc) from exc
        return fetched

    async def sync_join_requests(self, group_id: str) -> None:
        """Fetch pending join requests from the API into the store."""
        if self.client is None:
            return
        try:
            items = await self.client.join_requests.list(group_id)
        except ApiError as exc:
            raise ServiceError(str(exc), exc) from exc
        events = [
            JoinRequestCreated(
                group_id=group_id,
                join_request_id=i.join_request_id,
                participant=ParticipantRef(wa_id=i.wa_id, user_id=i.user_id, username=i.username),
                at=int(i.creation_timestamp or self.now()),
            )
            for i in items
        ]
        if events:
            await self.store.raw.apply_events(None, events)


def _members_at(history: Sequence[Any], at: int, fallback: int) -> int:
    """Members present at `at` from the membership history (`fallback` without history)."""
    present: dict[str, bool] = {}
    for entry in history:
        if entry.at > at:
            break
        if entry.action == "join":
            present[entry.participant_key] = True
        elif entry.action in ("leave", "remove"):
            present[entry.participant_key] = False
    return sum(present.values()) if present else fallback


def _read_file(path: Path) -> bytes:
    path = Path(path).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ServiceError(f"no such file: {path}") from None
    except OSError as exc:
        raise ServiceError(f"cannot read {path}: {exc.strerror}") from None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _result_summary(result: Any) -> Any:
    if result is None or isinstance(result, str | int | float | bool):
        return result
    dump = getattr(result, "model_dump", None)
    return dump(mode="json") if callable(dump) else str(result)


def _render_template(template: Template, params: Sequence[str]) -> str:
    body = next(
        (
            str(c.get("text", ""))
            for c in template.components
            if str(c.get("type", "")).upper() == "BODY"
        ),
        "",
    )
    for i, value in enumerate(params, start=1):
        body = body.replace("{{" + str(i) + "}}", value)
    return body or f"[template {template.name}]"


def _failed_reason(item: FailedItem) -> str:
    """Why one item of a bulk call failed, from its errors."""
    return "; ".join(e.message or e.title or str(e.code) for e in item.errors) or "failed"


def _outbox_error(item: StoredOutboxItem) -> str | None:
    if item.state == "failed":
        code = f"(#{item.error_code}) " if item.error_code else ""
        return f"{code}{item.error_message or 'failed'}"
    if item.state == "unknown":
        return "no answer from the API: the message may or may not have been sent"
    return None


def _outbox_view(item: StoredOutboxItem) -> OutboxItem:
    return OutboxItem(
        local_id=str(item.id),
        group_id=item.group_id,
        state=item.state,
        wamid=item.wamid,
        error_code=item.error_code,
        error=_outbox_error(item),
    )


def _inbox_row(r: Any) -> InboxRow:
    return InboxRow(
        r.group_id or f"{PENDING_PREFIX}{r.request_id}",
        r.subject,
        r.participant_count,
        r.unread,
        r.pending_requests,
        r.last_sender,
        r.last_text,
        r.last_activity_at,
        r.last_inbound_at,
        r.last_inbound_by,
        r.suspended,
        r.state,
        r.flagged,
        f"{r.subject}\n{r.member_text or ''}".lower(),
        r.last_outbound,
    )


def now_clock() -> float:
    """The real clock."""
    return time.time()
