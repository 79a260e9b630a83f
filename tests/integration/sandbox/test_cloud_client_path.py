"""The project's Cloud API client against the sandbox: the real production path."""

from __future__ import annotations

import pytest

from groups_tui.cloud.client import CloudClient
from groups_tui.cloud.errors import ApiError, AuthError

from .conftest import PHONE_ID, TOKEN, WABA_ID, Receiver, ServerFactory, control, outsiders


async def test_client_create_list_get_and_send(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server()
    async with CloudClient(
        access_token=TOKEN,
        phone_number_id=PHONE_ID,
        business_account_id=WABA_ID,
        base_url=server.base_url,
    ) as client:
        request_id = await client.groups.create("Client path", join_approval=True)
        item = (
            await receiver.wait_for(
                lambda: receiver.group_items("group_lifecycle_update", "group_create")
            )
        )[0]
        assert item["request_id"] == request_id
        gid = item["group_id"]
        listed = [g async for g in client.groups.list()]
        assert [g.id for g in listed] == [gid]
        wa = outsiders(server, 1)[0]
        async with control(server) as ctl:
            await ctl.post(f"/groups/{gid}/join_request", json={"wa_id": wa})
        requests = await client.join_requests.list(gid)
        assert len(requests) == 1
        await client.join_requests.approve(gid, [requests[0].join_request_id])
        info = await client.groups.get(gid)
        assert info.total_participant_count == 1
        with pytest.raises(ApiError) as refused:
            await client.messages.send_text(gid, "outside the window")
        assert refused.value.code == 131047
        templates = await client.templates.list()
        assert any(t.name == "weekly_offers" for t in templates)
        link = await client.invite_links.reset(gid)
        assert link.startswith("https://chat.whatsapp.com/")


async def test_client_sees_auth_error(make_server: ServerFactory) -> None:
    server = await make_server()
    async with CloudClient(
        access_token="bad", phone_number_id=PHONE_ID, base_url=server.base_url
    ) as client:
        with pytest.raises(AuthError) as err:
            await client.invite_links.get("Y2FwaV9ncm91cDp4ZD")
    assert err.value.code == 190
