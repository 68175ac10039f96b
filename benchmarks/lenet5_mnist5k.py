"""Train LeNet-5 on mnist_5k with the CLI defaults on every backend, side by side.

    python benchmarks/lenet5_mnist5k.py [--seeds 0 1 2] [--backends tensorflow jax torch]

Each run is `kerasdl train lenet5 --backend B --seed S` in its own process (the backend
is fixed per process); the table reports test accuracy and wall time of training (the
`seconds` in metrics.json, Keras import excluded) and each backend's time relative to
the fastest.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--model", default="lenet5")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends:
            for seed in args.seeds:
                out = os.path.join(tmp, f"{backend}-{seed}")
                subprocess.run([sys.executable, "-m", "kerasdl", "train", args.model,
                                "--backend", backend, "--seed", str(seed), "--output", out],
                               check=True, stdout=subprocess.DEVNULL)
                with open(os.path.join(out, "metrics.json")) as f:
                    results.setdefault(backend, []).append(json.load(f))
    fastest = min(statistics.mean(m["seconds"] for m in runs) for runs in results.values())
    print(f"{args.model} on mnist_5k, CLI defaults, seeds {args.seeds}")
    print("| backend | test accuracy (per seed) | mean accuracy | train seconds | time vs fastest |")
    print("|---|---|---:|---:|---:|")
    for backend, runs in results.items():
        accs = [m["test_accuracy"] for m in runs]
        secs = statistics.mean(m["seconds"] for m in runs)
        print(f"| {backend} | {', '.join(f'{a:.3f}' for a in accs)} | "
              f"{statistics.mean(accs):.4f} | {secs:.1f} | {secs / fastest:.2f}x |")


if __name__ == "__main__":
    main()
