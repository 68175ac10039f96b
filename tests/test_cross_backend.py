"""A .keras file saved under this suite's backend loads under the next one, same outputs.

The three suites form a ring (TensorFlow -> JAX -> PyTorch -> TensorFlow), so every
backend saves once and loads once, in one subprocess per suite rather than two.
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

LOAD_AND_COMPARE = """
import json, sys
import numpy as np, keras
import kerasdl
result = {}
for name in json.loads(sys.argv[2]):
    model = kerasdl.load_model(f"{sys.argv[1]}/{name}.keras")
    data = np.load(f"{sys.argv[1]}/{name}.npz")
    x = [data[k] for k in sorted(data.files) if k.startswith("arr_")]
    y = model.predict(x if len(x) > 1 else x[0], verbose=0)
    result[name] = float(np.abs(y - data["y"]).max())
print(json.dumps(result))
"""


@pytest.mark.slow
def test_saved_models_load_on_every_other_backend(tmp_path, example):
    names = kerasdl.list_models()
    for name in names:
        spec = get_spec(name)
        keras.utils.set_random_seed(0)
        model = kerasdl.build(name, **spec.test_kwargs)
        x = example(spec, n=4)[0]
        model.save(tmp_path / f"{name}.keras")
        inputs = x if isinstance(x, list) else [x]
        np.savez(tmp_path / f"{name}.npz", *inputs, y=model.predict(x, verbose=0))
    here = keras.backend.backend()
    ring = ["tensorflow", "jax", "torch"]
    there = ring[(ring.index(here) + 1) % 3]
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_COMPARE, str(tmp_path), json.dumps(names)],
        capture_output=True, text=True, timeout=900, env={**os.environ, "KERAS_BACKEND": there})
    assert result.returncode == 0, result.stderr[-3000:]
    errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(errors) == names
    worst = {n: e for n, e in errors.items() if e > 1e-5}
    assert not worst, f"saved on {here}, loaded on {there}: {worst}"
