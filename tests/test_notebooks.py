"""Every notebook runs top to bottom on this suite's backend (in quick mode), so none can
rot, and each is paired with its jupytext source, its one place of editing. Each notebook
asserts its key result in its own cells (LeNet-5 well above chance, the reversal learned,
the GAN's losses finite, ...), so a result that regresses fails here."""

import glob
import os

import keras
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "notebooks", "*.ipynb")))
# Each notebook runs once, the suites sharing them out in turn (what a notebook shows does
# not depend on the backend; every model trains on every backend in tests/test_models.py);
# one that runs every backend itself (in subprocesses) in the PyTorch suite.
RING = ["tensorflow", "jax", "torch"]
SPANS_BACKENDS = {"11_backends.ipynb": "torch"}


def _suite_of(path):
    name = os.path.basename(path)
    return SPANS_BACKENDS.get(name) or RING[NOTEBOOKS.index(path) % len(RING)]


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.backend_independent
def test_every_notebook_equals_its_jupytext_source():
    import jupytext

    for path in NOTEBOOKS:
        source = path[: -len(".ipynb")] + ".py"
        assert os.path.exists(source), f"{path} has no jupytext source {source}"
        cells = [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]
        assert cells == [(c.cell_type, c.source) for c in jupytext.read(source).cells], (
            f"{path} and {source} differ: edit the .py, then `jupytext --sync {source}`")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_executes(path, tmp_path, monkeypatch):
    if _suite_of(path) != keras.backend.backend():
        pytest.skip(f"runs once, in the {_suite_of(path)} suite")
    monkeypatch.setenv("KERAS_BACKEND", keras.backend.backend())
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("KERASDL_QUICK", "1")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", [])]
    assert any(f"backend: {keras.backend.backend()} (quick mode)" in text for text in outputs)
