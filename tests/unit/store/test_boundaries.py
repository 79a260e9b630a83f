"""Only the store talks to the database driver, and only through public APIs.

Outside ``groups_tui/store/`` no module imports ``sqlite3`` or ``aiosqlite``; inside it,
nothing reaches into a library's private attributes (aiosqlite's ``_conn``/``_execute``),
and only the engine module (``sqlite.py``) owns threads and opens connections.
"""

from __future__ import annotations

import ast
from pathlib import Path

import groups_tui

PACKAGE = Path(groups_tui.__file__).parent
STORE = PACKAGE / "store"
DRIVERS = {"sqlite3", "aiosqlite"}
PRIVATE_DRIVER_ATTRIBUTES = {"_conn", "_execute", "_connection", "_tx", "_tx_sync"}


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_outside_the_store_imports_a_database_driver() -> None:
    # GIVEN every module of the package outside store/
    outside = [p for p in _modules(PACKAGE) if STORE not in p.parents]
    assert len(outside) > 50
    # WHEN their imports are read THEN none is a database driver
    offenders = {
        str(p.relative_to(PACKAGE)): sorted(_imported(ast.parse(p.read_text())) & DRIVERS)
        for p in outside
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_uses_private_attributes_of_the_driver_or_the_database() -> None:
    # GIVEN every module of the package
    found = []
    for path in _modules(PACKAGE):
        for node in ast.walk(ast.parse(path.read_text())):
            # THEN no attribute access names aiosqlite's (or the old store's) private parts
            if isinstance(node, ast.Attribute) and node.attr in PRIVATE_DRIVER_ATTRIBUTES:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert found == []


def test_aiosqlite_is_not_used_at_all() -> None:
    # The store runs its own reader and writer threads over the standard sqlite3 module.
    users = [
        str(p.relative_to(PACKAGE))
        for p in _modules(PACKAGE)
        if "aiosqlite" in _imported(ast.parse(p.read_text()))
    ]
    assert users == []


def test_only_the_engine_opens_connections_and_threads() -> None:
    # GIVEN the store's modules WHEN their calls are read
    opened = []
    for path in _modules(STORE):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and (node.func.value.id, node.func.attr)
                in {("sqlite3", "connect"), ("threading", "Thread")}
            ):
                opened.append(path.name)
    # THEN only sqlite.py connects to SQLite or starts a thread
    assert sorted(set(opened)) == ["sqlite.py"]
