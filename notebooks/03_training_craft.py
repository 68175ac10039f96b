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
# # Training craft: one change at a time
#
# The textbook's levers, each changed alone from one baseline and trained with `model.fit` on the backend `KERAS_BACKEND` names: SGD against Adam, a learning-rate schedule, batch norm, dropout, L2 weight decay, early stopping, gradient clipping, label smoothing and augmentation. The task is small enough to run every variant in seconds: a two-stage CNN (`simple_cnn`) on scikit-learn's 1,797 real 8×8 digits (1,437 for training, 10% of them held out for validation; 360 for the test).

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.training import train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
train, test = datasets.load('digits', 'train'), datasets.load('digits', 'test')
EPOCHS = 5 if QUICK else 30

# %% [markdown]
# Every option is a field of `kerasdl.recipe.Recipe` (also `kerasdl train --arg`) or of the builder. The baseline: Adam at a constant 1e-3, no regularization; every variant starts from the same seed.

# %%
BASELINE = dict(optimizer='adam', lr=1e-3, schedule='constant')
VARIANTS = {
    'baseline (Adam)': {},
    'SGD, Nesterov momentum': dict(optimizer='sgd', lr=1e-2),
    'cosine schedule, lr 3e-3': dict(schedule='cosine', lr=3e-3),
    'batch norm': dict(model=dict(batch_norm=True)),
    'dropout 0.5': dict(model=dict(dropout=0.5)),
    'L2 (weight decay 1e-2)': dict(optimizer='adamw', weight_decay=1e-2),
    'early stopping (patience 2)': dict(patience=2),
    'gradient clipping (norm 1)': dict(clipnorm=1.0),
    'label smoothing 0.1': dict(label_smoothing=0.1),
    'augmentation': dict(augment=True),
}
runs = {}
for label, change in VARIANTS.items():
    keras.utils.set_random_seed(0)
    options = {**BASELINE, **change}
    model = kerasdl.build('simple_cnn', input_shape=(8, 8, 1), filters=(16, 32), units=(64,), **options.pop('model', {}))
    history, metrics = train_model(model, train, test, epochs=EPOCHS, batch_size=32, verbose=0, **options)
    runs[label] = history.history, metrics
    print(f"{label:<28} epochs {metrics['epochs_run']:>2}  val loss {metrics['val_loss']:.3f}  test accuracy {metrics['test_accuracy']:.3f}")

# %% [markdown]
# Each variant's validation loss (solid) and training loss (dotted) next to the baseline's validation loss (grey). Regularizers (dropout, L2, augmentation, label smoothing) trade training fit for validation; early stopping ends the run when the validation loss stops improving and restores the best epoch. Label smoothing raises every loss by design (its targets are never exactly 0 or 1), so compare its accuracy, not its loss. Augmentation is no free lunch: its default shifts of up to 2 pixels are a quarter of an 8×8 image, too strong here, where on 28×28 digits they help LeNet-5 (notebook 02). With one seed and 360 test images, differences of a point or two are noise.

# %%
base = runs['baseline (Adam)'][0]
fig, axes = plt.subplots(3, 3, figsize=(12, 9), sharex=True)
for ax, (label, (curves, metrics)) in zip(axes.ravel(), list(runs.items())[1:]):
    ax.plot(base['val_loss'], color='grey', label='baseline')
    ax.plot(curves['val_loss'], label=label)
    ax.plot(curves['loss'], ':', color='C0', label='training loss')
    ax.set_title(f"{label}: test {metrics['test_accuracy']:.3f}", fontsize=9)
axes[0, 0].legend(fontsize=7)
plt.show()
accuracies = np.array([m['test_accuracy'] for _, m in runs.values()])
assert accuracies.min() > (0.5 if QUICK else 0.8)  # chance: 0.1
