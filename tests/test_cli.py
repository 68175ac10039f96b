"""The command line, run as a user would: a subprocess on this suite's backend."""

import json
import os
import subprocess
import sys

import keras
import pytest

import kerasdl
from kerasdl import cli, registry
from tests.helpers import ONCE_ON

def run(*args):
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    return subprocess.run([sys.executable, "-m", "kerasdl", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != ONCE_ON, reason="notebooks/11_backends.ipynb "
                    "trains with this command on every backend and loads each run")
def test_train_validates_evaluates_and_evaluate_reads_the_run_again(tmp_path):
    out = tmp_path / "run"
    result = run("train", "lenet5", "--epochs", "2", "--output", str(out),
                 "--backend", keras.backend.backend())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test accuracy" in result.stdout and "test f1 macro" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["backend"] == keras.backend.backend()
    assert metrics["recipe"]["epochs"] == 2 and metrics["seconds"] > 0
    assert metrics["split_sizes"] == {"train": 3600, "validation": 400, "test": 1000}
    assert metrics["test_accuracy"] > 0.8 and 0 < metrics["val_loss"] < 1, metrics
    for name in ("history.png", "confusion_matrix.png", "log.csv", "best.keras",
                 "evaluation.json"):
        assert (out / name).stat().st_size > 100, name
    assert keras.saving.load_model(out / "model.keras").name == "lenet5"

    (out / "evaluation.json").unlink()
    result = run("evaluate", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert evaluation["f1_macro"] == pytest.approx(metrics["test_f1_macro"], abs=1e-6)

    tuned = tmp_path / "tuned"
    result = run("finetune", str(out), "--dataset", "mnist_5k", "--head-epochs", "1",
                 "--epochs", "1", "--unfreeze", "1", "--output", str(tuned))
    assert result.returncode == 0, result.stderr[-3000:]
    finetuned = json.loads((tuned / "metrics.json").read_text())
    assert finetuned["trainable"] == [["predictions"], ["fc2", "predictions"]]
    assert finetuned["split_sizes"]["test"] == 1000 and finetuned["test_accuracy"] > 0.8


@pytest.mark.slow
@pytest.mark.backend_independent  # the command's plumbing; the models train in every suite
@pytest.mark.parametrize("name,dataset,metric,check", [
    ("gru", "periodic", "test_mae", lambda v: v < 0.5),  # the series' std is ~0.8
    ("transformer_classifier", "topics", "test_accuracy", lambda v: v > 0.9),
    ("autoencoder_dense", "mnist_5k", "test_mse", lambda v: v < 0.05),  # mean image: 0.067
    # an untrained generator's FID: about 1000 (test_gan_evaluation_reports_fid_...)
    ("gan_mlp", "mnist_5k", "test_fid", lambda v: 0 < v < 500),
])
def test_train_other_tasks_from_the_command_line(name, dataset, metric, check, tmp_path):
    out = tmp_path / name  # in this process: the test above runs the command as a user does
    assert cli.main(["train", name, "--dataset", dataset, "--epochs", "2", "--lr", "3e-3",
                     "--output", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert check(metrics[metric]), metrics
    assert kerasdl.load_model(out / "model.keras").name == name


@pytest.mark.backend_independent
def test_list_and_info(capsys):
    assert cli.main(["list", "vgg*"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == [
        "vgg11", "vgg13", "vgg16", "vgg19"]
    assert cli.main(["info", "resnet18"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["params"] == 11_689_512 and info["default_input"] == [224, 224, 3]
    assert [(f["stride"], f["channels"]) for f in info["features"]] == [
        (2, 64), (4, 64), (8, 128), (16, 256), (32, 512)]


@pytest.mark.backend_independent
@pytest.mark.parametrize("args,message", [
    (("train", "lenet6"), "Unknown model name 'lenet6'. Did you mean 'lenet5'"),
    (("train", "lenet5", "--dataset", "svhn"), "Unknown dataset 'svhn'"),
    (("train", "lenet5", "--epochs", "0"), "--epochs must be at least 1; received 0"),
    (("train", "lenet5", "--dataset", "cifar10", "--data-dir", "/nonexistent"),
     "'cifar10' is not on disk"),
    (("train", "lenet5", "--lr", "0"), "`lr` must be > 0; received lr=0.0"),
    (("train", "lenet5", "--optimizer", "adamm"), "received optimizer='adamm'. Did you mean"),
    (("evaluate", "/"), "The run directory / holds no model.keras"),
])
def test_errors_are_one_clear_line(args, message, tmp_path, monkeypatch):
    """In this process (`python -m kerasdl` calls `cli.main`; the commands above run it as a
    subprocess): bad input exits with its message, which Python prints without a traceback."""
    monkeypatch.chdir(tmp_path)  # anything a command might write
    with pytest.raises(SystemExit) as exit:
        cli.main(list(args))
    assert isinstance(exit.value.code, str) and message in exit.value.code


@pytest.mark.backend_independent
def test_internal_errors_keep_their_traceback(monkeypatch, capsys):
    """Bad input ends in one line; an error from deeper down (a library, a bug) is
    raised with its traceback, and `--traceback` shows it for bad input too."""
    with pytest.raises(SystemExit, match="Unknown model name 'resnet19'"):
        cli.main(["info", "resnet19"])
    with pytest.raises(ValueError, match="Unknown model name"):
        cli.main(["info", "resnet19", "--traceback"])
    monkeypatch.setattr(registry, "model_info", lambda name: int(name))  # a "bug"
    with pytest.raises(ValueError, match="invalid literal for int"):
        cli.main(["info", "resnet18"])



@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="spans the backends: runs once, in the PyTorch suite")
def test_bench_times_each_backend_in_its_own_process(capsys):
    # in this process: the command starts a process per backend itself
    cli.main(["bench", "mlp", "--backends", "jax", "torch", "--steps", "2", "--epochs", "1"])
    printed = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in printed.splitlines()[2:4]}
    assert sorted(rows) == ["jax", "torch"]
    assert all(float(ms) > 0 for ms, *_ in rows.values())
    fastest = min(rows, key=lambda b: float(rows[b][0]))
    assert f"mlp trains fastest on {fastest} (" in printed

    # a worker's bad-input error ends the command with its message
    with pytest.raises(SystemExit) as exit:
        cli.main(["bench", "mlp", "--backends", "jax", "--arg", "unitz=3"])
    assert "build('mlp') got unexpected keyword argument(s) ['unitz']" in exit.value.code


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the resume logic is backend-neutral (tests/test_resilience.py "
                           "checks the restored state on every backend): run once")
def test_train_killed_by_sigkill_resumes_with_the_same_command(tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "kerasdl", "train", "mlp", "--epochs", "6",
               "--output", str(out)]
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    metadata = out / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while _epochs_backed_up(metadata) < 2 and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "metrics.json").exists(), "the run finished before it was killed"

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming the interrupted run" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 6
    epochs = [int(line.split(",")[0]) for line in (out / "log.csv").read_text().splitlines()[1:]]
    # an epoch killed after its log line but before its backup runs again: logged twice
    assert sorted(set(epochs)) == list(range(6)) and epochs[-1] == 5, epochs


def _epochs_backed_up(metadata):
    try:
        return json.loads(metadata.read_text())["epoch"]
    except (OSError, ValueError, KeyError):  # not there yet, or being written
        return 0
