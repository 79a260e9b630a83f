"""The client's shape: endpoints grouped as resources, one module each, over one request core."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import groups_tui.cloud.resources
from groups_tui.cloud import CloudClient
from groups_tui.cloud.resources.base import Resource

RESOURCES = Path(groups_tui.cloud.resources.__file__).parent
CLOUD = RESOURCES.parent

EXPECTED = {
    "groups": ("Groups", {"create", "get", "list", "delete", "update_settings", "update_picture"}),
    "participants": ("Participants", {"remove"}),
    "join_requests": ("JoinRequests", {"list", "approve", "reject"}),
    "invite_links": ("InviteLinks", {"get", "reset", "delete"}),
    "messages": (
        "Messages",
        {"send_text", "send_media", "send_template", "send_invite_link_template", "pin", "unpin"},
    ),
    "media": ("Media", {"upload", "get", "download", "delete"}),
    "templates": ("Templates", {"list"}),
}


def _public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


async def test_each_resource_is_its_own_module_over_the_client(client: CloudClient) -> None:
    for attribute, (class_name, methods) in EXPECTED.items():
        resource = getattr(client, attribute)
        cls = type(resource)
        assert isinstance(resource, Resource)
        assert cls.__name__ == class_name
        assert cls.__module__ == f"groups_tui.cloud.resources.{attribute}"
        assert _public_methods(cls) == methods, attribute


def test_the_client_itself_holds_no_endpoint() -> None:
    # Everything that talks to an endpoint lives in a resource; the client keeps the
    # request core (retry policy, error mapping, scrubbing) and its lifecycle.
    assert _public_methods(CloudClient) == {"aclose"}


def _dict_keys(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        key.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }


def test_one_module_builds_participant_entries() -> None:
    # A request names a person as {"user": ...} or {"user_id": ...} in one place only.
    builders = sorted(
        path.relative_to(CLOUD).as_posix()
        for path in CLOUD.rglob("*.py")
        if _dict_keys(path) & {"user", "user_id"}
    )
    assert builders == ["resources/participants.py"]
