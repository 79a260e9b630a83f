"""Runs the client contract against a small in-memory Graph fake behind respx."""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from groups_tui.cloud import CloudClient, RetryPolicy
from groups_tui.domain.identity import is_bsuid

from .contract import CONTRACTS, Backend, ContractFn
from .support import API, BASE_URL, PHONE_NUMBER_ID, TOKEN, WABA_ID, SleepRecorder, json_body

MAX_MEMBERS = 8
CREATED_AT = 1767225600


@dataclass
class FakeGroup:
    id: str
    subject: str
    description: str | None
    approval: bool
    members: list[str]
    invite_link: str
    window_open: bool = False
    join_requests: dict[str, str] = field(default_factory=dict)


def _error(code: int, message: str, status: int = 400, **extra: Any) -> httpx.Response:
    body = {
        "error": {
            "message": f"(#{code}) {message}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "AfakeTrace",
        },
        **extra,
    }
    return httpx.Response(status, json=body)


def _cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode()


def _index(cursor: str | None) -> int:
    return int(base64.b64decode(cursor).decode()) if cursor else 0


class FakeGraph:
    """Just enough of the Groups API to exercise the contract; applies changes at once."""

    def __init__(self) -> None:
        self.groups: dict[str, FakeGroup] = {}
        self.created: dict[str, str] = {}
        self.media: dict[str, bytes] = {}
        self.templates: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def add_group(self, subject: str, members: list[str], approval: bool, description: Any) -> str:
        group_id = self.new_id("Y2FwaV9ncm91cD")
        self.groups[group_id] = FakeGroup(
            id=group_id,
            subject=subject,
            description=description,
            approval=approval,
            members=list(members),
            invite_link=f"https://chat.whatsapp.com/{self.new_id('Inv')}",
        )
        return group_id

    def _page(
        self, request: httpx.Request, items: list[Any], size: int, wrap: str | None
    ) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", size)), size)
        start = _index(request.url.params.get("after"))
        chunk = items[start : start + limit]
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start)}}
        if start + limit < len(items):
            after = _cursor(start + limit)
            paging["cursors"]["after"] = after
            # Graph echoes the token in `next` when it came as a query parameter.
            paging["next"] = str(
                request.url.copy_merge_params({"after": after, "access_token": TOKEN})
            )
        data: Any = {wrap: chunk} if wrap else chunk
        return httpx.Response(200, json={"data": data, "paging": paging})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return _error(190, "Invalid OAuth access token.", status=401)
        parts = request.url.path.split("/")[2:]
        method = request.method
        if parts[0] == PHONE_NUMBER_ID:
            return self._phone(method, parts[1], request)
        if parts[0] == WABA_ID and parts[1:] == ["message_templates"]:
            status = request.url.params.get("status")
            items = [t for t in self.templates if status is None or t["status"] == status]
            return self._page(request, items, 2, None)
        group = self.groups.get(parts[0])
        if group is None:
            return _error(131041, "Group does not exist or business is not a participant")
        edge = parts[1] if len(parts) > 1 else ""
        return self._group(method, edge, group, request)

    def _phone(self, method: str, edge: str, request: httpx.Request) -> httpx.Response:
        if (method, edge) == ("POST", "groups"):
            body = json_body(request)
            group_id = self.add_group(
                body["subject"],
                [],
                body.get("join_approval_mode") == "approval_required",
                body.get("description"),
            )
            request_id = self.new_id("req")
            self.created[request_id] = group_id
            return httpx.Response(
                200, json={"messaging_product": "whatsapp", "request_id": request_id}
            )
        if (method, edge) == ("GET", "groups"):
            items = [
                {"id": g.id, "subject": g.subject, "created_at": str(CREATED_AT)}
                for g in self.groups.values()
            ]
            return self._page(request, items, 1024, "groups")
        if (method, edge) == ("POST", "media"):
            assert request.headers["content-type"].startswith("multipart/form-data")
            media_id = self.new_id("10375432")
            self.media[media_id] = request.content
            return httpx.Response(200, json={"id": media_id})
        if (method, edge) == ("POST", "messages"):
            return self._send(json_body(request))
        return _error(100, f"Unsupported {method} request")

    def _send(self, body: dict[str, Any]) -> httpx.Response:
        to = body["to"]
        if body.get("recipient_type") == "group":
            group = self.groups.get(to)
            if group is None:
                return _error(131041, "Group does not exist")
            if not group.members:
                return _error(131020, "Cannot send to a group with only one member")
            if body["type"] != "template" and not group.window_open:
                return _error(131047, "Re-engagement message: the window is closed")
            contact = {"input": to, "wa_id": to}
        else:
            contact = {"input": to, "wa_id": to.lstrip("+")}
        message: dict[str, Any] = {"id": f"wamid.{self.new_id('HBgL')}"}
        if body.get("recipient_type") == "group":
            message["group_id"] = to
        return httpx.Response(
            200,
            json={"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]},
        )

    def _group(
        self, method: str, edge: str, group: FakeGroup, request: httpx.Request
    ) -> httpx.Response:
        ok = {"messaging_product": "whatsapp"}
        if (method, edge) == ("GET", ""):
            return httpx.Response(
                200,
                json={
                    **ok,
                    "id": group.id,
                    "subject": group.subject,
                    "description": group.description,
                    "creation_timestamp": CREATED_AT,
                    "suspended": "false",
                    "total_participant_count": len(group.members),
                    "participants": [
                        {"user_id": m} if is_bsuid(m) else {"wa_id": m} for m in group.members
                    ],
                    "join_approval_mode": "approval_required" if group.approval else "auto_approve",
                },
            )
        if (method, edge) == ("DELETE", ""):
            del self.groups[group.id]
            return httpx.Response(200, json={"success": True})
        if edge == "invite_link":
            if method == "POST":
                group.invite_link = f"https://chat.whatsapp.com/{self.new_id('Inv')}"
            return httpx.Response(200, json={**ok, "invite_link": group.invite_link})
        if (method, edge) == ("DELETE", "participants"):
            users: list[str] = []
            for entry in json_body(request)["participants"]:
                # Meta: `user` holds a number, `user_id` a BSUID; never both.
                user, user_id = entry.get("user"), entry.get("user_id")
                if user is not None and user_id is not None:
                    return _error(100, "Include user or user_id, but not both.")
                if user_id is not None and is_bsuid(user_id):
                    users.append(user_id)
                elif user is not None and not is_bsuid(user):
                    users.append(user.lstrip("+"))
                else:
                    return _error(100, "user takes a number, user_id a business-scoped id.")
            missing = [u for u in users if u not in group.members]
            if missing == users:
                return _error(131212, "Participant is not in the group")
            group.members = [m for m in group.members if m not in users]
            if missing:
                failed = [
                    {"input": u, "errors": [{"code": 131212, "message": "Not in group"}]}
                    for u in missing
                ]
                return _error(131201, "Partially succeeded", 206, failed_participants=failed)
            return httpx.Response(200, json=ok)
        if (method, edge) == ("GET", "join_requests"):
            items = [
                {"join_request_id": jr, "wa_id": wa, "creation_timestamp": CREATED_AT}
                for jr, wa in group.join_requests.items()
            ]
            return self._page(request, items, 2, None)
        if edge == "join_requests":
            return self._decide(method, group, json_body(request)["join_requests"])
        return _error(100, f"Unsupported {method} request")

    def _decide(self, method: str, group: FakeGroup, ids: list[str]) -> httpx.Response:
        done: list[str] = []
        failed: list[dict[str, Any]] = []
        for jr in ids:
            if jr not in group.join_requests:
                code, text = 131213, "Join request does not exist"
            elif method == "POST" and len(group.members) >= MAX_MEMBERS:
                code, text = 131204, "Participant limit exceeded"
            else:
                del group.join_requests[jr]
                done.append(jr)
                continue
            failed.append({"join_request_id": jr, "errors": [{"code": code, "message": text}]})
        key = "approved_join_requests" if method == "POST" else "rejected_join_requests"
        body: dict[str, Any] = {"messaging_product": "whatsapp", key: done}
        if failed:
            body["failed_join_requests"] = failed
        return httpx.Response(200, json=body)


class RespxBackend:
    """:class:`Backend` over :class:`FakeGraph`, reached through a respx router."""

    def __init__(self) -> None:
        self.graph = FakeGraph()
        self.router = respx.Router(base_url=API, assert_all_called=False)
        self.router.route().mock(side_effect=self.graph.handle)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.router.async_handler)

    async def seed_group(
        self, subject: str, members: list[str], join_approval: bool = False
    ) -> str:
        return self.graph.add_group(subject, members, join_approval, None)

    async def add_join_request(self, group_id: str, wa_id: str) -> str:
        request_id = self.graph.new_id("MTY0NjcwNDM1OTU6")
        self.graph.groups[group_id].join_requests[request_id] = wa_id
        return request_id

    async def set_window_open(self, group_id: str) -> None:
        self.graph.groups[group_id].window_open = True

    async def seed_template(self, name: str, language: str, category: str) -> None:
        self.graph.templates.append(
            {
                "id": self.graph.new_id("5948"),
                "name": name,
                "language": language,
                "category": category,
                "status": "APPROVED",
                "components": [{"type": "BODY", "text": "Order {{1}} arrives at {{2}}"}],
            }
        )

    async def created_group_id(self, request_id: str) -> str | None:
        return self.graph.created.get(request_id)

    async def settle(self) -> None:
        return None

    async def add_hidden_member(self, group_id: str) -> str:
        bsuid = f"BR.{self.graph.new_id('7')}"
        self.graph.groups[group_id].members.append(bsuid)
        return bsuid

    async def raw_call(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with httpx.AsyncClient(
            base_url=f"{API}/",
            transport=self.transport(),
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as http:
            response = await http.request(method, path, json=body)
        return response.status_code, response.json()

    def client_with_token(self, access_token: str) -> CloudClient:
        return CloudClient(
            access_token=access_token,
            phone_number_id=PHONE_NUMBER_ID,
            business_account_id=WABA_ID,
            base_url=BASE_URL,
            transport=self.transport(),
            retry=RetryPolicy(jitter=False),
            sleep=SleepRecorder(),
        )


@pytest.fixture
def backend() -> RespxBackend:
    return RespxBackend()


@pytest.fixture
async def contract_client(backend: RespxBackend) -> AsyncIterator[CloudClient]:
    async with backend.client_with_token(TOKEN) as client:
        yield client


def test_respx_backend_satisfies_protocol() -> None:
    backend: Backend = RespxBackend()
    assert backend is not None


@pytest.mark.parametrize(
    "contract", CONTRACTS, ids=lambda fn: fn.__name__.removeprefix("contract_")
)
async def test_contract(
    contract: ContractFn, contract_client: CloudClient, backend: RespxBackend
) -> None:
    await contract(contract_client, backend)


async def test_paging_never_sends_the_token_in_a_url(
    contract_client: CloudClient, backend: RespxBackend
) -> None:
    for i in range(3):
        await backend.seed_group(f"g{i}", [])
    listed = [g async for g in contract_client.groups.list(limit=1)]
    assert len(listed) == 3
    urls = [str(r.url) for r in backend.graph.requests]
    assert len(urls) == 3
    assert all("access_token" not in url and TOKEN not in url for url in urls)
