"""Every registered model, at its small test configuration: build, train, serialize."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl.registry import get_spec

NAMES = kerasdl.list_models()


def _batch(spec, rng, n=16):
    """Inputs whose class is their brightness: learnable by any model in a few steps."""
    shape = spec.test_kwargs["input_shape"]
    classes = spec.test_kwargs["num_classes"]
    y = np.arange(n) % classes
    brightness = (y / (classes - 1)).reshape((n,) + (1,) * len(shape))
    x = 0.5 * rng.random((n, *shape)) + 0.5 * brightness
    return x.astype("float32"), y


@pytest.mark.parametrize("name", NAMES)
def test_build_fit_config_and_save_round_trip(name, rng, tmp_path):
    spec = get_spec(name)
    keras.utils.set_random_seed(0)
    model = kerasdl.build(name, **spec.test_kwargs)
    x, y = _batch(spec, rng)
    num_classes = spec.test_kwargs["num_classes"]

    probs = model.predict(x, verbose=0)
    assert probs.shape == (len(x), num_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)

    # A few steps on one fixed batch lower the (training-mode) loss.
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    losses = model.fit(x, y, batch_size=len(x), epochs=30, shuffle=False, verbose=0).history["loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.9 * losses[0], losses

    clone = keras.Model.from_config(model.get_config())
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.count_params() == model.count_params()

    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


@pytest.mark.parametrize("name", kerasdl.list_models(family="convolutional"))
def test_features_without_top(name, rng):
    spec = get_spec(name)
    kwargs = {**spec.test_kwargs, "include_top": False, "pooling": "avg"}
    model = kerasdl.build(name, **kwargs)
    features = model.predict(_batch(spec, rng, n=2)[0], verbose=0)
    assert features.ndim == 2 and features.shape[0] == 2
