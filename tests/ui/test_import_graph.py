"""The UI's modules import one another without a cycle, and the app reaches screens only
through the roles they inherit (no attribute looked up by name)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

from textual.screen import Screen

import groups_tui.ui
import groups_tui.ui.screens

UI_ROOT = Path(groups_tui.ui.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(UI_ROOT.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _ui_import_graph() -> dict[str, set[str]]:
    """Every import between ``groups_tui.ui`` modules: module level, inside functions
    and under ``TYPE_CHECKING`` alike."""
    paths = sorted(UI_ROOT.rglob("*.py"))
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_ui_modules_import_one_another_without_a_cycle() -> None:
    # GIVEN every import between the UI's modules
    graph = _ui_import_graph()
    assert "groups_tui.ui.app" in graph and len(graph) > 40
    # THEN no module reaches itself through them
    cycle = _a_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_no_screen_module_imports_the_app_module() -> None:
    # GIVEN a fresh interpreter WHEN every screen module is imported
    code = (
        "import importlib, pkgutil, sys\n"
        "import groups_tui.ui.screens as screens\n"
        "for info in pkgutil.iter_modules(screens.__path__):\n"
        "    importlib.import_module(f'groups_tui.ui.screens.{info.name}')\n"
        "print('groups_tui.ui.app' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    # THEN the app module was not loaded
    assert out == "False"


def _screen_classes() -> list[type[Screen[object]]]:
    found: list[type[Screen[object]]] = []
    for info in pkgutil.iter_modules(groups_tui.ui.screens.__path__):
        module = importlib.import_module(f"groups_tui.ui.screens.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_screen_the_app_talks_to_inherits_the_role() -> None:
    from groups_tui.ui.screen_roles import (
        FollowsChanges,
        OffersPaletteActions,
        ShowsGroup,
        Ticking,
    )

    # GIVEN every screen class of the package
    screens = _screen_classes()
    assert len(screens) > 15
    for cls in screens:
        # THEN a screen with a clock, a change feed reaction, palette entries or a group
        # takes on the matching role, or the app would never reach it
        if callable(getattr(cls, "tick", None)):
            assert issubclass(cls, Ticking), cls
        if callable(getattr(cls, "apply_changes", None)):
            assert issubclass(cls, FollowsChanges), cls
        if "PALETTE_ACTIONS" in vars(cls):
            assert issubclass(cls, OffersPaletteActions), cls
        if "group_id" in inspect.getsource(cls.__init__):
            assert issubclass(cls, ShowsGroup), cls
