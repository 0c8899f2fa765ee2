"""The layering, checked on every import in the package (at module level or inside functions).

core  <-  store, models, mesh, engine  <-  service  <-  api, cli, ui
"""

from __future__ import annotations

import ast
from pathlib import Path

import hearth

PACKAGE = Path(hearth.__file__).parent
QT = ("PySide6", "qasync", "shiboken6")
# What pure logic must not reach for: the network, the event loop's I/O, Qt, llama.cpp.
NOT_IN_CORE = (*QT, "asyncio", "socket", "ssl", "websockets", "zeroconf", "llama_cpp", "subprocess")
LAYER = {
    "core": 0,
    "store": 1,
    "models": 1,
    "mesh": 1,
    "engine": 1,
    "service": 2,
    "api": 3,
    "cli": 3,
    "ui": 3,
}


def _imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every import statement in the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(("hearth", *path.relative_to(PACKAGE).with_suffix("").parts))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(module, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((module, node.module))
                # ``from hearth.core import control`` imports the module hearth.core.control.
                found += [(module, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "hearth" and parts[1] in LAYER else None


def test_every_module_lives_in_a_layer() -> None:
    loose = {p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert not loose, f"modules outside the layers: {sorted(loose)}"


def test_only_the_ui_imports_qt() -> None:
    offenders = {(src, dst) for src, dst in _imports() if dst.split(".")[0] in QT and _layer(src) != "ui"}
    assert not offenders, offenders


def test_core_is_pure() -> None:
    offenders = {
        (src, dst) for src, dst in _imports() if _layer(src) == "core" and dst.split(".")[0] in NOT_IN_CORE
    }
    assert not offenders, offenders


def test_no_import_runs_upward() -> None:
    offenders = set()
    for src, dst in _imports():
        a, b = _layer(src), _layer(dst)
        # Sideways is allowed (mesh starts engine workers; the CLI is the local API's client).
        if a is not None and b is not None and LAYER[b] > LAYER[a]:
            offenders.add((src, dst))
    assert not offenders, sorted(offenders)


def test_the_checks_see_the_imports() -> None:
    # Guards the checks above against reading nothing: known edges must be found.
    edges = set(_imports())
    assert ("hearth.ui.app", "hearth.service.app") in edges
    assert ("hearth.mesh.pool", "hearth.core.control") in edges
