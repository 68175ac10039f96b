"""Keras's mixed precision policies hold for every registered model: under
``mixed_float16`` and ``mixed_bfloat16`` it builds, trains a step with a finite loss and
saves, its variables float32, its outputs in the policy's compute dtype.

Every model in the suite of `tests.helpers.ONCE_ON`; in the others, a model of each family
and those with a backend's own half-float step besides (a VAE's sampled noise, a gradient
penalty's second gradient, a GRU): the same layers, at a third of the time (XLA's CPU
compiler takes 30-130 s for a deep CNN's half-float step: DenseNet-121 127 s).
"""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import testing
from kerasdl.registry import get_spec
from kerasdl.training import compile_model, task_data
from tests.helpers import ONCE_ON, ONE_PER_FAMILY

NAMES = kerasdl.list_models() if keras.backend.backend() == ONCE_ON else \
    ONE_PER_FAMILY + ["vae", "wgan_gp", "gru"]


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    yield keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"], indirect=True)
@pytest.mark.parametrize("name", NAMES)
def test_trains_and_saves_under_a_mixed_policy(name, policy, tmp_path):
    spec = get_spec(name)
    keras.utils.set_random_seed(0)
    model = kerasdl.build(name, **spec.test_kwargs)
    rng = np.random.default_rng(0)
    if spec.train.task == "adversarial":  # real samples in [-1, 1], and labels if conditional
        x = rng.uniform(-1, 1, (4, *spec.test_kwargs["input_shape"])).astype("float32")
        y, task = (np.arange(4) % model.num_classes if model.num_classes else None), "adversarial"
        outputs = model.generate(4, y)
    else:
        x, y, task = testing.example(spec, rng, 4)
        (x, y), _ = task_data(task, (x, y), None)
        outputs = model(x)
    outputs = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    compile_model(model, task=task)
    # TensorFlow takes 10-20 s to build the graph of a half-float step on a CPU; eagerly
    # the same layers run in a second (JAX compiles: its compiler is what needs checking)
    model.run_eagerly = keras.backend.backend() == "tensorflow"
    logs = model.train_on_batch(x, y, return_dict=True)
    assert all(np.isfinite(float(v)) for v in logs.values()), logs
    assert {v.dtype for v in model.weights} == {"float32"}
    assert keras.backend.standardize_dtype(outputs.dtype) == policy.compute_dtype
    model.save(tmp_path / f"{name}.keras")
    assert (tmp_path / f"{name}.keras").stat().st_size > 1000
