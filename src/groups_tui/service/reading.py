"""Reading: the inbox, a group, its conversation, search, spend and the listener's health.

Also the reads that refresh the store from the Cloud API (``sync_*``) when a webhook was
missed or the account is opened for the first time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Any

from groups_tui.cloud.errors import ApiError
from groups_tui.domain.models import (
    DeliveryState,
    Direction,
    Group,
    JoinRequest,
    Message,
    MessageKind,
    Participant,
    Template,
    TemplateCategory,
)
from groups_tui.domain.pricing import rule_set_on
from groups_tui.domain.templates import placeholder_count
from groups_tui.domain.window import window_state
from groups_tui.service.core import ServiceCore, import_in_thread
from groups_tui.service.errors import ServiceError
from groups_tui.service.types import (
    PENDING_PREFIX,
    GroupDetail,
    InboxRow,
    JoinRequestView,
    ListenerStatus,
    MessagePage,
    MessageView,
    NumberSpend,
    OutboxItem,
    PendingOperation,
    RecipientView,
    SearchHit,
    SpendReport,
    SpendRow,
)
from groups_tui.store.groups import InboxCursor
from groups_tui.store.inbox_table import RowTable
from groups_tui.store.records import FAILED_EVENTS_COUNTER, REFUSED_COUNTER, HistoryEntry

__all__ = ["HEARTBEAT_FRESH", "HEARTBEAT_KEY", "Reading"]

HEARTBEAT_KEY = "listener.heartbeat"
EVENTS_PER_PAGE = 500
"""At most this many timeline events come with one page of messages (the newest ones)."""
_STATE_ORDER: dict[DeliveryState | None, int] = {
    DeliveryState.FAILED: 0,
    None: 1,
    DeliveryState.DELIVERED: 3,
    DeliveryState.READ: 4,
}
"""How recipients are listed: failures first, read copies last (others: 2)."""
HEARTBEAT_FRESH = 30.0


class Reading:
    """What the account holds, as the inbox, the conversation and the CLI read it.

    Args:
        core: The store, client and clock shared by the service's parts.
    """

    def __init__(self, core: ServiceCore) -> None:
        self._core = core
        self._store = core.store

    # --- the inbox and one group -----------------------------------------------------------
    async def inbox_rows(self, number: str | None = None) -> list[InboxRow]:
        """Every group (of one number: a label or id) as a compact row, most recent
        activity first."""
        return await self._store.groups.inbox_row_list(self._core.number_id(number))

    async def inbox_page(
        self, after: InboxCursor | None = None, limit: int | None = None
    ) -> tuple[RowTable, InboxCursor | None]:
        """A page of the inbox (every number's groups), most recent activity first: the
        first screen's rows (``limit``), then the rest (``after`` the cursor returned),
        kept compactly as the inbox list holds them (no record is built)."""
        return await self._store.groups.inbox_table(after, limit)

    async def inbox_row(self, group_id: str) -> InboxRow | None:
        """One group's row, to patch the inbox after a change."""
        return await self._store.groups.inbox_row(group_id)

    async def number_of(self, group_id: str) -> str | None:
        """The id of the business number a group belongs to (``None``: unknown group)."""
        return await self._store.groups.number_of(group_id)

    async def group(self, group_id: str) -> Group | None:
        """A group by Meta id, or by ``pending:<request id>`` while it is being created."""
        return await self._core.find_group(group_id)

    async def group_detail(self, group_id: str) -> GroupDetail:
        """The group, its current members and its window state at `clock()`."""
        group = await self._core.group(group_id)
        members = await self._store.groups.members(group.id) if group.id else []
        window = window_state(group.last_inbound_at, self._core.now(), group.last_inbound_by)
        ops = [
            op
            for op in await self._store.operations.pending("pending")
            if (group.id and op.group_id == group.id) or op.request_id == group.request_id
        ]
        return GroupDetail(
            group=group, members=tuple(members), window=window, pending_operations=tuple(ops)
        )

    async def subjects(self, group_ids: Sequence[str]) -> dict[str, str]:
        """Subjects of groups by id (unknown ids are left out)."""
        out: dict[str, str] = {}
        for group_id in dict.fromkeys(group_ids):
            group = await self._store.groups.get(group_id)
            if group is not None:
                out[group_id] = group.subject
        return out

    async def tag(self, group_id: str) -> str | None:
        """The operator's tag of a group, if any."""
        return (await self._store.groups.annotations(group_id)).tag

    async def operation(self, request_id: str) -> PendingOperation | None:
        """One asynchronous operation (create, remove, settings, delete) by request id."""
        return await self._store.operations.get(request_id)

    async def members(self, group_id: str) -> list[Participant]:
        """Current participants besides the business."""
        return await self._store.groups.members(group_id)

    async def member(self, group_id: str, key: str) -> Participant | None:
        """One current participant by member key."""
        return next((m for m in await self._store.groups.members(group_id) if m.key == key), None)

    async def join_requests(self, group_id: str) -> list[JoinRequestView]:
        """Pending join requests with their moderation signals."""
        views = []
        for request in await self._store.groups.join_requests(group_id):
            signals = await self._store.groups.member_signals(request.key, exclude_group=group_id)
            match = self._core.rate_card.match_member(request.wa_id, request.user_id)
            views.append(
                JoinRequestView(
                    request=request,
                    country=match.country_iso2 if match else None,
                    in_other_groups=signals.groups,
                    removed_before=signals.removed_before,
                    blocklisted=await self._store.moderation.is_blocked(request.key),
                )
            )
        return views

    async def join_request(self, group_id: str, join_request_id: str) -> JoinRequest | None:
        """One pending join request of a group."""
        return next(
            (
                r
                for r in await self._store.groups.join_requests(group_id)
                if r.join_request_id == join_request_id
            ),
            None,
        )

    # --- the conversation ------------------------------------------------------------------
    async def message(self, message_id: str) -> Message | None:
        """One message by wamid or local id."""
        return await self._store.messages.get(message_id)

    async def messages_page(
        self, group_id: str, older: tuple[int, str] | None = None, limit: int = 50
    ) -> MessagePage:
        """A page of the conversation ending before `older` (keyset), oldest first."""
        store = self._store
        page = await store.messages.page(group_id, before=older, limit=limit)
        items = list(reversed(page.items))
        outbound = [m.id for m in items if m.direction is Direction.OUTBOUND]
        summaries = {}
        reasons: dict[str, str] = {}
        outbox: dict[str, OutboxItem] = {}
        if outbound:
            # Recipients are the members present when the message was sent, not now.
            current = len(await store.groups.members(group_id))
            history = await store.groups.member_history(group_id, limit=1_000_000)
            totals = {}
            for m in items:
                if m.direction is Direction.OUTBOUND:
                    present = _present_at(history, m.at)
                    totals[m.id] = current if present is None else len(present)
            summaries = await store.messages.statuses(outbound, totals=totals)
            reasons = await store.messages.failure_reasons(outbound)
            for item in await store.outbox.for_group(group_id, limit=200):
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
                lines = await store.ledger.for_message(m.id)
                known = [ln.amount for ln in lines if ln.amount is not None]
                unknown = any(ln.amount is None for ln in lines)
                cost = sum(known, Decimal(0)) if known else None
            views.append(
                MessageView(
                    message=m,
                    delivery=summaries.get(m.id),
                    outbox_state=box.state if box else None,
                    # A refused send has the API's error; an accepted one, the reason its
                    # failed copies gave (one line; who and why: message_recipients).
                    error=(box.error if box else None) or reasons.get(m.id),
                    cost=cost,
                    cost_unknown=unknown,
                    outbox_id=box.id if box else None,
                )
            )
        # The page's stretch of time: from its oldest message (from the beginning on the
        # last page) up to the cursor it was read before (up to now on the newest page).
        since = items[0].at if items and page.next_before is not None else None
        events = await store.groups.timeline(
            group_id, since=since, until=older[0] if older else None, limit=EVENTS_PER_PAGE
        )
        return MessagePage(messages=tuple(views), older=page.next_before, events=tuple(events))

    async def message_recipients(self, message_id: str) -> list[RecipientView]:
        """Who a message the business sent went to, and what became of each copy.

        The recipients are the members present when it was sent (from the membership
        history), and anyone a status or a charge names. Failures come first, then
        copies with no news yet, then delivered, then read.

        Args:
            message_id: The message's wamid (or local id while it is queued).

        Returns:
            One line per recipient: state, first delivered and read times, the failure's
            reason, and the charge booked.

        Raises:
            ServiceError: No such message.
        """
        store = self._store
        message = await store.messages.get(message_id)
        if message is None:
            raise ServiceError(f"no message {message_id}")
        group_id = message.group_id
        people = await store.groups.people(group_id)
        current = {m.key for m in await store.groups.members(group_id)}
        history = await store.groups.member_history(group_id, limit=1_000_000)
        present = _present_at(history, message.at)
        statuses = {
            s.participant_key: s for s in await store.messages.recipient_statuses(message.id)
        }
        charges = {c.participant_key: c for c in await store.ledger.for_message(message.id)}
        keys = dict.fromkeys([*(current if present is None else present), *statuses, *charges])
        views = []
        for key in keys:
            person = people.get(key)
            status = statuses.get(key)
            state = status.state if status else None
            failed = state is DeliveryState.FAILED
            views.append(
                RecipientView(
                    member_key=key,
                    name=person.profile_name if person else None,
                    wa_id=person.wa_id if person else None,
                    state=state,
                    delivered_at=status.delivered_at if status else None,
                    read_at=status.read_at if status else None,
                    failed_at=status.at if status and failed else None,
                    error_code=status.error_code if status and failed else None,
                    error=status.error_title if status and failed else None,
                    charge=charges.get(key),
                    still_member=key in current,
                )
            )
        views.sort(key=lambda v: (_STATE_ORDER.get(v.state, 2), v.name or v.wa_id or v.member_key))
        return views

    async def mark_read(self, group_id: str) -> None:
        """Reset the group's unread count."""
        await self._store.groups.mark_read(group_id)

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search across every group's messages, newest first."""
        return await self._store.messages.search(query, limit=limit)

    # --- templates -------------------------------------------------------------------------
    async def templates(
        self, refresh: bool = False, *, number: str | None = None
    ) -> list[Template]:
        """Approved message templates of a number's business account (cached in the
        store, per WABA); the first number's by default.

        Args:
            refresh: Read them from the API again.
            number: The number (label or id) whose WABA's templates to list.
        """
        client = self._template_client(number)
        waba = client.business_account_id if client is not None else None
        cached = await self._store.messages.templates(waba or "")
        if cached and not refresh:
            return cached
        if client is None or not waba:
            return cached
        raw = await client.templates.list()
        fresh = [t for t in (_template_from_api(r) for r in raw) if t is not None]
        await self._store.messages.save_templates(fresh, waba)
        return fresh

    def _template_client(self, number: str | None) -> Any:
        """The client whose WABA's templates are asked for (``None`` read-only)."""
        core = self._core
        if not core.has_client:
            return None
        if number is None:
            return core.client
        return core.api_for(core.number(number).phone_number_id)

    async def find_template(
        self,
        name: str,
        language: str | None = None,
        *,
        refresh: bool = False,
        number: str | None = None,
    ) -> Template:
        """The approved template called `name` (in `language`, if given).

        Args:
            name: The template's name.
            language: Its language, or ``None`` for any.
            refresh: When it is not in the cache, read the account's templates again once.
            number: The number (label or id) whose WABA's templates to search.

        Raises:
            ServiceError: No such template.
        """
        for attempt in (False, True) if refresh else (False,):
            for template in await self.templates(refresh=attempt, number=number):
                if template.name == name and (language is None or template.language == language):
                    return template
        raise ServiceError(
            f"no approved template named {name!r}" + (f" in {language}" if language else "")
        )

    # --- spend and health ------------------------------------------------------------------
    def _today(self) -> tuple[int, int]:
        now = self._core.clock()
        local = time.localtime(now)
        midnight = int(now) - (local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec)
        return midnight, midnight + 86_400

    async def spend_today(self, number: str | None = None) -> Decimal:
        """Sum of the cost ledger since local midnight (of one number: label or id)."""
        since, until = self._today()
        ledger = self._store.ledger
        return (await ledger.spend_between(since, until, self._core.number_id(number))).total

    async def spend_report(
        self, since: date, until: date, by: str = "day", number: str | None = None
    ) -> SpendReport:
        """Spend from the cost ledger over UTC days `since`..`until`, per `by` bucket.

        Args:
            since: First day (UTC).
            until: Last day (UTC, included).
            by: ``day`` (every day of the period, zeros included), ``group`` (with the
                subject as label), ``market``, ``category`` or ``number`` (with the
                number's label).
            number: Only this number's spend (label or id), if given.

        Raises:
            ServiceError: An unknown bucket, or `until` before `since`.
        """
        if until < since:
            raise ServiceError(f"the period ends ({until}) before it starts ({since})")
        t0 = int(datetime.combine(since, dt_time(), UTC).timestamp())
        t1 = int(datetime.combine(until + timedelta(days=1), dt_time(), UTC).timestamp())
        try:
            rows = await self._store.ledger.spend_by(by, t0, t1, self._core.number_id(number))
        except ValueError as exc:
            raise ServiceError(str(exc)) from exc
        if by == "day":
            found = {r.key: r for r in rows}
            days = (
                (since + timedelta(days=n)).isoformat() for n in range((until - since).days + 1)
            )
            rows = [found.get(d) or SpendRow(d, Decimal(0), 0, 0) for d in days]
        elif by == "group":
            subjects = await self.subjects([r.key for r in rows if r.key])
            rows = [replace(r, label=subjects.get(r.key or "")) for r in rows]
        elif by == "number":
            rows = [replace(r, label=self._core.label(r.key or "")) for r in rows]
        return SpendReport(
            by=by,
            since=since,
            until=until,
            total=sum((r.amount for r in rows), Decimal(0)),
            charges=sum(r.charges for r in rows),
            unknown=sum(r.unknown for r in rows),
            rows=tuple(rows),
        )

    async def service_allowance_used(self, phone_number_id: str | None = None) -> int:
        """Service deliveries this calendar month (of one number: the 1,000 free
        allowance is each number's; every number's together without one)."""
        today = datetime.fromtimestamp(self._core.clock(), UTC)
        return await self._store.ledger.service_messages_delivered_in_month(
            today.year, today.month, phone_number_id
        )

    async def spend_by_number(self) -> tuple[NumberSpend, ...]:
        """Today's spend and this month's service allowance, number by number (every
        configured number, in configuration order, then any other number that spent)."""
        since, until = self._today()
        today = datetime.fromtimestamp(self._core.clock(), UTC)
        ledger = self._store.ledger
        spend = await ledger.spend_by_number(since, until)
        used = await ledger.service_messages_by_number_in_month(today.year, today.month)
        allowance = rule_set_on(today.date(), self._core.rules).service_monthly_allowance
        ids = [n.phone_number_id for n in self._core.numbers]
        ids += sorted((set(spend) | set(used)) - set(ids))
        return tuple(
            NumberSpend(
                phone_number_id=pnid,
                label=self._core.label(pnid),
                today=spend[pnid].total if pnid in spend else Decimal(0),
                unknown=spend[pnid].unknown if pnid in spend else 0,
                service_used=used.get(pnid, 0),
                allowance=allowance,
            )
            for pnid in ids
        )

    async def listener_status(self) -> ListenerStatus:
        """How webhooks reach us, and their health."""
        # The raw log's module loads the applier and every webhook event (~25 ms), which
        # the inbox does not need: the first call (the TUI's header, once every row is
        # in) imports it off the event loop.
        await import_in_thread("groups_tui.store.raw_log")
        stats = await self._store.raw.stats()
        counters = await self._store.raw.counters()
        refused = counters.get(REFUSED_COUNTER, 0)
        if self._core.listener_url:
            mode = "in-process"
        else:
            beat = await self._store.feed.get_meta(HEARTBEAT_KEY)
            fresh = beat is not None and time.time() - float(beat) < HEARTBEAT_FRESH
            mode = "following" if fresh else "none"
        return ListenerStatus(
            mode=mode,
            last_event_at=stats.last_event_at,
            events_stored=stats.total,
            signatures_refused=refused,
            url=self._core.listener_url,
            failed_events=counters.get(FAILED_EVENTS_COUNTER, 0),
        )

    # --- synchronising from the API (live mode, or a missed webhook) -----------------------
    async def _group_client(self, group_id: str, number: str | None) -> tuple[Any, str]:
        """The client to read a group through, and its number: the group's own number
        when the store knows the group, else the number named (the first by default)."""
        core = self._core
        known = await self._store.groups.number_of(group_id)
        if known:
            return core.api_for(known), known
        if number is not None:
            pnid = core.number(number).phone_number_id
            return core.api_for(pnid), pnid
        client = core.api()
        return client, client.phone_number_id

    async def sync_group(self, group_id: str, number: str | None = None) -> None:
        """Fetch one group's info and members from the API into the store.

        Idempotent: a read records only what changed since the store last knew (a
        member not seen before, one gone since), never the same members again; see
        :class:`~groups_tui.domain.events.GroupRead`. The group is read through its own
        number (a group the store does not know yet, through ``number``: label or id).
        """
        if not self._core.has_client or group_id.startswith(PENDING_PREFIX):
            return
        # The webhook events (~12 ms of imports) are loaded by the syncs, not by the inbox.
        from groups_tui.domain.events import GroupRead, ParticipantRef

        client, pnid = await self._group_client(group_id, number)
        try:
            info = await client.groups.get(group_id)
        except ApiError as exc:
            raise ServiceError(str(exc), cause=exc) from exc
        now = self._core.now()
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
            phone_number_id=pnid,
        )
        await self._store.raw.apply_events(None, [read])

    async def sync_groups(self, number: str | None = None) -> int:
        """List the active groups of every number (or of one: label or id) and fetch
        those the store does not know, each through its own number."""
        core = self._core
        if not core.has_client:
            return 0
        numbers = [core.number(number)] if number is not None else list(core.numbers)
        pnids = [n.phone_number_id for n in numbers if core.acts_for(n.phone_number_id)]
        if not pnids:
            pnids = [core.api().phone_number_id]
        fetched = 0
        for pnid in pnids:
            try:
                async for summary in core.api_for(pnid).groups.list():
                    if await self._store.groups.get(summary.id) is None:
                        await self.sync_group(summary.id, pnid)
                        fetched += 1
            except ApiError as exc:
                raise ServiceError(str(exc), cause=exc) from exc
        return fetched

    async def sync_join_requests(self, group_id: str) -> None:
        """Fetch pending join requests from the API into the store (through the
        group's number)."""
        if not self._core.has_client:
            return
        from groups_tui.domain.events import JoinRequestCreated, ParticipantRef

        client, pnid = await self._group_client(group_id, None)
        try:
            items = await client.join_requests.list(group_id)
        except ApiError as exc:
            raise ServiceError(str(exc), cause=exc) from exc
        events = [
            JoinRequestCreated(
                group_id=group_id,
                join_request_id=i.join_request_id,
                participant=ParticipantRef(wa_id=i.wa_id, user_id=i.user_id, username=i.username),
                at=int(i.creation_timestamp or self._core.now()),
                phone_number_id=pnid,
            )
            for i in items
        ]
        if events:
            await self._store.raw.apply_events(None, events)


def _present_at(history: Sequence[HistoryEntry], at: int) -> set[str] | None:
    """Keys of the members present at `at` from the membership history (oldest first),
    or ``None`` without any history to tell."""
    present: dict[str, bool] = {}
    for entry in history:
        if entry.at > at:
            break
        if entry.action == "join":
            present[entry.participant_key] = True
        elif entry.action in ("leave", "remove"):
            present[entry.participant_key] = False
    return {key for key, here in present.items() if here} if present else None


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
            body_params = placeholder_count(text)
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
