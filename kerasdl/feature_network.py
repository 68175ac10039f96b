"""Regenerate the weights of the feature network that FID and the Inception Score use
(`kerasdl.evaluation.feature_network`): ``python -m kerasdl.feature_network``."""

import os

import keras

from kerasdl import datasets
from kerasdl.building import build
from kerasdl.evaluation import FEATURE_SHAPE, FEATURE_WEIGHTS
from kerasdl.registry import get_spec
from kerasdl.training import train_model


def train_feature_network(path=FEATURE_WEIGHTS, *, seed=2, epochs=40):
    """Train the feature network with `kerasdl train lenet5`'s recipe on all 4,000
    `mnist_5k` training digits and save its weights to `path`; returns the test accuracy.

    The shipped weights are seed 2 on JAX (98.5% test accuracy; seeds 0 and 1 gave 98.0%
    and 98.1%). Other backends draw other random numbers from the same seed."""
    keras.utils.set_random_seed(seed)
    model = build("lenet5", input_shape=FEATURE_SHAPE, num_classes=10)
    train, test = datasets.load("mnist_5k", "train"), datasets.load("mnist_5k", "test")
    _, metrics = train_model(model, train, test, recipe=get_spec("lenet5").train, seed=seed,
                             epochs=epochs, validation_split=0.0, verbose=2)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.save_weights(path)
    return metrics["test_accuracy"]


if __name__ == "__main__":
    accuracy = train_feature_network()
    print(f"wrote {FEATURE_WEIGHTS}; test accuracy on mnist_5k {accuracy:.4f}")
