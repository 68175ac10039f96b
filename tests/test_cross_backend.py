"""A .keras file saved under this suite's backend loads under the next one, same outputs,
with plain `keras.saving.load_model` after `import kerasdl`.

The three suites form a ring (TensorFlow -> JAX -> PyTorch -> TensorFlow) and share out
the registry: each model crosses once, from the suite that owns it to the next backend,
so every backend saves and loads a third of the models and all of them are checked.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl.registry import get_spec
from tests.helpers import outputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# plain Keras loads every kerasdl file once kerasdl is imported (kerasdl/__init__.py);
# with kerasdl's speed-ups on, which plain Keras does not turn on: Keras's own JAX
# initializers compile once per weight shape (DenseNet-121 loads in 20 s, with them in 4 s)
LOAD_AND_COMPARE = """
import json, sys
import numpy as np
import kerasdl
import keras
from tests.helpers import outputs
kerasdl.backend.use_fast_kernels()
result = {}
for name in json.loads(sys.argv[2]):
    model = keras.saving.load_model(f"{sys.argv[1]}/{name}.keras")
    data = np.load(f"{sys.argv[1]}/{name}.npz")
    x = [data[k] for k in sorted(data.files) if k.startswith("arr_")]
    y = outputs(model, x if len(x) > 1 else x[0])
    result[name] = float(np.abs(y - data["y"]).max())
print(json.dumps(result))
"""


RING = ["tensorflow", "jax", "torch"]


@pytest.mark.slow
def test_saved_models_load_on_the_next_backend(tmp_path, example):
    here = keras.backend.backend()
    names = kerasdl.list_models()[RING.index(here)::3]
    for name in names:
        spec = get_spec(name)
        keras.utils.set_random_seed(0)
        model = kerasdl.build(name, **spec.test_kwargs)
        x = example(spec, n=4)[0]
        model.save(tmp_path / f"{name}.keras")
        inputs = x if isinstance(x, list) else [x]
        np.savez(tmp_path / f"{name}.npz", *inputs, y=outputs(model, x))
    there = RING[(RING.index(here) + 1) % 3]
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_COMPARE, str(tmp_path), json.dumps(names)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,  # for tests.helpers
        env={**os.environ, "KERAS_BACKEND": there})
    assert result.returncode == 0, result.stderr[-3000:]
    errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(errors) == names
    worst = {n: e for n, e in errors.items() if e > 1e-5}
    assert not worst, f"saved on {here}, loaded on {there}: {worst}"


SAME_START = """
import json, sys
import keras, numpy as np
import kerasdl
from kerasdl import datasets
from kerasdl.models.gan import GAN
from kerasdl.training import train_model

# A GAN draws its noise from the backend's generator: hold it fixed to compare the step.
NOISE = np.random.default_rng(0).standard_normal((32, 2)).astype("float32")
GAN._generate = lambda self, batch, labels, training: self.generator(
    keras.ops.convert_to_tensor(NOISE), training=training)

losses = {}
for name, kwargs, data, options in json.loads(sys.argv[2]):
    model = kerasdl.build(name, weights=f"{sys.argv[1]}/{name}.weights.h5", **kwargs)
    x, y = (datasets.gaussian_ring(640)[0], None) if data == "ring" else \
        datasets.load(data, "train")
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(
        [float(v) for k, v in sorted(logs.items()) if k.endswith("loss")]))
    train_model(model, (x[:640], None if y is None else y[:640]), epochs=1, batch_size=32,
                validation_split=0.0, schedule="constant", callbacks=[record], verbose=0,
                **options)
    losses[name] = seen
print(json.dumps(losses))
"""
SAME_RUNS = [
    ("lenet5", dict(input_shape=(28, 28, 1), num_classes=10), "mnist_5k", dict(lr=3e-3)),
    ("lstm", dict(input_shape=(100, 2), units=(16,), num_classes=1,
                  classifier_activation=None), "adding", dict(task="regression")),
    ("transformer_classifier", dict(input_shape=(None,), max_length=16, vocab_size=41,
                                    num_classes=4, d_model=16, num_heads=2, ff_dim=32,
                                    num_layers=1, dropout=0.0), "topics", {}),
    ("gan_mlp", dict(input_shape=(2,), latent_dim=2, output_activation=None,
                     generator_units=(16,), discriminator_units=(16,)), "ring",
     dict(task="adversarial")),
]


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="spans the three "
                    "backends: runs once, in the TensorFlow suite (the shortest)")
def test_the_same_start_trains_the_same_on_every_backend(tmp_path):
    """Weights made once and loaded everywhere (``build(name, weights=...)``) and
    `train_model`'s seeded batch order: the first 20 losses agree across backends
    (relative 1e-3: float rounding differs between the backends' kernels), a GAN's two
    losses too when its noise is held fixed."""
    for name, kwargs, _, _ in SAME_RUNS:
        keras.utils.set_random_seed(0)
        kerasdl.build(name, **kwargs).save_weights(tmp_path / f"{name}.weights.h5")
    losses = {}
    for backend in ("tensorflow", "jax", "torch"):
        result = subprocess.run(
            [sys.executable, "-c", SAME_START, str(tmp_path), json.dumps(SAME_RUNS)],
            capture_output=True, text=True, timeout=900,
            env={**os.environ, "KERAS_BACKEND": backend})
        assert result.returncode == 0, result.stderr[-3000:]
        losses[backend] = json.loads(result.stdout.strip().splitlines()[-1])
    for name, *_ in SAME_RUNS:
        curves = np.array([losses[b][name] for b in losses])  # (backend, step, loss)
        assert curves.shape[:2] == (3, 20), (name, curves.shape)
        if name != "gan_mlp":  # a GAN's losses need not fall: they pit two networks
            assert curves[0, -1, 0] < curves[0, 0, 0], (name, curves)
        if name == "transformer_classifier":
            # On TensorFlow an embedding's gradient is a tf.IndexedSlices, and Keras's
            # Adam squares its slices before duplicate token rows are summed, so the
            # embedding takes another step there: the start agrees, the curve does not.
            np.testing.assert_allclose(curves[0, 0], curves[1, 0], rtol=1e-5)
            curves = curves[1:]
        np.testing.assert_allclose(curves[1:], curves[:1].repeat(len(curves) - 1, 0),
                                   rtol=1e-3, err_msg=name)
