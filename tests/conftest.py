"""The suite runs once per backend: KERAS_BACKEND is fixed when Keras is first imported."""

import numpy as np
import pytest

from kerasdl import testing


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_report_header(config):
    import keras

    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture
def example(rng):
    """``example(spec, n=16)``: a small learnable batch ``(x, y, task)`` for a registered
    model (`kerasdl.testing.example`)."""
    return lambda spec, n=16: testing.example(spec, rng, n)
