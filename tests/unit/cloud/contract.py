"""Behavioural contract of :class:`CloudClient` against any Graph-compatible backend.

Each ``contract_*`` function takes a client and a :class:`Backend` and asserts what a
caller may rely on. ``test_contract_respx.py`` runs them against an in-memory fake behind
respx; a sandbox backend can run the same functions over real HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import pytest

from groups_tui.cloud import (
    AuthError,
    CloudClient,
    HeaderParam,
    InvalidRequestError,
    NotFoundError,
    template_components,
)

MEMBERS = ["16505551234", "447700900123", "4915112345678"]
UNKNOWN_GROUP_ID = "Y2FwaV9ncm91cDpub3QtYS1ncm91cC1hdC1hbGwZD"
INVITE_PREFIX = "https://chat.whatsapp.com/"


class Backend(Protocol):
    """What a contract run needs from the server side, beyond the client itself."""

    async def seed_group(
        self, subject: str, members: list[str], join_approval: bool = False
    ) -> str:
        """Create a group with these members (``wa_id``s) and return its id."""
        ...

    async def add_join_request(self, group_id: str, wa_id: str) -> str:
        """File a join request from ``wa_id`` and return the join request id."""
        ...

    async def set_window_open(self, group_id: str) -> None:
        """Open the group's 24-hour window (a member writes to the group)."""
        ...

    async def seed_template(self, name: str, language: str, category: str) -> None:
        """Register an approved message template on the WABA."""
        ...

    async def created_group_id(self, request_id: str) -> str | None:
        """Return the group produced by a create request, once known (webhook)."""
        ...

    async def settle(self) -> None:
        """Let asynchronous operations (create, remove, settings) take effect."""
        ...

    def client_with_token(self, access_token: str) -> CloudClient:
        """Return a client for this backend that uses another access token."""
        ...

    async def add_hidden_member(self, group_id: str) -> str:
        """Add someone known only by a business-scoped user id; return that id."""
        ...

    async def raw_call(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Send a request the client would never build; return its status and body."""
        ...


ContractFn = Callable[[CloudClient, Backend], Awaitable[None]]


async def contract_create_group_returns_request_id(client: CloudClient, backend: Backend) -> None:
    request_id = await client.groups.create(
        "  Order 1042 - delivery coordination  ",
        "Driver, warehouse and customer for order 1042.",
        join_approval=True,
    )
    assert isinstance(request_id, str) and request_id
    await backend.settle()
    group_id = await backend.created_group_id(request_id)
    assert group_id
    info = await client.groups.get(group_id)
    assert info.subject == "Order 1042 - delivery coordination"
    assert info.approval_required


async def contract_get_group_info(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Order 1043", MEMBERS[:2], join_approval=True)
    info = await client.groups.get(group_id)
    assert info.subject == "Order 1043"
    assert info.join_approval_mode == "approval_required"
    assert info.suspended is False
    assert isinstance(info.creation_timestamp, int) and info.creation_timestamp > 0
    assert info.total_participant_count == 2
    assert {p.wa_id for p in info.participants} == set(MEMBERS[:2])


async def contract_list_groups_follows_paging(client: CloudClient, backend: Backend) -> None:
    seeded = {await backend.seed_group(f"Paging {i}", MEMBERS[:1]) for i in range(5)}
    listed = [group async for group in client.groups.list(limit=2)]
    ids = [group.id for group in listed]
    assert len(ids) == len(set(ids))
    assert seeded <= set(ids)
    by_id = {group.id: group for group in listed}
    assert all((by_id[gid].subject or "").startswith("Paging") for gid in seeded)


async def contract_invite_link_get_and_reset(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Links", MEMBERS[:1])
    first = await client.invite_links.get(group_id)
    assert first.startswith(INVITE_PREFIX)
    fresh = await client.invite_links.reset(group_id)
    assert fresh.startswith(INVITE_PREFIX)
    assert fresh != first
    assert await client.invite_links.get(group_id) == fresh


async def contract_join_requests_list_approve_reject(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Approval", MEMBERS[:1], join_approval=True)
    requesters = ["16505550001", "16505550002", "16505550003"]
    request_ids = [await backend.add_join_request(group_id, wa) for wa in requesters]

    pending = await client.join_requests.list(group_id)
    assert {item.join_request_id for item in pending} == set(request_ids)
    assert {item.wa_id for item in pending} == set(requesters)

    approved = await client.join_requests.approve(group_id, [request_ids[0]])
    assert approved.approved == [request_ids[0]]
    assert approved.failed == []
    rejected = await client.join_requests.reject(group_id, [request_ids[1]])
    assert rejected.rejected == [request_ids[1]]
    assert rejected.failed == []

    await backend.settle()
    remaining = await client.join_requests.list(group_id)
    assert [item.join_request_id for item in remaining] == [request_ids[2]]


async def contract_remove_participants(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Removal", MEMBERS)
    await client.participants.remove(group_id, [MEMBERS[0]])
    await backend.settle()
    info = await client.groups.get(group_id)
    assert {p.wa_id for p in info.participants} == set(MEMBERS[1:])


async def contract_send_text(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Texts", MEMBERS[:2])
    await backend.set_window_open(group_id)
    sent = await client.messages.send_text(group_id, "Driver is 10 minutes away", preview_url=False)
    assert sent.message_id
    if sent.messages[0].group_id is not None:
        assert sent.messages[0].group_id == group_id


async def contract_send_text_needs_open_window(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Closed window", MEMBERS[:2])
    with pytest.raises(InvalidRequestError) as caught:
        await client.messages.send_text(group_id, "Anyone there?")
    assert caught.value.code == 131047


async def contract_send_to_lonely_group_fails(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Only me", [])
    with pytest.raises(InvalidRequestError) as caught:
        await client.messages.send_template(group_id, "delivery_update_group", "en_US")
    assert caught.value.code == 131020


async def contract_upload_and_send_media(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Media", MEMBERS[:2])
    await backend.set_window_open(group_id)
    media_id = await client.media.upload(b"\xff\xd8\xff\xe0fake-jpeg", "image/jpeg", "pod.jpg")
    assert media_id
    sent = await client.messages.send_media(group_id, "image", media_id=media_id, caption="Proof")
    assert sent.message_id


async def contract_send_template(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Templates", MEMBERS[:2])
    components = template_components(
        ["1042", "14:30"], HeaderParam(kind="image", link="https://example.com/truck.jpg")
    )
    sent = await client.messages.send_template(
        group_id, "delivery_update_group", "en_US", components=components
    )
    assert sent.message_id


async def contract_send_invite_link_template(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Invites", MEMBERS[:1])
    sent = await client.messages.send_invite_link_template(
        "+16505559999", "group_invite_upon_request", "en", group_id
    )
    assert sent.message_id


async def contract_list_message_templates(client: CloudClient, backend: Backend) -> None:
    names = ["delivery_update_group", "pickup_ready", "group_invite_upon_request"]
    for name in names:
        await backend.seed_template(name, "en_US", "UTILITY")
    templates = await client.templates.list()
    listed = {t.name for t in templates}
    assert set(names) <= listed
    assert all(t.status == "APPROVED" for t in templates)


async def contract_ninth_participant_is_refused(client: CloudClient, backend: Backend) -> None:
    eight = [f"1650555{n:04d}" for n in range(8)]
    group_id = await backend.seed_group("Full house", eight, join_approval=True)
    request_id = await backend.add_join_request(group_id, "16505559999")
    # Meta may report the limit per item or as a request error: accept both.
    try:
        result = await client.join_requests.approve(group_id, [request_id])
    except InvalidRequestError as exc:
        assert exc.code == 131204
    else:
        assert result.approved == []
        assert [item.ref for item in result.failed] == [request_id]
        assert 131204 in result.failed[0].codes


async def contract_unknown_group_is_not_found(client: CloudClient, backend: Backend) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.groups.get(UNKNOWN_GROUP_ID)
    assert caught.value.code == 131041


async def contract_bad_token_is_auth_error(client: CloudClient, backend: Backend) -> None:
    group_id = await backend.seed_group("Tokens", MEMBERS[:1])
    async with backend.client_with_token("not-a-valid-token") as intruder:
        with pytest.raises(AuthError) as caught:
            await intruder.groups.get(group_id)
    assert "not-a-valid-token" not in str(caught.value)
    assert "not-a-valid-token" not in repr(caught.value)


async def contract_remove_a_member_known_only_by_bsuid(
    client: CloudClient, backend: Backend
) -> None:
    # A BSUID goes in `user_id`, a number in `user`; the backend refuses any other
    # combination, so both members leaving proves each was named as Meta defines it.
    group_id = await backend.seed_group("Usernames", MEMBERS[:2])
    bsuid = await backend.add_hidden_member(group_id)
    info = await client.groups.get(group_id)
    [hidden] = [p for p in info.participants if p.user_id == bsuid]
    assert hidden.wa_id is None and hidden.key == bsuid
    assert {p.wa_id for p in info.participants} == {*MEMBERS[:2], None}

    await client.participants.remove(group_id, [MEMBERS[0], bsuid])
    await backend.settle()

    info = await client.groups.get(group_id)
    assert {p.wa_id or p.user_id for p in info.participants} == {MEMBERS[1]}


async def contract_a_bsuid_in_user_or_both_fields_is_refused(
    client: CloudClient, backend: Backend
) -> None:
    group_id = await backend.seed_group("Strict", MEMBERS[:1])
    bsuid = await backend.add_hidden_member(group_id)
    for entry in (
        {"user": bsuid},
        {"user": MEMBERS[0], "user_id": bsuid},
        {"user_id": MEMBERS[0]},
    ):
        status, body = await backend.raw_call(
            "DELETE",
            f"{group_id}/participants",
            {"messaging_product": "whatsapp", "participants": [entry]},
        )
        assert status == 400, entry
        assert body["error"]["code"] == 100, entry
    await backend.settle()
    info = await client.groups.get(group_id)
    assert {p.wa_id or p.user_id for p in info.participants} == {MEMBERS[0], bsuid}


CONTRACTS: tuple[ContractFn, ...] = (
    contract_create_group_returns_request_id,
    contract_get_group_info,
    contract_list_groups_follows_paging,
    contract_invite_link_get_and_reset,
    contract_join_requests_list_approve_reject,
    contract_remove_participants,
    contract_remove_a_member_known_only_by_bsuid,
    contract_a_bsuid_in_user_or_both_fields_is_refused,
    contract_send_text,
    contract_send_text_needs_open_window,
    contract_send_to_lonely_group_fails,
    contract_upload_and_send_media,
    contract_send_template,
    contract_send_invite_link_template,
    contract_list_message_templates,
    contract_ninth_participant_is_refused,
    contract_unknown_group_is_not_found,
    contract_bad_token_is_auth_error,
)
"""Every contract, in a stable order, for parametrized runners."""
