"""Meta-tests: every hook implementation has a test, every hookspec is documented, every payload
file is replayed, every plugin cites its evidence, and the docs' code examples are real plugins.

They fail when someone adds a hook implementation, a hookspec or a payload file and forgets the
test or the documentation that must come with it (the datasette habit).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import types
from pathlib import Path

import pytest

from scimgate import default_hooks, hookspecs
from scimgate.plugin_host import BUILTIN_CLIENTS, BUILTIN_PLUGINS, PluginHost
from tests.support import replay

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "plugins"
DOCS = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "examples" / "scimgate-onelogin" / "scimgate_onelogin.py"


def _load_example() -> types.ModuleType:
    """Import the example plugin from its file, whether or not it is installed."""
    spec = importlib.util.spec_from_file_location("scimgate_onelogin_meta", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plugins() -> list[tuple[str, types.ModuleType, Path]]:
    """(short name, module, the test file that must reference each of its hook implementations)."""
    out = [("default_hooks", default_hooks, TESTS / "test_core_defaults.py")]
    for dotted in BUILTIN_PLUGINS:
        short = dotted.rsplit(".", 1)[-1]
        out.append((short, importlib.import_module(dotted), TESTS / f"test_{short}.py"))
    out.append(("onelogin", _load_example(), TESTS / "test_third_party_plugin.py"))
    return out


def _hookimpls(module: types.ModuleType) -> list[str]:
    return sorted(
        name
        for name in dir(module)
        if name.startswith("scimgate_") and hasattr(getattr(module, name), f"{hookspecs.PROJECT}_impl")
    )


def _hookspecs() -> list[str]:
    return sorted(
        name
        for name in dir(hookspecs)
        if name.startswith("scimgate_") and hasattr(getattr(hookspecs, name), f"{hookspecs.PROJECT}_spec")
    )


@pytest.mark.parametrize(("short", "module", "test_file"), _plugins(), ids=[p[0] for p in _plugins()])
def test_every_hook_implementation_has_a_test_referencing_it(short, module, test_file):
    """A test must name ``<plugin>.<hook>`` (e.g. ``azure_ad.scimgate_tune_response``)."""
    assert test_file.exists(), f"{test_file.name} is missing for plugin {short}"
    text = test_file.read_text()
    missing = [hook for hook in _hookimpls(module) if f"{short}.{hook}" not in text]
    assert not missing, f"no test in {test_file.name} references {', '.join(f'{short}.{h}' for h in missing)}"


def test_every_hookspec_is_documented_with_an_example():
    text = DOCS.read_text()
    undocumented = [name for name in _hookspecs() if f"### `{name}`" not in text]
    assert not undocumented, f"docs/plugins.md has no section for {undocumented}"


def test_the_python_examples_in_the_plugin_docs_are_valid_plugins():
    """Each ```python block of docs/plugins.md registers cleanly (hook names and arguments checked)."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert blocks, "docs/plugins.md has no python example"
    for index, source in enumerate(blocks):
        module = types.ModuleType(f"docs_example_{index}")
        exec(compile(source, f"docs/plugins.md[{index}]", "exec"), module.__dict__)
        PluginHost(load_entry_points=False, extra_plugins=(module,))


def test_every_payload_file_is_replayed_by_a_test():
    sources = "\n".join(p.read_text() for p in TESTS.glob("test_*.py"))
    for path in sorted(replay.PAYLOADS.glob("*/*.json")):
        call = f'"{path.parent.name}", "{path.stem}"'
        assert call in sources, f"no test replays {path.relative_to(ROOT)}"
        sequence = replay.load(path.parent.name, path.stem)
        assert sequence["client"] in BUILTIN_CLIENTS
        assert sequence["evidence"], f"{path.name} cites no evidence"
        assert all("expect" in step and "status" in step["expect"] for step in sequence["steps"])


@pytest.mark.parametrize("dotted", BUILTIN_PLUGINS)
def test_every_builtin_plugin_cites_its_evidence(dotted):
    doc = importlib.import_module(dotted).__doc__ or ""
    assert "IDP-QUIRKS" in doc and "https://" in doc and "tests/plugins/test_" in doc


def test_the_replay_runner_reports_mismatches():
    """The runner is the oracle of every replay: it must fail loudly, not pass vacuously."""
    assert replay.subset_mismatch({"a": 1, "b": replay.ABSENT}, {"a": 1}) is None
    assert replay.subset_mismatch({"a": 1}, {"a": 2}) == "$.a: expected 1, got 2"
    assert replay.subset_mismatch({"b": replay.ABSENT}, {"b": None}) is not None
    assert replay.subset_mismatch([{"v": 1}], [{"v": 1}, {"v": 2}]) is not None
    assert replay.subset_mismatch({"active": False}, {"active": 0}) is not None  # no 0 == False
    assert replay.subset_mismatch({"x": replay.ANY}, {"x": [1]}) is None
    assert replay.fill({"p": "/Users/{{id}}", "v": "{{id}}"}, {"id": 7}) == {"p": "/Users/7", "v": 7}


def test_a_failed_expectation_names_the_step(app):
    from tests.support.plugins import active_client

    scim = active_client(app, "okta")
    sequence = {"steps": [{"name": "probe", "method": "GET", "path": "/Users", "expect": {"status": 201}}]}
    with pytest.raises(replay.ReplayError, match=r"\[probe\] expected HTTP 201, got 200"):
        replay.run(scim.client, sequence, scim.headers)
