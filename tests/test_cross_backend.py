"""A .keras file saved under this suite's backend loads under the other two, same outputs."""

import json
import os
import subprocess
import sys

import keras
import numpy as np

import kerasdl
from kerasdl.registry import get_spec

LOAD_AND_COMPARE = """
import json, sys
import numpy as np, keras
import kerasdl.layers  # registers the custom layers
result = {}
for name in json.loads(sys.argv[2]):
    model = keras.saving.load_model(f"{sys.argv[1]}/{name}.keras")
    data = np.load(f"{sys.argv[1]}/{name}.npz")
    result[name] = float(np.abs(model.predict(data["x"], verbose=0) - data["y"]).max())
print(json.dumps(result))
"""


def test_saved_models_load_on_every_other_backend(tmp_path, rng):
    names = kerasdl.list_models()
    for name in names:
        spec = get_spec(name)
        keras.utils.set_random_seed(0)
        model = kerasdl.build(name, **spec.test_kwargs)
        x = rng.random((4, *model.input_shape[1:])).astype("float32")
        model.save(tmp_path / f"{name}.keras")
        np.savez(tmp_path / f"{name}.npz", x=x, y=model.predict(x, verbose=0))
    here = keras.backend.backend()
    for backend in {"tensorflow", "jax", "torch"} - {here}:
        result = subprocess.run(
            [sys.executable, "-c", LOAD_AND_COMPARE, str(tmp_path), json.dumps(names)],
            capture_output=True, text=True, timeout=900,
            env={**os.environ, "KERAS_BACKEND": backend})
        assert result.returncode == 0, result.stderr[-3000:]
        errors = json.loads(result.stdout.strip().splitlines()[-1])
        assert sorted(errors) == names
        worst = {n: e for n, e in errors.items() if e > 1e-5}
        assert not worst, f"saved on {here}, loaded on {backend}: {worst}"
