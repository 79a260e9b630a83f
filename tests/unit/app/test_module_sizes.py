"""Every module of the package stays readable: at most 800 lines, no class over 500.

Files being split elsewhere are listed below as known exceptions. Each entry must still
be over its limit: once a file is split, its entry fails here until it is removed, so the
lists only ever shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import groups_tui

PACKAGE = Path(groups_tui.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 800
MAX_CLASS_LINES = 500

KNOWN_LONG_MODULES: frozenset[str] = frozenset({})
"""Modules still over 800 lines while they are being split (paths inside the package)."""

KNOWN_LONG_CLASSES: frozenset[tuple[str, str]] = frozenset({})
"""Classes still over 500 lines while their modules are being reshaped: (path, class)."""


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _classes(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }


def test_no_module_is_over_800_lines() -> None:
    long = {
        _name(path): lines
        for path in MODULES
        if (lines := _lines(path)) > MAX_MODULE_LINES and _name(path) not in KNOWN_LONG_MODULES
    }
    assert long == {}, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_class_is_over_500_lines() -> None:
    big = {
        f"{_name(path)}::{cls}": size
        for path in MODULES
        for cls, size in _classes(path).items()
        if size > MAX_CLASS_LINES and (_name(path), cls) not in KNOWN_LONG_CLASSES
    }
    assert big == {}, f"classes over {MAX_CLASS_LINES} lines: {big}"


@pytest.mark.parametrize("name", sorted(KNOWN_LONG_MODULES))
def test_known_long_module_is_still_long(name: str) -> None:
    path = PACKAGE / name
    assert path.exists(), f"{name} is gone: remove it from KNOWN_LONG_MODULES"
    assert _lines(path) > MAX_MODULE_LINES, f"{name} is split: remove it from KNOWN_LONG_MODULES"


@pytest.mark.parametrize("entry", sorted(KNOWN_LONG_CLASSES), ids=lambda e: "::".join(e))
def test_known_long_class_is_still_long(entry: tuple[str, str]) -> None:
    name, cls = entry
    path = PACKAGE / name
    size = _classes(path).get(cls, 0) if path.exists() else 0
    assert size > MAX_CLASS_LINES, f"{name}::{cls} is small now: remove it from KNOWN_LONG_CLASSES"


def test_the_limits_are_checked_on_every_module() -> None:
    # The walk covers subpackages (domain/pricing/, cloud/resources/, ui/screens/...).
    names = {_name(p) for p in MODULES}
    assert {"service/reading.py", "cloud/client.py", "domain/pricing/rate_card.py"} <= names
    assert len(names) > 100
