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
# Each notebook runs once (what a notebook shows does not depend on the backend; every
# model trains on every backend in tests/test_models.py), in the suite given here: the
# suites run side by side (.ci/run), so the notebooks even out their times. 11 runs every
# backend itself, in subprocesses.
SUITE = {"01_neurons_mlp": "tensorflow", "02_cnns": "jax", "03_training_craft": "torch",
         "04_recurrent": "tensorflow", "05_attention_transformer": "tensorflow",
         "06_word2vec": "torch", "07_gans": "tensorflow", "08_autoencoders_vae": "tensorflow",
         "09_tuning": "tensorflow", "10_transfer_export": "tensorflow", "11_backends": "torch",
         "12_segmentation_detection": "tensorflow"}


def _suite_of(path):
    return SUITE[os.path.basename(path)[: -len(".ipynb")]]


@pytest.mark.backend_independent
def test_every_notebook_has_a_suite():
    assert sorted(SUITE) == sorted(os.path.basename(p)[: -len(".ipynb")] for p in NOTEBOOKS)


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
@pytest.mark.timeout(600)  # 11_backends trains and times in six processes: 2-5 minutes
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
