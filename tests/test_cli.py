"""The command line, run as a user would: a subprocess on this suite's backend."""

import json
import os
import subprocess
import sys

import keras
import pytest

import kerasdl
from kerasdl import registry

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def run(*args):
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    return subprocess.run([sys.executable, "-m", "kerasdl", *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_train_writes_model_curves_and_metrics(tmp_path):
    out = tmp_path / "run"
    result = run("train", "lenet5", "--epochs", "2", "--output", str(out),
                 "--backend", keras.backend.backend())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backend"] == keras.backend.backend()
    assert metrics["epochs"] == 2 and metrics["seconds"] > 0
    assert metrics["test_accuracy"] > 0.8, metrics
    assert (out / "history.png").stat().st_size > 1000
    model = keras.saving.load_model(out / "model.keras")
    assert model.name == "lenet5"


@pytest.mark.parametrize("name,dataset,metric,check", [
    ("gru", "periodic", "test_mae", lambda v: v < 0.5),  # the series' std is ~0.8
    ("transformer_classifier", "topics", "test_accuracy", lambda v: v > 0.9),
    ("autoencoder_dense", "mnist_5k", "test_mse", lambda v: v < 0.05),  # mean image: 0.067
    ("gan_mlp", "mnist_5k", "g_loss", lambda v: v > 0),
])
def test_train_other_tasks_from_the_command_line(name, dataset, metric, check, tmp_path):
    out = tmp_path / name
    result = run("train", name, "--dataset", dataset, "--epochs", "2", "--lr", "3e-3",
                 "--output", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert check(metrics[metric]), metrics
    assert kerasdl.load_model(out / "model.keras").name == name


def test_list_and_info():
    listing = run("list", "vgg*")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()] == [
        "vgg11", "vgg13", "vgg16", "vgg19"]
    info = json.loads(run("info", "resnet50").stdout)
    assert info["params"] == 25_557_032 and info["default_input"] == [224, 224, 3]


@pytest.mark.parametrize("args,message", [
    (("train", "lenet6"), "Unknown model name 'lenet6'. Did you mean 'lenet5'"),
    (("train", "lenet5", "--dataset", "svhn"), "Unknown dataset 'svhn'"),
    (("train", "lenet5", "--epochs", "0"), "--epochs must be at least 1; received 0"),
    (("train", "lenet5", "--dataset", "cifar10", "--data-dir", "/nonexistent"),
     "'cifar10' is not on disk"),
])
def test_errors_are_one_clear_line(args, message):
    result = run(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_readme_table_is_the_registry():
    with open(README) as f:
        assert registry.markdown_table() in f.read()
