"""A training recipe: every choice `kerasdl train` makes, typed and checked.

Each registered model carries its default `Recipe` (``get_spec(name).train``); the
command line and `kerasdl.training.train_model` override fields with `Recipe.replace`.
A misspelt field (``epoch=``) is a TypeError, a bad value a ValueError naming it. This
module does not import Keras, so the registry can use it before a backend is chosen.
"""

import dataclasses
import numbers

from kerasdl._checks import check_choice, check_float, check_int, closest

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup_cosine")
TASK_NAMES = ("classification", "regression", "binary", "reconstruction", "variational",
              "adversarial", "seq2seq", "segmentation", "detection")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to train a model.

    Attributes:
        dataset: a `kerasdl.datasets` name.
        epochs, batch_size: as in `fit`.
        lr: the initial (peak, with warm-up) learning rate.
        optimizer: "adam", "adamw" (decoupled weight decay, Loshchilov & Hutter), "sgd"
            (Nesterov momentum 0.9) or "rmsprop". GANs use Adam-family optimizers with
            beta_1 = 0.5 (Radford et al.).
        schedule: "constant", "step" (x0.1 at 50% and 75% of training), "exponential"
            (x0.1 over the whole run), "cosine" (to 0 over the run) or "warmup_cosine"
            (linear warm-up over `warmup_epochs`, then cosine to 0).
        warmup_epochs: epochs of linear warm-up ("warmup_cosine" only).
        weight_decay: decoupled weight decay of every kernel (the optimizer's
            `weight_decay`; with SGD it is the textbook's L2 penalty up to the learning rate).
        clipnorm: clip each gradient to this norm (None: no clipping).
        label_smoothing: in [0, 1): targets become (1 - s) one-hot + s / classes
            (classification and binary tasks).
        patience: stop when `monitor` has not improved for this many epochs and restore
            the best weights (None: train all `epochs`).
        monitor: what early stopping and the best checkpoint watch: "val_loss" or a
            validation metric the task reports ("val_accuracy", "val_mae", ...).
        steps_per_execution: training steps per call of the compiled function (Keras's
            `steps_per_execution`): fewer calls from Python, which pays on TensorFlow for
            small models (LeNet-5: 8% less time per step); batch callbacks then see every
            N-th step. Keras's PyTorch backend has no such loop (1 only).
        validation_split: the share of the training set held out for validation,
            stratified by class, seeded (0: no validation).
        augment: random shifts, rotations and zooms of training images (registered
            models: on by default, for image datasets).
        image_size: zero-pad images to this size.
        task: the loss and metrics (`kerasdl.training.TASKS`); None: the dataset's.
        model: builder keyword arguments.
    """

    dataset: str = "mnist_5k"
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "cosine"
    warmup_epochs: int = 0
    weight_decay: float = 0.0
    clipnorm: float = None
    label_smoothing: float = 0.0
    patience: int = None
    monitor: str = "val_loss"
    steps_per_execution: int = 1
    validation_split: float = 0.1
    augment: bool = False
    image_size: int = None
    task: str = None
    model: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        check_int(self.epochs, "epochs")
        check_int(self.batch_size, "batch_size")
        _check_positive(self.lr, "lr", "e.g. lr=1e-3")
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        check_choice(self.schedule, "schedule", SCHEDULES)
        check_int(self.warmup_epochs, "warmup_epochs", minimum=0)
        if self.warmup_epochs >= self.epochs and self.schedule == "warmup_cosine":
            raise ValueError(f"`warmup_epochs`={self.warmup_epochs} must be less than "
                             f"`epochs`={self.epochs}, so that some training follows it.")
        check_float(self.weight_decay, "weight_decay", 0.0, float("inf"))
        if self.clipnorm is not None:
            _check_positive(self.clipnorm, "clipnorm", "e.g. clipnorm=1.0, or None")
        check_float(self.label_smoothing, "label_smoothing", 0.0, 1.0)
        if self.patience is not None:
            check_int(self.patience, "patience", minimum=0)
        check_int(self.steps_per_execution, "steps_per_execution")
        check_float(self.validation_split, "validation_split", 0.0, 1.0)
        if self.patience is not None and not self.validation_split:
            raise ValueError(f"`patience`={self.patience} watches the validation split, so "
                             f"it needs validation_split > 0; received validation_split=0.")
        if self.image_size is not None:
            check_int(self.image_size, "image_size")
        check_choice(self.task, "task", (None,) + TASK_NAMES)
        if not isinstance(self.model, dict):
            raise TypeError(f"`model` must be a dict of builder arguments; "
                            f"received model={self.model!r}.")

    def replace(self, **overrides):
        """A copy with `overrides`; None values keep the current field (a command line's
        unset option), unknown names raise a TypeError naming the close ones."""
        fields = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise TypeError(f"Unknown training option(s) {unknown}." + closest(unknown[0], fields)
                            + f" Options: {fields}.")
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self):
        return dataclasses.asdict(self)


def _check_positive(value, name, example):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number; received {name}={value!r}.")
    if not value > 0:
        raise ValueError(f"`{name}` must be > 0; received {name}={value!r} ({example}).")
