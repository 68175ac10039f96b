"""KerasTuner searches over kerasdl models: hypermodel, tuner factory, and the search run.

Resuming: a search in an existing `directory` continues where it stopped (KerasTuner
reloads its oracle; finished trials are not run again, `_resume_finished_as_finished`);
`overwrite=True` starts over.

Scale-out: KerasTuner's own chief/worker mode. Start the same search in several
processes sharing `directory`, with ``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT``
set to the chief's address and ``KERASTUNER_TUNER_ID`` set to ``chief`` for the one that
hands out trials and to a unique name (``tuner0``, ``tuner1``, ...) for each worker.
Start the workers with the chief: it stops once every trial is handed out and no worker
it knows of is still running one, and a worker that first asks after that finds no chief.
"""

import contextlib
import gc
import json
import os
import warnings

import keras
import keras_tuner as kt

from kerasdl import datasets
from kerasdl.backend.compat import (drop_finished_retries, is_tuner_worker,
                                    write_tuner_files_whole)
from kerasdl.building import build
from kerasdl.registry import get_spec
from kerasdl.training import TASKS, compile_model, split_validation, task_data
from kerasdl.tuning.spaces import check_ranges, declare

TUNERS = ("random", "hyperband", "bayesian")
VALIDATION_SPLIT = 0.2


def objectives(task):
    """What `compile_model` makes a model for `task` report; the default first."""
    accuracy_first = task in ("classification", "seq2seq")
    names = TASKS[task][1] + ("loss",) if accuracy_first else ("loss",) + TASKS[task][1]
    return tuple(f"val_{n}" for n in names) + names


class KerasdlHyperModel(kt.HyperModel):
    """A `keras_tuner.HyperModel` for one registered model.

    Args:
        model_name: a registered name.
        model_kwargs: fixed builder arguments: what the data implies (input shape,
            classes, vocabulary) and choices such as ``stem="small"``.
        task: sets loss and metrics (`kerasdl.training.TASKS`); default: the model's.
        ranges: search ranges overriding `tuning.spaces.DEFAULT_RANGES`.
    """

    def __init__(self, model_name, model_kwargs=None, task=None, ranges=None):
        super().__init__(name=model_name)
        self.spec = get_spec(model_name)
        self.task = task or self.spec.train.task or datasets.info(
            self.spec.train.dataset).task
        if self.task == "adversarial":
            raise ValueError(
                f"{model_name} is a GAN: its losses measure the two networks against each "
                f"other, so there is no objective to search on; tune it by hand (lr, "
                f"n_critic) and judge samples, e.g. with benchmarks/generative.py.")
        self.model_kwargs = dict(model_kwargs or {})
        self.explicit = tuple(ranges or ())
        self.ranges = check_ranges(ranges)

    def build(self, hp):
        kwargs, lr = declare(hp, self.spec, self.ranges, self.explicit)
        model = build(self.spec.name, **{**self.model_kwargs, **kwargs})
        return compile_model(model, task=self.task, lr=lr)


def make_tuner(kind, hypermodel, *, directory, project_name, objective=None,
               max_trials=10, max_epochs=10, overwrite=False, seed=0):
    """A RandomSearch, Hyperband or BayesianOptimization tuner over `hypermodel`.

    For Hyperband, `max_epochs` is the largest budget a trial gets and `max_trials` caps
    the number of trials its brackets would otherwise create. The default `objective` is
    validation accuracy, or validation loss for regression.
    """
    reported = objectives(getattr(hypermodel, "task", "classification"))
    objective = objective or reported[0]
    if kind not in TUNERS:
        raise ValueError(f"Unknown tuner {kind!r}; choose one of {list(TUNERS)}.")
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise ValueError(f"`max_trials` must be an integer >= 1; received max_trials={max_trials!r}.")
    if objective not in reported:
        raise ValueError(
            f"Objective {objective!r} is not a metric the model reports; it reports "
            f"{list(reported)}."
        )
    higher_is_better = objective.endswith("accuracy")
    write_tuner_files_whole()  # a search killed while KerasTuner writes can still resume
    common = dict(objective=kt.Objective(objective, "max" if higher_is_better else "min"),
                  directory=directory, project_name=project_name, overwrite=overwrite,
                  seed=seed)
    if kind == "random":
        tuner = kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    elif kind == "bayesian":
        tuner = kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    else:
        tuner = kt.Hyperband(hypermodel, max_epochs=max_epochs, factor=3, **common)
        tuner.oracle.max_trials = max_trials
    if not is_tuner_worker():  # a worker's oracle is the chief's
        _resume_finished_as_finished(tuner.oracle, os.path.join(directory, project_name))
    return tuner


def _resume_finished_as_finished(oracle, project_dir):
    """Reload a killed search from all it wrote, and never run a finished trial again.

    KerasTuner marks a finished trial so in the trial's own record (``trial.json``) a
    moment before it takes the trial off the running ones in ``oracle.json``, and it
    reloads a search only if the tuner's own file exists, written when the first trial
    has ended. On reloading, it runs every trial ``oracle.json`` lists as running again.
    So a search killed in that moment would run a finished trial again: the first from
    scratch, a later one as a retry. Here a search reloads whenever its ``oracle.json``
    exists, and a trial whose own record says it ended is not retried.
    """
    if not oracle.trials and os.path.exists(os.path.join(project_dir, "oracle.json")):
        oracle.reload()
    drop_finished_retries(oracle)


def search(model_name, *, tuner="random", dataset=None, max_trials=10, epochs=None,
           objective=None, directory="tuning_runs", overwrite=False, ranges=None,
           batch_size=None, seed=0, limit=None, verbose=1):
    """Search `model_name`'s hyperparameters on `dataset`; write the results to `directory`.

    The model's training set is split 80/20 into training and validation (stratified by
    class, seeded: `kerasdl.training.split_validation`, as `kerasdl train` does); the test
    set is left alone. Trials stop early when the objective stops improving for 2 epochs.
    Writes ``best.json`` (hyperparameters, score, trials completed) and ``best_model.keras``
    to `directory` (not in worker processes).

    Args:
        limit: use only the first `limit` training examples (for quick runs and tests).

    Returns:
        The tuner.
    """
    recipe = get_spec(model_name).train
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    (x, y), _, data_kwargs = datasets.load_for_model(model_name, dataset,
                                                     image_size=recipe.image_size)
    task = recipe.task or datasets.info(dataset or recipe.dataset).task
    n = min(limit or len(y), len(y))
    train, validation = task_data(task, *split_validation(_rows(x, slice(0, n)), y[:n],
                                                          VALIDATION_SPLIT, seed=seed))
    hypermodel = KerasdlHyperModel(model_name, {**data_kwargs, **recipe.model}, task=task,
                                   ranges=ranges)
    objective = objective or objectives(task)[0]
    keras.utils.set_random_seed(seed)
    tuner_obj = make_tuner(tuner, hypermodel, directory=directory, project_name=model_name,
                           objective=objective, max_trials=max_trials, max_epochs=epochs,
                           overwrite=overwrite, seed=seed)
    stop = keras.callbacks.EarlyStopping(monitor=objective, patience=2)
    with heap_frozen():
        tuner_obj.search(*train, validation_data=validation, epochs=epochs,
                         batch_size=batch_size, callbacks=[stop], verbose=verbose)
        if not is_tuner_worker():
            write_results(tuner_obj, directory, objective)
    return tuner_obj


@contextlib.contextmanager
def heap_frozen():
    """Leave the objects that exist now out of Python's garbage collections until the end.

    Every trial collects garbage twice (Keras's `clear_session`, KerasTuner's build), and
    each full collection traverses every object of the process: the modules of
    TensorFlow, JAX, PyTorch and KerasTuner, 0.2-0.25 s a time on a 2-core CPU, as long as
    an MLP's trial. Frozen (`gc.freeze`), they are skipped: an 8-trial search of the MLP
    takes 0.57 s per trial on PyTorch instead of 1.14, 1.05 instead of 1.42 on TensorFlow
    (`benchmarks/results/tuner.md`). Garbage made during the search is collected as
    before. Left alone if the caller has frozen objects already.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _rows(x, rows):
    """Rows of an input array, or of each array of a multi-input model's list."""
    return [a[rows] for a in x] if isinstance(x, list) else x[rows]


def write_results(tuner, directory, objective):
    """Write ``best.json`` and ``best_model.keras`` for the best trial so far."""
    best = tuner.oracle.get_best_trials(1)
    if not best:
        raise RuntimeError(f"The search in {directory} has no completed trial yet.")
    trial = best[0]
    finished = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "best.json"), "w") as f:
        json.dump({"trial_id": trial.trial_id, "objective": objective, "score": trial.score,
                   "hyperparameters": trial.hyperparameters.values,
                   "completed_trials": len(finished),
                   "backend": keras.backend.backend()}, f, indent=2)
    # The trial's checkpoint also holds the optimizer's slots; the rebuilt model's optimizer
    # has none yet, so Keras skips them (the weights do load) and would warn.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
        best_model = tuner.get_best_models(1)[0]
    best_model.optimizer.build(best_model.trainable_variables)  # else loading it warns
    best_model.save(os.path.join(directory, "best_model.keras"))
