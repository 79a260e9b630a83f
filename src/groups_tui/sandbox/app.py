"""The sandbox's HTTP surface: Graph API paths under ``/{version}/...`` plus ``/_sandbox/``.

Graph paths (reference section 2) need ``Authorization: Bearer <token>``; a wrong or missing
token gets Meta's ``OAuthException`` envelope with code 190 and HTTP 401. Errors raised by
the world become Graph error envelopes with the documented HTTP status.

The ``/_sandbox/`` routes let a test or a driver in another process act as the simulated
people and move time. They take and return plain JSON and need no token (loopback only).

With several business numbers (one :class:`~.world.World` each), a request reaches the
world of the number it names (``/{phone_number_id}/...``), of the group or media it names,
or of the WABA whose templates it lists. A number with a token of its own accepts only
that token (another number's gets permission error 10, as a token without access to the
number would), so a call made through the wrong number never succeeds.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from .errors import GraphError, SandboxError
from .world import World

__all__ = ["CLIENT_MAX_SIZE", "WEBHOOKS_KEY", "WORLD_KEY", "build_app"]

CLIENT_MAX_SIZE = 110 * 1024 * 1024
"""Largest request body accepted (documents may be 100 MB)."""

WORLD_KEY: web.AppKey[World] = web.AppKey("world", World)
WEBHOOKS_KEY: web.AppKey[Any] = web.AppKey("webhooks", object)

_V = r"{version:v\d+\.\d+}"
_TRACE_CHARS = string.ascii_letters + string.digits + "-_"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(
    world: World,
    *,
    access_token: str,
    webhooks: Any = None,
    on_advance: Callable[[], None] | None = None,
    worlds: Sequence[World] = (),
    tokens: Mapping[str, str] | None = None,
) -> web.Application:
    """Build the aiohttp application.

    Args:
        world: The simulated state (the first business number's).
        access_token: The bearer token every number without one of its own accepts.
        webhooks: The webhook sender (for control routes that inspect or re-point it).
        on_advance: Called after the clock moved through a control route.
        worlds: Every number's world, ``world`` first (just ``world`` by default).
        tokens: Numbers (by phone number id) that accept only a token of their own.

    Returns:
        The application (not started).
    """
    trace_rng = random.Random(f"trace:{world.seed}")
    every = list(worlds) or [world]
    own_tokens = dict(tokens or {})
    accepted = {access_token, *own_tokens.values()}

    def bearer(request: web.Request) -> str:
        """The request's bearer token (the middleware accepted it)."""
        return request.headers.get("Authorization", "").partition(" ")[2].strip()

    def allowed(request: web.Request, owner: World) -> World:
        """``owner``, if the request's token may act on its number (else error 10)."""
        if bearer(request) != own_tokens.get(owner.phone_number_id, access_token):
            raise GraphError(
                10,
                f"The access token has no permission on phone number {owner.phone_number_id}.",
            )
        return owner

    def for_group(request: web.Request, group_id: str) -> World:
        """The world of the number a group (or media) belongs to; the first otherwise
        (its lookups answer 131041 for an unknown group)."""
        for candidate in every:
            if group_id in candidate.groups or group_id in candidate.media:
                return allowed(request, candidate)
        return allowed(request, world) if len(every) == 1 else world

    def trace_id() -> str:
        return "".join(trace_rng.choice(_TRACE_CHARS) for _ in range(23))

    def error_response(err: GraphError) -> web.Response:
        headers = {}
        if err.code == 190:
            headers["WWW-Authenticate"] = (
                'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'
            )
        return web.json_response(err.body(trace_id()), status=err.status, headers=headers)

    @web.middleware
    async def graph_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_sandbox/") and not path.startswith("/_sandbox/media/"):
            try:
                return await handler(request)
            except SandboxError as exc:
                return web.json_response({"error": str(exc)}, status=409)
            except GraphError as exc:
                return error_response(exc)
        if request.match_info.http_exception is None or path.startswith("/_sandbox/media/"):
            auth = request.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or token.strip() not in accepted:
                return error_response(GraphError(190, status=401))
        try:
            return await handler(request)
        except GraphError as exc:
            return error_response(exc)
        except web.HTTPNotFound:
            return error_response(
                GraphError(
                    100,
                    f"Unknown path components: {path}",
                    title="Unsupported request - method type or path is not supported",
                    subcode=33,
                )
            )
        except web.HTTPMethodNotAllowed:
            return error_response(
                GraphError(100, f"Unsupported {request.method} request.", subcode=33)
            )

    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            return {}
        try:
            parsed = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise GraphError(100, "The request body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise GraphError(100, "The request body must be a JSON object.")
        return parsed

    def ok(payload: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(payload, status=status)

    def origin(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def phone(request: web.Request) -> World:
        node = request.match_info["node"]
        for candidate in every:
            if node == candidate.phone_number_id:
                return allowed(request, candidate)
        raise GraphError(
            100,
            f"Unsupported request. Object with ID '{node}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
        )

    def node_world(request: web.Request) -> World:
        return for_group(request, request.match_info["node"])

    # ---------------------------------------------------------------- Graph: node

    async def node_get(request: web.Request) -> web.Response:
        node = request.match_info["node"]
        world = node_world(request)
        if node in world.media:
            url = f"{origin(request)}/_sandbox/media/{node}?expires={int(world.now()) + 300}"
            return ok(world.media.info(node, url))
        if node not in world.groups:
            raise GraphError(131041, f"Group {node} does not exist or you are not a member.")
        return ok(world.groups_api.info(node, request.query.get("fields")))

    async def node_delete(request: web.Request) -> web.Response:
        node = request.match_info["node"]
        world = node_world(request)
        if node in world.media:
            return ok(world.media.delete(node))
        return ok(world.groups_api.delete(node))

    async def node_post(request: web.Request) -> web.Response:
        node = request.match_info["node"]
        world = node_world(request)
        world.groups.require(node)
        if request.content_type.startswith("multipart/") or request.content_type.startswith(
            "application/x-www-form-urlencoded"
        ):
            form = await request.post()
            if form.get("messaging_product") != "whatsapp":
                raise GraphError(100, "The parameter messaging_product is required.")
            picture = None
            part = form.get("file")
            if isinstance(part, web.FileField):
                picture = (part.file.read(), part.content_type or "application/octet-stream")
            subject = form.get("subject")
            description = form.get("description")
            return ok(
                world.groups_api.update_settings(
                    node,
                    subject=subject if isinstance(subject, str) else None,
                    description=description if isinstance(description, str) else None,
                    picture=picture,
                )
            )
        data = await body(request)
        if data.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        subject = data.get("subject")
        description = data.get("description")
        if subject is not None and not isinstance(subject, str):
            raise GraphError(100, "Param subject must be a string.")
        if description is not None and not isinstance(description, str):
            raise GraphError(100, "Param description must be a string.")
        if "profile_picture_file" in data:
            raise GraphError(
                100, "Upload the picture as multipart form data in a field named file."
            )
        return ok(world.groups_api.update_settings(node, subject=subject, description=description))

    # ---------------------------------------------------------------- Graph: edges

    async def groups_post(request: web.Request) -> web.Response:
        world = phone(request)
        return ok(world.groups_api.create(await body(request)))

    async def groups_get(request: web.Request) -> web.Response:
        world = phone(request)
        node = world.phone_number_id
        q = request.query
        page_url = f"{origin(request)}/{request.match_info['version']}/{node}/groups"
        return ok(
            world.groups_api.list_groups(
                limit=q.get("limit"),
                after=q.get("after"),
                before=q.get("before"),
                page_url=page_url,
            )
        )

    async def messages_post(request: web.Request) -> web.Response:
        world = phone(request)
        return ok(world.messaging.send(await body(request)))

    async def media_post(request: web.Request) -> web.Response:
        world = phone(request)
        if not request.content_type.startswith("multipart/"):
            raise GraphError(100, "Upload media as multipart form data.")
        form = await request.post()
        if form.get("messaging_product") != "whatsapp":
            raise GraphError(100, "The parameter messaging_product is required.")
        part = form.get("file")
        if not isinstance(part, web.FileField):
            raise GraphError(131008, "The parameter file is required.")
        declared = form.get("type")
        mime = part.content_type or (declared if isinstance(declared, str) else "")
        if isinstance(declared, str) and declared and mime == "application/octet-stream":
            mime = declared
        return ok(world.media.upload(part.file.read(), mime, part.filename))

    async def templates_get(request: web.Request) -> web.Response:
        q = request.query
        node = request.match_info["node"]
        # A WABA's templates: any of its numbers' tokens may list them.
        owners = [w for w in every if w.business_account_id == node] or [world]
        permitted = [
            w for w in owners if bearer(request) == own_tokens.get(w.phone_number_id, access_token)
        ]
        owner = permitted[0] if permitted else allowed(request, owners[0])
        return ok(
            owner.templates.list_templates(node, q.get("name"), q.get("limit"), q.get("status"))
        )

    async def invite_get(request: web.Request) -> web.Response:
        world = node_world(request)
        return ok(world.groups_api.get_invite_link(request.match_info["node"]))

    async def invite_post(request: web.Request) -> web.Response:
        world = node_world(request)
        data = await body(request)
        return ok(world.groups_api.reset_invite_link(request.match_info["node"], data))

    async def invite_delete(request: web.Request) -> web.Response:
        world = node_world(request)
        return ok(world.groups_api.delete_invite_link(request.match_info["node"]))

    async def participants_delete(request: web.Request) -> web.Response:
        world = node_world(request)
        return ok(
            world.members_api.remove_participants(request.match_info["node"], await body(request))
        )

    async def participants_post(request: web.Request) -> web.Response:
        world = node_world(request)
        return ok(
            world.members_api.add_participants(request.match_info["node"], await body(request))
        )

    async def join_requests_get(request: web.Request) -> web.Response:
        world = node_world(request)
        q = request.query
        return ok(
            world.members_api.list_join_requests(
                request.match_info["node"], q.get("limit"), q.get("after")
            )
        )

    async def join_requests_post(request: web.Request) -> web.Response:
        world = node_world(request)
        return ok(
            world.members_api.approve_join_requests(request.match_info["node"], await body(request))
        )

    async def join_requests_delete(request: web.Request) -> web.Response:
        world = node_world(request)
        return ok(
            world.members_api.reject_join_requests(request.match_info["node"], await body(request))
        )

    def media_world(media_id: str) -> World:
        return next((w for w in every if media_id in w.media), world)

    async def media_download(request: web.Request) -> web.StreamResponse:
        world = media_world(request.match_info["media_id"])
        item = world.media.get(request.match_info["media_id"])
        expires = request.query.get("expires", "")
        if item is None or not expires.isdigit() or int(expires) < world.now():
            return web.Response(status=404, text="Not Found")
        return web.Response(body=item.content(), content_type=item.mime_type.split(";")[0])

    # ---------------------------------------------------------------- control routes

    async def ctl_body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw:
            return {}
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            raise SandboxError("the body is not JSON") from None
        if not isinstance(parsed, dict):
            raise SandboxError("the body must be a JSON object")
        return parsed

    def opt_str(data: dict[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise SandboxError(f"{key} must be a string")
        return value

    def ctl_world(group_id: str) -> World:
        return next((w for w in every if group_id in w.groups), world)

    async def ctl_join(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        data = await ctl_body(request)
        wa = world.persons.join(request.match_info["gid"], opt_str(data, "wa_id"))
        return ok({"wa_id": wa})

    async def ctl_join_request(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        data = await ctl_body(request)
        gid = request.match_info["gid"]
        jr_id = world.persons.request_join(gid, opt_str(data, "wa_id"))
        return ok({"join_request_id": jr_id, "wa_id": world.groups[gid].join_requests[jr_id].wa_id})

    async def ctl_revoke(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        data = await ctl_body(request)
        jr_id = world.persons.revoke_request(
            request.match_info["gid"],
            opt_str(data, "join_request_id"),
            wa_id=opt_str(data, "wa_id"),
        )
        return ok({"join_request_id": jr_id})

    async def ctl_message(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        data = await ctl_body(request)
        wamid = world.persons.message(
            request.match_info["gid"],
            opt_str(data, "wa_id"),
            opt_str(data, "text"),
            kind=opt_str(data, "type") or "text",
        )
        return ok({"id": wamid})

    async def ctl_leave(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        data = await ctl_body(request)
        return ok({"wa_id": world.persons.leave(request.match_info["gid"], opt_str(data, "wa_id"))})

    async def ctl_suspend(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        data = await ctl_body(request)
        world.groups_api.suspend(
            request.match_info["gid"], cleared=bool(data.get("cleared", False))
        )
        return ok({"suspended": not bool(data.get("cleared", False))})

    async def ctl_group(request: web.Request) -> web.Response:
        world = ctl_world(request.match_info["gid"])
        return ok(world.group_state(request.match_info["gid"]))

    async def ctl_advance(request: web.Request) -> web.Response:
        data = await ctl_body(request)
        seconds = data.get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            raise SandboxError("seconds must be a non-negative number")
        ran = world.advance(float(seconds))
        if on_advance is not None:
            on_advance()
        return ok({"now": world.now(), "ran": ran})

    async def ctl_tick(request: web.Request) -> web.Response:
        return ok({"now": world.now(), "ran": world.tick()})

    async def ctl_state(request: web.Request) -> web.Response:
        state = world.state()
        if len(every) > 1:
            state["numbers"] = {w.phone_number_id: w.state() for w in every}
        if webhooks is not None:
            stats = webhooks.stats
            state["webhooks"] = {
                "url": webhooks.url,
                "pending": webhooks.pending,
                "posts": stats.posts,
                "changes": stats.changes,
                "failed_attempts": stats.failed_attempts,
                "duplicates": stats.duplicates,
                "reordered": stats.reordered,
                "dropped": stats.dropped,
            }
        return ok(state)

    async def ctl_people(request: web.Request) -> web.Response:
        try:
            limit = int(request.query.get("limit", "100"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            raise SandboxError("limit and offset must be integers") from None
        number = request.query.get("phone_number_id")
        owner = next((w for w in every if w.phone_number_id == number), world)
        return ok({"people": owner.people(limit=max(0, min(limit, 10_000)), offset=max(0, offset))})

    async def ctl_webhook_url(request: web.Request) -> web.Response:
        data = await ctl_body(request)
        if webhooks is None:
            raise SandboxError("no webhook sender")
        webhooks.set_url(opt_str(data, "url"))
        return ok({"url": webhooks.url})

    app = web.Application(middlewares=[graph_errors], client_max_size=CLIENT_MAX_SIZE)
    app[WORLD_KEY] = world
    app[WEBHOOKS_KEY] = webhooks
    r = app.router
    g = "/_sandbox/groups/{gid}"
    r.add_post(f"{g}/join", ctl_join)
    r.add_post(f"{g}/join_request", ctl_join_request)
    r.add_post(f"{g}/revoke_request", ctl_revoke)
    r.add_post(f"{g}/message", ctl_message)
    r.add_post(f"{g}/leave", ctl_leave)
    r.add_post(f"{g}/suspend", ctl_suspend)
    r.add_get(g, ctl_group)
    r.add_post("/_sandbox/clock/advance", ctl_advance)
    r.add_post("/_sandbox/tick", ctl_tick)
    r.add_get("/_sandbox/state", ctl_state)
    r.add_get("/_sandbox/people", ctl_people)
    r.add_post("/_sandbox/webhook_url", ctl_webhook_url)
    r.add_get("/_sandbox/media/{media_id}", media_download)

    n = f"/{_V}/{{node}}"
    r.add_get(n, node_get)
    r.add_post(n, node_post)
    r.add_delete(n, node_delete)
    r.add_post(f"{n}/groups", groups_post)
    r.add_get(f"{n}/groups", groups_get)
    r.add_post(f"{n}/messages", messages_post)
    r.add_post(f"{n}/media", media_post)
    r.add_get(f"{n}/message_templates", templates_get)
    r.add_get(f"{n}/invite_link", invite_get)
    r.add_post(f"{n}/invite_link", invite_post)
    r.add_delete(f"{n}/invite_link", invite_delete)
    r.add_delete(f"{n}/participants", participants_delete)
    r.add_post(f"{n}/participants", participants_post)
    r.add_get(f"{n}/join_requests", join_requests_get)
    r.add_post(f"{n}/join_requests", join_requests_post)
    r.add_delete(f"{n}/join_requests", join_requests_delete)
    return app
