"""Training speed on each backend, measured the same way everywhere (`kerasdl bench`).

`time_fit` times `model.fit` on data in memory: one warm-up epoch (tracing and
compilation, reported apart), then `epochs` timed epochs of `steps` steps each; it
returns the median and the fastest milliseconds per step. `compare` runs `time_model`
(a registered model, built and fed as `kerasdl train` would) once per backend and round,
each in a fresh process because Keras fixes its backend at import, rounds interleaved so
that a change in the machine's load touches every backend alike. Keras, and kerasdl's
modules that import it, are imported inside the functions: a worker process sets its
backend first.
"""

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

BACKENDS = ("tensorflow", "jax", "torch")


def time_fit(model, x, y=None, *, task, batch_size, steps, epochs=3, lr=1e-3,
             jit_compile=None, steps_per_execution=1):
    """Compile `model` for `task` (Adam, `lr`) and time `epochs` + 1 epochs of `steps`
    steps of `batch_size` on the first ``steps * batch_size`` examples of `x`, `y`.
    `jit_compile` (None: Keras's choice) overrides Keras's compilation: XLA on
    TensorFlow (off on a CPU by default), `torch.compile` on PyTorch.
    `steps_per_execution` as in `kerasdl.recipe.Recipe`.

    Returns:
        A dict: ``ms_per_step`` (median over the timed epochs), ``ms_per_step_min``,
        ``warmup_s`` (the first epoch: tracing, compilation, first allocations),
        ``params`` (trainable), ``backend``, ``threads`` and ``peak_rss_mb`` (the
        process's peak resident memory, Keras and its backend included).
    """
    import keras

    from kerasdl.training import compile_model

    n = batch_size * steps
    x = [a[:n] for a in x] if isinstance(x, (list, tuple)) else x[:n]
    if min(len(a) for a in (x if isinstance(x, list) else [x])) < n:
        raise ValueError(f"time_fit needs steps * batch_size = {n} examples; the data has "
                         f"fewer. Pass fewer `steps` or a smaller `batch_size`.")
    y = None if y is None else y[:n]
    compile_model(model, task=task, lr=lr, steps_per_execution=steps_per_execution)
    if jit_compile is not None:
        model.jit_compile = jit_compile
    starts, seconds = [], []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter() - starts[-1]))
    model.fit(x, y, batch_size=batch_size, epochs=epochs + 1, shuffle=False, verbose=0,
              callbacks=[timer])
    per_step = [1000 * s / steps for s in seconds[1:]]
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"backend": keras.backend.backend(), "params": params,
            "jit_compile": bool(model.jit_compile),
            "batch_size": batch_size, "steps": steps, "epochs": epochs,
            "ms_per_step": statistics.median(per_step), "ms_per_step_min": min(per_step),
            "warmup_s": seconds[0], "threads": _threads(), "peak_rss_mb": peak_rss_mb()}


def time_model(name, *, batch_size=None, steps=20, epochs=3, seed=0, **model_kwargs):
    """`time_fit` for registered model `name` as `kerasdl train NAME` trains it: its
    recipe's dataset, builder arguments, task and batch size (`model_kwargs` and
    `batch_size` override them)."""
    import keras

    from kerasdl import datasets, registry
    from kerasdl.building import build
    from kerasdl.training import task_data

    spec = registry.get_spec(name)
    recipe = spec.train
    batch_size = batch_size or recipe.batch_size
    task = recipe.task or datasets.info(recipe.dataset).task
    train, _, implied = datasets.load_for_model(name, recipe.dataset)
    keras.utils.set_random_seed(seed)
    model = build(name, **{**implied, **recipe.model, **model_kwargs})
    (x, y), _ = task_data(task, train, None, model)
    return {"model": name, **time_fit(model, x, y, task=task, batch_size=batch_size,
                                       steps=steps, epochs=epochs, lr=recipe.lr)}


def compare(name, backends=BACKENDS, *, rounds=1, command=None, **options):
    """`time_model(name, **options)` on each backend, each run in a fresh process, the
    backends interleaved over `rounds`. Returns {backend: [row per round]}.

    `command` runs another worker (`run_worker`) with the request ``{"name": name,
    **options}`` instead of `time_model` (the benchmark scripts' own measures)."""
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown or not backends:
        raise ValueError(f"`backends` must be some of {list(BACKENDS)}; received {backends!r}.")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"`rounds` must be a positive integer; received rounds={rounds!r}.")
    rows = {b: [] for b in backends}
    for _ in range(rounds):
        for backend in backends:
            rows[backend].append(run_worker(
                command or [sys.executable, "-m", "kerasdl.benchmark"], backend,
                {"name": name, **options}))
    return rows


def run_worker(command, backend, request):
    """Run ``COMMAND --worker REQUEST`` (a list, e.g. ``[python, "-m", module]``) with
    KERAS_BACKEND=`backend` in a fresh process and return the JSON it prints last, with
    the machine's load average before the run as ``load``. A ValueError or TypeError in
    the worker (bad arguments) is raised here with its message."""
    load = os.getloadavg()[0]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([*command, "--worker", json.dumps(request)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = done.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if "error" in answer:
        raise ValueError(answer["error"])
    if done.returncode or not answer:
        raise RuntimeError(f"The {backend} run of {request} failed:\n{done.stderr[-3000:]}")
    return {**answer, "load": round(load, 2)}


def worker(function):
    """The worker side of `run_worker`: ``function(**request)`` printed as JSON, a
    ValueError or TypeError as ``{"error": message}``."""
    request = json.loads(sys.argv[2])
    try:
        answer = function(**request)
    except (ValueError, TypeError) as err:
        import traceback

        traceback.print_exc()
        answer = {"error": str(err)}
    print(json.dumps(answer))


def summary(rows, key="ms_per_step"):
    """Median `key` (a time) of each backend over its rounds, and a one-line verdict."""
    medians = {b: statistics.median(r[key] for r in runs) for b, runs in rows.items()}
    best = min(medians, key=medians.get)
    others = ", ".join(f"{b} {medians[b] / medians[best]:.2f}x slower"
                       for b in medians if b != best)
    verdict = f"fastest on {best}" + (f" ({others})" if others else "")
    return medians, verdict


def _threads():
    import keras

    if keras.backend.backend() == "torch":
        import torch

        return torch.get_num_threads()
    return os.cpu_count()


def peak_rss_mb():
    """This process's peak resident memory. Linux's VmHWM, not getrusage's ru_maxrss: that
    one survives fork and exec, so a worker started by a large process (a notebook's
    kernel) would report its parent's peak."""
    try:
        with open("/proc/self/status") as f:
            return next(round(int(line.split()[1]) / 1024, 1) for line in f
                        if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    worker(time_model)
