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
# # Hyperparameter search with KerasTuner
#
# `kerasdl.tuning.search` lets KerasTuner choose the learning rate, dropout, width and depth of any registered model (each family declares its space in `kerasdl.tuning.spaces`) and trains every trial with `model.fit` on the backend `KERAS_BACKEND` names. Here an MLP on scikit-learn's 8×8 digits, searched by random search and by Bayesian optimization; the test set stays untouched until the best model is chosen.

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.evaluation import evaluate
from kerasdl.tuning import search

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer trials and epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
TRIALS, EPOCHS = (3, 4) if QUICK else (15, 20)

# %% [markdown]
# ## Two searches over the same space
#
# Learning rate in [1e-4, 1e-2] (log scale), dropout in [0, 0.5], 1 to 3 hidden layers of 32 to 128 units. The training set is split 80/20 into training and validation (stratified, seeded), and each trial stops early when its validation accuracy stalls for 2 epochs. `search` writes `best.json` and `best_model.keras`; run it again with the same `directory` and it resumes where it stopped (`kerasdl tune` does the same from the command line, and KerasTuner's chief/worker mode spreads the trials over machines).

# %%
directory = tempfile.mkdtemp()
tuners = {}
for seed, kind in enumerate(['random', 'bayesian']):
    tuners[kind] = search('mlp', tuner=kind, dataset='digits', max_trials=TRIALS, epochs=EPOCHS, directory=os.path.join(directory, kind), seed=seed, verbose=0)
    best = tuners[kind].oracle.get_best_trials(1)[0]
    print(f'{kind:<9} best validation accuracy {best.score:.3f} with', {k: round(v, 4) if isinstance(v, float) else v for k, v in best.hyperparameters.values.items()})
print('files:', sorted(os.listdir(os.path.join(directory, 'random'))))

# %% [markdown]
# ## The trials
#
# Left: every trial's validation accuracy against its learning rate (marker size: units per layer). Right: the best score so far, trial after trial: Bayesian optimization fits a Gaussian process to the trials so far and proposes where it expects the most improvement, after random trials to start from (KerasTuner's default: 3 per hyperparameter, so 12 of the 15 here; the two searches draw with different seeds).

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for kind, tuner in tuners.items():
    trials = [t for t in tuner.oracle.trials.values() if t.score is not None]
    trials.sort(key=lambda t: int(t.trial_id))
    hp = [t.hyperparameters.values for t in trials]
    axes[0].scatter([h['lr'] for h in hp], [t.score for t in trials], s=[h['units'] for h in hp], alpha=0.6, label=kind)
    axes[1].plot(range(1, len(trials) + 1), np.maximum.accumulate([t.score for t in trials]), 'o-', label=kind)
axes[0].set_xscale('log'); axes[0].set_xlabel('learning rate'); axes[0].set_ylabel('validation accuracy'); axes[0].legend()
axes[1].set_xlabel('trial'); axes[1].set_ylabel('best validation accuracy so far'); axes[1].legend()
plt.show()

# %% [markdown]
# ## The best model, on the test set, once
#
# The test split was never seen by the search: its score is an honest estimate of the chosen model, where the best validation score is an optimistic one (it was the maximum of many).

# %%
test = datasets.load('digits', 'test')
kind = max(tuners, key=lambda k: tuners[k].oracle.get_best_trials(1)[0].score)
model = kerasdl.load_model(os.path.join(directory, kind, 'best_model.keras'))
scores = evaluate(model, test)
print(f"best of the {kind} search: test accuracy {scores['accuracy']:.3f}, macro F1 {scores['f1_macro']:.3f} (validation: {tuners[kind].oracle.get_best_trials(1)[0].score:.3f})")
assert scores['accuracy'] > (0.8 if QUICK else 0.9)  # chance: 0.1
