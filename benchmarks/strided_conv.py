"""Where JAX loses time in a DCGAN step on a CPU: a stride-2 convolution (the
discriminator's) and a stride-2 transposed convolution (the generator's), forward alone
and the gradient of its input (the backward pass that reaches the layer below), per backend.

    python benchmarks/strided_conv.py [--backends tensorflow jax torch]

Each backend runs in its own process; milliseconds per call, median of 20 after warm-up,
compiled as `fit` compiles a step (`jax.jit` with kerasdl's compiler options,
`tf.function`; PyTorch eager).
Shapes: DCGAN's on 28x28 digits at batch 64 (`filters=64`).
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kerasdl.benchmark import BACKENDS, run_worker, worker  # noqa: E402

LAYERS = {  # name: (layer, input shape)
    "conv 14->7 (discriminator)": ("Conv2D", (64, 14, 14, 64), 128),
    "transposed 7->14 (generator)": ("Conv2DTranspose", (64, 7, 7, 128), 64),
}


def measure(repeats=20):
    import keras
    import numpy as np

    import kerasdl
    from kerasdl.backend.gradients import input_gradients

    kerasdl.backend.use_fast_kernels()
    rows = {}
    for name, (kind, shape, filters) in LAYERS.items():
        layer = getattr(keras.layers, kind)(filters, 4, strides=2, padding="same")
        rng = np.random.default_rng(0)
        x = keras.ops.convert_to_tensor(rng.random(shape, "float32"))
        g = keras.ops.convert_to_tensor(rng.random(layer.compute_output_shape(shape), "float32"))
        layer(x)  # build its weights outside the compiled functions
        timings = {}
        # the gradient of sum(layer(x) * g): the backward pass with an incoming gradient g
        # that the compiler cannot fold away (a linear layer's input gradient ignores x)
        for what, fn in [("forward", lambda x, g, layer=layer: layer(x)),
                         ("input gradient", lambda x, g, layer=layer: input_gradients(
                             lambda t: layer(t) * g, x))]:
            run = _compiled(fn, x, g)
            for _ in range(3):
                keras.ops.convert_to_numpy(run())
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                keras.ops.convert_to_numpy(run())
                times.append(1000 * (time.perf_counter() - start))
            timings[what] = statistics.median(times)
        rows[name] = timings
    return {"backend": keras.backend.backend(), "rows": rows}


def _compiled(fn, *args):
    """``fn(*args)`` as a step of `fit` runs it: jitted on JAX (with the compiler options
    kerasdl gives Keras's trainer), a tf.function on TensorFlow, eager on PyTorch."""
    import keras

    if keras.backend.backend() == "jax":
        from keras.src.backend.jax import trainer

        fn = trainer.jit(fn)
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(fn)
    return lambda: fn(*args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    args = parser.parse_args()
    results = {b: run_worker([sys.executable, __file__], b, {}) for b in args.backends}
    print("| layer | " + " | ".join(f"{b} forward | {b} input gradient" for b in results) + " |")
    print("|---|" + "---:|---:|" * len(results))
    for name in LAYERS:
        cells = [f"{r['rows'][name]['forward']:.1f} | {r['rows'][name]['input gradient']:.1f}"
                 for r in results.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(json.dumps(results), file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(lambda: measure())
    else:
        main()
