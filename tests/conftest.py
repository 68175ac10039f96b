"""The suite runs once per backend: KERAS_BACKEND is fixed when Keras is first imported."""

import numpy as np
import pytest

from kerasdl import sequences
from kerasdl.models.word2vec import cbow_windows, skipgram_pairs


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_report_header(config):
    import keras

    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


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
    x, y = skipgram_pairs(_corpus(n), vocab_size=9, window=1,
                          num_negative=spec.test_kwargs["num_negative"])
    return [a[:n] for a in x], y[:n], "binary"


def _cbow(spec, rng, n):
    x, y = cbow_windows(_corpus(n))
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


BY_TASK = {"adversarial": _noise, "reconstruction": _images, "variational": _images}
EXAMPLES = {"transformer_classifier": _topic_tokens, "seq2seq_attention": _reverse,
            "transformer_seq2seq": _reverse, "word2vec_skipgram": _skipgram,
            "word2vec_cbow": _cbow}


@pytest.fixture
def example(rng):
    """``example(spec, n=16)``: a small learnable batch ``(x, y, task)`` for a registered
    model at its `test_kwargs`; `task` names the loss (`kerasdl.training.TASKS`)."""
    def make(spec, n=16):
        default = BY_TASK.get(spec.train.task, _brightness)
        return EXAMPLES.get(spec.name, default)(spec, rng, n)
    return make
