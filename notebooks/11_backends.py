# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The same model on three backends
#
# kerasdl's builders are plain Keras 3, so one model trains unchanged on TensorFlow, JAX and PyTorch. This notebook trains LeNet-5 on each backend (each in its own process: Keras fixes its backend when first imported), compares their results, loads every backend's saved file in this one, and compares speed, measured live and in kerasdl's benchmark against plain PyTorch. It runs the other backends itself, so the notebook's own backend does not matter.

# %%
import json
import os
import statistics
import subprocess
import sys
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import benchmark, datasets
from kerasdl.evaluation import evaluate

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
BACKENDS = benchmark.BACKENDS
work = tempfile.mkdtemp()

# %% [markdown]
# ## The same training on each backend
#
# `kerasdl train lenet5` on `mnist_5k` with the same recipe and seed on each backend (the full recipe is 40 epochs). The weights start from the same seed but not from the same numbers (each backend draws its own random numbers), and the arithmetic differs in its last bits, so the runs differ a little; their accuracies should not.

# %%
EPOCHS = 2 if QUICK else 40
runs = {}
for backend in BACKENDS:
    done = subprocess.run([sys.executable, '-m', 'kerasdl', 'train', 'lenet5', '--backend', backend, '--epochs', str(EPOCHS), '--seed', '0', '--output', os.path.join(work, backend)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(os.path.join(work, backend, 'metrics.json')) as f:
        runs[backend] = json.load(f)
    print(f"{backend:<11} test accuracy {runs[backend]['test_accuracy']:.4f}  macro F1 {runs[backend]['test_f1_macro']:.4f}  {runs[backend]['seconds']:.0f} s")
accuracies = [run['test_accuracy'] for run in runs.values()]
assert min(accuracies) > (0.8 if QUICK else 0.97) and max(accuracies) - min(accuracies) < (0.1 if QUICK else 0.01)

# %% [markdown]
# The validation accuracy per epoch, from each run's `log.csv`:

# %%
plt.figure(figsize=(8, 4))
for backend in BACKENDS:
    log = np.genfromtxt(os.path.join(work, backend, 'log.csv'), delimiter=',', names=True)
    plt.plot(np.atleast_1d(log['epoch']) + 1, np.atleast_1d(log['val_accuracy']), 'o-', label=backend)
plt.xlabel('epoch'); plt.ylabel('validation accuracy'); plt.legend();

# %% [markdown]
# ## Saved on one backend, loaded on another
#
# A `.keras` file holds the architecture and the weights, nothing of the backend: each run's `model.keras` loads here and scores exactly what it scored where it was trained.

# %%
test = datasets.load('mnist_5k', 'test')
for backend in BACKENDS:
    model = kerasdl.load_model(os.path.join(work, backend, 'model.keras'))
    here = evaluate(model, test)['accuracy']
    print(f"trained on {backend:<11} test accuracy there {runs[backend]['test_accuracy']:.4f}, here on {keras.backend.backend()}: {here:.4f}")
    assert abs(here - runs[backend]['test_accuracy']) < 1e-3

# %% [markdown]
# ## Speed
#
# `kerasdl.benchmark.compare` (also `kerasdl bench lenet5`) times training steps of the model on each backend, each in a fresh process, after a warm-up epoch that pays for tracing and compilation:

# %%
rows = benchmark.compare('lenet5', steps=5 if QUICK else 20, epochs=2 if QUICK else 3)
medians, verdict = benchmark.summary(rows)
for backend, runs_ in rows.items():
    print(f"{backend:<11} {medians[backend]:6.1f} ms per step, warm-up {runs_[0]['warmup_s']:.1f} s, peak memory {runs_[0]['peak_rss_mb']:.0f} MB")
print(verdict)

# %% [markdown]
# kerasdl's benchmark (`benchmarks/backends.py`, run with nothing else on the machine: 2 CPU cores) puts every workload beside the same network written in plain PyTorch; a ratio below 1 is faster than plain PyTorch. The committed results:

# %%
results = json.load(open(os.path.join(os.path.dirname(kerasdl.__file__), '..', 'benchmarks', 'results', 'backends.json')))
workloads = list(results)
fig, ax = plt.subplots(figsize=(10, 4))
for i, backend in enumerate(BACKENDS):
    ratios = [statistics.median(r['ms_per_step'] for r in results[w][f'kerasdl[{backend}]']) / statistics.median(r['ms_per_step'] for r in results[w]['pytorch']) for w in workloads]
    ax.bar(np.arange(len(workloads)) + 0.27 * (i - 1), ratios, width=0.27, label=f'kerasdl on {backend}')
ax.axhline(1, color='grey', ls='--', label='plain PyTorch')
ax.set_xticks(range(len(workloads)), workloads); ax.set_ylabel('time per step / plain PyTorch'); ax.legend()
plt.show()
