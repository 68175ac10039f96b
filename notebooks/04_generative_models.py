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
# # Generative models: a GAN on a ring of Gaussians, a VAE and a denoiser on MNIST
#
# Each trained with `model.fit` on whichever backend `KERAS_BACKEND` names. The GAN's `train_step` is kerasdl's own (two optimizers, one gradient step per network); the VAE only overrides `compute_loss`.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.training import compile_model, plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)

# %% [markdown]
# ## A GAN on 8 Gaussians
#
# The textbook GAN with small MLPs learns a ring of 8 Gaussians (radius 2, σ 0.02). A short run; `benchmarks/generative.py` trains longer and counts the modes.

# %%
points, centres = datasets.gaussian_ring(25_600, seed=0)
gan = kerasdl.build('gan_mlp', input_shape=(2,), latent_dim=16, generator_units=(128, 128),
                    discriminator_units=(128, 128), output_activation=None, seed=0)
compile_model(gan, task='adversarial', lr=1e-3)
history = gan.fit(points, batch_size=256, epochs=8 if QUICK else 30, verbose=0)
plot_history(history, 'gan_history.png')
samples = gan.generate(2000)
distance = np.linalg.norm(samples[:, None] - centres[None], axis=-1).min(axis=1)
print(f'mean distance to the nearest mode: {distance.mean():.3f}')
assert distance.mean() < 1.0  # the untrained generator sits at the origin, 2 away
plt.figure(figsize=(4, 4))
plt.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label='generated')
plt.scatter(centres[:, 0], centres[:, 1], c='red', marker='x', label='modes')
plt.legend();

# %% [markdown]
# ## A variational autoencoder on 5,000 MNIST digits
#
# A 2-D latent space, so that it can be drawn: the test digits' means, coloured by class, and digits decoded from samples of the prior.

# %%
(x, y), (x_test, y_test) = datasets.load('mnist_5k', 'train'), datasets.load('mnist_5k', 'test')
vae = kerasdl.build('vae', latent_dim=2, units=(256,), seed=0)
history, metrics = train_model(vae, (x, y), (x_test, y_test), task='variational', epochs=5 if QUICK else 20, batch_size=64, lr=1e-3, verbose=0)
print(metrics)
assert metrics['test_loss'] < 250  # an untrained VAE scores ~545 nats
z_mean, _ = vae.encode(x_test)
z_mean = keras.ops.convert_to_numpy(z_mean)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].scatter(z_mean[:, 0], z_mean[:, 1], c=y_test, cmap='tab10', s=4)
axes[1].imshow(np.hstack(vae.sample(10)[..., 0]), cmap='gray');

# %% [markdown]
# ## A denoising autoencoder
#
# Gaussian noise (σ 0.5) is added to the inputs in training only; at test time the network cleans noisy digits.

# %%
denoiser = kerasdl.build('autoencoder_denoising', filters=(16, 32), latent_dim=64)
train_model(denoiser, (x, y), (x_test, y_test), task='reconstruction', epochs=5 if QUICK else 20, batch_size=64, lr=3e-3, verbose=0)
noisy = x_test[:8] + 0.5 * np.random.default_rng(0).standard_normal(x_test[:8].shape).astype('float32')
clean = denoiser.predict(noisy, verbose=0)
psnr = lambda a: 10 * np.log10(1 / np.mean((np.clip(a, 0, 1) - x_test[:8]) ** 2))
print(f'PSNR noisy {psnr(noisy):.1f} dB, denoised {psnr(clean):.1f} dB')
assert psnr(clean) > psnr(noisy) + 2  # 5 epochs (quick) or 20
plt.imshow(np.vstack([np.hstack(np.clip(noisy, 0, 1)[..., 0]), np.hstack(clean[..., 0])]), cmap='gray');
