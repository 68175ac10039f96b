"""The README and the documentation site under docs/: the README stays short, the
generated tables are the registry's, every link leads somewhere, and the site (with its
API reference from the docstrings) builds with `mkdocs build --strict`."""

import glob
import os
import re
import subprocess
import sys

import pytest

from kerasdl import registry

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
README = os.path.join(ROOT, "README.md")
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
pytestmark = pytest.mark.backend_independent


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_the_readme_is_short():
    assert os.path.getsize(README) < 15_000


def test_model_tables_are_the_registry():
    for path in (README, os.path.join(ROOT, "docs", "models.md")):
        assert registry.markdown_table() in _read(path), path


def test_every_relative_link_leads_to_a_file():
    broken = []
    for path in [README, *PAGES]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _read(path)):
            if "://" not in target and not os.path.exists(
                    os.path.join(os.path.dirname(path), target)):
                broken.append((os.path.relpath(path, ROOT), target))
    assert not broken, broken


def test_the_site_builds_strictly(tmp_path):
    mkdocs = os.path.join(os.path.dirname(sys.executable), "mkdocs")
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=240,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "api" / "index.html").stat().st_size > 10_000  # the docstrings
    # the home page is the README (mkdocs_hooks.py), its links into docs/ now the site's
    home = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Classic deep-learning" in _read(README) and "Classic deep-learning" in home
    assert 'href="models/"' in home and 'href="docs/models.md"' not in home
