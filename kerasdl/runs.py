"""A whole training run, as `kerasdl train` makes it: `train_run`, which the command line
and the notebooks call.

The run follows the model's recipe (`ModelSpec.train`) with the given overrides, loads
its data (offline first), builds the model (inside a `kerasdl.distribution.scope` when
asked to train on several devices), trains and evaluates it with
`kerasdl.training.train_model`, and writes the run: ``model.keras``, ``metrics.json``,
``history.png``, the evaluation and its figures, the log, the best model and the backup
a killed run resumes from.
"""

import contextlib
import json
import os
import time

import keras

from kerasdl import datasets, distribution
from kerasdl.building import build
from kerasdl.registry import get_spec
from kerasdl.training import plot_history, train_model


def train_run(name, *, output=None, seed=0, distribute=None, data_dir=None, download=False,
              tensorboard=False, augment=True, model_args=None, verbose=2, log=print,
              **recipe):
    """Train registered model `name` as `kerasdl train NAME` does, and write the run.

    Args:
        name: a registered model.
        output: the run's directory (default ``runs/NAME``); a run interrupted there
            resumes from its last completed epoch.
        seed: seeds Keras, the validation split and the batches.
        distribute: None, "data" or "model": train on every device
            (`kerasdl.distribution.scope`).
        data_dir, download: where tensorflow-datasets keeps its data, and whether it may
            download it.
        tensorboard: also write TensorBoard logs.
        augment: False turns the recipe's image augmentation off.
        model_args: extra builder arguments.
        log: where the run's progress lines go (None: nowhere).
        **recipe: `kerasdl.recipe.Recipe` fields overriding the model's recipe
            (``epochs=2``, ``lr=3e-3``, ``dataset="digits"``; None keeps the recipe's).

    Returns:
        The `metrics` dict also written to ``metrics.json`` (``test_*``, ``val_*``,
        ``train_*``, the recipe, the backend, the seconds it took).
    """
    log = log or (lambda *_: None)
    spec = get_spec(name)
    model_args = dict(model_args or {})
    recipe = spec.train.replace(**recipe)
    info = datasets.info(recipe.dataset)
    recipe = recipe.replace(task=recipe.task or info.task,
                            augment=recipe.augment and info.kind == "image" and augment
                            and (recipe.task or info.task) != "segmentation")  # masks stay
    output = output or os.path.join("runs", name)
    train, test, data_kwargs = datasets.load_for_model(
        spec.name, recipe.dataset, data_dir=data_dir, download=download,
        image_size=recipe.image_size)

    keras.utils.set_random_seed(seed)
    model_kwargs = {**data_kwargs, **recipe.model, **model_args}
    devices = (distribution.scope(distribute, batch_size=recipe.batch_size)
               if distribute else contextlib.nullcontext())
    with devices:  # build, compile and fit on every device
        model = build(name, **model_kwargs)
        log(f"kerasdl: training {name} ({model.count_params():,} parameters) on "
            f"{recipe.dataset} with the {keras.backend.backend()} backend: epochs "
            f"{recipe.epochs}, batch {recipe.batch_size}, {recipe.optimizer} lr {recipe.lr} "
            f"({recipe.schedule}), validation split {recipe.validation_split}, augmentation "
            f"{'on' if recipe.augment else 'off'}" + (
                f", {distribute} parallel over {len(distribution.devices())} devices"
                if distribute else ""))
        if os.path.isdir(os.path.join(output, "backup")):
            log(f"kerasdl: resuming the interrupted run in {output} from its last "
                f"completed epoch ({os.path.join(output, 'backup')})")
        start = time.perf_counter()
        history, metrics = train_model(model, train, test, recipe=recipe, seed=seed,
                                       output_dir=output, tensorboard=tensorboard,
                                       verbose=verbose)
        seconds = time.perf_counter() - start

    metrics.update(model=name, dataset=recipe.dataset, backend=keras.backend.backend(),
                   recipe={**recipe.to_dict(), "model": {**recipe.model, **model_args}},
                   model_kwargs={k: v for k, v in model_kwargs.items() if k != "input_shape"},
                   seconds=round(seconds, 2), output=output)
    if distribution.process_index():  # process 0 writes the run
        return metrics
    model.save(os.path.join(output, "model.keras"))
    plot_history(history, os.path.join(output, "history.png"))
    with open(os.path.join(output, "metrics.json"), "w") as f:
        json.dump({k: v for k, v in metrics.items() if k != "output"}, f, indent=2)
    return metrics
