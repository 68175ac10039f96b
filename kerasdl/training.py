"""Training with the textbook's craft, shared by the command line, the notebooks, the
tuner and the benchmarks: optimizers, learning-rate schedules, early stopping, gradient
clipping, label smoothing, weight decay, checkpoints and logs (each a thin use of Keras),
an honest validation split, and NumPy augmentation.

Augmentation runs in NumPy on the host, in a `keras.utils.PyDataset`, so it costs the
same on every backend: Keras's random image layers go through the backend's image
ops, which on JAX's CPU build made a LeNet-5 run about 20x slower.
"""

import csv
import math
import os
import shutil

import keras
import numpy as np

from kerasdl import detection, distribution
from kerasdl._checks import closest
from kerasdl.backend import compat
from kerasdl.evaluation import evaluate, infer_task
from kerasdl.losses import SparseCategoricalCrossentropy
from kerasdl.recipe import Recipe


def random_affine(images, rng, *, max_shift=2.0, max_rotation=10.0, max_zoom=0.1):
    """Randomly shift (pixels), rotate (degrees) and zoom a batch (N, H, W, C) of images.

    One vectorized bilinear resampling for the whole batch; pixels that come from
    outside the image are 0.
    """
    n = len(images)
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
    zoom = 1.0 + rng.uniform(-max_zoom, max_zoom, n)
    return _affine(images, angle, zoom, rng.uniform(-max_shift, max_shift, (n, 2)))


def scale_and_shift_boxes(images, boxes, rng, *, max_shift=0.2, max_zoom=0.2):
    """YOLO's augmentation: scale a batch (N, H, W, C) of images by up to `max_zoom` and
    translate them by up to `max_shift` of their size (the paper: 20%), moving their
    boxes (N, M, 5) (x1, y1, x2, y2, class; class -1 pads) with them. The zoom and the
    translation are held to what keeps every box whole inside the image: a digit cut
    in two is another object. Returns the images and the boxes."""
    n, h, w, _ = images.shape
    boxes = np.array(boxes, dtype="float64")
    real = boxes[..., 4:] >= 0
    low = np.where(real, boxes[..., :2], np.inf).min(axis=1)  # (N, 2): x, y
    high = np.where(real, boxes[..., 2:4], -np.inf).max(axis=1)
    size, centre = np.array([w, h]), np.array([w, h]) / 2
    zoom = np.minimum(1.0 + rng.uniform(-max_zoom, max_zoom, n),
                      (size / (high - low)).min(axis=1))  # inf without boxes
    low, high = [(edge - centre) * zoom[:, None] + centre for edge in (low, high)]
    shift = np.clip(rng.uniform(-max_shift, max_shift, (n, 2)) * size, -low, size - high)
    moved = (boxes[..., :4] - np.tile(centre, 2)) * zoom[:, None, None] \
        + np.tile(centre + shift, 2)[:, None]
    boxes[..., :4] = np.where(real, np.clip(moved, 0, np.tile(size, 2)), -1)
    return _affine(images, np.zeros(n), zoom, shift[:, ::-1]), boxes


def _affine(images, angle, zoom, shift):
    """Each image (N, H, W, C) rotated by `angle` (radians), zoomed by `zoom` about its
    centre and shifted by `shift` (N, 2) (pixels, y then x)."""
    _, h, w, _ = images.shape
    angle, zoom = angle[:, None, None], zoom[:, None, None]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    ys, xs = np.mgrid[0:h, 0:w]
    # Output pixel -> source pixel: undo the shift, the rotation, then the zoom.
    dy = ys[None] - cy - shift[:, 0, None, None]
    dx = xs[None] - cx - shift[:, 1, None, None]
    cos, sin = np.cos(angle), np.sin(angle)
    src_y = (cos * dy - sin * dx) / zoom + cy
    src_x = (sin * dy + cos * dx) / zoom + cx
    return _bilinear(images, src_y, src_x)


def _bilinear(images, y, x):
    n, h, w, _ = images.shape
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    wy, wx = y - y0, x - x0
    batch = np.arange(n)[:, None, None]
    out = np.zeros(images.shape, dtype=np.float32)
    for oy, ox, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                           (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
        yy, xx = y0 + oy, x0 + ox
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        values = images[batch, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        out += values * (weight * inside)[..., None]
    return out.astype(images.dtype)


class Batches(keras.utils.PyDataset):
    """Batches in an order drawn from `seed` and redrawn every epoch, the same on every
    backend (`fit`'s own shuffling draws from the backend's generator), and optionally
    randomly shifted, rotated and zoomed images.

    Under a JAX distribution each batch keeps a multiple of the model replicas' rows (the
    last one may lose a few), and with several processes each process feeds its own share
    of every batch (`kerasdl.distribution.split_batch`): every process draws the same order
    and the whole batch's augmentation, so the run is the one a single device makes.

    Args:
        x: inputs: an array, or a list of arrays for a model of several inputs.
        y: targets (None: batches of inputs alone, as a GAN or a VAE fits).
        batch_size: batch size (the global one, over every device and process).
        seed: seeds the order and the augmentation.
        augment: None, or `random_affine`'s keyword arguments ({} for its defaults): the
            images of `x` (N, H, W, C) are augmented; with `encode`,
            `scale_and_shift_boxes`'s, moving the boxes `y` with them.
        reconstruct: the targets are the (augmented) inputs themselves (autoencoders).
        shuffle: False: the rows in their order (validation data).
        encode: `y` holds boxes, which this function turns into each batch's targets
            (a detector's `kerasdl.detection.encoder`) once augmentation has moved them.
    """

    def __init__(self, x, y, batch_size, *, seed=0, augment=None, reconstruct=False,
                 shuffle=True, encode=None):
        super().__init__()
        self.x, self.y, self.batch_size, self.augment = x, y, batch_size, augment
        self.reconstruct, self.shuffle, self.encode = reconstruct, shuffle, encode
        self.rng = np.random.default_rng(seed)
        self.size = len(x[0]) if isinstance(x, (list, tuple)) else len(x)
        self.order = self.rng.permutation(self.size) if shuffle else np.arange(self.size)
        self.last_kept = distribution.split_batch(self.size % batch_size)[0]

    def __len__(self):
        return self.size // self.batch_size + bool(self.last_kept)

    def __getitem__(self, index):
        idx = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        kept, part = distribution.split_batch(len(idx))
        idx = idx[:kept]
        # a tuple, not a list: TensorFlow's adapter types each batch, and takes no list
        x = tuple(a[idx] for a in self.x) if isinstance(self.x, (list, tuple)) else self.x[idx]
        y = None if self.y is None else self.y[idx]
        if self.augment is not None and self.encode is not None:
            x, y = scale_and_shift_boxes(x, y, self.rng, **self.augment)
        elif self.augment is not None:
            x = random_affine(x, self.rng, **self.augment)
        if self.encode is not None:
            y = self.encode(y)
        x = tuple(a[part] for a in x) if isinstance(x, tuple) else x[part]
        if self.reconstruct:
            return x, x
        return (x,) if y is None else (x, y[part])

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self.rng.permutation(self.size)


# Loss and metrics of each task; None: the model computes its own loss (GAN, VAE).
TASKS = {
    "classification": ("sparse_categorical_crossentropy", ("accuracy",)),
    "seq2seq": ("sparse_categorical_crossentropy", ("accuracy",)),  # per target token
    "segmentation": ("sparse_categorical_crossentropy", ("accuracy", "mean_iou")),  # per pixel
    "detection": ("yolo", ()),  # kerasdl.detection.YoloLoss of the model's layout
    "regression": ("mse", ("mae", "rmse")),
    "binary": ("binary_crossentropy", ("binary_accuracy",)),
    "reconstruction": ("binary_crossentropy", ("mse", "mae")),  # fit(x, x), x in [0, 1]
    "variational": (None, ()),  # fit(x); VAE.compute_loss
    "adversarial": (None, ()),  # fit(x), or fit(x, labels) when conditional
}


def task_loss(task, model, label_smoothing=0.0):
    """The loss `compile_model` gives `model` for `task` (None: the model's own)."""
    if task == "detection":
        return detection.YoloLoss(*detection.layout(model, required=True)[2:])
    if task == "segmentation":
        if model.outputs[0].shape[-1] == 1:  # one class: a sigmoid per pixel
            task = "binary"
        else:
            # the one-hot cross-entropy: Keras's sparse one hands PyTorch's 4-D nll_loss
            # a channels-last view, whose backward fails on the CPU ("grad_input must be
            # contiguous", torch 2.13)
            return SparseCategoricalCrossentropy(label_smoothing)
    loss = TASKS[task][0]
    if not label_smoothing:
        return loss
    if task in ("classification", "seq2seq"):
        return SparseCategoricalCrossentropy(label_smoothing)
    if task == "binary":
        return keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing)
    raise ValueError(f"`label_smoothing` applies to classification, segmentation and binary "
                     f"tasks; received label_smoothing={label_smoothing!r} for task={task!r}.")


def _metric(name, model):
    if name == "rmse":
        return keras.metrics.RootMeanSquaredError(name="rmse")
    if name == "mean_iou":  # over the classes of the model's per-pixel outputs
        classes = model.outputs[0].shape[-1]
        if classes == 1:
            return keras.metrics.BinaryIoU(target_class_ids=(0, 1), name="mean_iou")
        return keras.metrics.MeanIoU(classes, sparse_y_pred=False, name="mean_iou")
    return name


def learning_rate(lr, schedule, steps=None, warmup_steps=0):
    """The learning rate (a float or a Keras schedule) of `schedule` over `steps` steps:
    "constant", "step" (x0.1 at 50% and again at 75%), "exponential" (x0.1 over `steps`),
    "cosine" (to 0) or "warmup_cosine" (0 -> `lr` over `warmup_steps`, then cosine to 0)."""
    schedules = keras.optimizers.schedules
    if schedule == "constant":
        return lr
    if not steps:
        raise ValueError(f"schedule={schedule!r} needs the number of training `steps`; "
                         f"received steps={steps!r}.")
    if schedule == "step":
        half = max(1, steps // 2)
        return schedules.PiecewiseConstantDecay([half, max(half + 1, 3 * steps // 4)],
                                                [lr, lr * 0.1, lr * 0.01])
    if schedule == "exponential":
        return schedules.ExponentialDecay(lr, decay_steps=steps, decay_rate=0.1)
    if schedule == "cosine":
        return schedules.CosineDecay(lr, steps)
    return schedules.CosineDecay(0.0, max(1, steps - warmup_steps), warmup_target=lr,
                                 warmup_steps=warmup_steps)


def make_optimizer(name, rate, *, weight_decay=0.0, clipnorm=None, beta_1=0.9):
    """A Keras optimizer: "adam", "adamw", "sgd" (Nesterov momentum 0.9) or "rmsprop",
    with decoupled `weight_decay` of the kernels (biases and normalization weights are
    left alone) and gradients clipped to `clipnorm`."""
    common = dict(clipnorm=clipnorm, weight_decay=weight_decay or None)
    optimizer = {
        "adam": lambda: keras.optimizers.Adam(rate, beta_1=beta_1, **common),
        "adamw": lambda: keras.optimizers.AdamW(rate, beta_1=beta_1, **{
            **common, "weight_decay": weight_decay}),
        "sgd": lambda: keras.optimizers.SGD(rate, momentum=0.9, nesterov=True, **common),
        "rmsprop": lambda: keras.optimizers.RMSprop(rate, **common),
    }[name]()
    if weight_decay:
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta", "embeddings"])
    return optimizer


def compile_model(model, *, task="classification", lr=1e-3, optimizer="adam",
                  schedule="constant", steps=None, warmup_steps=0, weight_decay=0.0,
                  clipnorm=None, label_smoothing=0.0, steps_per_execution=1):
    """Compile `model` with the loss and metrics of `task` and the given optimizer.

    Args:
        task: "classification" (softmax outputs, integer labels: cross-entropy, accuracy),
            "seq2seq" (the same per target token), "segmentation" (the same per pixel,
            or a sigmoid per pixel for one class; accuracy and mean IoU), "regression" (MSE; MAE and RMSE),
            "binary" (sigmoid outputs: binary cross-entropy and accuracy),
            "reconstruction" (an autoencoder of [0, 1] data: binary cross-entropy, which
            trains sigmoid outputs faster than MSE; MSE and MAE), "variational" (a VAE:
            its own loss) or "adversarial" (a GAN: one optimizer per network, Adam's
            beta_1 = 0.5 as in Radford et al.; the discriminator's schedule runs over
            `n_critic` times as many steps).
        lr, optimizer, schedule, weight_decay, clipnorm, label_smoothing, steps_per_execution: as
            in `kerasdl.recipe.Recipe`.
        steps: training steps, for every schedule but "constant".
        warmup_steps: for "warmup_cosine".
    """
    Recipe(task=task, lr=lr, optimizer=optimizer, schedule=schedule,
           weight_decay=weight_decay, clipnorm=clipnorm, label_smoothing=label_smoothing,
           steps_per_execution=steps_per_execution)
    if steps_per_execution > 1 and keras.backend.backend() == "torch":
        raise ValueError(f"steps_per_execution={steps_per_execution} runs several steps per "
                         f"compiled call, which Keras's PyTorch backend does not do; use 1 "
                         f"there, or KERAS_BACKEND=tensorflow, where it saves the most.")

    def opt(steps, **kwargs):
        return make_optimizer(optimizer, learning_rate(lr, schedule, steps, warmup_steps),
                              weight_decay=weight_decay, clipnorm=clipnorm, **kwargs)

    if task == "adversarial":
        if label_smoothing:
            raise ValueError(f"A GAN smooths its real targets itself: build it with "
                             f"label_smoothing={label_smoothing!r} (--arg label_smoothing=...) "
                             f"instead of passing it to compile_model.")
        beta = {"beta_1": 0.5} if optimizer in ("adam", "adamw") else {}
        model.compile(d_optimizer=opt(steps and steps * model.n_critic, **beta),
                      g_optimizer=opt(steps, **beta), steps_per_execution=steps_per_execution)
        return model
    loss, metrics = TASKS[task]
    model.compile(optimizer=opt(steps), loss=task_loss(task, model, label_smoothing),
                  metrics=[_metric(m, model) for m in metrics],
                  steps_per_execution=steps_per_execution)
    return model


def split_validation(x, y, fraction=0.1, *, seed=0):
    """Hold out `fraction` of ``(x, y)`` for validation, seeded, stratified by class when
    `y` holds class labels (integers, each class at least twice, fewer classes than either
    part has rows). `x` may be a list of arrays (multi-input models).

    Returns:
        ``((x_train, y_train), (x_val, y_val))``.
    """
    from sklearn.model_selection import train_test_split  # on use: start-up time

    arrays = list(x) if isinstance(x, list) else [x]
    parts = train_test_split(*arrays, y, test_size=fraction, random_state=seed,
                             stratify=_class_labels(y, fraction))
    train, val = parts[0::2], parts[1::2]
    if isinstance(x, list):
        return (list(train[:-1]), train[-1]), (list(val[:-1]), val[-1])
    return tuple(train), tuple(val)


def _class_labels(y, fraction):
    """`y` if it can stratify a split: integer labels, each class twice, and both parts
    large enough to hold every class."""
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return None
    counts = np.bincount(y - y.min())
    counts = counts[counts > 0]
    smaller = min(fraction, 1 - fraction) * len(y)
    return y if counts.min() >= 2 and smaller >= len(counts) else None


class StopOnDivergence(keras.callbacks.Callback):
    """Stop at the end of the first epoch whose loss (any ``*loss`` log: a GAN's
    ``d_loss`` and ``g_loss`` too) is NaN or infinite; `where` then says (epoch, losses),
    1-based. `train_model` turns it into a `TrainingDiverged` error. (Per epoch, not per
    batch: a per-batch hook makes Keras fetch every step's logs from the device.)"""

    def __init__(self):
        super().__init__()
        self.where = None

    def on_epoch_end(self, epoch, logs=None):
        bad = {k: float(v) for k, v in (logs or {}).items()
               if k.endswith("loss") and not k.startswith("val_") and not math.isfinite(float(v))}
        if bad and self.where is None:
            self.where = (epoch + 1, bad)
            self.model.stop_training = True


class Backup(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore` (weights, every optimizer's state and the epoch, saved
    after each epoch, the previous save kept until the new one is complete; a run started
    again resumes from the last completed epoch), which also keeps the last good state of
    a run that diverged: it does not save the epoch in which `divergence` stopped
    training, and it restores and keeps the backup instead of deleting it."""

    def __init__(self, backup_dir, divergence):
        super().__init__(backup_dir, double_checkpoint=True)
        self.divergence = divergence

    def on_epoch_end(self, epoch, logs=None):
        if self.divergence.where is None:
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if self.divergence.where is None:
            super().on_train_end(logs)
        elif os.path.exists(compat.backup_weights_path(self)):
            self.model.load_weights(compat.backup_weights_path(self))


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite: the learning rate is too high for the model."""


def training_callbacks(recipe, output_dir=None, *, validate=True, tensorboard=False):
    """The callbacks a recipe asks for: a stop at the first non-finite loss
    (`StopOnDivergence`, first), early stopping on `recipe.monitor` (restoring the best
    weights), and with an `output_dir`: a backup to resume from (``backup/``, `Backup`),
    the best model (``best.keras``, ModelCheckpoint), a CSV log (``log.csv``) and, on
    request, TensorBoard logs (``logs/``). A run resumed from a backup appends to the log
    and keeps the best model unless it beats the one already saved."""
    callbacks = [StopOnDivergence()]
    task = recipe.task or "classification"
    if validate:
        reported = tuple(f"val_{m}" for m in ("loss",) + TASKS[task][1])
        if recipe.monitor not in reported:
            raise ValueError(f"`monitor` must be a validation figure that task {task!r} "
                             f"reports, one of {list(reported)}; received "
                             f"monitor={recipe.monitor!r}." + closest(recipe.monitor, reported))
    mode = "max" if recipe.monitor.endswith("accuracy") else "min"
    if recipe.patience is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            recipe.monitor, mode=mode, patience=recipe.patience, restore_best_weights=True))
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        backup_dir = os.path.join(output_dir, "backup")
        log = os.path.join(output_dir, "log.csv")
        resuming = os.path.isdir(backup_dir) and os.listdir(backup_dir)
        # the log first: an epoch is logged before the backup counts it as done
        callbacks.append(keras.callbacks.CSVLogger(log, append=bool(resuming)))
        callbacks.append(Backup(backup_dir, callbacks[0]))
        if validate:
            best = _best_logged(log, recipe.monitor, mode) if resuming else None
            callbacks.append(keras.callbacks.ModelCheckpoint(
                os.path.join(output_dir, "best.keras"), monitor=recipe.monitor, mode=mode,
                save_best_only=True, initial_value_threshold=best))
        if tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(os.path.join(output_dir, "logs")))
    return callbacks


def _best_logged(log, monitor, mode):
    """The best `monitor` value in a CSV log (None if there is none)."""
    if not os.path.exists(log):
        return None
    with open(log) as f:
        values = [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor)]
    return (max if mode == "max" else min)(values) if values else None


def _dense_task(model, train):
    """"segmentation" or "detection" where `model` and its labels show it (a detector's
    layout, a map of classes per pixel), so that a recipe without a task does not train
    them as classifiers; else None (a model not yet built included)."""
    if len(train) < 2 or train[1] is None or not getattr(model, "outputs", None):
        return None
    task = infer_task(model, train[0], train[1])
    return task if task in ("segmentation", "detection") else None


def train_model(model, train, test=None, *, recipe=None, seed=0, output_dir=None,
                tensorboard=False, verbose="auto", callbacks=None, **options):
    """Compile, fit on a held-out split of `train`, and evaluate once on `test`.

    Args:
        model: an uncompiled `keras.Model`.
        train, test: ``(x, labels)``. `recipe.validation_split` of `train` (stratified,
            seeded with `seed`) is the validation data; `test` is read once, at the end,
            by `kerasdl.evaluation.evaluate`.
        recipe: a `kerasdl.recipe.Recipe`; `options` override its fields (``epochs=3,
            lr=1e-2, task="regression"``, ...). Without a task: a segmenter's or a
            detector's (`kerasdl.evaluation.infer_task`), else classification.
        output_dir: where the callbacks and the evaluation write their files.
        tensorboard: also write TensorBoard logs to ``output_dir/logs``.

    Returns:
        ``(history, metrics)``: metrics prefixed with the split they come from --
        ``train_*`` (last epoch), ``val_*`` (the epoch whose weights were kept),
        ``test_*`` (the evaluation) -- and ``split_sizes``. A GAN does not validate: its
        losses measure the two networks against each other.

    The targets follow the task: an autoencoder learns x -> x, a VAE fits x alone, and a
    GAN fits x rescaled from [0, 1] to the [-1, 1] of its tanh generator (with the
    labels, if it is conditional).
    """
    recipe = (recipe or Recipe()).replace(**options)
    task = recipe.task or _dense_task(model, train) or "classification"
    if recipe.augment and task == "segmentation":
        raise ValueError("augment=True moves the images but not their masks; train "
                         "task='segmentation' with augment=False.")
    validate = bool(recipe.validation_split) and task != "adversarial"
    fit, val = split_validation(*train, recipe.validation_split, seed=seed) if validate \
        else (train, None)
    steps_per_epoch = math.ceil(_length(fit[0]) / recipe.batch_size)
    compile_model(model, task=task, lr=recipe.lr, optimizer=recipe.optimizer,
                  schedule=recipe.schedule, steps=recipe.epochs * steps_per_epoch,
                  warmup_steps=recipe.warmup_epochs * steps_per_epoch,
                  weight_decay=recipe.weight_decay, clipnorm=recipe.clipnorm,
                  label_smoothing=recipe.label_smoothing,
                  steps_per_execution=recipe.steps_per_execution)
    encode = None
    if task == "detection" and recipe.augment:  # the boxes move with their images
        encode = detection.encoder(model)
        image_size, _, _, num_classes = detection.layout(model)
        detection.check_boxes(np.asarray(fit[1]), image_size, num_classes)  # before epoch 1
        val = task_data(task, val, None, model)[0]
    else:
        fit, val = task_data(task, fit, val, model)
    batches = Batches(*fit, recipe.batch_size, seed=seed, augment={} if recipe.augment
                      else None, reconstruct=task == "reconstruction", encode=encode)
    writes_to = distribution.process_directory(output_dir)  # several processes: see there
    callbacks = training_callbacks(recipe, writes_to, validate=validate,
                                   tensorboard=tensorboard) + list(callbacks or [])
    try:
        history = model.fit(batches, epochs=recipe.epochs, shuffle=False, verbose=verbose,
                            callbacks=callbacks,  # Batches shuffles, seeded
                            validation_data=None if val is None else
                            Batches(*val, recipe.batch_size, shuffle=False))
        if callbacks[0].where is not None:
            raise _diverged(callbacks[0].where, recipe, output_dir)
        metrics = _history_metrics(history, recipe if validate else None)
        metrics["split_sizes"] = {"train": _length(fit[0]), "validation": _length(val[0])
                                  if val else 0,
                                  "test": _length(test[0]) if test is not None else 0}
        if test is not None:
            if distribution.processes() == 1:
                scores = evaluate(model, test, task=task, output_dir=writes_to)
            else:  # each process a copy on its own devices
                with distribution.outside():
                    scores = evaluate(distribution.local_copy(model), test, task=task,
                                      output_dir=writes_to)
            metrics.update({f"test_{k}": v for k, v in scores.items()})
    finally:
        if writes_to != output_dir:  # another process's scratch copy
            shutil.rmtree(writes_to, ignore_errors=True)
    return history, metrics


def _length(x):
    return len(x[0]) if isinstance(x, list) else len(x)


def _diverged(where, recipe, output_dir):
    epoch, losses = where
    losses = ", ".join(f"{k}={v}" for k, v in losses.items())
    if output_dir is None:
        kept = "the model holds the diverged weights"
    elif epoch == 1:
        kept = "no epoch completed, so there is nothing to keep"
    else:
        kept = (f"the model holds the weights of epoch {epoch - 1}, the last good one, "
                f"also kept in {os.path.join(output_dir, 'backup')}")
    return TrainingDiverged(
        f"Training diverged in epoch {epoch} ({losses}) and was stopped; "
        f"{kept}. Lower the learning rate (lr={recipe.lr!r}), or clip gradients "
        f"(clipnorm=1.0).")


def _history_metrics(history, recipe):
    """``train_*`` of the last epoch and ``val_*`` of the epoch whose weights were kept
    (the best `recipe.monitor` when early stopping restored it, else the last). Epochs
    count from the start of the run, a resumed one included."""
    first = history.epoch[0]  # > 0 when resumed from a backup
    history = history.history
    kept = len(next(iter(history.values()))) - 1
    if recipe is not None and recipe.patience is not None:
        watched = np.asarray(history[recipe.monitor])
        kept = int(np.argmax(watched) if recipe.monitor.endswith("accuracy")
                   else np.argmin(watched))
    metrics = {"epochs_run": first + len(history["loss" if "loss" in history else
                                                  next(iter(history))]),
               "best_epoch": first + kept + 1}
    for key, values in history.items():
        if key.startswith("val_"):
            metrics[key] = float(values[kept])
        elif key != "learning_rate":
            metrics[f"train_{key}"] = float(values[-1])
    return metrics


def task_data(task, train, test, model=None):
    """`train` and `test` ``(x, labels)`` pairs as `task` trains `model` on them (see
    `train_model`); `test` may be None. A detector's boxes (N, M, 5) become the targets of
    its grid (`kerasdl.detection.encode`)."""
    conditional = getattr(model, "num_classes", None)

    def convert(data):
        if data is None:
            return None
        if task == "detection" and np.ndim(data[1]) == 3:
            return data[0], detection.encoder(model)(data[1])
        if task == "segmentation" and model is not None:
            _check_masks(data[1], model)
        if task == "reconstruction":
            return data[0], data[0]
        if task == "variational":
            return data[0], None
        if task == "adversarial":
            return 2.0 * data[0] - 1.0, data[1] if conditional else None
        return data
    return convert(train), convert(test)


def _check_masks(masks, model):
    """Masks of a class per pixel of `model`'s output: its input's size, or with unpadded
    convolutions (U-Net's padding='valid') its smaller output's."""
    want = tuple(model.outputs[0].shape[1:3])
    if np.shape(masks)[1:] != want:
        raise ValueError(f"The masks must hold one class per pixel of {model.name}'s output, "
                         f"{want} per image (for input images of "
                         f"{tuple(model.inputs[0].shape[1:3])}); received masks of shape "
                         f"{np.shape(masks)[1:]} per image.")


def plot_history(history, path):
    """Save the training curves of a `History` as a PNG: its first two metrics (loss and
    accuracy, MAE, ...; a GAN's d_loss and g_loss), training and validation."""
    from matplotlib.figure import Figure  # not pyplot: a notebook's figures stay inline

    metrics = [k for k in history.history if not k.startswith("val_") and k != "learning_rate"]
    fig = Figure(figsize=(5 * len(metrics[:2]), 4))
    axes = fig.subplots(1, len(metrics[:2]), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for prefix, label in (("", "train"), ("val_", "validation")):
            if prefix + metric in history.history:
                ax.plot(range(1, len(history.history[prefix + metric]) + 1),
                        history.history[prefix + metric], label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
