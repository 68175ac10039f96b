"""KerasTuner searches over kerasdl models: hypermodel, tuner factory, and the search run.

Resuming: a search in an existing `directory` continues where it stopped (KerasTuner
reloads its oracle; finished trials are not run again); `overwrite=True` starts over.

Scale-out: KerasTuner's own chief/worker mode. Start the same search in several
processes sharing `directory`, with ``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT``
set to the chief's address and ``KERASTUNER_TUNER_ID`` set to ``chief`` for the one that
hands out trials and to a unique name (``tuner0``, ``tuner1``, ...) for each worker.
"""

import json
import os

import keras
import keras_tuner as kt
from keras_tuner.src.distribute import utils as dist_utils

from kerasdl import datasets
from kerasdl.registry import build, get_spec
from kerasdl.training import compile_classifier
from tuning.spaces import check_ranges, declare

TUNERS = ("random", "hyperband", "bayesian")
# What `compile_classifier` makes every model report.
OBJECTIVES = ("val_accuracy", "val_loss", "accuracy", "loss")


class KerasdlHyperModel(kt.HyperModel):
    """A `keras_tuner.HyperModel` for one registered model.

    Args:
        model_name: a registered name.
        input_shape, num_classes: of the data.
        model_kwargs: fixed builder arguments (e.g. ``stem="small"``).
        ranges: search ranges overriding `tuning.spaces.DEFAULT_RANGES`.
    """

    def __init__(self, model_name, input_shape, num_classes, model_kwargs=None, ranges=None):
        super().__init__(name=model_name)
        self.spec = get_spec(model_name)
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.model_kwargs = dict(model_kwargs or {})
        self.explicit = tuple(ranges or ())
        self.ranges = check_ranges(ranges)

    def build(self, hp):
        kwargs, lr = declare(hp, self.spec, self.ranges, self.explicit)
        model = build(self.spec.name, input_shape=self.input_shape,
                      num_classes=self.num_classes, **{**self.model_kwargs, **kwargs})
        return compile_classifier(model, lr=lr)


def make_tuner(kind, hypermodel, *, directory, project_name, objective="val_accuracy",
               max_trials=10, max_epochs=10, overwrite=False, seed=0):
    """A RandomSearch, Hyperband or BayesianOptimization tuner over `hypermodel`.

    For Hyperband, `max_epochs` is the largest budget a trial gets and `max_trials` caps
    the number of trials its brackets would otherwise create.
    """
    if kind not in TUNERS:
        raise ValueError(f"Unknown tuner {kind!r}; choose one of {list(TUNERS)}.")
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise ValueError(f"`max_trials` must be an integer >= 1; received max_trials={max_trials!r}.")
    if objective not in OBJECTIVES:
        raise ValueError(
            f"Objective {objective!r} is not a metric the model reports; it reports "
            f"{list(OBJECTIVES)}."
        )
    common = dict(objective=kt.Objective(objective, "min" if "loss" in objective else "max"),
                  directory=directory, project_name=project_name, overwrite=overwrite,
                  seed=seed)
    if kind == "random":
        return kt.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if kind == "bayesian":
        return kt.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
    tuner = kt.Hyperband(hypermodel, max_epochs=max_epochs, factor=3, **common)
    tuner.oracle.max_trials = max_trials
    return tuner


def is_worker():
    """True in a chief/worker search's worker processes."""
    return dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle()


def search(model_name, *, tuner="random", dataset=None, max_trials=10, epochs=None,
           objective="val_accuracy", directory="tuning_runs", overwrite=False, ranges=None,
           batch_size=None, seed=0, limit=None, verbose=1):
    """Search `model_name`'s hyperparameters on `dataset`; write the results to `directory`.

    The model's training set is split 80/20 into training and validation; the test set
    is left alone. Trials stop early when the objective stops improving for 2 epochs.
    Writes ``best.json`` (hyperparameters, score, trials completed) and ``best_model.keras``
    to `directory` (not in worker processes).

    Args:
        limit: use only the first `limit` training examples (for quick runs and tests).

    Returns:
        The tuner.
    """
    spec = get_spec(model_name)
    defaults = spec.train
    dataset = dataset or defaults["dataset"]
    info = datasets.info(dataset)
    epochs = epochs or defaults["epochs"]
    batch_size = batch_size or defaults["batch_size"]
    x, y = datasets.load(dataset, "train", image_size=defaults["image_size"])
    if limit:
        x, y = x[:limit], y[:limit]
    split = int(0.8 * len(x))
    hypermodel = KerasdlHyperModel(model_name, x.shape[1:], info.num_classes,
                                   model_kwargs=defaults["model"], ranges=ranges)
    keras.utils.set_random_seed(seed)
    tuner_obj = make_tuner(tuner, hypermodel, directory=directory, project_name=model_name,
                           objective=objective, max_trials=max_trials, max_epochs=epochs,
                           overwrite=overwrite, seed=seed)
    stop = keras.callbacks.EarlyStopping(monitor=objective, patience=2)
    tuner_obj.search(x[:split], y[:split], validation_data=(x[split:], y[split:]),
                     epochs=epochs, batch_size=batch_size, callbacks=[stop], verbose=verbose)
    if not is_worker():
        write_results(tuner_obj, directory, objective)
    return tuner_obj


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
    tuner.get_best_models(1)[0].save(os.path.join(directory, "best_model.keras"))
