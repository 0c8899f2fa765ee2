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


def test_the_window_reaches_below_the_service_only_through_it() -> None:
    # Pure values and calculations of core are everyone's; the rest the window gets from a service
    # (it opens the APIs beside it).
    offenders = {
        (src, dst)
        for src, dst in _imports()
        if _layer(src) == "ui" and _layer(dst) not in (None, "core", "service", "ui", "api")
    }
    assert not offenders, sorted(offenders)


# What the command line and the APIs may import of the package: core's values, the services, and each
# other's layer. The CLI is the local API's client and opens the window (``hearth window``, and
# self-test's check of the window's Qt platform); the APIs import only what they serve.
REACHES = {
    "cli": ("core", "service", "cli", "api", "ui"),
    "api": ("core", "service", "api"),
}


def test_the_command_line_and_the_apis_reach_below_the_service_only_through_it() -> None:
    edges = _imports()
    offenders = set()
    for src, dst in edges:
        a, b = _layer(src), _layer(dst)
        if a in REACHES and b is not None and b not in REACHES[a]:
            offenders.add((src, dst))
    assert not offenders, sorted(offenders)
    # Guards the check against reading nothing: both layers are seen importing the service.
    assert {_layer(src) for src, dst in edges if _layer(dst) == "service"} >= set(REACHES)


# What the composition root (``service.root.Hearth``) offers; the ways in use nothing else of it.
ROOT = {
    "devices",
    "donation",
    "plans",
    "serving",
    "reservations",
    "routing",
    "on_demand",
    "models",
    "conversations",
    "api",
    "embeddings",
    "drafting",
    "events",
    "start",
    "stop",
}
ROOT_NAMES = {"services", "hearth"}


def _is_root(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ROOT_NAMES
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ROOT_NAMES
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _reaches(tree: ast.AST) -> set[str]:
    """Attribute chains that reach around the services: an unknown service of the root, a service's
    private part, or anything private of an object that is not the code's own (``self``)."""
    found = set()
    own = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)} | {"self", "cls"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if _is_root(node.value) and node.attr not in ROOT:
            found.add(ast.unparse(node))
        elif node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in own):
                found.add(ast.unparse(node))
    return found


def test_the_ways_in_reach_nothing_through_the_services_attributes() -> None:
    offenders = {}
    for layer in ("ui", "cli", "api"):
        for path in (PACKAGE / layer).rglob("*.py"):
            if reached := _reaches(ast.parse(path.read_text(), str(path))):
                offenders[str(path.relative_to(PACKAGE))] = sorted(reached)
    assert not offenders, offenders


def test_the_attribute_check_sees_a_reach() -> None:
    tree = ast.parse("self.services.node.add_address(a)\nservices.serving._engine.kill()\nx._y\nself._z")
    assert _reaches(tree) == {"self.services.node", "services.serving._engine", "x._y"}


def test_the_checks_see_the_imports() -> None:
    # Guards the checks above against reading nothing: known edges must be found.
    edges = set(_imports())
    assert ("hearth.ui.app", "hearth.service.root") in edges
    assert ("hearth.mesh.pool", "hearth.core.control") in edges
