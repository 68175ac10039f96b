"""Every registered model x backend x export format, exported and checked.

    python benchmarks/export_matrix.py [--backends tensorflow jax torch] [--formats onnx savedmodel]

Each backend runs in its own process: every model at its small test configuration is
exported by `kerasdl.export.export` and its file run (onnxruntime / `tf.saved_model.load`)
at batch sizes 5 and 2 against the Keras predictions. Prints the README's table: the
largest difference, or why the export failed.
"""

import argparse
import json
import sys
import tempfile

FORMATS = ("onnx", "savedmodel")


def worker(formats):
    import keras
    import numpy as np

    import kerasdl
    from kerasdl import export
    from kerasdl.registry import get_spec

    rows = []
    rng = np.random.default_rng(0)
    backend = keras.backend.backend()
    for name in kerasdl.list_models():
        row = {"model": name}
        for fmt in formats:
            if backend not in export.PRODUCERS[fmt]:
                row[fmt] = "n/a"
                continue
            try:
                model = kerasdl.build(name, **get_spec(name).test_kwargs)
                with tempfile.TemporaryDirectory() as tmp:
                    differences = [export.check(net, path, export.sample_inputs(net, n, rng))
                                   for path, net in export.export(model, f"{tmp}/{name}", fmt).items()
                                   for n in (5, 2)]
                row[fmt] = f"{max(differences):.0e}"
            except Exception as err:  # the table records why
                first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                row[fmt] = f"fails: {type(err).__name__}: {first[:80]}"
            print(name, fmt, row[fmt], file=sys.stderr, flush=True)
        rows.append(row)
    print(json.dumps(rows))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs="+")
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--formats", nargs="+", default=list(FORMATS))
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    from common import run_per_backend

    rows = {b: run_per_backend(__file__, args.formats[0], [b], *args.formats[1:])[b]
            for b in args.backends}
    header = [f"{b} {f}" for b in args.backends for f in args.formats]
    print("| model | " + " | ".join(header) + " |")
    print("|---|" + "---|" * len(header))
    for i, row in enumerate(rows[args.backends[0]]):
        cells = [rows[b][i][f] for b in args.backends for f in args.formats]
        print(f"| `{row['model']}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
