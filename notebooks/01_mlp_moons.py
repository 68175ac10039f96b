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
# # The multilayer perceptron on make_moons
#
# The textbook 2 → 16 → 2 network, trained with `model.fit` on whichever backend `KERAS_BACKEND` names, and its decision boundary.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.training import plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)

# %%
train, test = datasets.load('moons', 'train'), datasets.load('moons', 'test')
model = kerasdl.build('mlp', input_shape=(2,), num_classes=2, hidden_units=(16,), activation='tanh')
model.summary()

# %%
history, metrics = train_model(model, train, test, epochs=40 if QUICK else 100, batch_size=32, lr=1e-2,
                               verbose=0)
print(metrics)
assert metrics['test_accuracy'] > 0.9

# %%
plot_history(history, 'mlp_moons_history.png')
xx, yy = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.5, 2, 200))
grid = np.c_[xx.ravel(), yy.ravel()].astype('float32')
prob = model.predict(grid, verbose=0)[:, 1].reshape(xx.shape)
plt.contourf(xx, yy, prob, levels=20, cmap='RdBu', alpha=0.6)
plt.scatter(*test[0].T, c=test[1], cmap='RdBu', edgecolors='k', s=12)
plt.title(f"test accuracy {metrics['test_accuracy']:.3f}")
plt.show()
