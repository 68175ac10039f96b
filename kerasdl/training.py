"""Training helpers shared by the command line, the notebooks and the benchmarks.

Augmentation runs in NumPy on the host, in a `keras.utils.PyDataset`, so it costs the
same on every backend: Keras's random image layers go through the backend's image
ops, which on JAX's CPU build made a LeNet-5 run about 20x slower.
"""

import math

import keras
import numpy as np


def random_affine(images, rng, *, max_shift=2.0, max_rotation=10.0, max_zoom=0.1):
    """Randomly shift (pixels), rotate (degrees) and zoom a batch (N, H, W, C) of images.

    One vectorized bilinear resampling for the whole batch; pixels that come from
    outside the image are 0.
    """
    n, h, w, _ = images.shape
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))[:, None, None]
    zoom = (1.0 + rng.uniform(-max_zoom, max_zoom, n))[:, None, None]
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
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


class AugmentedImages(keras.utils.PyDataset):
    """Shuffled batches of randomly shifted, rotated and zoomed images.

    Args:
        x, y: images (N, H, W, C) and labels.
        batch_size: batch size.
        seed: seeds the shuffling and the augmentation.
        **augment: `random_affine`'s keyword arguments.
    """

    def __init__(self, x, y, batch_size, seed=0, **augment):
        super().__init__()
        self.x, self.y, self.batch_size, self.augment = x, y, batch_size, augment
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        idx = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return random_affine(self.x[idx], self.rng, **self.augment), self.y[idx]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.x))


# Loss and metrics of each task; None: the model computes its own loss (GAN, VAE).
TASKS = {
    "classification": ("sparse_categorical_crossentropy", ("accuracy",)),
    "regression": ("mse", ("mae", "rmse")),
    "binary": ("binary_crossentropy", ("binary_accuracy",)),
    "reconstruction": ("binary_crossentropy", ("mse", "mae")),  # fit(x, x), x in [0, 1]
    "variational": (None, ()),  # fit(x); VAE.compute_loss
    "adversarial": (None, ()),  # fit(x), or fit(x, labels) when conditional
}


def _metric(name):
    return keras.metrics.RootMeanSquaredError(name="rmse") if name == "rmse" else name


def compile_model(model, *, task="classification", lr=1e-3, decay_steps=None, optimizer="adam",
                  clipnorm=None):
    """Compile `model` for `task` with Adam or SGD.

    Args:
        task: "classification" (softmax outputs, integer labels: cross-entropy, accuracy),
            "regression" (MSE; MAE and RMSE), "binary" (sigmoid outputs: binary
            cross-entropy and accuracy), "reconstruction" (an autoencoder of [0, 1] data: binary
            cross-entropy, which trains sigmoid outputs faster than MSE; MSE and MAE),
            "variational" (a VAE: its own loss) or "adversarial" (a GAN: two Adam
            optimizers with beta_1 = 0.5, Radford et al.'s setting, both at `lr`).
        lr: initial learning rate.
        decay_steps: if given, the learning rate follows a cosine decay to 0 over
            this many steps.
        optimizer: "adam" or "sgd" (SGD with Nesterov momentum 0.9).
        clipnorm: clip each gradient to this norm.
    """
    from kerasdl._checks import check_choice

    check_choice(task, "task", tuple(TASKS))
    rate = keras.optimizers.schedules.CosineDecay(lr, decay_steps) if decay_steps else lr
    if optimizer == "adam":
        opt = keras.optimizers.Adam(rate, clipnorm=clipnorm)
    elif optimizer == "sgd":
        opt = keras.optimizers.SGD(rate, momentum=0.9, nesterov=True, clipnorm=clipnorm)
    else:
        raise ValueError(f"`optimizer` must be 'adam' or 'sgd'; received optimizer={optimizer!r}.")
    if task == "adversarial":
        model.compile(d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5, clipnorm=clipnorm),
                      g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5, clipnorm=clipnorm))
        return model
    loss, metrics = TASKS[task]
    model.compile(optimizer=opt, loss=loss, metrics=[_metric(m) for m in metrics])
    return model


def train_model(model, train, test, *, epochs, batch_size, lr, task="classification",
                augment=False, seed=0, verbose="auto", callbacks=None):
    """Compile (cosine-decayed Adam), fit and evaluate `model`.

    Args:
        model: an uncompiled `keras.Model`.
        train, test: ``(x, y)``; the test set is also shown as validation.
        task: see `compile_model`.
        augment: random shifts, rotations and zooms of the training images.

    Returns:
        ``(history, {"test_loss": ..., "test_<metric>": ...})``; for a GAN, which has no
        test loss, the last epoch's ``d_loss`` and ``g_loss``.

    The targets follow the task: an autoencoder learns x -> x, a VAE fits x alone, and a
    GAN fits x rescaled from [0, 1] to the [-1, 1] of its tanh generator (with the
    labels, if it is conditional).
    """
    steps = math.ceil(len(train[1]) / batch_size)
    compile_model(model, task=task, lr=lr, decay_steps=epochs * steps)
    train, test = task_data(task, train, test, conditional=getattr(model, "num_classes", None))
    if augment:
        data = dict(x=AugmentedImages(*train, batch_size, seed=seed))
    else:
        data = dict(x=train[0], y=train[1], batch_size=batch_size, shuffle=True)
    history = model.fit(**data, epochs=epochs, verbose=verbose, callbacks=callbacks,
                        validation_data=None if task == "adversarial" else test)
    if task == "adversarial":
        return history, {k: float(v[-1]) for k, v in history.history.items()}
    scores = model.evaluate(*test, batch_size=256, verbose=0, return_dict=True)
    return history, {f"test_{k}": float(v) for k, v in scores.items()}


def task_data(task, train, test, conditional):
    """`train` and `test` ``(x, labels)`` pairs as `task` trains on them (see `train_model`)."""
    if task == "reconstruction":
        return (train[0], train[0]), (test[0], test[0])
    if task == "variational":
        return (train[0], None), (test[0], None)
    if task == "adversarial":
        return (2.0 * train[0] - 1.0, train[1] if conditional else None), None
    return train, test


def plot_history(history, path):
    """Save the training curves of a `History` as a PNG: its first two metrics (loss and
    accuracy, MAE, ...; a GAN's d_loss and g_loss), training and validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [k for k in history.history if not k.startswith("val_")][:2]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for prefix, label in (("", "train"), ("val_", "test")):
            if prefix + metric in history.history:
                ax.plot(range(1, len(history.history[prefix + metric]) + 1),
                        history.history[prefix + metric], label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
