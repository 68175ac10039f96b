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
# # Neurons and the multilayer perceptron
#
# What one neuron computes, why its activation function matters, and what a hidden layer adds: a perceptron and a 2 → 16 → 2 MLP trained with `model.fit` on `make_moons`, on whichever backend `KERAS_BACKEND` names, scored with the textbook's metrics.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.evaluation import evaluate
from kerasdl.training import plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Activation functions and their derivatives
#
# A neuron outputs `f(w·x + b)`. Backpropagation multiplies the derivatives `f'` layer after layer: the sigmoid's is at most 0.25 and tanh's vanishes away from 0 (the vanishing gradient), while ReLU passes a gradient of exactly 1 wherever it is active. Keras's own activations, differentiated numerically:

# %%
z = np.linspace(-5, 5, 1001).astype('float32')
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name in ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'gelu']:
    f = keras.ops.convert_to_numpy(keras.activations.get(name)(z))
    axes[0].plot(z, f, label=name)
    axes[1].plot(z, np.gradient(f, z), label=name)
axes[0].set_title('f(z)'); axes[1].set_title("f'(z)"); axes[0].legend()
plt.show()

# %% [markdown]
# ## A perceptron and an MLP on the two moons
#
# `hidden_units=()` builds the perceptron (one softmax layer: logistic regression), whose decision boundary can only be a straight line; one hidden layer of 16 tanh units bends it around the moons.

# %%
train, test = datasets.load('moons', 'train'), datasets.load('moons', 'test')
EPOCHS = 20 if QUICK else 100
results = {}
for label, hidden in [('perceptron', ()), ('MLP 2-16-2', (16,))]:
    model = kerasdl.build('mlp', input_shape=(2,), num_classes=2, hidden_units=hidden, activation='tanh')
    history, metrics = train_model(model, train, test, epochs=EPOCHS, batch_size=32, lr=2e-2, verbose=0)
    results[label] = model, history, metrics
    print(f"{label:<11} {model.count_params():>4} weights  test accuracy {metrics['test_accuracy']:.3f}")
assert results['MLP 2-16-2'][2]['test_accuracy'] > 0.93  # the noise caps it near 0.97
assert results['MLP 2-16-2'][2]['test_accuracy'] > results['perceptron'][2]['test_accuracy'] + 0.05

# %%
xx, yy = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.5, 2, 200))
grid = np.c_[xx.ravel(), yy.ravel()].astype('float32')
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (label, (model, _, metrics)) in zip(axes, results.items()):
    prob = model.predict(grid, batch_size=4096, verbose=0)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, prob, levels=20, cmap='RdBu', alpha=0.6)
    ax.scatter(*test[0].T, c=test[1], cmap='RdBu', edgecolors='k', s=12)
    ax.set_title(f"{label}: test accuracy {metrics['test_accuracy']:.3f}")
plt.show()
plot_history(results['MLP 2-16-2'][1], 'mlp_history.png')

# %% [markdown]
# ## Accuracy is not the whole story: precision, recall, F1 and AUC
#
# `kerasdl.evaluation.evaluate` scores a classifier with Keras's metrics: per class, precision is the share of the points called class k that are k, recall the share of the k that are found, F1 their harmonic mean; the AUC is the area under the ROC curve (one class against the rest).

# %%
scores = evaluate(results['MLP 2-16-2'][0], test)
for key in ['accuracy', 'precision_per_class', 'recall_per_class', 'f1_per_class', 'auc_macro_ovr']:
    print(f'{key:<20}', np.round(scores[key], 3))
print('confusion matrix (rows: true class)\n', np.array(scores['confusion_matrix']))

# %% [markdown]
# ## The same network as a regressor: MSE, RMSE, MAE and R²
#
# A linear output and the MSE loss turn the MLP into a function approximator: `sin(3x)` plus noise of σ 0.1. R² is the share of the targets' variance the model explains; the noise alone caps it at about 0.98.

# %%
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (1200, 1)).astype('float32')
y = (np.sin(3 * x) + 0.1 * rng.standard_normal(x.shape)).astype('float32')
regressor = kerasdl.build('mlp', input_shape=(1,), num_classes=1, hidden_units=(32, 32), activation='tanh', classifier_activation=None)
_, metrics = train_model(regressor, (x[:1000], y[:1000]), (x[1000:], y[1000:]), task='regression', epochs=EPOCHS, batch_size=32, lr=1e-2, verbose=0)
print({k: round(v, 4) for k, v in metrics.items() if k.startswith('test_') and k != 'test_task'})
assert metrics['test_r2'] > 0.9
order = np.argsort(x[1000:, 0])
plt.scatter(x[1000:, 0], y[1000:, 0], s=6, alpha=0.5, label='test data')
plt.plot(x[1000:, 0][order], regressor.predict(x[1000:], verbose=0)[order, 0], 'r', label='MLP')
plt.legend();
