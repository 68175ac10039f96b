"""What the benchmarks share: one process per backend, a JSON line back, one table."""

import argparse
import json
import os
import subprocess
import sys


def seeded_parser():
    """The flags of a benchmark run per backend over seeds: ``--worker`` (the per-backend
    process, see `run_per_backend`), ``--backends`` and ``--seeds``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", nargs="+")
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
    return parser


def run_per_backend(script, task, backends, *args):
    """Run ``script --worker TASK ARGS`` once per backend (KERAS_BACKEND is fixed per
    process); each prints a JSON list of rows as its last line (and each row to stderr
    as it is measured, which passes through). Returns {backend: rows}."""
    rows = {}
    for backend in backends:
        out = subprocess.run(
            [sys.executable, script, "--worker", task, *map(str, args)],
            check=True, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"})
        rows[backend] = json.loads(out.stdout.strip().splitlines()[-1])
    return rows


def print_table(title, rows, columns):
    """A markdown table: one line per model, one cell per backend with `columns` of it."""
    backends = list(rows)
    print(f"\n{title}")
    print("| model | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    for i, first in enumerate(rows[backends[0]]):
        cells = [", ".join(f"{c} {_fmt(rows[b][i][c])}" for c in columns if c in rows[b][i])
                 for b in backends]
        print(f"| `{first['model']}` | " + " | ".join(cells) + " |")


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)
