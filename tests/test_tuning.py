"""KerasTuner searches: every family's space, every tuner, resume, chief/worker, bad input."""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings

import keras
import keras_tuner as kt
import pytest

import kerasdl
from kerasdl import cli
from kerasdl.registry import get_spec
from kerasdl.tuning import KerasdlHyperModel, make_tuner, search
from kerasdl.tuning.spaces import check_ranges

TUNE_MLP = ["tune", "mlp", "--epochs", "1", "--limit", "300"]
TUNE = ["-m", "kerasdl", *TUNE_MLP]


def env(**extra):
    return {**os.environ, "KERAS_BACKEND": keras.backend.backend(), **extra}


def trials(directory, project="mlp"):
    """{trial_id: status} of every trial KerasTuner recorded."""
    found = {}
    for path in glob.glob(os.path.join(directory, project, "trial_*", "trial.json")):
        with open(path) as f:
            record = json.load(f)
        found[record["trial_id"]] = record["status"]
    return found


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="search spaces and configs involve no backend: runs once, in the "
                           "PyTorch suite (the fastest to build)")
@pytest.mark.parametrize("name", [n for n in kerasdl.list_models()
                                  if get_spec(n).train.task != "adversarial"])
def test_every_model_space_sets_lr_dropout_and_width(name):
    """The searched values reach the model: its optimizer's rate, its dropout layers'
    rate, and more parameters at the widest setting than at the narrowest."""
    spec = get_spec(name)
    hypermodel = KerasdlHyperModel(name, spec.test_kwargs)
    hp = kt.HyperParameters()
    hypermodel.build(hp)  # declares the space
    assert ("dropout" in hp.values) == ("dropout" in spec.arguments)
    widths = [p for p in hp.space if p.name in ("width", "units")]
    assert widths, f"{name} searches no width"
    params = []
    for end in ("min_value", "max_value"):
        hp.values.update({p.name: getattr(p, end) for p in widths}, lr=0.00123)
        if "dropout" in hp.values:
            hp.values["dropout"] = 0.37
        model = hypermodel.build(hp)
        assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.00123)
        if "dropout" in hp.values:
            assert "0.37" in json.dumps(model.get_config())
        params.append(model.count_params())
    assert params[1] > params[0]


def test_gans_are_refused_with_a_reason():
    with pytest.raises(ValueError, match=r"dcgan is a GAN: .* no objective to search on"):
        KerasdlHyperModel("dcgan")


# a search in every suite; the other tuners and models are KerasTuner's plumbing, once
ONCE = pytest.mark.backend_independent


@pytest.mark.parametrize("name,tuner", [
    ("mlp", "random"), pytest.param("mlp", "hyperband", marks=ONCE),
    pytest.param("mlp", "bayesian", marks=ONCE), pytest.param("lenet5", "random", marks=ONCE)])
def test_tiny_search_writes_best_hyperparameters_and_model(name, tuner, tmp_path):
    search(name, tuner=tuner, max_trials=2, epochs=1 if tuner != "hyperband" else 2,
           directory=str(tmp_path), limit=300, verbose=0)
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["completed_trials"] == 2
    assert set(trials(str(tmp_path), name).values()) == {"COMPLETED"}
    records = [json.loads(open(p).read()) for p in
               glob.glob(os.path.join(tmp_path, name, "trial_*", "trial.json"))]
    top = max(records, key=lambda r: r["score"])  # the objective is validation accuracy
    assert best["score"] == top["score"]
    assert best["hyperparameters"]["lr"] == top["hyperparameters"]["values"]["lr"]
    with warnings.catch_warnings():  # optimizer slots saved and restored: nothing skipped
        warnings.simplefilter("error", UserWarning)
        model = keras.saving.load_model(tmp_path / "best_model.keras")
    assert model.output_shape[-1] == kerasdl.datasets.info(get_spec(name).train.dataset).num_classes


@pytest.mark.backend_independent
def test_overwrite_starts_the_search_over(tmp_path):
    search("mlp", max_trials=2, epochs=1, directory=str(tmp_path), limit=300, verbose=0)
    assert len(trials(str(tmp_path))) == 2
    search("mlp", max_trials=1, epochs=1, directory=str(tmp_path), limit=300, overwrite=True,
           verbose=0)
    assert len(trials(str(tmp_path))) == 1
    assert json.loads((tmp_path / "best.json").read_text())["completed_trials"] == 1


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="Python's garbage collector involves no backend: runs once")
def test_trials_run_with_the_heap_before_the_search_frozen(tmp_path, monkeypatch):
    import gc

    frozen = []
    build = KerasdlHyperModel.build
    monkeypatch.setattr(KerasdlHyperModel, "build",
                        lambda self, hp: frozen.append(gc.get_freeze_count()) or build(self, hp))
    search("mlp", max_trials=1, epochs=1, directory=str(tmp_path), limit=300, verbose=0)
    # the first build declares the search space, when the tuner is made; then the trial's
    # and the best model's
    assert len(frozen) == 3 and frozen[0] == 0 and min(frozen[1:]) > 0
    assert gc.get_freeze_count() == 0


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="resuming is KerasTuner's files, no backend's: runs once")
@pytest.mark.parametrize("tuner_file", ["written", "not yet written"])
def test_search_killed_as_a_trial_ends_does_not_run_it_again(tuner_file, tmp_path):
    """The files as KerasTuner leaves them the moment after a trial's own record says it
    ended: ``oracle.json`` still lists it as running, and after the first trial the
    tuner's file, which makes KerasTuner reload, is not written yet."""
    search("mlp", max_trials=1, epochs=1, directory=str(tmp_path), limit=300, verbose=0)
    project = tmp_path / "mlp"
    state = json.loads((project / "oracle.json").read_text())
    state["ongoing_trials"] = {"tuner0": "0"}
    (project / "oracle.json").write_text(json.dumps(state))
    if tuner_file == "not yet written":
        (project / "tuner0.json").unlink()
    ended = (project / "trial_0" / "trial.json").stat().st_mtime_ns

    search("mlp", max_trials=2, epochs=1, directory=str(tmp_path), limit=300, verbose=0)
    assert (project / "trial_0" / "trial.json").stat().st_mtime_ns == ended
    assert trials(str(tmp_path)) == {"0": "COMPLETED", "1": "COMPLETED"}


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="KerasTuner writes through TensorFlow's file API on TensorFlow; "
                           "kerasdl's writes are the same on every backend: runs once")
def test_tuner_files_are_written_whole(tmp_path, monkeypatch):
    """A process killed while KerasTuner writes its state leaves the last whole file."""
    import builtins

    from keras_tuner.src import utils

    make_tuner("random", KerasdlHyperModel("mlp"), directory=str(tmp_path), project_name="x")
    path = str(tmp_path / "oracle.json")
    utils.save_json(path, {"trials": 1})
    opened = builtins.open

    def killed_once_opened_for_writing(file, mode="r", *args, **kwargs):
        handle = opened(file, mode, *args, **kwargs)
        if "w" in mode:
            handle.close()
            raise KeyboardInterrupt("killed")
        return handle

    monkeypatch.setattr(builtins, "open", killed_once_opened_for_writing)
    with pytest.raises(KeyboardInterrupt):
        utils.save_json(path, {"trials": 2})
    monkeypatch.undo()
    assert utils.load_json(path) == {"trials": 1}


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="resuming is KerasTuner's files, no backend's: runs once")
def test_killed_search_resumes_without_repeating_finished_trials(tmp_path):
    command = [sys.executable, *TUNE, "--max-trials", "3", "--directory", str(tmp_path)]
    first = subprocess.Popen(command, env=env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while "COMPLETED" not in trials(str(tmp_path)).values():
        assert first.poll() is None and time.time() < deadline, "no trial finished"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = {t for t, s in trials(str(tmp_path)).items() if s == "COMPLETED"}
    assert 1 <= len(done_before) < 3
    mtimes = {t: os.path.getmtime(tmp_path / "mlp" / f"trial_{t}" / "trial.json")
              for t in done_before}

    again = subprocess.run(command, env=env(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    final = trials(str(tmp_path))
    assert len(final) == 3 and set(final.values()) == {"COMPLETED"}
    for t, mtime in mtimes.items():  # finished trials were not run again
        assert os.path.getmtime(tmp_path / "mlp" / f"trial_{t}" / "trial.json") == mtime
    assert json.loads((tmp_path / "best.json").read_text())["completed_trials"] == 3


# `kerasdl tune` as the chief, handing out no trial until both workers have asked for one.
# Else a worker slow to start could find every trial done and the chief gone (it stops once
# no worker it knows of is left) and fail to reach it: KerasTuner's way, not under test.
CHIEF_AWAITING_TWO_WORKERS = """
import sys, time
import keras_tuner as kt
from kerasdl.cli import main

create_trial, asked = kt.Oracle.create_trial, set()

def create_trial_once_both_asked(self, tuner_id):
    asked.add(tuner_id)
    if len(asked) < 2:
        time.sleep(0.1)
        return kt.engine.trial.Trial(self.get_space(), status="IDLE")
    return create_trial(self, tuner_id)

kt.Oracle.create_trial = create_trial_once_both_asked
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="KerasTuner's oracle service runs beside any backend: runs once, in "
                           "the PyTorch suite")
def test_chief_and_two_workers_on_loopback_run_every_trial_once(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    arguments = [*TUNE_MLP, "--max-trials", "4", "--directory", str(tmp_path)]
    commands = {"chief": [sys.executable, "-c", CHIEF_AWAITING_TWO_WORKERS, *arguments],
                "tuner0": [sys.executable, "-m", "kerasdl", *arguments]}
    commands["tuner1"] = commands["tuner0"]
    oracle = dict(KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=port)
    procs = [subprocess.Popen(command, env=env(KERASTUNER_TUNER_ID=tuner_id, **oracle),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for tuner_id, command in commands.items()]
    try:
        outputs = [p.communicate(timeout=600)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out[-3000:]
    final = trials(str(tmp_path))
    assert len(final) == 4 and set(final.values()) == {"COMPLETED"}
    assert json.loads((tmp_path / "best.json").read_text())["completed_trials"] == 4


@pytest.mark.backend_independent
@pytest.mark.parametrize("ranges,error,pattern", [
    (dict(lr=(1e-2, 1e-4)), ValueError, r"lr.*empty or inverted"),
    (dict(dropout=(0.3, 0.3)), ValueError, r"dropout.*empty or inverted"),
    (dict(lr=(0.0, 1e-2)), ValueError, r"lr.*positive"),
    (dict(width=0.5), TypeError, r"width.*pair"),
    (dict(heads=(1, 4)), ValueError, r"heads.*searchable"),
])
def test_bad_ranges(ranges, error, pattern):
    with pytest.raises(error, match=pattern):
        check_ranges(ranges)


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(kind="grid"), r"Unknown tuner 'grid'"),
    (dict(objective="val_auc"), r"'val_auc' is not a metric the model reports"),
    (dict(max_trials=0), r"max_trials.*>= 1.*0"),
])
def test_bad_tuner_arguments(kwargs, pattern, tmp_path):
    hypermodel = KerasdlHyperModel("mlp", dict(input_shape=(2,), num_classes=2))
    args = {"kind": "random", **kwargs}
    with pytest.raises(ValueError, match=pattern):
        make_tuner(args.pop("kind"), hypermodel, directory=str(tmp_path), project_name="x",
                   **args)


@pytest.mark.backend_independent
def test_cli_max_trials_below_one_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit) as exit:  # its message, no traceback (tests/test_cli.py)
        cli.main([*TUNE_MLP, "--max-trials", "0", "--directory", str(tmp_path)])
    assert "received max_trials=0" in exit.value.code
