"""The switch of kerasdl's speed-ups (`kerasdl.backend.use_fast_kernels`): on and off give
the same model, off puts Keras's own functions back, nothing but building or loading
turns them on, and a patch meeting a Keras it was not written for stays off, saying so."""

import os
import re
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import backend, testing
from kerasdl.backend import patching, use_fast_kernels
from kerasdl.registry import get_spec
from kerasdl.training import compile_model, task_data
from tests.helpers import ONE_PER_FAMILY

BACKEND = keras.backend.backend()
# Keras's own path ("off") on PyTorch's CPU gets the 1x1 strided shortcut's weight gradient
# wrong now and then, or hangs, for fewer input channels than oneDNN's block (the bug
# torch_conv works around; tests/test_backend_kernels.py checks that): 16 channels there
WIDER = {"resnet18": {"width_multiplier": 0.25}} if BACKEND == "torch" else {}


@pytest.fixture
def fast_kernels_restored():
    yield
    use_fast_kernels(True)


def _one_step(name, enabled, weights=None):
    """The loss of one SGD step of `name` on a fixed batch and the weights after it."""
    use_fast_kernels(enabled)
    spec = get_spec(name)
    keras.utils.set_random_seed(0)
    model = kerasdl.build(name, **{**spec.test_kwargs, **WIDER.get(name, {})})
    if weights is not None:
        model.set_weights(weights)
    rng = np.random.default_rng(0)
    if spec.train.task == "adversarial":  # real images in [-1, 1], as a GAN fits them
        x, y, task = rng.uniform(-1, 1, (8, *spec.test_kwargs["input_shape"])), None, \
            "adversarial"
    else:
        x, y, task = testing.example(spec, rng, 8)
        (x, y), _ = task_data(task, (x, y), None)
    compile_model(model, task=task, optimizer="sgd", lr=0.1)
    # TensorFlow's patches are Python, the same eagerly, and a graph takes long to build;
    # JAX's include how Keras compiles the step (jax_conv): compiled there
    model.run_eagerly = keras.backend.backend() == "tensorflow"
    before = model.get_weights()
    logs = model.train_on_batch(x, y, return_dict=True)
    return before, {k: float(v) for k, v in logs.items()}, model.get_weights()


@pytest.mark.parametrize("name", ONE_PER_FAMILY)
def test_speed_ups_on_and_off_train_the_same_step(name, fast_kernels_restored):
    before, fast_logs, fast = _one_step(name, True)
    _, logs, kerass = _one_step(name, False, weights=before)
    assert logs == pytest.approx(fast_logs, rel=1e-4, abs=1e-5)
    # SGD: the change of each weight is its gradient, times the learning rate
    for start, a, b in zip(before, fast, kerass, strict=True):
        np.testing.assert_allclose(a - start, b - start, rtol=1e-3, atol=1e-5)


def test_off_puts_kerass_own_functions_back(fast_kernels_restored):
    kerasdl.build("mlp", **get_spec("mlp").test_kwargs)
    on = backend.fast_kernels()
    assert on  # every backend has some
    assert use_fast_kernels(False) == []
    patches = [p for p in backend._patches() if isinstance(p, patching.Patch)]
    assert all(getattr(p.owner, p.attribute) is p.original for p in patches)
    kerasdl.build("mlp", **get_spec("mlp").test_kwargs)  # the program's choice holds
    assert backend.fast_kernels() == []
    assert use_fast_kernels(True) == on


# fast_kernels_restored first: torn down last, once monkeypatch has put Keras's version back
def test_a_patch_for_another_keras_stays_off_and_warns_once(fast_kernels_restored,
                                                           monkeypatch):
    use_fast_kernels(False)
    first = next(p for p in backend._patches() if isinstance(p, patching.Patch))
    monkeypatch.setattr(first, "signature", "(inputs, changed=True)")
    monkeypatch.setattr(patching, "_warned", set())
    with pytest.warns(UserWarning, match=rf"leaves its speed-up of {re.escape(first.name)} "
                                         rf"off: Keras's function has the signature"):
        on = use_fast_kernels(True)
    assert first.name not in on and getattr(first.owner, first.attribute) is first.original
    assert len(on) == len(backend._patches()) - 1  # the others are on
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once: not again
        use_fast_kernels(True)
    monkeypatch.setattr(first, "signature", first.signature)
    monkeypatch.setattr(keras, "__version__", "3.99.0")
    use_fast_kernels(False)
    with pytest.warns(UserWarning, match="written for Keras 3.15, this is 3.99.0"):
        on = use_fast_kernels(True)
    assert not any(isinstance(p, patching.Patch) and p.installed for p in backend._patches())
    assert on == (["torch.set_flush_denormal"] if BACKEND == "torch" else [])  # not Keras's


@pytest.mark.backend_independent
def test_listing_changes_nothing_and_the_environment_keeps_them_off():
    code = ("import kerasdl, kerasdl.backend as b; kerasdl.list_models(); "
            "kerasdl.model_info('lenet5'); print(b.fast_kernels()); kerasdl.build('mlp'); "
            "print(b.fast_kernels())")
    for setting, built in (("1", True), ("0", False)):
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
            env={**os.environ, "KERAS_BACKEND": "torch", "KERASDL_FAST_KERNELS": setting})
        listed, after_build = result.stdout.strip().splitlines()[-2:]
        assert listed == "[]", result.stderr[-2000:]
        assert ("torch.set_flush_denormal" in after_build) == built, after_build


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's flushing of denormal floats")
def test_denormals_are_flushed_with_the_speed_ups_only(fast_kernels_restored):
    import torch

    tiny = torch.tensor([1e-39])  # a denormal float32
    use_fast_kernels(True)
    assert (tiny * 1.0).item() == 0.0
    use_fast_kernels(False)
    assert (tiny * 1.0).item() == pytest.approx(1e-39, rel=1e-3)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="synchronized statistics are "
                                                    "TensorFlow's (tf.distribute)")
def test_synchronized_batch_norm_is_left_to_keras(monkeypatch, fast_kernels_restored):
    import tensorflow as tf

    use_fast_kernels(True)
    fused = []
    kernel = tf.compat.v1.nn.fused_batch_norm
    monkeypatch.setattr(tf.compat.v1.nn, "fused_batch_norm",
                        lambda *a, **k: (fused.append(1), kernel(*a, **k))[1])
    x = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype("float32")
    for synchronized in (False, True):
        layer = keras.layers.BatchNormalization(synchronized=synchronized)
        layer(x, training=True)
    assert fused == [1]  # the unsynchronized layer only
