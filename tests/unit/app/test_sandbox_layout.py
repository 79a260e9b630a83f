"""The sandbox's shape: modules of one job each, classes of a readable size, a composed World."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import groups_tui.sandbox
from groups_tui.sandbox import ManualClock, World

SANDBOX = Path(groups_tui.sandbox.__file__).parent
MODULES = sorted(SANDBOX.glob("*.py"))
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 500


def _classes(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_sandbox_module_is_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_sandbox_classes_are_small(path: Path) -> None:
    big = [(name, size) for name, size in _classes(path) if size > MAX_CLASS_LINES]
    assert big == [], f"{path.name}: {big}"


def test_people_and_prefill_modules_say_what_they_hold() -> None:
    # The simulated people and the groups pre-filled at start-up no longer share a stem.
    names = {p.stem for p in MODULES}
    assert {"people", "prefill", "person_actions"} <= names
    assert not names & {"populate", "population"}


def test_world_composes_components_with_one_job_each() -> None:
    world = World(
        phone_number_id="106540352242922",
        business_account_id="102290129340398",
        clock=ManualClock(1_789_473_600.0),
    )
    parts = {
        "groups_api": "GroupsApi",
        "members_api": "MembersApi",
        "messaging": "Messaging",
        "statuses": "Statuses",
        "media": "MediaStore",
        "templates": "Templates",
        "persons": "PersonActions",
        "groups": "GroupRegistry",
        "emitter": "Emitter",
        "timeline": "Timeline",
        "ids": "Ids",
        "log": "MessageLog",
    }
    assert {name: type(getattr(world, name)).__name__ for name in parts} == parts
    # The World itself keeps only time, inspection and wiring: no API or person methods.
    own = {name for name in vars(World) if not name.startswith("__")}
    assert not {n for n in own if n.startswith(("api_", "person_"))}
    world_size = dict(_classes(SANDBOX / "world.py"))["World"]
    assert world_size <= 250, f"World has {world_size} lines"
