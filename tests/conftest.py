"""The suite runs once per backend: KERAS_BACKEND is fixed when Keras is first imported.

A test marked ``backend_independent`` (argument checks, datasets, pure NumPy figures, the
README, the layers contract; a check that spans the backends itself) runs in one suite
only, the one of `tests.helpers.ONCE_ON`; the other suites deselect it.
"""

import keras
import numpy as np
import pytest

from kerasdl import testing
from tests.helpers import ONCE_ON


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


def pytest_collection_modifyitems(config, items):
    if keras.backend.backend() == ONCE_ON:
        return
    once = [item for item in items if item.get_closest_marker("backend_independent")]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if item not in once]


@pytest.fixture
def example(rng):
    """``example(spec, n=16)``: a small learnable batch ``(x, y, task)`` for a registered
    model (`kerasdl.testing.example`)."""
    return lambda spec, n=16: testing.example(spec, rng, n)
