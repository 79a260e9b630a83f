"""Request shapes of every call: method, versioned path, bearer header, body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from groups_tui.cloud import (
    CloudClient,
    HeaderParam,
    InvalidRequestError,
    PartialFailure,
    UnexpectedResponseError,
    template_components,
)
from groups_tui.cloud.resources.participants import participant_entry

from .support import API, GROUP_ID, PHONE_NUMBER_ID, TOKEN, WABA_ID, graph_error, json_body

SEND_OK = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": GROUP_ID, "wa_id": GROUP_ID}],
    "messages": [{"id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI4", "group_id": GROUP_ID}],
}


def only_request(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    return request


def multipart_fields(request: httpx.Request) -> bytes:
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    return request.content


async def test_create_group_trims_subject_and_returns_request_id(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/groups").respond(
        json={"messaging_product": "whatsapp", "request_id": 106540352242922}
    )
    request_id = await client.groups.create("  Order 1042  ", "Driver and customer", True)
    assert request_id == "106540352242922"
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "subject": "Order 1042",
        "join_approval_mode": "approval_required",
        "description": "Driver and customer",
    }


async def test_create_group_defaults_to_auto_approve(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/groups").respond(json={"request_id": "r1"})
    await client.groups.create("Order 1043")
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "subject": "Order 1043",
        "join_approval_mode": "auto_approve",
    }


@pytest.mark.parametrize(
    ("subject", "description"),
    [("", None), ("   ", None), ("x" * 129, None), ("ok", "d" * 2049)],
    ids=["empty", "blank", "subject-129", "description-2049"],
)
async def test_create_group_validates_locally(
    client: CloudClient, router: respx.Router, subject: str, description: str | None
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/groups")
    with pytest.raises(ValueError):
        await client.groups.create(subject, description)
    assert route.call_count == 0


async def test_create_group_accepts_128_characters(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/groups").respond(json={"request_id": "r"})
    await client.groups.create(" " + "x" * 128 + " ")
    assert json_body(only_request(route))["subject"] == "x" * 128


async def test_get_group_requests_default_fields_and_parses_string_values(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.get(f"{API}/{GROUP_ID}").respond(
        json={
            "messaging_product": "whatsapp",
            "id": GROUP_ID,
            "subject": "Order 1042",
            "creation_timestamp": "1767225600",
            "suspended": "false",
            "total_participant_count": "2",
            "participants": [
                {"wa_id": "16505551234"},
                {"user_id": "US.13491208655302741918", "username": "ana"},
            ],
            "join_approval_mode": "approval_required",
            "brand_new_field": {"x": 1},
        }
    )
    info = await client.groups.get(GROUP_ID)
    request = only_request(route)
    assert request.url.params["fields"] == (
        "subject,description,participants,join_approval_mode,suspended,"
        "creation_timestamp,total_participant_count"
    )
    assert info.suspended is False
    assert info.creation_timestamp == 1767225600
    assert info.total_participant_count == 2
    assert [p.key for p in info.participants] == ["16505551234", "US.13491208655302741918"]
    assert info.participants[1].wa_id is None
    assert info.approval_required


async def test_list_groups_follows_next_to_the_end(
    client: CloudClient, router: respx.Router
) -> None:
    pages = [
        {
            "data": {"groups": [{"id": "g1", "subject": "A", "created_at": "1767225600"}]},
            "paging": {
                "cursors": {"after": "C1", "before": "B0"},
                "next": f"{API}/{PHONE_NUMBER_ID}/groups?limit=1&after=C1",
            },
        },
        {
            "data": {"groups": [{"id": "g2", "subject": "B", "created_at": 1767229200}]},
            "paging": {
                "cursors": {"after": "C2", "before": "C1"},
                "next": f"{API}/{PHONE_NUMBER_ID}/groups?limit=1&after=C2",
            },
        },
        {"data": {"groups": [{"id": "g3", "subject": "C"}]}, "paging": {"cursors": {}}},
    ]
    route = router.get(f"{API}/{PHONE_NUMBER_ID}/groups").mock(
        side_effect=[httpx.Response(200, json=p) for p in pages]
    )
    groups = [g async for g in client.groups.list(limit=1)]
    assert [(g.id, g.created_at) for g in groups] == [
        ("g1", 1767225600),
        ("g2", 1767229200),
        ("g3", None),
    ]
    params = [dict(call.request.url.params) for call in route.calls]
    assert params == [{"limit": "1"}, {"limit": "1", "after": "C1"}, {"limit": "1", "after": "C2"}]


async def test_list_groups_restarts_once_on_expired_cursor_without_duplicates(
    client: CloudClient, router: respx.Router
) -> None:
    first = {
        "data": {"groups": [{"id": "g1"}, {"id": "g2"}]},
        "paging": {"cursors": {"after": "C1"}, "next": f"{API}/x?after=C1"},
    }
    last = {"data": {"groups": [{"id": "g3"}]}, "paging": {}}
    route = router.get(f"{API}/{PHONE_NUMBER_ID}/groups").mock(
        side_effect=[
            httpx.Response(200, json=first),
            graph_error("131059", "(#131059) Invalid pagination cursor"),
            httpx.Response(200, json=first),
            httpx.Response(200, json=last),
        ]
    )
    ids = [g.id async for g in client.groups.list()]
    assert ids == ["g1", "g2", "g3"]
    assert route.call_count == 4
    assert "after" not in route.calls[2].request.url.params


async def test_list_groups_gives_up_on_a_second_expired_cursor(
    client: CloudClient, router: respx.Router
) -> None:
    first = {
        "data": {"groups": [{"id": "g1"}]},
        "paging": {"cursors": {"after": "C1"}, "next": f"{API}/x?after=C1"},
    }
    expired = graph_error(131059, "(#131059) Invalid pagination cursor")
    router.get(f"{API}/{PHONE_NUMBER_ID}/groups").mock(
        side_effect=[httpx.Response(200, json=first), expired] * 2
    )
    with pytest.raises(InvalidRequestError) as caught:
        _ = [g async for g in client.groups.list()]
    assert caught.value.code == 131059


async def test_delete_group(client: CloudClient, router: respx.Router) -> None:
    route = router.delete(f"{API}/{GROUP_ID}").respond(json={"success": "true"})
    await client.groups.delete(GROUP_ID)
    assert only_request(route).content == b""


async def test_invite_link_get_reset_delete(client: CloudClient, router: respx.Router) -> None:
    link = "https://chat.whatsapp.com/AbCdEfGhIjKlMnOp"
    get = router.get(f"{API}/{GROUP_ID}/invite_link").respond(
        json={"messaging_product": "whatsapp", "invite_link": link}
    )
    reset = router.post(f"{API}/{GROUP_ID}/invite_link").respond(
        json={"messaging_product": "whatsapp", "invite_link": link + "2"}
    )
    delete = router.delete(f"{API}/{GROUP_ID}/invite_link").respond(
        json={"messaging_product": "whatsapp", "success": True}
    )
    assert await client.invite_links.get(GROUP_ID) == link
    assert await client.invite_links.reset(GROUP_ID) == link + "2"
    await client.invite_links.delete(GROUP_ID)
    only_request(get)
    assert json_body(only_request(reset)) == {"messaging_product": "whatsapp"}
    assert json_body(only_request(delete)) == {"messaging_product": "whatsapp"}


async def test_remove_participants_body(client: CloudClient, router: respx.Router) -> None:
    route = router.delete(f"{API}/{GROUP_ID}/participants").respond(json={})
    assert await client.participants.remove(GROUP_ID, ["+16505551234", "447700900123"]) is None
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "participants": [{"user": "+16505551234"}, {"user": "447700900123"}],
    }


async def test_remove_participants_names_a_bsuid_in_user_id(
    client: CloudClient, router: respx.Router
) -> None:
    # Meta: `user` for a phone number or WhatsApp id, `user_id` for a business-scoped
    # user id, one of the two per entry (reference 2.7, 3.9).
    route = router.delete(f"{API}/{GROUP_ID}/participants").respond(json={})
    await client.participants.remove(
        GROUP_ID, ["+1 650 555 1234", " US.13491208655302741918 ", "447700900123"]
    )
    assert json_body(only_request(route))["participants"] == [
        {"user": "+1 650 555 1234"},
        {"user_id": "US.13491208655302741918"},
        {"user": "447700900123"},
    ]


@pytest.mark.parametrize(
    ("user", "entry"),
    [
        ("16505551234", {"user": "16505551234"}),
        ("+44 7700 900123", {"user": "+44 7700 900123"}),
        ("BR.9", {"user_id": "BR.9"}),
    ],
)
def test_participant_entry_uses_one_field(user: str, entry: dict[str, str]) -> None:
    assert participant_entry(user) == entry


@pytest.mark.parametrize("user", ["ana", "us.123", "US.ENT.1181", "US.", "+US.1"])
def test_participant_entry_refuses_what_is_neither(user: str) -> None:
    with pytest.raises(ValueError, match="neither a phone number nor a business-scoped"):
        participant_entry(user)


async def test_a_bsuid_is_not_sent_as_a_1to1_recipient(
    client: CloudClient, router: respx.Router
) -> None:
    # The reference does not document the field a 1:1 send to a BSUID uses.
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages")
    with pytest.raises(ValueError, match="business-scoped user id"):
        await client.messages.send_invite_link_template(
            "US.13491208655302741918", "group_invite_upon_request", "en", GROUP_ID
        )
    with pytest.raises(ValueError, match="business-scoped user id"):
        await client.messages.send_template(
            "US.13491208655302741918", "welcome", "en", recipient_type="individual"
        )
    assert route.call_count == 0


@pytest.mark.parametrize(
    "users",
    [[], [str(n) for n in range(9)], ["1", "1"], ["1", " "], ["1", "nobody"]],
    ids=["empty", "nine", "duplicate", "blank", "neither"],
)
async def test_remove_participants_refuses_locally(
    client: CloudClient, router: respx.Router, users: list[str]
) -> None:
    route = router.delete(f"{API}/{GROUP_ID}/participants")
    with pytest.raises(ValueError):
        await client.participants.remove(GROUP_ID, users)
    assert route.call_count == 0


async def test_remove_participants_partial_raises_with_failed_items(
    client: CloudClient, router: respx.Router
) -> None:
    router.delete(f"{API}/{GROUP_ID}/participants").mock(
        return_value=graph_error(
            131201,
            "(#131201) Request partially succeeded",
            status=206,
            details="Some participants could not be removed",
            extra={
                "removed_participants": [{"input": "447700900123"}],
                "failed_participants": [
                    {
                        "input": "16505551234",
                        "errors": [{"code": "131212", "message": "(#131212) Not in group"}],
                    }
                ],
            },
        )
    )
    with pytest.raises(PartialFailure) as caught:
        await client.participants.remove(GROUP_ID, ["16505551234", "447700900123"])
    error = caught.value
    assert error.code == 131201
    assert error.status_code == 206
    assert error.failed_refs == ["16505551234"]
    assert error.failed[0].codes == [131212]
    assert error.succeeded == ["447700900123"]


async def test_list_join_requests_follows_paging(client: CloudClient, router: respx.Router) -> None:
    route = router.get(f"{API}/{GROUP_ID}/join_requests").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [{"join_request_id": "J1", "wa_id": "1", "creation_timestamp": 1}],
                    "paging": {
                        "cursors": {"after": "A1"},
                        "next": f"{API}/{GROUP_ID}/join_requests?after=A1&access_token=x",
                    },
                },
            ),
            httpx.Response(
                200,
                json={
                    "data": [{"join_request_id": "J2", "user_id": "US.1", "username": "bo"}],
                    "paging": {"cursors": {"after": "A2", "before": "A1"}},
                },
            ),
        ]
    )
    items = await client.join_requests.list(GROUP_ID)
    assert [(i.join_request_id, i.wa_id, i.user_id) for i in items] == [
        ("J1", "1", None),
        ("J2", None, "US.1"),
    ]
    assert dict(route.calls[1].request.url.params) == {"after": "A1"}


async def test_approve_join_requests_parses_failures(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{GROUP_ID}/join_requests").respond(
        json={
            "messaging_product": "whatsapp",
            "approved_join_requests": ["J1"],
            "failed_join_requests": [
                {
                    "join_request_id": "J2",
                    "errors": [
                        {
                            "code": 131203,
                            "message": "(#131203) Recipient has not accepted our new Terms",
                            "title": "Unable to add participant to group",
                            "error_data": {"details": "Recipient has not accepted"},
                        }
                    ],
                }
            ],
            "errors": [{"code": 131201, "message": "partial"}],
        }
    )
    result = await client.join_requests.approve(GROUP_ID, ["J1", "J2"])
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "join_requests": ["J1", "J2"],
    }
    assert result.approved == ["J1"]
    assert result.failed_ids == ["J2"]
    assert result.failed[0].errors[0].details == "Recipient has not accepted"
    assert result.errors[0].code == 131201


async def test_reject_join_requests(client: CloudClient, router: respx.Router) -> None:
    route = router.delete(f"{API}/{GROUP_ID}/join_requests").respond(
        json={"messaging_product": "whatsapp", "rejected_join_requests": ["J1"]}
    )
    result = await client.join_requests.reject(GROUP_ID, ["J1"])
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "join_requests": ["J1"],
    }
    assert result.rejected == ["J1"]
    assert result.failed == []


async def test_update_settings_body(client: CloudClient, router: respx.Router) -> None:
    route = router.post(f"{API}/{GROUP_ID}").respond(json={"request_id": "R7"})
    request_id = await client.groups.update_settings(
        GROUP_ID, subject=" Order 1042 - delivered ", description="Closes on Friday."
    )
    assert request_id == "R7"
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "subject": "Order 1042 - delivered",
        "description": "Closes on Friday.",
    }


async def test_update_settings_needs_something(client: CloudClient) -> None:
    with pytest.raises(ValueError):
        await client.groups.update_settings(GROUP_ID)
    with pytest.raises(ValueError):
        await client.groups.update_settings(GROUP_ID, subject="  ")


async def test_update_picture_is_multipart(client: CloudClient, router: respx.Router) -> None:
    route = router.post(f"{API}/{GROUP_ID}").respond(json={})
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    await client.groups.update_picture(GROUP_ID, jpeg, filename="square.jpg")
    content = multipart_fields(only_request(route))
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in content
    assert b'name="file"; filename="square.jpg"\r\nContent-Type: image/jpeg' in content
    assert jpeg in content


async def test_update_picture_refuses_non_jpeg(client: CloudClient) -> None:
    with pytest.raises(ValueError):
        await client.groups.update_picture(GROUP_ID, b"\x89PNG\r\n")


async def test_send_text_body(client: CloudClient, router: respx.Router) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    sent = await client.messages.send_text(GROUP_ID, "Driver is 10 minutes away", preview_url=True)
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": GROUP_ID,
        "type": "text",
        "text": {"preview_url": True, "body": "Driver is 10 minutes away"},
    }
    assert sent.message_id == "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI4"
    assert sent.messages[0].group_id == GROUP_ID


@pytest.mark.parametrize(
    ("kind", "kwargs", "expected"),
    [
        ("image", {"media_id": "147", "caption": "Proof"}, {"id": "147", "caption": "Proof"}),
        ("video", {"link": "https://e.x/v.mp4"}, {"link": "https://e.x/v.mp4"}),
        ("audio", {"media_id": "101"}, {"id": "101"}),
        (
            "document",
            {"media_id": "137", "filename": "invoice.pdf", "caption": "Invoice"},
            {"id": "137", "filename": "invoice.pdf", "caption": "Invoice"},
        ),
    ],
)
async def test_send_media_body(
    client: CloudClient,
    router: respx.Router,
    kind: Any,
    kwargs: dict[str, str],
    expected: dict[str, str],
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    await client.messages.send_media(GROUP_ID, kind, **kwargs)
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": GROUP_ID,
        "type": kind,
        kind: expected,
    }


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [
        ("image", {}),
        ("image", {"media_id": "1", "link": "https://e.x"}),
        ("audio", {"media_id": "1", "caption": "no"}),
        ("image", {"media_id": "1", "filename": "a.jpg"}),
        ("image", {"media_id": "1", "caption": "c" * 1025}),
        ("sticker", {"media_id": "1"}),
    ],
)
async def test_send_media_validates_locally(
    client: CloudClient, kind: Any, kwargs: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        await client.messages.send_media(GROUP_ID, kind, **kwargs)


async def test_send_template_to_group_with_components(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    components = template_components(
        ["1042", "14:30"], HeaderParam(kind="document", media_id="137", filename="a.pdf")
    )
    await client.messages.send_template(
        GROUP_ID, "delivery_update_group", "en_US", components=components
    )
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "recipient_type": "group",
        "to": GROUP_ID,
        "type": "template",
        "template": {
            "name": "delivery_update_group",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "header",
                    "parameters": [
                        {"type": "document", "document": {"id": "137", "filename": "a.pdf"}}
                    ],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "1042"},
                        {"type": "text", "text": "14:30"},
                    ],
                },
            ],
        },
    }


async def test_send_template_individual_without_components(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    await client.messages.send_template("+16505551234", "hello", "en", recipient_type="individual")
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+16505551234",
        "type": "template",
        "template": {"name": "hello", "language": {"code": "en"}},
    }


def test_template_components_text_header_and_validation() -> None:
    assert template_components([], HeaderParam(kind="text", text="Hi")) == [
        {"type": "header", "parameters": [{"type": "text", "text": "Hi"}]}
    ]
    assert template_components([]) == []
    with pytest.raises(ValueError):
        HeaderParam(kind="image")
    with pytest.raises(ValueError):
        HeaderParam(kind="text", media_id="1")
    with pytest.raises(ValueError):
        HeaderParam(kind="image", link="https://e.x", filename="x")


async def test_send_invite_link_template_follows_reference(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    await client.messages.send_invite_link_template(
        "+16505551234", "group_invite_upon_request", "en", GROUP_ID
    )
    assert json_body(only_request(route)) == {
        "messaging_product": "whatsapp",
        "to": "+16505551234",
        "type": "template",
        "template": {
            "name": "group_invite_upon_request",
            "language": {"code": "en"},
            "components": [
                {"type": "body", "parameters": [{"type": "group_id", "group_id": GROUP_ID}]}
            ],
        },
    }


async def test_send_invite_link_template_with_a_link(
    client: CloudClient, router: respx.Router
) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    link = "https://chat.whatsapp.com/AbCdEf"
    await client.messages.send_invite_link_template("16505551234", "my_invite", "en_US", link)
    body = json_body(only_request(route))
    assert body["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": link}]}
    ]


async def test_pin_and_unpin(client: CloudClient, router: respx.Router) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json=SEND_OK)
    await client.messages.pin(GROUP_ID, "wamid.X", 4)
    await client.messages.unpin(GROUP_ID, "wamid.X")
    pin, unpin = (json_body(call.request) for call in route.calls)
    assert pin["pin"] == {"type": "pin", "message_id": "wamid.X", "expiration_days": 4}
    assert unpin["pin"] == {"type": "unpin", "message_id": "wamid.X"}
    assert pin["type"] == unpin["type"] == "pin"
    assert pin["recipient_type"] == "group"
    with pytest.raises(ValueError):
        await client.messages.pin(GROUP_ID, "wamid.X", 31)


async def test_send_without_message_id_is_unexpected(
    client: CloudClient, router: respx.Router
) -> None:
    router.post(f"{API}/{PHONE_NUMBER_ID}/messages").respond(json={"messages": []})
    with pytest.raises(UnexpectedResponseError):
        await client.messages.send_text(GROUP_ID, "hi")


async def test_upload_media_is_multipart(client: CloudClient, router: respx.Router) -> None:
    route = router.post(f"{API}/{PHONE_NUMBER_ID}/media").respond(json={"id": 1037543291543636})
    media_id = await client.media.upload(b"%PDF-1.7 data", "application/pdf", "invoice.pdf")
    assert media_id == "1037543291543636"
    content = multipart_fields(only_request(route))
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in content
    assert b'name="type"\r\n\r\napplication/pdf' in content
    assert b'filename="invoice.pdf"\r\nContent-Type: application/pdf' in content
    assert b"%PDF-1.7 data" in content


async def test_media_get_download_delete(client: CloudClient, router: respx.Router) -> None:
    url = "https://lookaside.fbsbx.test/whatsapp_business/attachments/?mid=1"
    info = router.get(f"{API}/1037543291543636").respond(
        json={"url": url, "mime_type": "image/jpeg", "file_size": "303833", "id": "1037"}
    )
    download = router.get(url).respond(content=b"JPEGDATA")
    delete = router.delete(f"{API}/1037543291543636").respond(json={"success": True})
    media = await client.media.get("1037543291543636")
    assert media.file_size == 303833
    assert await client.media.download(media.url) == b"JPEGDATA"
    await client.media.delete("1037543291543636")
    assert only_request(info).url.params["phone_number_id"] == PHONE_NUMBER_ID
    only_request(download)
    only_request(delete)


async def test_list_message_templates_follows_paging(
    client: CloudClient, router: respx.Router
) -> None:
    template = {
        "name": "delivery_update_group",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "components": [{"type": "BODY", "text": "Order {{1}}"}],
        "id": "594",
        "parameter_format": "POSITIONAL",
    }
    route = router.get(f"{API}/{WABA_ID}/message_templates").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [template],
                    "paging": {"cursors": {"after": "T1"}, "next": f"{API}/x?after=T1&limit=100"},
                },
            ),
            httpx.Response(200, json={"data": [{**template, "name": "pickup", "id": 595}]}),
        ]
    )
    templates = await client.templates.list()
    assert [(t.name, t.id) for t in templates] == [
        ("delivery_update_group", "594"),
        ("pickup", "595"),
    ]
    assert dict(route.calls[0].request.url.params) == {"limit": "100", "status": "APPROVED"}
    assert dict(route.calls[1].request.url.params) == {"after": "T1", "limit": "100"}


async def test_list_message_templates_needs_waba(router: respx.Router) -> None:
    async with CloudClient(
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        transport=httpx.MockTransport(router.async_handler),
    ) as no_waba:
        with pytest.raises(ValueError):
            await no_waba.templates.list()


async def test_base_url_and_version_are_injectable(router: respx.Router) -> None:
    route = router.get("http://127.0.0.1:8765/sandbox/v26.0/G1/invite_link").respond(
        json={"invite_link": "https://chat.whatsapp.com/Z"}
    )
    async with CloudClient(
        access_token=TOKEN,
        phone_number_id=PHONE_NUMBER_ID,
        base_url="http://127.0.0.1:8765/sandbox/",
        graph_version="v26.0",
        transport=httpx.MockTransport(router.async_handler),
    ) as sandbox:
        assert await sandbox.invite_links.get("G1") == "https://chat.whatsapp.com/Z"
    only_request(route)


def test_default_timeout_is_explicit() -> None:
    from groups_tui.cloud import DEFAULT_TIMEOUT

    assert (DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.read) == (5.0, 30.0)
    assert (DEFAULT_TIMEOUT.write, DEFAULT_TIMEOUT.pool) == (30.0, 5.0)
