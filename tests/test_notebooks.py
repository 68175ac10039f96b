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
# Notebooks that run every backend themselves (in subprocesses): once, in the PyTorch suite.
SPANS_BACKENDS = {"11_backends.ipynb"}


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="no backend involved: runs once, in the TensorFlow suite")
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
    if os.path.basename(path) in SPANS_BACKENDS and keras.backend.backend() != "torch":
        pytest.skip("runs every backend itself: once, in the PyTorch suite")
    monkeypatch.setenv("KERAS_BACKEND", keras.backend.backend())
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("KERASDL_QUICK", "1")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", [])]
    assert any(f"backend: {keras.backend.backend()} (quick mode)" in text for text in outputs)
