"""The package's shape, read from the source: areas in layers, imports one way, no private names.

docs/architecture.md draws the layers; these tests keep the drawing true. They parse every module
of ``scimgate/`` (nothing is imported or run) and fail naming the file and line that breaks a rule,
so a change that adds a cycle or reaches up a layer is caught in review, not by a newcomer later.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "scimgate"

# Lowest first. A module may import its own layer and the layers below it, never one above.
# Within a layer, imports must still not form a cycle (checked separately).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("scimgate.scim",),  # pure protocol: no Flask, no database
    ("scimgate.extensions", "scimgate.models", "scimgate.db"),
    ("scimgate.conf", "scimgate.logs"),
    ("scimgate.services", "scimgate.accounts"),
    (
        "scimgate.configuration_utils",
        "scimgate.hookspecs",
        "scimgate.default_hooks",
        "scimgate.plugin_host",
    ),
    (
        "scimgate.api",
        "scimgate.signin",
        "scimgate.web",
        "scimgate.admin_api",
        "scimgate.cli",
        "scimgate.health",
        "scimgate.testing",
    ),
    ("scimgate",),  # create_app wires the edges together
)
MAX_TOP_LEVEL_MODULES = 10
# Underscored names a library documents as public API: werkzeug's LocalProxy documents
# ``_get_current_object`` (and Flask's docs use it to pass the real app to signals and threads).
DOCUMENTED = frozenset({"_get_current_object"})
LIBRARIES = (
    "flask",
    "werkzeug",
    "sqlalchemy",
    "flask_sqlalchemy",
    "pluggy",
    "marshmallow",
    "saml2",
    "logging",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts
    }


MODULES = _modules()


def _imports(path: Path, module: str) -> Iterator[tuple[str, int, bool]]:
    """(imported scimgate module, line, inside a function) for every import outside TYPE_CHECKING."""
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", getattr(child.test, "attr", "")) == (
                "TYPE_CHECKING"
            ):
                for statement in child.orelse:
                    yield from visit(statement, in_function)
                continue
            candidates: list[str] = []
            if isinstance(child, ast.Import):
                candidates = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    prefix = ".".join(base + ([child.module] if child.module else []))
                else:
                    prefix = child.module or ""
                candidates = [f"{prefix}.{alias.name}" for alias in child.names] + [prefix]
            for candidate in candidates:
                if candidate in MODULES and candidate != module:
                    yield candidate, child.lineno, in_function
                    break
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from visit(child, nested)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), False)


def _graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, ignoring a module's import of its own package
    (Flask's blueprint idiom: ``scimgate.api.users`` using ``scimgate.api``'s blueprint)."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, {})
        for target, line, _ in _imports(path, module):
            if not module.startswith(target + "."):
                edges.setdefault(target, line)
    return graph


def _layer_of(module: str) -> int:
    best, best_len = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = [module for module in MODULES if _layer_of(module) < 0]
    assert not unplaced, unplaced


def test_imports_never_reach_up_a_layer() -> None:
    wrong = [
        f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports {target}"
        for module, edges in _graph().items()
        for target, line in edges.items()
        if _layer_of(target) > _layer_of(module)
    ]
    assert not wrong, "\n".join(wrong)


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(vertex: str) -> None:  # Tarjan's strongly connected components
        index[vertex] = low[vertex] = len(index)
        stack.append(vertex)
        on_stack.add(vertex)
        for target in graph[vertex]:
            if target not in index:
                strong(target)
                low[vertex] = min(low[vertex], low[target])
            elif target in on_stack:
                low[vertex] = min(low[vertex], index[target])
        if low[vertex] == index[vertex]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == vertex:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for vertex in graph:
        if vertex not in index:
            strong(vertex)
    assert not cycles, "\n".join(" <-> ".join(cycle) for cycle in cycles)


def test_no_scimgate_import_hides_inside_a_function() -> None:
    """A function-level import of our own code only ever served to dodge a cycle; create_app is
    the factory and may import the areas it wires (flaskr's idiom)."""
    hidden = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for module, path in MODULES.items()
        if module != "scimgate"
        for target, line, in_function in _imports(path, module)
        if in_function
    ]
    assert not hidden, "\n".join(hidden)


def _library_aliases(tree: ast.AST) -> set[str]:
    """Local names bound to a library or something imported from one (``import flask.globals as
    fg``, ``from flask import globals``), so ``fg._cv_request`` is caught as well as
    ``flask.globals._cv_request``."""
    aliases = set(LIBRARIES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
            aliases.update(alias.asname or alias.name for alias in node.names)
    return aliases


def test_no_private_name_of_a_library_is_used() -> None:
    found = []
    for path in MODULES.values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = _library_aliases(tree)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
                names = node.module.split(".")[1:] + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [
                    part
                    for alias in node.names
                    if alias.name.split(".")[0] in LIBRARIES
                    for part in alias.name.split(".")[1:]
                ]
            elif isinstance(node, ast.Attribute):
                chain = [node.attr]
                base: ast.expr = node.value
                while isinstance(base, ast.Attribute):
                    chain.append(base.attr)
                    base = base.value
                if isinstance(base, ast.Name) and base.id in aliases:
                    names = chain
            if any(
                name.startswith("_") and not name.startswith("__") and name not in DOCUMENTED
                for name in names
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not found, "\n".join(found)


def test_at_most_ten_modules_sit_directly_in_the_package() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py")
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_one_module_renders_users_and_groups() -> None:
    """A resource's ``meta`` (what makes a dict a rendered SCIM User or Group) is built in
    ``services/rendering.py`` only, streamed big groups included; nothing else renders one."""
    marks = ('"lastModified": timestamp(', '"resourceType": "User"', '"resourceType": "Group"')
    builders = sorted(
        _module_name(path)
        for path in MODULES.values()
        if any(mark in path.read_text(encoding="utf-8") for mark in marks)
    )
    assert builders == ["scimgate.services.rendering"], builders
