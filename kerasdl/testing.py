"""Small learnable examples for every registered model, for tests and smoke runs.

Each registered model names (`ModelSpec.example`) or implies (by its task) one kind of
batch below, sized by its `test_kwargs`: a few steps of training on it must lower the
loss. A new model reuses a kind, or adds one here.
"""

import numpy as np

from kerasdl import sequences


def _brightness(spec, rng, n, noise=0.5):
    """Float inputs whose class is their brightness: learnable by any model in a few steps."""
    shape = spec.test_kwargs["input_shape"]
    classes = spec.test_kwargs.get("num_classes", 3)
    y = np.arange(n) % classes
    brightness = (y / (classes - 1)).reshape((n,) + (1,) * len(shape))
    x = noise * rng.random((n, *shape)) + (1 - noise) * brightness
    return x.astype("float32"), y, "classification"


def _topic_tokens(spec, rng, n):
    """Token sequences whose class picks the tokens; the last two steps padded in half."""
    length = spec.test_kwargs["input_shape"][0]
    y = np.arange(n) % spec.test_kwargs["num_classes"]
    x = 1 + 2 * y[:, None] + rng.integers(0, 2, (n, length))
    x[::2, -2:] = 0
    return x.astype("int32"), y, "classification"


def _reverse(spec, rng, n):
    x, y = sequences.reverse_sequences(n, spec.test_kwargs["input_shape"][0],
                                       spec.test_kwargs["vocab_size"])
    return x, y, "classification"


def _corpus(n):
    return sequences.topic_corpus(n, num_topics=2, words_per_topic=4)[0]  # ids 1..8


def _skipgram(spec, rng, n):
    x, y = sequences.skipgram_pairs(_corpus(n), vocab_size=9, window=1,
                                    num_negative=spec.test_kwargs["num_negative"])
    return [a[:n] for a in x], y[:n], "binary"


def _cbow(spec, rng, n):
    x, y = sequences.cbow_windows(_corpus(n))
    return x[:n], y[:n], "classification"


def _noise(spec, rng, n):
    """A GAN's inputs: noise, and labels if it is conditional."""
    z = rng.standard_normal((n, spec.test_kwargs["latent_dim"])).astype("float32")
    classes = spec.test_kwargs.get("num_classes")
    return ([z, np.arange(n, dtype="int32") % classes] if classes else z), None, "adversarial"


def _images(spec, rng, n):
    """Dark images of three brightnesses that an autoencoder can learn to reconstruct
    (a VAE fits them alone)."""
    x = 0.3 * _brightness(spec, rng, n, noise=0.1)[0]
    task = spec.train.task
    return x, x if task == "reconstruction" else None, task


def _squares(spec, rng, n):
    """Noisy images, each with a brighter square of random size and place; its pixels are
    class 1 and the rest class 0 (a segmentation's one-object known answer)."""
    height, width, channels = spec.test_kwargs["input_shape"]
    x = 0.4 * rng.random((n, height, width, channels))
    y = np.zeros((n, height, width), "int32")
    for i in range(n):
        side = rng.integers(height // 4, height // 2 + 1)
        top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        y[i, top:top + side, left:left + side] = 1
    x += 0.6 * y[..., None]
    return x.astype("float32"), y, "segmentation"


def square_boxes(spec, rng, n):
    """The squares of `_squares` with their boxes: (n, 1, 5) rows (x1, y1, x2, y2, 0)."""
    x, masks, _ = _squares(spec, rng, n)
    boxes = np.zeros((n, 1, 5), "float32")
    for i, mask in enumerate(masks):
        rows, cols = np.nonzero(mask)
        boxes[i, 0, :4] = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
    return x, boxes


def _boxes(spec, rng, n):
    """`square_boxes` as the per-cell targets of a detector (`kerasdl.detection.encode`)
    on the grid of its `test_kwargs`, one class."""
    from kerasdl import detection  # imports Keras, which the registry (importing this) must not

    x, boxes = square_boxes(spec, rng, n)
    size, grid = x.shape[1:3], spec.test_kwargs["grid"]
    return x, detection.encode(boxes, image_size=size, grid=(grid, grid * size[1] // size[0]),
                               num_classes=1), "detection"


EXAMPLES = {"brightness": _brightness, "topic_tokens": _topic_tokens, "reverse": _reverse,
            "skipgram": _skipgram, "cbow": _cbow, "noise": _noise, "images": _images,
            "squares": _squares, "boxes": _boxes}
BY_TASK = {"adversarial": "noise", "reconstruction": "images", "variational": "images"}


def example(spec, rng, n=16):
    """A small learnable batch ``(x, y, task)`` for registered model `spec` at its
    `test_kwargs`: the kind its spec names (`ModelSpec.example`), else the one its task
    implies; `task` names the loss (`kerasdl.training.TASKS`)."""
    kind = spec.example or BY_TASK.get(spec.train.task, "brightness")
    return EXAMPLES[kind](spec, rng, n)
