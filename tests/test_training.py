import keras
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.training import AugmentedImages, random_affine, train_model


def test_random_affine_identity_and_shift(rng):
    x, _ = datasets.load("mnist_5k", "test")
    still = random_affine(x[:4], rng, max_shift=0, max_rotation=0, max_zoom=0)
    np.testing.assert_allclose(still, x[:4], atol=1e-6)
    moved = random_affine(x[:4], rng, max_shift=3, max_rotation=0, max_zoom=0)
    assert moved.shape == x[:4].shape and moved.dtype == np.float32
    assert not np.allclose(moved, x[:4])
    # Shifting moves ink around but hardly creates or destroys it.
    np.testing.assert_allclose(moved.sum(axis=(1, 2, 3)), x[:4].sum(axis=(1, 2, 3)), rtol=0.15)


def test_augmented_batches_cover_the_data_once_per_epoch(rng):
    x = rng.random((10, 8, 8, 1)).astype("float32")
    y = np.arange(10)
    data = AugmentedImages(x, y, batch_size=4)
    assert len(data) == 3
    labels = np.concatenate([data[i][1] for i in range(len(data))])
    assert sorted(labels) == list(range(10))


def test_textbook_2_16_2_mlp_learns_make_moons():
    keras.utils.set_random_seed(0)
    model = kerasdl.build("mlp", input_shape=(2,), hidden_units=(16,))
    _, metrics = train_model(model, datasets.load("moons", "train"),
                                  datasets.load("moons", "test"), epochs=40, batch_size=32,
                                  lr=1e-2, verbose=0)
    assert metrics["test_accuracy"] > 0.93, metrics


def test_lenet5_learns_real_digits_with_augmentation():
    keras.utils.set_random_seed(0)
    x, y = datasets.load("mnist_5k", "train")
    test = datasets.load("mnist_5k", "test")
    model = kerasdl.build("lenet5", input_shape=(28, 28, 1))
    history, metrics = train_model(model, (x[:2000], y[:2000]), test, epochs=3,
                                        batch_size=64, lr=2e-3, augment=True, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert metrics["test_accuracy"] > 0.85, metrics
