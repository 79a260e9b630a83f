"""Meta's side of the Cloud API, for tests that drive the real service without a network.

Two halves, both shaped after the reference (``/work/shared/reference/cloud-api-groups.md``)
and the recorded samples in ``tests/fixtures/webhooks``:

* Webhook builders: each returns one change object (``{"field", "value"}``) as Meta
  sends it; :func:`envelope` wraps changes into a delivery body. The tests hand these to
  the listener's writer, so they are parsed and applied by the production code.
* :class:`GraphDouble`: the handler of an :class:`httpx.MockTransport` that answers every
  Cloud API call the service makes with a fixed, Meta-shaped response, and records each
  request that reached it. It checks nothing: every rule lives in the service and the
  domain, which is what the tests exercise.

Every identifier it hands out (request ids, message ids, links) comes from counters, so a
run is deterministic.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

__all__ = [
    "BUSINESS_NUMBER",
    "GRAPH_VERSION",
    "PHONE_NUMBER_ID",
    "WABA_ID",
    "GraphDouble",
    "GraphRequest",
    "Person",
    "envelope",
    "group_created",
    "group_create_failed",
    "group_deleted",
    "group_suspended",
    "inbound",
    "join_request",
    "joined",
    "pricing",
    "removed",
    "settings_updated",
    "statuses",
]

Json = dict[str, Any]

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
BUSINESS_NUMBER = "15550100"
GRAPH_VERSION = "v25.0"
INVITE_LINK_PREFIX = "https://chat.whatsapp.com/"


@dataclass(frozen=True)
class Person:
    """A WhatsApp user as webhooks name them.

    Attributes:
        name: Profile name (``None`` when WhatsApp gives none).
        wa_id: Phone number id, or ``None`` for someone known by a BSUID only.
        user_id: Business-scoped user id, when WhatsApp sends one.
    """

    name: str | None
    wa_id: str | None
    user_id: str | None = None

    @property
    def key(self) -> str:
        """How the store keys this person: the BSUID when present, else the number."""
        return self.user_id or self.wa_id or ""

    def ids(self) -> Json:
        """The identifying fields of a participant entry."""
        out: Json = {}
        if self.wa_id:
            out["wa_id"] = self.wa_id
        if self.user_id:
            out["user_id"] = self.user_id
        return out

    def entry(self) -> Json:
        """A participant entry with the profile name, as a join or request names someone."""
        out = self.ids()
        if self.name is not None:
            out["profile"] = {"name": self.name}
        return out


# ---------------------------------------------------------------------------- webhooks


def envelope(*changes: Json) -> Json:
    """One delivery: the ``whatsapp_business_account`` envelope around `changes`."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": list(changes)}],
    }


def _change(field_name: str, **value: Any) -> Json:
    full: Json = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": BUSINESS_NUMBER,
            "phone_number_id": PHONE_NUMBER_ID,
        },
    }
    full.update(value)
    return {"field": field_name, "value": full}


def _ts(at: int) -> str:
    return str(int(at))


def group_created(
    group_id: str,
    subject: str,
    at: int,
    *,
    request_id: str | None = None,
    description: str | None = None,
    approval: bool = False,
    invite_link: str | None = None,
) -> Json:
    """``group_lifecycle_update`` / ``group_create``: the group exists (reference 3.3)."""
    item: Json = {
        "timestamp": _ts(at),
        "group_id": group_id,
        "type": "group_create",
        "subject": subject,
        "invite_link": invite_link or INVITE_LINK_PREFIX + group_id,
        "join_approval_mode": "approval_required" if approval else "auto_approve",
    }
    if request_id is not None:
        item["request_id"] = request_id
    if description:
        item["description"] = description
    return _change("group_lifecycle_update", groups=[item])


def group_create_failed(request_id: str, subject: str, at: int, code: int, title: str) -> Json:
    """``group_create`` with ``errors``: Meta did not create the group."""
    item: Json = {
        "timestamp": _ts(at),
        "type": "group_create",
        "subject": subject,
        "request_id": request_id,
        "errors": [{"code": code, "title": title, "message": f"(#{code}) {title}"}],
    }
    return _change("group_lifecycle_update", groups=[item])


def group_deleted(group_id: str, at: int, request_id: str | None = None) -> Json:
    """``group_lifecycle_update`` / ``group_delete``."""
    item: Json = {"timestamp": _ts(at), "group_id": group_id, "type": "group_delete"}
    if request_id is not None:
        item["request_id"] = request_id
    return _change("group_lifecycle_update", groups=[item])


def joined(group_id: str, at: int, people: Sequence[Person], reason: str = "invite_link") -> Json:
    """``group_participants_add``: people joined (by the invite link unless `reason`)."""
    item: Json = {
        "timestamp": _ts(at),
        "group_id": group_id,
        "type": "group_participants_add",
        "reason": reason,
        "added_participants": [p.entry() for p in people],
    }
    return _change("group_participants_update", groups=[item])


def removed(
    group_id: str,
    at: int,
    inputs: Sequence[str],
    *,
    request_id: str | None = None,
    initiated_by: str = "business",
) -> Json:
    """``group_participants_remove`` echoing the ``input`` of each removed person."""
    item: Json = {
        "timestamp": _ts(at),
        "group_id": group_id,
        "type": "group_participants_remove",
        "initiated_by": initiated_by,
        "removed_participants": [{"input": i} for i in inputs],
    }
    if request_id is not None:
        item["request_id"] = request_id
    return _change("group_participants_update", groups=[item])


def join_request(
    group_id: str, join_request_id: str, at: int, person: Person, *, revoked: bool = False
) -> Json:
    """``group_join_request_created`` (or ``_revoked``) for `person`."""
    item: Json = {
        "timestamp": _ts(at),
        "group_id": group_id,
        "type": "group_join_request_revoked" if revoked else "group_join_request_created",
        "join_request_id": join_request_id,
        **person.entry(),
    }
    return _change("group_participants_update", groups=[item])


def settings_updated(
    group_id: str,
    at: int,
    request_id: str | None,
    *,
    subject: str | None = None,
    description: str | None = None,
    picture_sha256: str | None = None,
) -> Json:
    """``group_settings_update`` reporting each given part as updated."""
    item: Json = {
        "timestamp": _ts(at),
        "group_id": group_id,
        "type": "group_settings_update",
    }
    if request_id is not None:
        item["request_id"] = request_id
    if subject is not None:
        item["group_subject"] = {"text": subject, "update_successful": True}
    if description is not None:
        item["group_description"] = {"text": description, "update_successful": True}
    if picture_sha256 is not None:
        item["profile_picture"] = {
            "mime_type": "image/jpeg",
            "sha256": picture_sha256,
            "update_successful": True,
        }
    return _change("group_settings_update", groups=[item])


def group_suspended(group_id: str, at: int) -> Json:
    """``group_status_update`` / ``group_suspend`` (Meta gives no reason)."""
    item: Json = {"timestamp": _ts(at), "type": "group_suspend", "group_id": group_id}
    return _change("group_status_update", groups=[item])


def inbound(
    group_id: str,
    wamid: str,
    at: int,
    sender: Person,
    *,
    text: str | None = None,
    image: Mapping[str, Any] | None = None,
    system: str | None = None,
) -> Json:
    """A member's message to the group: text, an image, or a system notice."""
    message: Json = {**_from(sender), "group_id": group_id, "id": wamid, "timestamp": _ts(at)}
    if image is not None:
        message.update(type="image", image=dict(image))
    elif system is not None:
        message.update(type="system", system={"body": system})
    else:
        message.update(type="text", text={"body": text or ""})
    contact: Json = {"profile": {"name": sender.name}} if sender.name is not None else {}
    contact.update(sender.ids())
    return _change("messages", contacts=[contact], messages=[message])


def _from(sender: Person) -> Json:
    out: Json = {}
    if sender.wa_id:
        out["from"] = sender.wa_id
    if sender.user_id:
        out["from_user_id"] = sender.user_id
    return out


def pricing(category: str, charged: bool) -> Json:
    """A status ``pricing`` object (reference 6.1): ``regular`` or free."""
    return {
        "billable": charged,
        "pricing_model": "PMP",
        "type": "regular" if charged else "free_group_customer_service",
        "category": category,
    }


def statuses(
    wamid: str,
    group_id: str,
    at: int,
    state: str,
    people: Iterable[Person],
    *,
    price: Json | None = None,
    error: tuple[int, str] | None = None,
) -> Json:
    """One aggregated ``messages`` change: `state` of `wamid` for each of `people`."""
    items: list[Json] = []
    for person in people:
        item: Json = {
            "id": wamid,
            "status": state,
            "timestamp": _ts(at),
            "recipient_id": group_id,
            "recipient_type": "group",
        }
        if person.wa_id:
            item["recipient_participant_id"] = person.wa_id
        if person.user_id:
            item["recipient_participant_user_id"] = person.user_id
        if price is not None:
            item["pricing"] = dict(price)
        if error is not None:
            code, title = error
            item["errors"] = [{"code": code, "title": title, "message": title}]
        items.append(item)
    return _change("messages", statuses=items)


# ---------------------------------------------------------------------------- the Graph API


@dataclass(frozen=True)
class GraphRequest:
    """One request that reached the double.

    Attributes:
        method: HTTP method.
        path: Path below the Graph version, e.g. ``g-book/participants``.
        query: Query parameters.
        body: The JSON body, the form fields of a multipart body, or ``None``.
        answer: The JSON the double answered.
        status: The HTTP status it answered.
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any
    answer: Any
    status: int = 200

    @property
    def group_id(self) -> str:
        """The first path segment (the group id of group calls)."""
        return self.path.split("/", 1)[0]


@dataclass
class GraphDouble:
    """Answers the service's Cloud API calls as Meta would, and records them.

    Args:
        templates: The account's message templates, as the template API lists them.
        request_ids: Where the ``request_id`` of asynchronous operations come from.
        wamids: Where sent message ids come from.
    """

    templates: Sequence[Json] = ()
    request_ids: Iterator[str] = field(
        default_factory=lambda: (f"req-{n}" for n in itertools.count(1))
    )
    wamids: Iterator[str] = field(
        default_factory=lambda: (f"wamid.out.{n}" for n in itertools.count(1))
    )
    requests: list[GraphRequest] = field(default_factory=list)
    errors: dict[tuple[str, str], tuple[int, Json]] = field(default_factory=dict)
    """Graph errors to answer instead, keyed by (method, path suffix)."""
    _resets: dict[str, int] = field(default_factory=dict)
    _media: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def transport(self) -> httpx.MockTransport:
        """The transport to give the client."""
        return httpx.MockTransport(self.handle)

    def fail(self, method: str, path_suffix: str, status: int, code: int, message: str) -> None:
        """Answer calls whose path ends with `path_suffix` with a Graph error."""
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "T"}
        self.errors[(method, path_suffix)] = (status, {"error": error})

    def calls(self, method: str | None = None, suffix: str = "") -> list[GraphRequest]:
        """The recorded requests, optionally only one method and path suffix."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and r.path.endswith(suffix)
        ]

    def answer_to(self, request_id: str) -> GraphRequest:
        """The recorded call whose answer carried `request_id`."""
        for request in self.requests:
            if isinstance(request.answer, dict) and request.answer.get("request_id") == request_id:
                return request
        raise AssertionError(f"no call was answered with request id {request_id!r}")

    # ------------------------------------------------------------------ handling

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The :class:`httpx.MockTransport` handler."""
        prefix = f"/{GRAPH_VERSION}/"
        path = request.url.path
        path = path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")
        query = dict(parse_qsl(request.url.query.decode()))
        body = _body(request)
        status, answer = self._answer(request.method, path, query, body)
        self.requests.append(GraphRequest(request.method, path, query, body, answer, status))
        return httpx.Response(status, json=answer)

    def _answer(
        self, method: str, path: str, query: Mapping[str, str], body: Any
    ) -> tuple[int, Any]:
        for (m, suffix), error in self.errors.items():
            if m == method and path.endswith(suffix):
                return error
        parts = path.split("/")
        ok = {"messaging_product": "whatsapp"}
        if parts == [PHONE_NUMBER_ID, "messages"] and method == "POST":
            wamid = next(self.wamids)
            to = str(body.get("to", ""))
            sent: Json = {"id": wamid}
            if body.get("recipient_type") == "group":
                sent["group_id"] = to
            return 200, {**ok, "contacts": [{"input": to, "wa_id": to}], "messages": [sent]}
        if parts == [PHONE_NUMBER_ID, "media"] and method == "POST":
            return 200, {"id": f"media-{next(self._media)}"}
        if parts == [PHONE_NUMBER_ID, "groups"] and method == "POST":
            return 200, {**ok, "request_id": next(self.request_ids)}
        if parts == [WABA_ID, "message_templates"] and method == "GET":
            wanted = query.get("status")
            data = [t for t in self.templates if wanted is None or t.get("status") == wanted]
            return 200, {"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}}
        if len(parts) == 2 and parts[1] == "invite_link" and method in ("GET", "POST"):
            group_id = parts[0]
            if method == "POST":
                self._resets[group_id] = self._resets.get(group_id, 0) + 1
            resets = self._resets.get(group_id, 0)
            link = INVITE_LINK_PREFIX + group_id + (f"-{resets}" if resets else "")
            return 200, {**ok, "invite_link": link}
        if len(parts) == 2 and parts[1] == "participants" and method == "DELETE":
            return 200, {**ok, "request_id": next(self.request_ids)}
        if len(parts) == 2 and parts[1] == "join_requests" and method in ("POST", "DELETE"):
            ids = list(body.get("join_requests", []))
            key = "approved_join_requests" if method == "POST" else "rejected_join_requests"
            return 200, {**ok, key: ids}
        if len(parts) == 1 and method == "POST":
            return 200, {**ok, "request_id": next(self.request_ids)}
        if len(parts) == 1 and method == "DELETE":
            return 200, {"success": True}
        error = {"message": f"Unsupported request: {method} {path}", "code": 100, "type": "T"}
        return 400, {"error": error}


def _body(request: httpx.Request) -> Any:
    content = request.content
    if not content:
        return None
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        return json.loads(content)
    if kind.startswith("multipart/form-data"):
        return _form_fields(content, kind)
    return content.decode(errors="replace")


def _form_fields(content: bytes, kind: str) -> Json:
    """The fields of a multipart body: text values, and ``(filename, size)`` of files."""
    boundary = kind.split("boundary=", 1)[1].strip('"').encode()
    fields: Json = {}
    for part in content.split(b"--" + boundary):
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        value = value.removesuffix(b"\r\n")
        header = head.decode(errors="replace")
        name = header.split('name="', 1)[1].split('"', 1)[0] if 'name="' in header else ""
        if 'filename="' in header:
            filename = header.split('filename="', 1)[1].split('"', 1)[0]
            fields[name] = (filename, len(value))
        else:
            fields[name] = value.decode(errors="replace")
    return fields
