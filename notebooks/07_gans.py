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
# # Generative adversarial networks
#
# A generator learns to fool a discriminator that learns to tell its samples from real data. kerasdl's GANs are `keras.Model`s whose `train_step` makes one gradient step per network with two optimizers, so `model.fit` trains them on the backend `KERAS_BACKEND` names. Here: the textbook GAN learning a ring of 8 Gaussians, DCGAN and WGAN-GP drawing digits with the FID tracked over epochs, and a conditional GAN asked for each digit.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.evaluation import evaluate
from kerasdl.training import compile_model, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)

# %% [markdown]
# ## A ring of 8 Gaussians, over training
#
# The real data: 8 modes on a circle of radius 2 (σ 0.02). The generator's samples after each stage of training: it finds the ring first, then the modes. (Mode collapse, the GAN's classic failure, would show as a few modes covered and the rest left empty; `benchmarks/generative.py` counts them over longer runs.)

# %%
points, centres = datasets.gaussian_ring(25_600, seed=0)
gan = kerasdl.build('gan_mlp', input_shape=(2,), latent_dim=16, generator_units=(128, 128),
                    discriminator_units=(128, 128), output_activation=None, seed=0)
snapshots = {}
snapshot = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.update({epoch + 1: gan.generate(1000)}))
compile_model(gan, task='adversarial', lr=1e-3)  # not train_model: it would rescale images from [0, 1] to [-1, 1]
history = gan.fit(points, batch_size=256, epochs=8 if QUICK else 30, verbose=0, callbacks=[snapshot])
shown = sorted({int(round(e)) for e in np.linspace(1, max(snapshots), 4)})
fig, axes = plt.subplots(1, len(shown), figsize=(3 * len(shown), 3), sharex=True, sharey=True)
for ax, epoch in zip(axes, shown):
    ax.scatter(*snapshots[epoch].T, s=2, alpha=0.4)
    ax.scatter(*centres.T, c='red', marker='x')
    ax.set_title(f'epoch {epoch}'); ax.set_xlim(-3, 3); ax.set_ylim(-3, 3)
plt.show()
distance = np.linalg.norm(snapshots[max(snapshots)][:, None] - centres[None], axis=-1).min(axis=1)
print(f"d_loss {history.history['d_loss'][-1]:.3f}, g_loss {history.history['g_loss'][-1]:.3f}; mean distance to the nearest mode {distance.mean():.3f}")
assert distance.mean() < 1.0  # the untrained generator sits at the origin, 2 away

# %% [markdown]
# ## DCGAN and WGAN-GP on digits, with the FID over epochs
#
# Both use DCGAN's networks (strided convolutions, batch norm, transposed convolutions up to 28×28); WGAN-GP's critic scores rather than classifies, drops batch norm and is trained 5 times per generator step with a gradient penalty. (Quick mode trains one epoch on 320 digits: noise.) The Fréchet distance (FID) compares the statistics of features of real and generated digits (lower is better); the features come from a LeNet-5 trained on MNIST that ships with kerasdl, so the figures are MNIST-FIDs, not comparable with Inception-FIDs of papers.

# %%
(x, y), (x_test, y_test) = datasets.load('mnist_5k', 'train'), datasets.load('mnist_5k', 'test')
fid_history, grids = {}, {}
for name, lr in [('dcgan', 2e-4), ('wgan_gp', 2e-4)]:
    keras.utils.set_random_seed(0)
    net = kerasdl.build(name, filters=32, seed=0)
    fids = fid_history[name] = []
    track = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: fids.append(evaluate(net, x_test[:500], num_samples=500)['fid']))
    _, metrics = train_model(net, (x[:320] if QUICK else x, None), task='adversarial', lr=lr, epochs=1 if QUICK else 10, batch_size=64, verbose=0, callbacks=[track])
    grids[name] = (net.generate(64) + 1) / 2
    print(f"{name}: d_loss {metrics['train_d_loss']:.3f}, g_loss {metrics['train_g_loss']:.3f}, FID per epoch", np.round(fids, 1))
    assert np.isfinite([metrics['train_d_loss'], metrics['train_g_loss']] + fids).all()
fig, axes = plt.subplots(1, 3, figsize=(14, 4.5))
for ax, (name, images) in zip(axes, grids.items()):
    ax.imshow(np.vstack([np.hstack(row) for row in images[..., 0].reshape(8, 8, 28, 28)]), cmap='gray')
    ax.set_title(name); ax.axis('off')
for name, fids in fid_history.items():
    axes[2].plot(range(1, len(fids) + 1), fids, 'o-', label=name)
axes[2].set_xlabel('epoch'); axes[2].set_ylabel('FID (LeNet-5 features)'); axes[2].legend()
plt.show()

# %% [markdown]
# ## A conditional GAN: ask for each digit
#
# Both networks also see the label (the generator an embedding of it, the discriminator through a projection), so one can ask for a given digit. Row k holds samples asked to be a k; the LeNet-5 that computes the FID also says how often the digit drawn is the one asked for.

# %%
keras.utils.set_random_seed(0)
cgan = kerasdl.build('cgan', seed=0)
_, metrics = train_model(cgan, (x, y), (x_test, y_test), task='adversarial', lr=1e-3, epochs=3 if QUICK else 60, batch_size=64, verbose=0)
print(f"asked-for digit recognised in {metrics['test_class_accuracy']:.0%} of samples (chance: 10%); FID {metrics['test_fid']:.1f}, Inception Score {metrics['test_inception_score']:.2f} (real digits: {metrics['test_inception_score_real']:.2f})")
assert metrics['test_class_accuracy'] > 0.8 or QUICK  # 3 epochs are too few to tell
labels = np.repeat(np.arange(10), 10).astype('int32')
samples = (cgan.generate(100, labels) + 1) / 2
plt.figure(figsize=(6, 6))
plt.imshow(np.vstack([np.hstack(row) for row in samples[..., 0].reshape(10, 10, 28, 28)]), cmap='gray')
plt.axis('off');
