import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import datasets
from kerasdl.losses import SparseCategoricalCrossentropy
from kerasdl.training import (Batches, compile_model, learning_rate, make_optimizer,
                              random_affine, split_validation, train_model)


@pytest.mark.backend_independent
def test_random_affine_identity_and_shift(rng):
    x, _ = datasets.load("mnist_5k", "test")
    still = random_affine(x[:4], rng, max_shift=0, max_rotation=0, max_zoom=0)
    np.testing.assert_allclose(still, x[:4], atol=1e-6)
    moved = random_affine(x[:4], rng, max_shift=3, max_rotation=0, max_zoom=0)
    assert moved.shape == x[:4].shape and moved.dtype == np.float32
    assert not np.allclose(moved, x[:4])
    # Shifting moves ink around but hardly creates or destroys it.
    np.testing.assert_allclose(moved.sum(axis=(1, 2, 3)), x[:4].sum(axis=(1, 2, 3)), rtol=0.15)


@pytest.mark.backend_independent
def test_batches_cover_the_data_once_per_epoch_in_a_seeded_order(rng):
    x = rng.random((10, 8, 8, 1)).astype("float32")
    y = np.arange(10)
    data = Batches(x, y, batch_size=4, augment={})
    assert len(data) == 3
    labels = np.concatenate([data[i][1] for i in range(len(data))])
    assert sorted(labels) == list(range(10))
    first = [data[i][1] for i in range(len(data))]
    np.testing.assert_array_equal(np.concatenate(first),
                                  np.concatenate([Batches(x, y, 4)[i][1] for i in range(3)]))
    data.on_epoch_end()  # a new order each epoch, drawn from the seed alone
    assert not all(np.array_equal(a, data[i][1]) for i, a in enumerate(first))


@pytest.mark.backend_independent
def test_batches_feed_each_process_its_share_of_whole_replica_batches(rng, monkeypatch):
    """4 model replicas: batches of 6 rows keep 4 (one per replica), and a last batch of 2
    rows, which cannot feed 4 replicas, is left out. With 2 processes each feeds its half
    of every batch, and both halves together are the batches of one process, augmentation
    included (each process draws the whole batch's)."""
    from kerasdl import distribution

    x = rng.random((14, 8, 8, 1)).astype("float32")
    monkeypatch.setattr(distribution, "replicas", lambda: 4)

    def batches(processes, index, **options):
        monkeypatch.setattr(distribution, "processes", lambda: processes)
        monkeypatch.setattr(distribution, "process_index", lambda: index)
        data = Batches(x, np.arange(14), batch_size=6, **options)
        return [data[i] for i in range(len(data))]

    whole = batches(1, 0, augment={})
    assert [len(labels) for _, labels in whole] == [4, 4]
    halves = [batches(2, p, augment={}) for p in range(2)]
    for i, (images, labels) in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([h[i][1] for h in halves]), labels)
        np.testing.assert_array_equal(np.concatenate([h[i][0] for h in halves]), images)
    assert [list(labels) for _, labels in batches(2, 1, shuffle=False)] == [[2, 3], [8, 9]]


def test_textbook_2_16_2_mlp_learns_make_moons():
    """Also with 4 steps per compiled call (not on PyTorch, which refuses it by name): 29
    batches an epoch, so the last call of each epoch runs a single step."""
    per_call = 1 if keras.backend.backend() == "torch" else 4
    if per_call == 1:
        with pytest.raises(ValueError, match=r"steps_per_execution=4 runs several steps .* "
                                             r"PyTorch backend does not do; use 1 there"):
            compile_model(kerasdl.build("mlp"), steps_per_execution=4)
    keras.utils.set_random_seed(0)
    model = kerasdl.build("mlp", input_shape=(2,), hidden_units=(16,))
    _, metrics = train_model(model, datasets.load("moons", "train"),
                                  datasets.load("moons", "test"), epochs=40, batch_size=32,
                                  lr=1e-2, steps_per_execution=per_call, verbose=0)
    assert model.steps_per_execution == per_call
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


def _value(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_schedules_follow_their_curves():
    assert learning_rate(0.5, "constant") == 0.5
    step = learning_rate(1.0, "step", 100)
    assert [_value(step, s) for s in (49, 51, 76)] == pytest.approx([1.0, 0.1, 0.01])
    assert _value(learning_rate(1.0, "exponential", 100), 100) == pytest.approx(0.1)
    cosine = learning_rate(1.0, "cosine", 100)
    assert [_value(cosine, s) for s in (0, 50, 100)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-6)
    warm = learning_rate(1.0, "warmup_cosine", 110, warmup_steps=10)
    assert [_value(warm, s) for s in (0, 5, 10, 60, 110)] == pytest.approx(
        [0.0, 0.5, 1.0, 0.5, 0.0], abs=1e-6)


def _dense():
    layer = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    layer.build((None, 2))
    return layer


def test_weight_decay_shrinks_kernels_only_and_clipnorm_caps_the_step():
    layer = _dense()
    opt = make_optimizer("adam", 0.1, weight_decay=0.5)
    opt.apply_gradients([(keras.ops.zeros(v.shape), v) for v in layer.trainable_variables])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.kernel), 0.95, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.bias), 1.0)
    # Nesterov SGD's first step is 1.9 lr g; g of norm 100 clipped to norm 1.
    layer = _dense()
    opt = make_optimizer("sgd", 0.1, clipnorm=1.0)
    grad = np.zeros((2, 2), "float32")
    grad[0, 0] = 100.0
    opt.apply_gradients([(keras.ops.convert_to_tensor(grad), layer.kernel)])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.kernel)[0, 0], 1 - 0.19,
                               rtol=1e-5)
    assert type(make_optimizer("rmsprop", 0.1)).__name__ == "RMSprop"
    assert make_optimizer("adamw", 0.1, weight_decay=0.01).weight_decay == 0.01


def test_label_smoothing_of_integer_labels_by_hand():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    labels = np.array([0, 2])
    smoothed = np.full((2, 3), 0.1 / 3) + 0.9 * np.eye(3)[labels]
    expected = -(smoothed * np.log(probs)).sum(1).mean()
    loss = SparseCategoricalCrossentropy(label_smoothing=0.1)(labels, probs)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), expected, rtol=1e-5)


def test_early_stopping_stops_on_a_plateau_and_restores_the_best_weights():
    keras.utils.set_random_seed(0)
    x, y = datasets.load("moons", "train")
    y = np.random.default_rng(0).permutation(y)  # labels carry nothing: val loss plateaus
    model = kerasdl.build("mlp", input_shape=(2,), hidden_units=(32,))
    history, metrics = train_model(model, (x, y), epochs=60, batch_size=32, lr=3e-2,
                                   patience=2, schedule="constant", verbose=0)
    assert metrics["epochs_run"] < 60
    best = min(history.history["val_loss"])
    assert metrics["val_loss"] == pytest.approx(best)
    _, val = split_validation(x, y, 0.1, seed=0)
    np.testing.assert_allclose(model.evaluate(*val, verbose=0, return_dict=True)["loss"], best,
                               rtol=1e-4)


@pytest.mark.backend_independent
def test_validation_split_is_stratified_seeded_and_apart_from_the_test_set():
    x, y = datasets.load("mnist_5k", "train")
    x_test, _ = datasets.load("mnist_5k", "test")
    (x_fit, _), (x_val, y_val) = split_validation(x, y, 0.1, seed=0)
    assert len(x_fit) == 3600 and np.bincount(y_val).tolist() == [40] * 10
    rows = {r.tobytes() for r in x_val.reshape(len(x_val), -1)}
    assert not rows & {r.tobytes() for r in x_test.reshape(len(x_test), -1)}
    assert not rows & {r.tobytes() for r in x_fit.reshape(len(x_fit), -1)}
    np.testing.assert_array_equal(split_validation(x, y, 0.1, seed=0)[1][0], x_val)
    (pairs, _), (val_pairs, _) = split_validation([x[:50], y[:50]], y[:50], 0.2)
    assert [len(a) for a in pairs + val_pairs] == [40, 40, 10, 10]


def test_augmented_reconstruction_targets_are_the_augmented_inputs(rng):
    x = rng.random((6, 8, 8, 1)).astype("float32")
    inputs, targets = Batches(x, None, 4, augment={}, reconstruct=True)[0]
    np.testing.assert_array_equal(inputs, targets)
    assert len(Batches(x, None, 4, augment={})[0]) == 1


@pytest.mark.parametrize("options,error,match", [
    (dict(epoch=3), TypeError, r"Unknown training option\(s\) \['epoch'\].*'epochs'"),
    (dict(optimizer="adamm"), ValueError, r"optimizer.*received optimizer='adamm'.*'adam'"),
    (dict(schedule="cosin"), ValueError, r"received schedule='cosin'.*'cosine'"),
    (dict(patience=-1), ValueError, r"`patience` must be an integer >= 0; received patience=-1"),
    (dict(clipnorm=-1.0), ValueError, r"`clipnorm` must be > 0; received clipnorm=-1.0"),
    (dict(label_smoothing=1.0), ValueError, r"label_smoothing` must be in \[0.0, 1.0\); "
                                            r"received label_smoothing=1.0"),
    (dict(lr=0.0), ValueError, r"`lr` must be > 0; received lr=0.0"),
    (dict(steps_per_execution=0), ValueError, r"`steps_per_execution` must be an integer >= 1; "
                                              r"received steps_per_execution=0"),
    (dict(patience=2, monitor="val_f1"), ValueError,
     r"`monitor` must be .* \['val_loss', 'val_accuracy'\]; received monitor='val_f1'"),
])
def test_bad_training_options_are_named(options, error, match):
    with pytest.raises(error, match=match):
        train_model(kerasdl.build("mlp", input_shape=(2,)), (np.zeros((20, 2)), np.arange(20) % 2),
                    epochs=1, verbose=0, **options)


def test_the_same_seed_gives_bit_identical_weights():
    """Within one backend, `keras.utils.set_random_seed` (initial weights, dropout) and
    `train_model`'s seed (batch order, augmentation) make a run repeat exactly."""
    x, y = datasets.load("mnist_5k", "train")

    def run():
        keras.utils.set_random_seed(0)
        model = kerasdl.build("lenet5", input_shape=(28, 28, 1), dropout=0.5)
        start = [keras.ops.convert_to_numpy(w) for w in model.weights]
        train_model(model, (x[:256], y[:256]), epochs=2, batch_size=64, augment=True,
                    validation_split=0.0, verbose=0)
        return start, [keras.ops.convert_to_numpy(w) for w in model.weights]

    (start, first), (_, second) = run(), run()
    assert all(not np.array_equal(a, b) for a, b in zip(start, first))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.backend_independent
def test_a_model_built_at_its_first_batch_trains_as_a_classifier_without_a_task(rng):
    # No task and no outputs yet to infer one from (segmentation, detection): classification
    model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
    x, y = rng.random((64, 4)).astype("float32"), rng.integers(0, 3, 64)
    _, metrics = train_model(model, (x, y), epochs=1, augment=False, verbose=0)
    assert "train_accuracy" in metrics and np.isfinite(metrics["train_loss"])
