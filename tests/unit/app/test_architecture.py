"""The architecture the import contracts describe, checked on the source itself.

* InboxService is the only way in: no module outside ``service/`` (and the store itself)
  reaches a service's store, and the UI, the CLI, the automations and the workers import
  nothing of the store;
* the service is a thin façade handing out one sub-API per concern;
* one record per idea: a record the store returns is not defined a second time by the
  service or the domain;
* ``ServiceError`` carries typed fields that no caller unpacks from ``args``;
* ``pyproject.toml`` declares the layers, and ``docs/architecture.md`` names every package.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import groups_tui
from groups_tui.domain.sending import Refusal

PACKAGE = Path(groups_tui.__file__).parent
ROOT = PACKAGE.parent.parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports: at module level, in functions, under TYPE_CHECKING."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


# --- InboxService is the only way in ----------------------------------------------------

SERVICE_CLIENTS = ("ui/", "cli/", "tui_runner.py", "automations/", "workers/")
"""Where the service's clients live: they reach the account through it only."""

REACHING_IN = re.compile(r"\bservice\.(store|client|_core)\b|\b_core\.(store|client)\b")


def test_no_module_outside_the_service_reaches_a_services_store() -> None:
    offending = [
        f"{_name(path)}:{number}: {line.strip()}"
        for path in MODULES
        if not _name(path).startswith(("service/", "store/"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if REACHING_IN.search(line)
    ]
    assert offending == []


def test_the_services_clients_import_nothing_of_the_store() -> None:
    offending = sorted(
        f"{_name(path)} imports {module}"
        for path in MODULES
        if _name(path).startswith(SERVICE_CLIENTS)
        for module in _imports(path)
        if module == "groups_tui.store" or module.startswith("groups_tui.store.")
    )
    assert offending == []


def test_the_ui_reaches_neither_the_automations_nor_the_workers() -> None:
    # The automations screen reads their status through the service.
    offending = sorted(
        f"{_name(path)} imports {module}"
        for path in MODULES
        if _name(path).startswith("ui/")
        for module in _imports(path)
        if module.split(".")[:2] in (["groups_tui", "automations"], ["groups_tui", "workers"])
    )
    assert offending == []


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[object]:
    from groups_tui.service import InboxService
    from groups_tui.service.types import AccountInfo, Mode
    from groups_tui.store import Store

    store = await Store.open(tmp_path / "a.db")
    yield InboxService(store, None, account=AccountInfo("+1", "1", Mode.SANDBOX))
    await store.close()


async def test_the_service_hands_out_one_sub_api_per_concern(service: object) -> None:
    from groups_tui.service.admin import Admin
    from groups_tui.service.automations import Automations
    from groups_tui.service.changes import Changes
    from groups_tui.service.moderation import Moderation
    from groups_tui.service.reading import Reading
    from groups_tui.service.sending import Sending

    concerns = {
        "reading": Reading,
        "sending": Sending,
        "admin": Admin,
        "moderation": Moderation,
        "automations": Automations,
        "changes": Changes,
    }
    for name, kind in concerns.items():
        assert isinstance(getattr(service, name), kind), name
    # The façade itself keeps no store, no client and no flat method of its parts.
    assert not hasattr(service, "store") and not hasattr(service, "client")
    assert not hasattr(service, "send_text") and not hasattr(service, "inbox_rows")


# --- one record per idea ----------------------------------------------------------------


def _record_classes(paths: list[Path]) -> dict[str, str]:
    """Dataclasses and named tuples defined in `paths`, by name."""
    found: dict[str, str] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            decorated = any("dataclass" in ast.unparse(d) for d in node.decorator_list)
            named_tuple = any(ast.unparse(b) == "NamedTuple" for b in node.bases)
            if decorated or named_tuple:
                found[node.name] = _name(path)
    return found


def _under(*parts: str) -> list[Path]:
    return [p for p in MODULES if _name(p).startswith(parts)]


def test_a_record_the_store_returns_is_not_defined_again_by_the_service() -> None:
    store = _record_classes(_under("store/"))
    service = _record_classes(_under("service"))  # the package (or the modules it was)
    assert sorted(set(store) & set(service)) == []


def test_a_stored_record_and_a_domain_record_do_not_share_a_name() -> None:
    # (The ledger's recorded charge and the preview's expected charge are two ideas.)
    store = _record_classes(_under("store/"))
    domain = _record_classes(_under("domain/"))
    assert sorted(set(store) & set(domain)) == []


def test_the_service_names_the_stores_records_instead_of_copying_them() -> None:
    from groups_tui.service import types
    from groups_tui.store import records

    for name in ("InboxRow", "OutboxItem", "SearchHit", "StoredFlag", "AuditEntry"):
        assert getattr(types, name) is getattr(records, name), name


def test_an_outbox_item_words_its_own_failure() -> None:
    from groups_tui.service.types import OutboxItem

    def item(state: str, code: int | None = None, message: str | None = None) -> OutboxItem:
        return OutboxItem(7, "G", "text", {}, state, None, code, message, 1.0, 2.0, "local:7")

    assert item("accepted").error is None
    assert item("failed", 131047, "Re-engagement message").error == (
        "(#131047) Re-engagement message"
    )
    assert item("failed").error == "failed"
    assert "may or may not have been sent" in (item("unknown").error or "")


# --- ServiceError ------------------------------------------------------------------------


def test_a_service_error_carries_typed_fields() -> None:
    from groups_tui.service import ServiceError, refused

    cause = ValueError("behind it")
    error = ServiceError("the sentence", cause=cause)
    assert (error.message, error.refusal, error.cause, str(error)) == (
        "the sentence",
        None,
        cause,
        "the sentence",
    )
    refusal = Refusal("window_closed", "the 24-hour window is closed", 131047)
    from_refusal = refused(refusal)
    assert from_refusal.refusal is refusal and from_refusal.message == refusal.reason
    assert from_refusal.cause is None


def _unpacked_args(path: Path) -> Iterator[int]:
    """Lines where a caught ``ServiceError`` (or a worker's error) is read by ``args``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ExceptHandler) or node.name is None or node.type is None:
            continue
        if "ServiceError" not in ast.unparse(node.type):
            continue
        for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if (
                isinstance(inner, ast.Attribute)
                and inner.attr == "args"
                and isinstance(inner.value, ast.Name)
                and inner.value.id == node.name
            ):
                yield inner.lineno


def test_no_caller_unpacks_a_service_errors_args() -> None:
    offending = [f"{_name(path)}:{line}" for path in MODULES for line in _unpacked_args(path)]
    assert offending == []
    # Nor does anyone build one from positional causes.
    built = [
        f"{_name(path)}:{number}"
        for path in MODULES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(
            r"ServiceError\([^()]*\([^()]*\)[^()]*,\s*\w+\)|ServiceError\(\w+\.\w+, \w+\)", line
        )
    ]
    assert built == []


# --- the declared layers and the map of the packages -------------------------------------


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_layers_contract_puts_the_ui_over_the_service_over_the_store() -> None:
    (layers,) = [
        c["layers"] for c in _contracts() if c["type"] == "layers" and "containers" not in c
    ]
    assert isinstance(layers, list)
    where = {
        module.strip().removeprefix("groups_tui."): index
        for index, layer in enumerate(layers)
        for module in re.split(r"[|:]", layer)
    }
    assert where["ui"] < where["service"] < where["store"] < where["domain"]
    assert where["workers"] < where["service"] and where["cli"] < where["service"]
    assert where["service"] < where["cloud"]
    # Every package and top-level module of groups_tui has its place.
    tops = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if _is_part(p)}
    assert tops - {"__main__", "__init__"} <= set(where) | {m.split(".")[0] for m in where}
    # A package placed module by module (the daemon: its server over the runtime, its
    # client under it) has every module placed.
    for top in {m.split(".")[0] for m in where if "." in m}:
        modules = {p.stem for p in (PACKAGE / top).glob("*.py")} - {"__init__"}
        assert {f"{top}.{m}" for m in modules} <= set(where), top


def _is_part(path: Path) -> bool:
    if path.is_dir():
        return (path / "__init__.py").exists()
    return path.suffix == ".py"


def test_the_architecture_map_names_every_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and _is_part(p))
    assert len(packages) >= 9
    missing = [p for p in packages if f"`{p}/`" not in text]
    assert missing == []
    # One page: a map, not a manual.
    assert len(text.splitlines()) <= 120


def test_the_readme_points_to_the_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    built = readme[readme.index("## How it is built") :]
    assert "docs/architecture.md" in built
