"""Tests share helpers through ``tests/support/``, never by importing another test module.

A test module imported elsewhere is executed twice (once collected, once imported), its tests can
be collected into the importing module when names are star-imported or re-exported, and a helper
edit in it silently changes other files' tests. ``conftest.py`` modules are loaded by pytest
itself; importing one as a module runs its fixtures' registration a second time. This parses
every file under ``tests/`` (nothing is imported) and names each offending import.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def _in_tests(module: str | None) -> bool:
    return module is not None and module.split(".")[0] == "tests"


def _imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """Every ``tests.*`` module an import names (``from tests.x import y`` counts ``tests.x`` and
    ``tests.x.y``, since ``y`` may be a module)."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("tests.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _in_tests(node.module):
            found.append((node.module, node.lineno))
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_no_module_imports_a_test_module_or_a_conftest() -> None:
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for module, line in _imported_modules(tree):
            if _is_test_or_conftest(module):
                offenders.append(f"{path.relative_to(TESTS.parent)}:{line} imports {module}")
    assert not offenders, "import shared helpers from tests.support instead:\n" + "\n".join(offenders)


def test_no_helper_module_is_left_beside_the_tests() -> None:
    """Outside ``tests/support/``, a module under tests/ is a test module, a conftest or a package."""
    strays = [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("*.py"))
        if "support" not in path.relative_to(TESTS).parts
        and not path.name.startswith("test_")
        and path.name not in {"conftest.py", "__init__.py"}
    ]
    assert not strays, f"move shared helpers into tests/support/: {strays}"


def test_the_check_catches_both_import_forms() -> None:
    tree = ast.parse(
        "import tests.test_users\nfrom tests.test_groups import new_group\nfrom tests import conftest\n"
    )
    modules = [module for module, _ in _imported_modules(tree) if _is_test_or_conftest(module)]
    assert modules == ["tests.test_users", "tests.test_groups", "tests.conftest"]
