"""Checks every family's tests share: weights a gradient never reached, a config round
trip through JSON, a `.keras` round trip compared on predictions."""

import json

import keras
import numpy as np

import kerasdl

# the backend whose suite runs the tests that do not depend on the backend
# (``@pytest.mark.backend_independent``; see tests/conftest.py)
ONCE_ON = "torch"

# A model of each family, whose layers reach every speed-up of every backend: dense,
# convolutions with a 1x1 strided shortcut and batch norm, LSTM, GRU with attention,
# Transformer, embeddings, a convolutional autoencoder, transposed convolutions in a GAN
ONE_PER_FAMILY = ["mlp", "resnet18", "lstm", "seq2seq_attention", "transformer_classifier",
                  "word2vec_skipgram", "autoencoder_conv", "dcgan"]

# Deeper variants, whose layers are those of another model in stages of more blocks
# (resnet18's, vgg11's): the suite of ONCE_ON checks them; the others check the model whose
# layers they repeat.
REPEATS = {"resnet34", "vgg13", "vgg16", "vgg19"}


def this_suites(names):
    """`names` less, outside the suite of ONCE_ON, the deeper variants (`REPEATS`)."""
    if keras.backend.backend() == ONCE_ON:
        return list(names)
    return [name for name in names if name not in REPEATS]


def snapshot(weights):
    return [keras.ops.convert_to_numpy(w).copy() for w in weights]


def assert_every_weight_moved(weights, before):
    """Adam moves a weight iff its gradient was ever nonzero: none is cut off the loss."""
    frozen = [w.path for w, b in zip(weights, before)
              if np.array_equal(keras.ops.convert_to_numpy(w), b)]
    assert not frozen, f"no gradient reached {frozen}"


def assert_config_round_trip(model):
    """The config survives JSON and rebuilds the same layers and parameter count."""
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    clone = keras.saving.deserialize_keras_object(config)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.count_params() == model.count_params()


def outputs(model, x):
    """The model's inference outputs on `x`, as NumPy (a list for several outputs), the
    quickest way on this backend: called directly on TensorFlow and PyTorch (`predict`
    would have TensorFlow build a graph for one call), by `predict` on JAX, whose XLA
    compiles a deep CNN's forward pass faster than JAX runs it op by op (DenseNet-121:
    18 s against 45 s)."""
    if keras.backend.backend() == "jax":
        return model.predict(x, verbose=0)
    return keras.tree.map_structure(keras.ops.convert_to_numpy, model(x, training=False))


def assert_file_round_trip(model, path, x, atol=1e-6):
    """Saved to `path` and loaded back (by `kerasdl.load_model`): the same outputs."""
    model.save(path)
    loaded = kerasdl.load_model(path)
    np.testing.assert_allclose(outputs(loaded, x), outputs(model, x), atol=atol)
    return loaded
