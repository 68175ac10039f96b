"""Hyperband over LeNet-5 on mnist_5k versus LeNet-5's default hyperparameters, per backend.

    python tuning/lenet5_hyperband.py [--backends tensorflow jax torch] [--max-epochs 9]
                                     [--lr-range 1e-3 1e-2]

Both sides see the same data: mnist_5k's training set split 80/20 into training and
validation (the test set is not used), no augmentation, early stopping on validation
accuracy, at most `--max-epochs` epochs. The search varies learning rate (log scale, in
`--lr-range`), dropout and width around LeNet-5's defaults (lr 3e-3, no dropout, width 1).
Each backend runs in its own process.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run_backend(max_epochs, max_trials, lr_range):
    import keras

    from kerasdl import build, datasets
    from kerasdl.registry import get_spec
    from kerasdl.training import compile_model
    from kerasdl.tuning.search import search

    spec = get_spec("lenet5")
    x, y = datasets.load("mnist_5k", "train")
    split = int(0.8 * len(x))
    keras.utils.set_random_seed(0)
    default = compile_model(build("lenet5", input_shape=x.shape[1:]), lr=spec.train.lr)
    history = default.fit(x[:split], y[:split], validation_data=(x[split:], y[split:]),
                          epochs=max_epochs, batch_size=spec.train.batch_size, verbose=0,
                          callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=2)])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        search("lenet5", tuner="hyperband", max_trials=max_trials, epochs=max_epochs,
               directory=tmp, ranges={"lr": tuple(lr_range)}, verbose=0)
        best = json.load(open(os.path.join(tmp, "best.json")))
    return {"backend": keras.backend.backend(),
            "default_val_accuracy": max(history.history["val_accuracy"]),
            "best_val_accuracy": best["score"], "trials": best["completed_trials"],
            "best_hyperparameters": best["hyperparameters"],
            "search_seconds": round(time.perf_counter() - start, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--max-epochs", type=int, default=9)
    parser.add_argument("--max-trials", type=int, default=30)
    parser.add_argument("--lr-range", type=float, nargs=2, default=[1e-3, 1e-2])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_backend(args.max_epochs, args.max_trials, args.lr_range)))
        return
    print("| backend | default val accuracy | Hyperband best val accuracy | trials | search s | best hyperparameters |")
    print("|---|---:|---:|---:|---:|---|")
    for backend in args.backends:
        out = subprocess.run([sys.executable, __file__, "--one", "--max-epochs",
                              str(args.max_epochs), "--max-trials", str(args.max_trials),
                              "--lr-range", *map(str, args.lr_range)],
                             env={**os.environ, "KERAS_BACKEND": backend}, check=True,
                             capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        hps = ", ".join(f"{k} {v:.3g}" for k, v in r["best_hyperparameters"].items()
                        if not k.startswith("tuner/"))
        print(f"| {r['backend']} | {r['default_val_accuracy']:.4f} | {r['best_val_accuracy']:.4f} "
              f"| {r['trials']} | {r['search_seconds']} | {hps} |", flush=True)


if __name__ == "__main__":
    main()
