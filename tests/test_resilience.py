"""A run that dies resumes from its last completed epoch (a GAN with both optimizers'
state); a run that diverges stops, says why, and keeps its last good weights."""

import csv

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import datasets
from kerasdl.training import TrainingDiverged, train_model


class Killed(Exception):
    """Stands for SIGKILL: the run ends at once, no callback's on_train_end runs."""


class KillAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Killed


class Snapshot(keras.callbacks.Callback):
    """Every variable of the model and of each of its optimizers, at the end of
    `epoch` (0-based) or, with epoch=None, once training (re)starts."""

    def __init__(self, epoch=None):
        super().__init__()
        self.epoch, self.values = epoch, None

    def _take(self):
        optimizers = [self.model.d_optimizer, self.model.g_optimizer] if hasattr(
            self.model, "d_optimizer") else [self.model.optimizer]
        variables = self.model.weights + [v for o in optimizers for v in o.variables]
        self.values = [keras.ops.convert_to_numpy(v) for v in variables]

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            self._take()

    def on_train_batch_begin(self, batch, logs=None):
        if self.epoch is None and self.values is None:
            self._take()


@pytest.mark.parametrize("name,data,options", [
    ("mlp", "moons", dict(batch_size=64)),
    # a GAN: two optimizers, which Keras's own restore would not both build
    ("gan_mlp", "ring", dict(batch_size=64, task="adversarial", validation_split=0.0)),
])
def test_a_killed_run_resumes_from_its_last_completed_epoch(name, data, options, tmp_path):
    if data == "ring":
        x = datasets.gaussian_ring(512)[0]
        train, kwargs = (x, None), dict(input_shape=(2,), latent_dim=2, output_activation=None,
                                        generator_units=(16,), discriminator_units=(16,))
    else:
        train, kwargs = datasets.load(data, "train"), dict(input_shape=(2,), hidden_units=(8,))
    options = dict(options, epochs=4, lr=1e-2, output_dir=str(tmp_path), verbose=0)
    keras.utils.set_random_seed(0)
    first = kerasdl.build(name, **kwargs)
    saved = Snapshot(epoch=1)
    with pytest.raises(Killed):
        train_model(first, train, callbacks=[saved, KillAt(2)], **options)

    keras.utils.set_random_seed(1)  # another start: only the backup can bring it back
    restarted = kerasdl.build(name, **kwargs)
    restored = Snapshot()
    history, metrics = train_model(restarted, train, callbacks=[restored], **options)
    assert history.epoch == [2, 3] and metrics["epochs_run"] == 4
    assert len(restored.values) == len(saved.values)
    for a, b in zip(restored.values, saved.values, strict=True):
        np.testing.assert_array_equal(a, b)
    with open(tmp_path / "log.csv") as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [0, 1, 2, 3]
    assert not list((tmp_path / "backup").glob("*"))  # a finished run leaves no backup


def test_a_diverging_run_stops_and_keeps_its_last_good_epoch(tmp_path):
    class Explode(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.model.optimizer.learning_rate.assign(1e12)

    keras.utils.set_random_seed(0)
    model = kerasdl.build("mlp", input_shape=(2,), hidden_units=(8,), num_classes=1,
                          classifier_activation=None)
    x, y = datasets.load("moons", "train")
    good = Snapshot(epoch=0)
    with pytest.raises(TrainingDiverged, match=r"diverged in epoch 2 \(loss=(nan|inf)"
                       r"\).*weights of epoch 1, the last good one, also kept in .*backup.*"
                       r"Lower the learning rate \(lr=0.01\)"):
        train_model(model, (x, y.astype("float32")), epochs=3, lr=1e-2, optimizer="sgd",
                    schedule="constant", task="regression", output_dir=str(tmp_path),
                    callbacks=[good, Explode()], verbose=0)
    for a, b in zip(model.weights, good.values[:len(model.weights)]):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), b)
    assert list((tmp_path / "backup").glob("*.weights.h5"))
