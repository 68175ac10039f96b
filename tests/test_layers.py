"""The core is layered: a module imports only the layers below it (the import-linter
contract in pyproject.toml), and no kerasdl module imports, directly or through others,
one that imports it."""

import os
import subprocess
import sys

import grimp
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
pytestmark = pytest.mark.backend_independent


def test_the_layers_contract_is_kept():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    result = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_no_module_imports_one_that_imports_it():
    graph = grimp.build_graph("kerasdl", cache_dir=None)
    loops = [(module, imported) for module in sorted(graph.modules)
             for imported in graph.find_modules_directly_imported_by(module)
             if graph.chain_exists(importer=imported, imported=module)]
    assert not loops, f"import cycles through: {loops}"
