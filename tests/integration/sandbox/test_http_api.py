"""The Graph surface over real HTTP: auth, async group lifecycle, limits and errors."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from groups_tui.sandbox import SandboxKnobs

from .conftest import (
    PHONE_ID,
    Receiver,
    ServerFactory,
    api,
    control,
    create_group,
    outsiders,
)

WA = {"messaging_product": "whatsapp"}


def jpeg(width: int, height: int) -> bytes:
    """A minimal JPEG header (SOI, SOF0, EOI) with the given size."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def graph_error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["type"] == "OAuthException"
    assert error["fbtrace_id"]
    assert error["message"]
    return error


async def test_wrong_or_missing_token_gets_meta_error(make_server: ServerFactory) -> None:
    server = await make_server()
    async with api(server, token="wrong") as http:
        r = await http.get(f"/{PHONE_ID}/groups")
    assert r.status_code == 401
    error = graph_error(r)
    assert error["code"] == 190
    assert "error_subcode" in error
    async with api(server) as http:
        r = await http.get(f"/{PHONE_ID}/groups", headers={"Authorization": ""})
    assert r.status_code == 401 and graph_error(r)["code"] == 190


async def test_create_answers_request_id_and_webhook_brings_id_and_link(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server()
    async with api(server) as http:
        r = await http.post(
            f"/{PHONE_ID}/groups",
            json={**WA, "subject": "  Order 1042  ", "join_approval_mode": "approval_required"},
        )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"messaging_product", "request_id"}
    item = await receiver.wait_for(
        lambda: receiver.group_items("group_lifecycle_update", "group_create"), what="create"
    )
    item = item[0]
    assert item["request_id"] == body["request_id"]
    assert item["subject"] == "Order 1042"
    assert item["invite_link"].startswith("https://chat.whatsapp.com/")
    assert item["join_approval_mode"] == "approval_required"
    assert isinstance(item["timestamp"], str)
    delivery = receiver.deliveries[0]
    assert delivery.signature_ok
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.payload["object"] == "whatsapp_business_account"
    entry = delivery.payload["entry"][0]
    assert entry["id"] == server.world.business_account_id
    value = entry["changes"][0]["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"]["phone_number_id"] == PHONE_ID
    # Meta escapes "/" and non-ASCII; the signature is over these exact bytes.
    assert b"https:\\/\\/chat.whatsapp.com\\/" in delivery.body
    # Listing and reading the new group.
    async with api(server) as http:
        listed = (await http.get(f"/{PHONE_ID}/groups")).json()
        info = (
            await http.get(
                f"/{item['group_id']}",
                params={"fields": "subject,participants,total_participant_count,suspended"},
            )
        ).json()
        bare = (await http.get(f"/{item['group_id']}")).json()
        link = (await http.get(f"/{item['group_id']}/invite_link")).json()
    assert listed["data"]["groups"][0]["id"] == item["group_id"]
    assert isinstance(listed["data"]["groups"][0]["created_at"], str)
    assert info["total_participant_count"] == 0 and info["participants"] == []
    assert info["suspended"] is False
    assert set(bare) == {"id", "messaging_product"}
    assert link["invite_link"] == item["invite_link"]


async def test_bad_create_parameters(make_server: ServerFactory) -> None:
    server = await make_server()
    async with api(server) as http:
        long = await http.post(f"/{PHONE_ID}/groups", json={**WA, "subject": "x" * 129})
        empty = await http.post(f"/{PHONE_ID}/groups", json={**WA, "subject": "   "})
        wrong_phone = await http.post("/999/groups", json={**WA, "subject": "x"})
        no_product = await http.post(f"/{PHONE_ID}/groups", json={"subject": "x"})
    for r in (long, empty, wrong_phone, no_product):
        assert r.status_code == 400
        assert graph_error(r)["code"] == 100


async def test_join_by_link_sends_participants_webhook(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server()
    group = await create_group(server, receiver)
    wa = outsiders(server, 1)[0]
    async with control(server) as ctl:
        r = await ctl.post(f"/groups/{group['group_id']}/join", json={"wa_id": wa})
    assert r.status_code == 200 and r.json() == {"wa_id": wa}
    adds = await receiver.wait_for(
        lambda: receiver.group_items("group_participants_update", "group_participants_add")
    )
    assert adds[0]["group_id"] == group["group_id"]
    assert adds[0]["reason"] == "invite_link"
    assert adds[0]["added_participants"] == [{"wa_id": wa}]


async def test_ninth_participant_is_refused(make_server: ServerFactory, receiver: Receiver) -> None:
    server = await make_server()
    auto = await create_group(server, receiver, "auto")
    approval = await create_group(server, receiver, "approval", mode="approval_required")
    people = outsiders(server, 10)
    async with control(server) as ctl:
        for wa in people[:8]:
            assert (
                await ctl.post(f"/groups/{auto['group_id']}/join", json={"wa_id": wa})
            ).is_success
        ninth = await ctl.post(f"/groups/{auto['group_id']}/join", json={"wa_id": people[8]})
        assert ninth.status_code == 409 and "full" in ninth.json()["error"]
        for wa in people[:7]:
            assert (
                await ctl.post(f"/groups/{approval['group_id']}/join", json={"wa_id": wa})
            ).status_code == 409
        requests = []
        for wa in people:
            r = await ctl.post(f"/groups/{approval['group_id']}/join_request", json={"wa_id": wa})
            requests.append(r.json()["join_request_id"])
    async with api(server) as http:
        listed = (await http.get(f"/{approval['group_id']}/join_requests")).json()
        assert len(listed["data"]) == 10
        assert {"join_request_id", "wa_id", "creation_timestamp"} <= set(listed["data"][0])
        r = await http.post(
            f"/{approval['group_id']}/join_requests", json={**WA, "join_requests": requests}
        )
    assert r.status_code == 200
    result = r.json()
    assert result["approved_join_requests"] == requests[:8]
    failed = result["failed_join_requests"]
    assert [f["join_request_id"] for f in failed] == requests[8:]
    assert all(f["errors"][0]["code"] == 131204 for f in failed)
    adds = await receiver.wait_for(
        lambda: [
            i
            for i in receiver.group_items("group_participants_update", "group_participants_add")
            if i["group_id"] == approval["group_id"]
        ]
    )
    assert len(adds[0]["added_participants"]) == 8
    assert adds[0]["added_participants"][0]["input"].startswith("+")
    # Reject the rest (no webhook), and an unknown id fails per item.
    async with api(server) as http:
        r = await http.request(
            "DELETE",
            f"/{approval['group_id']}/join_requests",
            json={**WA, "join_requests": [requests[8], "bm9wZQ"]},
        )
    assert r.json()["rejected_join_requests"] == [requests[8]]
    assert r.json()["failed_join_requests"][0]["errors"][0]["code"] == 131213


async def test_send_errors_for_group_rules(make_server: ServerFactory, receiver: Receiver) -> None:
    server = await make_server()
    group = await create_group(server, receiver)
    gid = group["group_id"]

    async def send(body: dict[str, Any]) -> Any:
        async with api(server) as http:
            return await http.post(
                f"/{PHONE_ID}/messages", json={**WA, "recipient_type": "group", "to": gid, **body}
            )

    template = {
        "type": "template",
        "template": {
            "name": "weekly_offers",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "20%"}]}],
        },
    }
    r = await send(template)
    assert r.status_code == 400 and graph_error(r)["code"] == 131020
    wa = outsiders(server, 1)[0]
    async with control(server) as ctl:
        await ctl.post(f"/groups/{gid}/join", json={"wa_id": wa})
    r = await send({"type": "text", "text": {"body": "hello"}})
    assert graph_error(r)["code"] == 131047
    r = await send({"type": "interactive", "interactive": {"type": "button"}})
    assert graph_error(r)["code"] == 131051
    auth = {
        "type": "template",
        "template": {
            "name": "login_code",
            "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "123456"}]}],
        },
    }
    r = await send(auth)
    assert graph_error(r)["code"] == 131051
    r = await send(
        {"type": "template", "template": {"name": "nope", "language": {"code": "en_US"}}}
    )
    assert r.status_code == 404 and graph_error(r)["code"] == 132001
    r = await send(
        {"type": "template", "template": {"name": "weekly_offers", "language": {"code": "en_US"}}}
    )
    assert graph_error(r)["code"] == 132000
    r = await send(template)
    assert r.status_code == 200
    sent = r.json()
    assert sent["messages"][0]["id"].startswith("wamid.")
    assert sent["messages"][0]["group_id"] == gid
    assert sent["contacts"] == [{"input": gid, "wa_id": gid}]
    # A member writes: the window opens and free-form goes through.
    async with control(server) as ctl:
        await ctl.post(f"/groups/{gid}/message", json={"wa_id": wa, "text": "hi"})
    r = await send({"type": "text", "text": {"body": "hello"}})
    assert r.status_code == 200
    unknown = await send({"to": "Y2FwaV9ncm91cDpub3BlZD", "type": "text", "text": {"body": "x"}})
    assert graph_error(unknown)["code"] == 131041
    async with control(server) as ctl:
        await ctl.post(f"/groups/{gid}/suspend", json={})
    r = await send(template)
    assert r.status_code == 403 and graph_error(r)["code"] == 131207


async def test_settings_picture_and_subject(make_server: ServerFactory, receiver: Receiver) -> None:
    server = await make_server()
    gid = (await create_group(server, receiver))["group_id"]
    async with api(server) as http:
        too_long = await http.post(f"/{gid}", json={**WA, "subject": "s" * 129})
        assert too_long.status_code == 400 and graph_error(too_long)["code"] == 100
        ok = await http.post(f"/{gid}", json={**WA, "subject": "Renamed", "description": "d"})
        assert ok.status_code == 200
        files = {"file": ("pic.jpg", jpeg(300, 200), "image/jpeg")}
        not_square = await http.post(f"/{gid}", data={"messaging_product": "whatsapp"}, files=files)
        files = {"file": ("pic.jpg", jpeg(150, 150), "image/jpeg")}
        small = await http.post(f"/{gid}", data={"messaging_product": "whatsapp"}, files=files)
        files = {"file": ("pic.png", b"\x89PNG....", "image/png")}
        png = await http.post(f"/{gid}", data={"messaging_product": "whatsapp"}, files=files)
        files = {"file": ("pic.jpg", jpeg(640, 640), "image/jpeg")}
        good = await http.post(
            f"/{gid}", data={"messaging_product": "whatsapp", "subject": "With pic"}, files=files
        )
    for r in (not_square, small, png, good):
        assert r.status_code == 200
    items = await receiver.wait_for(
        lambda: (lambda x: x if len(x) == 5 else None)(
            receiver.group_items("group_settings_update")
        ),
        what="5 settings webhooks",
    )
    by_request = {i["request_id"]: i for i in items}
    first = by_request[ok.json()["request_id"]]
    assert first["group_subject"] == {"text": "Renamed", "update_successful": True}
    assert "errors" not in first
    codes = [
        by_request[r.json()["request_id"]]["profile_picture"]["errors"][0]["code"]
        for r in (not_square, small, png)
    ]
    assert codes == [131209, 131210, 131053]
    assert all(
        by_request[r.json()["request_id"]]["profile_picture"]["update_successful"] is False
        for r in (not_square, small, png)
    )
    last = by_request[good.json()["request_id"]]
    assert last["profile_picture"]["update_successful"] is True
    assert last["group_subject"]["text"] == "With pic"
    assert server.world.groups[gid].subject == "With pic"


async def test_remove_participants(make_server: ServerFactory, receiver: Receiver) -> None:
    server = await make_server()
    gid = (await create_group(server, receiver))["group_id"]
    people = outsiders(server, 3)
    async with control(server) as ctl:
        for wa in people[:2]:
            await ctl.post(f"/groups/{gid}/join", json={"wa_id": wa})
    async with api(server) as http:
        too_many = await http.request(
            "DELETE",
            f"/{gid}/participants",
            json={**WA, "participants": [{"user": str(n)} for n in range(9)]},
        )
        dup = await http.request(
            "DELETE",
            f"/{gid}/participants",
            json={**WA, "participants": [{"user": people[0]}, {"user": "+" + people[0]}]},
        )
        r = await http.request(
            "DELETE",
            f"/{gid}/participants",
            json={**WA, "participants": [{"user": "+" + people[0]}, {"user": people[2]}]},
        )
    assert too_many.status_code == 400 and graph_error(too_many)["code"] == 100
    assert graph_error(dup)["code"] == 131202
    assert r.status_code == 200 and "request_id" in r.json()
    item = (
        await receiver.wait_for(
            lambda: receiver.group_items("group_participants_update", "group_participants_remove")
        )
    )[0]
    assert item["request_id"] == r.json()["request_id"]
    assert item["initiated_by"] == "business"
    assert item["removed_participants"] == [{"input": "+" + people[0]}]
    assert item["failed_participants"][0]["input"] == people[2]
    assert item["failed_participants"][0]["errors"][0]["code"] == 131212
    # Removed people cannot come back by link.
    async with control(server) as ctl:
        again = await ctl.post(f"/groups/{gid}/join", json={"wa_id": people[0]})
    assert again.status_code == 409


async def test_delete_group_confirms_by_webhook(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server()
    gid = (await create_group(server, receiver))["group_id"]
    async with api(server) as http:
        r = await http.delete(f"/{gid}")
        assert r.json() == {"success": True}
        item = (
            await receiver.wait_for(
                lambda: receiver.group_items("group_lifecycle_update", "group_delete")
            )
        )[0]
        assert item["group_id"] == gid and item["request_id"]
        gone = await http.get(f"/{gid}")
    assert graph_error(gone)["code"] == 131041


async def test_group_limit_is_reported_by_failure_webhook(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    server = await make_server(knobs=SandboxKnobs(op_delay=0, max_groups=2))
    await create_group(server, receiver, "one")
    await create_group(server, receiver, "two")
    async with api(server) as http:
        r = await http.post(f"/{PHONE_ID}/groups", json={**WA, "subject": "three"})
    assert r.status_code == 200
    rid = r.json()["request_id"]
    failed = await receiver.wait_for(
        lambda: [
            i
            for i in receiver.group_items("group_lifecycle_update", "group_create")
            if i["request_id"] == rid
        ]
    )
    assert failed[0]["errors"][0]["code"] == 131211
    assert "invite_link" not in failed[0]
    assert server.world.groups.active_count == 2


async def test_throttling_when_faster_than_the_configured_rate(
    make_server: ServerFactory, receiver: Receiver
) -> None:
    frozen = 1000.0
    server = await make_server(
        knobs=SandboxKnobs(
            op_delay=0,
            messages_per_second=3,
            message_burst=3,
            group_ops_per_second=2,
            group_ops_burst=2,
        ),
        limiter_time=lambda: frozen,
    )
    async with api(server) as http:
        creates = [
            await http.post(f"/{PHONE_ID}/groups", json={**WA, "subject": f"g{i}"})
            for i in range(4)
        ]
        sends = [
            await http.post(
                f"/{PHONE_ID}/messages",
                json={
                    **WA,
                    "recipient_type": "group",
                    "to": "x",
                    "type": "text",
                    "text": {"body": "x"},
                },
            )
            for _ in range(5)
        ]
    assert [r.status_code for r in creates] == [200, 200, 429, 429]
    assert graph_error(creates[2])["code"] == 131208
    throttled = [r for r in sends if r.status_code == 400 and r.json()["error"]["code"] == 130429]
    assert len(throttled) == 2
    assert graph_error(throttled[0])["error_subcode"] == 2494055


async def test_media_upload_download_and_templates(make_server: ServerFactory) -> None:
    server = await make_server()
    data = b"%PDF-1.4 invoice"
    async with api(server) as http:
        up = await http.post(
            f"/{PHONE_ID}/media",
            data={"messaging_product": "whatsapp", "type": "application/pdf"},
            files={"file": ("invoice.pdf", data, "application/pdf")},
        )
        mid = up.json()["id"]
        info = (await http.get(f"/{mid}")).json()
        blob = await http.get(info["url"])
        bad = await http.post(
            f"/{PHONE_ID}/media",
            data={"messaging_product": "whatsapp"},
            files={"file": ("x.exe", b"MZ", "application/x-msdownload")},
        )
        templates = (
            await http.get(f"/{server.world.business_account_id}/message_templates")
        ).json()
        deleted = (await http.delete(f"/{mid}")).json()
    assert info["mime_type"] == "application/pdf"
    assert info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["file_size"] == str(len(data))
    assert blob.content == data
    assert graph_error(bad)["code"] == 131053
    categories = {t["name"]: t["category"] for t in templates["data"]}
    assert categories["weekly_offers"] == "MARKETING"
    assert categories["login_code"] == "AUTHENTICATION"
    assert deleted == {"success": True}


async def test_list_groups_pages_with_cursors(make_server: ServerFactory) -> None:
    server = await make_server(groups=30)
    seen: list[str] = []
    async with api(server) as http:
        url: str | None = f"/{PHONE_ID}/groups?limit=7"
        for _ in range(10):
            if url is None:
                break
            page = (await http.get(url)).json()
            seen += [g["id"] for g in page["data"]["groups"]]
            url = page.get("paging", {}).get("next")
        bad = await http.get(f"/{PHONE_ID}/groups", params={"after": "garbage!"})
    assert len(seen) == 30 == len(set(seen))
    assert graph_error(bad)["code"] == 131059
