"""Data and model parallelism on Keras's own engines, on a CPU split into 4 devices:
the same start, data and global batch give the loss curve of one device."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from kerasdl import cli, distribution

BACKEND = keras.backend.backend()

# Runs in a fresh process: the devices must be set up before the backend starts.
PARALLEL_VS_SINGLE = """
import json, sys
from kerasdl import distribution
kind = sys.argv[1]
distribution.cpu_devices(4)
import keras, numpy as np
import kerasdl
from kerasdl import datasets
from kerasdl.training import compile_model

if kind == "data":
    name, kwargs = "lenet5", dict(input_shape=(28, 28, 1), num_classes=10)
    x, y = datasets.load("mnist_5k", "train")
else:  # heads and feed-forward widths split over 2 devices, the batch over the other 2
    name = "transformer_classifier"
    kwargs = dict(input_shape=(12,), vocab_size=41, num_classes=4, d_model=16, num_heads=2,
                  ff_dim=32, num_layers=1, dropout=0.0)
    x, y = datasets.load("topics", "train")
    x = x[:, :12]
x, y = x[:320], y[:320]  # 20 steps of 16
keras.utils.set_random_seed(0)
reference = kerasdl.build(name, **kwargs)
start = reference.get_weights()

def losses(model):
    compile_model(model, task="classification", lr=1e-3)
    model.set_weights(start)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(float(logs["loss"])))
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    return seen

result = {"single": losses(reference), "devices": len(distribution.devices())}
with distribution.scope(kind, batch_size=16):
    model = kerasdl.build(name, **kwargs)
    result["parallel"] = losses(model)
    if keras.backend.backend() == "jax":
        result["layouts"] = {v.path: list(v.value.sharding.spec) for v in model.weights}
try:
    with distribution.scope(kind, batch_size=9):
        pass
except ValueError as err:
    result["error"] = str(err)
print(json.dumps(result))
"""


@pytest.mark.parametrize("kind", ["data", "model"])
def test_four_devices_follow_the_loss_curve_of_one(kind):
    if BACKEND not in distribution.BACKENDS[kind]:
        pytest.skip(f"{kind} parallelism runs on {distribution.BACKENDS[kind]}")
    done = subprocess.run([sys.executable, "-c", PARALLEL_VS_SINGLE, kind], capture_output=True,
                          text=True, timeout=600, env={**os.environ, "KERAS_BACKEND": BACKEND})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == 4
    single, parallel = np.array(result["single"]), np.array(result["parallel"])
    assert len(single) == len(parallel) == 20 and single[-1] < single[0]
    np.testing.assert_allclose(parallel, single, rtol=1e-4)
    replicas = 4 if kind == "data" else 2
    assert result["error"] == (
        f"batch_size=9 does not split evenly over {replicas} model replicas (4 devices); use "
        f"a multiple of {replicas}, e.g. 8.")
    if kind == "model":
        layouts = result["layouts"]
        query = next(spec for path, spec in layouts.items() if path.endswith("query/kernel"))
        ff2 = next(spec for path, spec in layouts.items() if path.endswith("ff2/kernel"))
        assert query == [None, "model", None] and ff2 == ["model", None], layouts
        assert all("model" not in spec for path, spec in layouts.items()
                   if "embedding" in path or "norm" in path)


def test_backends_without_an_engine_are_refused_by_name():
    refused = [kind for kind in distribution.KINDS if BACKEND not in distribution.BACKENDS[kind]]
    # JAX has an engine for both; TensorFlow for data parallelism; PyTorch's fit for none
    assert refused == {"jax": [], "tensorflow": ["model"], "torch": ["data", "model"]}[BACKEND]
    for kind in refused:
        with pytest.raises(ValueError, match=rf"{kind} parallelism .* the {BACKEND} backend "
                           rf"does not have .*; use KERAS_BACKEND=jax"):
            with distribution.scope(kind, batch_size=16):
                pass
    with pytest.raises(ValueError,
                       match=r"must be one of \['data', 'model'\]; received kind='pipeline'"):
        with distribution.scope("pipeline", batch_size=16):
            pass


TWO_HOSTS = """
import json, sys
from kerasdl import distribution
process_id, address = int(sys.argv[1]), sys.argv[2]
distribution.cpu_devices(2)
import jax, keras
distribution.initialize(address, num_processes=2, process_id=process_id)
import kerasdl
from kerasdl import datasets
from kerasdl.training import compile_model

x, y = datasets.load("mnist_5k", "train")
x, y = x[:320], y[:320]
keras.utils.set_random_seed(0)
reference = kerasdl.build("lenet5", input_shape=(28, 28, 1))
start = reference.get_weights()

def losses(model, x, y, batch_size):
    compile_model(model, task="classification", lr=1e-3)
    model.set_weights(start)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(float(logs["loss"])))
    model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
              callbacks=[record])
    return seen

result = {"devices": len(jax.devices()), "local": len(jax.local_devices()),
          "single": losses(reference, x, y, 16)}  # this process alone, one device
with distribution.scope("data", batch_size=16):
    model = kerasdl.build("lenet5", input_shape=(28, 28, 1))
    result["parallel"] = losses(model, distribution.shard(x, 16), distribution.shard(y, 16),
                                16 // distribution.processes())
print(json.dumps(result))
"""


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax", reason="several processes train through JAX's runtime")
def test_two_processes_as_two_hosts_follow_the_loss_curve_of_one():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    workers = [subprocess.Popen([sys.executable, "-c", TWO_HOSTS, str(i), address], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    for result in results:
        assert result["devices"] == 4 and result["local"] == 2
        assert len(result["parallel"]) == 20 and result["single"][-1] < result["single"][0]
        np.testing.assert_allclose(result["parallel"], result["single"], rtol=1e-4)


def train_on_two_hosts(outputs, scratch):
    """`kerasdl train mlp` for 2 epochs as two processes on 127.0.0.1 (two CPU devices
    each), process i writing to outputs[i]: [(exit code, stdout, stderr)] per process."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    env = {**os.environ, "KERAS_BACKEND": "jax", "TMPDIR": str(scratch)}
    workers = [subprocess.Popen(
        [sys.executable, "-m", "kerasdl", "train", "mlp", "--epochs", "2", "--cpu-devices", "2",
         "--coordinator", address, "--num-processes", "2", "--process-id", str(i),
         "--output", str(output)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, output in enumerate(outputs)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        results.append((worker.returncode, out, err))
    return results


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax", reason="several processes train through JAX's runtime")
def test_kerasdl_train_on_two_hosts_is_the_run_of_one_device(tmp_path):
    """`kerasdl train` in two processes on 127.0.0.1, two CPU devices each: the same epochs
    and test figures as one device, and the files of one run, written by process 0 alone
    (process 1's scratch copies removed)."""
    import csv

    (tmp_path / "scratch").mkdir()
    results = train_on_two_hosts([tmp_path / "hosts"] * 2, tmp_path / "scratch")
    for code, out, err in results:
        assert code == 0, err[-3000:]
    assert "data parallel over 4 devices" in out and "process 0 writes the run" in out
    assert cli.main(["train", "mlp", "--epochs", "2", "--output", str(tmp_path / "one")]) == 0

    def figures(run):
        with open(run / "log.csv") as f:
            logged = [float(v) for row in csv.DictReader(f) for v in row.values()]
        tested = json.loads((run / "metrics.json").read_text())
        return logged + [v for k, v in tested.items() if k.startswith("test_")
                         and isinstance(v, float)]

    np.testing.assert_allclose(figures(tmp_path / "hosts"), figures(tmp_path / "one"),
                               rtol=1e-4)
    assert sorted(os.listdir(tmp_path / "hosts")) == sorted(os.listdir(tmp_path / "one"))
    assert os.listdir(tmp_path / "scratch") == []


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "jax", reason="several processes train through JAX's runtime")
def test_a_host_that_does_not_see_the_backup_stops_instead_of_hanging(tmp_path):
    """Process 0 has a backup to resume from; process 1 (its own disk) does not: both stop
    with a message naming the backup instead of waiting for each other forever."""
    (tmp_path / "shared" / "backup").mkdir(parents=True)
    (tmp_path / "shared" / "backup" / "training_metadata.json").write_text('{"epoch": 1}')
    outputs = [tmp_path / "shared", tmp_path / "own"]
    for (code, _, err), output in zip(train_on_two_hosts(outputs, tmp_path), outputs):
        assert code == 1 and "Traceback" not in err
        assert f"Processes [0] find the backup {output / 'backup'} and processes [1] do not" \
            in err and "a filesystem every host shares" in err


@pytest.mark.backend_independent
@pytest.mark.parametrize("flags,message", [
    (["--num-processes", "2"], "need --coordinator, --num-processes and --process-id together; "
                               "missing --coordinator, --process-id"),
    (["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
     "--process-id must be 0 to 1 (one per process); received 2"),
    (["--coordinator", "h:1", "--num-processes", "2", "--process-id", "0", "--distribute",
      "model"], "Several hosts train data parallel (--distribute data); --distribute model"),
])
def test_bad_host_flags_are_named(flags, message):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "mlp", *flags])
    assert message in str(stop.value.code)
