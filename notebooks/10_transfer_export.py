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
# # Transfer learning and export
#
# Reuse what a network learned on one task for another with few labels, then ship it: export to ONNX, check the exported file in onnxruntime against Keras, and lay it out as a Triton model repository. Trained with `model.fit` on the backend `KERAS_BACKEND` names; all three backends export ONNX (TensorFlow through tf2onnx, JAX through jax2onnx, PyTorch through `torch.onnx`).

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.export import export, run_exported, triton_repository
from kerasdl.finetuning import finetune
from kerasdl.recipe import Recipe
from kerasdl.training import train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)
(x, y), (x_test, y_test) = datasets.load('mnist_5k', 'train'), datasets.load('mnist_5k', 'test')
work = tempfile.mkdtemp()

# %% [markdown]
# ## A base network, and a new task with few labels
#
# LeNet-5 learns digits 0-4 from their ~2,500 training images. The new task is digits 5-9 with only 10 labelled images of each; its test set is every test image of 5-9.

# %%
base = kerasdl.build('lenet5', input_shape=(28, 28, 1), num_classes=5)
_, metrics = train_model(base, (x[y < 5], y[y < 5]), (x_test[y_test < 5], y_test[y_test < 5]), epochs=2 if QUICK else 20, lr=3e-3, augment=True, verbose=0)
print(f"base network on digits 0-4: test accuracy {metrics['test_accuracy']:.3f}")
base.save(os.path.join(work, 'base.keras'))
rng = np.random.default_rng(0)
few = np.concatenate([rng.choice(np.flatnonzero(y == d), 10, replace=False) for d in range(5, 10)])
new_train, new_test = (x[few], y[few] - 5), (x_test[y_test >= 5], y_test[y_test >= 5] - 5)

# %% [markdown]
# ## Fine-tuned against trained from scratch
#
# `kerasdl.build(..., weights=path)` loads every layer but the classifier, which is new (5 other classes). `finetune` trains in two phases: the new head alone on the frozen network, then every layer (batch-norm statistics stay frozen, as in Keras's transfer-learning guide). The same 50 images, augmentation and number of epochs train a LeNet-5 from scratch.

# %%
EPOCHS = 3 if QUICK else 30
recipe = Recipe(validation_split=0.0, augment=True, batch_size=16, schedule='constant')
keras.utils.set_random_seed(0)
tuned = kerasdl.build('lenet5', input_shape=(28, 28, 1), num_classes=5, weights=os.path.join(work, 'base.keras'))
_, fine = finetune(tuned, new_train, new_test, recipe=recipe, head_epochs=EPOCHS, finetune_epochs=EPOCHS, lr=3e-3, finetune_lr=1e-3)
keras.utils.set_random_seed(0)
scratch = kerasdl.build('lenet5', input_shape=(28, 28, 1), num_classes=5)
_, alone = train_model(scratch, new_train, new_test, recipe=recipe, epochs=2 * EPOCHS, lr=3e-3, verbose=0)
print(f"digits 5-9 from 50 labelled images: fine-tuned {fine['test_accuracy']:.3f}, from scratch {alone['test_accuracy']:.3f} (chance 0.2)")
print('trainable layers in each phase:', fine['trainable'])
assert fine['test_accuracy'] > (0.4 if QUICK else 0.7)
plt.bar(['fine-tuned', 'from scratch'], [fine['test_accuracy'], alone['test_accuracy']], color=['C2', 'C7'])
plt.axhline(0.2, color='grey', ls='--'); plt.ylabel('test accuracy on digits 5-9'); plt.ylim(0, 1);

# %% [markdown]
# ## Export to ONNX and run it in onnxruntime
#
# `export` writes the inference graph with a free batch dimension; `run_exported` runs it in onnxruntime (no Keras, no training backend), and the answers must match Keras's to float precision.

# %%
(path, _), = export(tuned, os.path.join(work, 'lenet5_digits'), 'onnx').items()
keras_probs = tuned.predict(new_test[0], verbose=0)
onnx_probs = run_exported(path, new_test[0])
difference = np.abs(keras_probs - onnx_probs).max()
print(f'{os.path.basename(path)}: {os.path.getsize(path) / 1024:.0f} KiB; largest difference from Keras {difference:.1e}; same answer on {np.mean(keras_probs.argmax(1) == onnx_probs.argmax(1)):.1%} of {len(onnx_probs)} images')
assert difference < 1e-4

# %% [markdown]
# ## A Triton model repository
#
# NVIDIA's Triton Inference Server serves a directory of models, each a versioned folder and a `config.pbtxt` naming its tensors (`kerasdl export --format onnx --triton DIR` does the same from the command line):

# %%
config = triton_repository(path, os.path.join(work, 'triton'), 'lenet5_digits')
for root, _, files in sorted(os.walk(os.path.join(work, 'triton'))):
    for name in files:
        print(os.path.relpath(os.path.join(root, name), work))
print(open(config).read())
