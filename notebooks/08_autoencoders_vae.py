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
# # Autoencoders and the variational autoencoder
#
# Networks that learn to copy their input through a narrow code, trained with `model.fit` on `mnist_5k` (5,000 real MNIST digits) on the backend `KERAS_BACKEND` names: dense and convolutional autoencoders, a denoising one and a VAE whose 2-D latent space can be drawn and sampled.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.metrics import psnr
from kerasdl.training import plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
(x, y), (x_test, y_test) = datasets.load('mnist_5k', 'train'), datasets.load('mnist_5k', 'test')
EPOCHS = 3 if QUICK else 20

def strip(images):  # a row of 28x28 images
    return np.hstack(np.clip(images, 0, 1)[..., 0])

# %% [markdown]
# ## Dense and convolutional autoencoders
#
# Each squeezes a digit (784 values) through a code of 32 and reconstructs it, trained on binary cross-entropy; the convolutional one downsamples with strided convolutions and upsamples with transposed ones. Reconstruction quality as PSNR (higher is better; 10·log10(1/MSE)). (`autoencoder_sparse` adds an L1 penalty on the code, so that each digit uses few code units.)

# %%
autoencoders = {}
for name in ['autoencoder_dense', 'autoencoder_conv']:
    keras.utils.set_random_seed(0)
    model = kerasdl.build(name, latent_dim=32)
    _, metrics = train_model(model, (x, y), (x_test, y_test), task='reconstruction', epochs=EPOCHS, batch_size=64, lr=3e-3, verbose=0)
    autoencoders[name] = model
    print(f"{name:<19} {model.count_params():>8,} weights  test PSNR {metrics['test_psnr']:.1f} dB")
    assert metrics['test_psnr'] > (11 if QUICK else 16)  # an untrained one: about 6 dB
plt.figure(figsize=(12, 3))
plt.imshow(np.vstack([strip(x_test[:12])] + [strip(m.predict(x_test[:12], verbose=0)) for m in autoencoders.values()]), cmap='gray')
plt.yticks([14, 42, 70], ['input', 'dense', 'conv']); plt.xticks([]);

# %% [markdown]
# ## A denoising autoencoder
#
# Gaussian noise (σ 0.5) is added to the inputs in training only (a `GaussianNoise` layer); the target is the clean digit, so the network learns to remove noise.

# %%
keras.utils.set_random_seed(0)
denoiser = kerasdl.build('autoencoder_denoising', filters=(16, 32), latent_dim=64)
train_model(denoiser, (x, y), (x_test, y_test), task='reconstruction', epochs=EPOCHS, batch_size=64, lr=3e-3, verbose=0)
noisy = x_test[:12] + 0.5 * np.random.default_rng(0).standard_normal(x_test[:12].shape).astype('float32')
clean = denoiser.predict(noisy, verbose=0)
print(f'PSNR noisy {psnr(x_test[:12], np.clip(noisy, 0, 1)):.1f} dB, denoised {psnr(x_test[:12], clean):.1f} dB')
assert psnr(x_test[:12], clean) > psnr(x_test[:12], np.clip(noisy, 0, 1)) + (2 if QUICK else 5)
plt.figure(figsize=(12, 3))
plt.imshow(np.vstack([strip(noisy), strip(clean), strip(x_test[:12])]), cmap='gray')
plt.yticks([14, 42, 70], ['noisy', 'denoised', 'clean']); plt.xticks([]);

# %% [markdown]
# ## A variational autoencoder with a 2-D latent space
#
# The encoder outputs a Gaussian (a mean and a log-variance) per digit, the decoder reconstructs from a sample of it (the reparameterization trick), and the loss is the negative evidence lower bound (ELBO): reconstruction cross-entropy plus the KL divergence from the prior N(0, I), in nats per digit. Two latent dimensions make it drawable: the test digits' means coloured by class, and digits decoded from a grid over the latent plane.

# %%
keras.utils.set_random_seed(0)
vae = kerasdl.build('vae', latent_dim=2, units=(256,), seed=0)
history, metrics = train_model(vae, (x, y), (x_test, y_test), task='variational', epochs=5 if QUICK else 30, batch_size=64, lr=1e-3, verbose=0)
print(f"negative ELBO on the test digits: {metrics['test_negative_elbo_nats']:.1f} nats (an untrained VAE: about 545)")
assert metrics['test_negative_elbo_nats'] < (250 if QUICK else 180)
plot_history(history, 'vae_history.png')
z_mean = keras.ops.convert_to_numpy(vae.encode(x_test)[0])
grid = np.array([[a, b] for b in np.linspace(2, -2, 12) for a in np.linspace(-2, 2, 12)], dtype='float32')
decoded = keras.ops.convert_to_numpy(vae.decode(grid))[..., 0].reshape(12, 12, 28, 28)
fig, axes = plt.subplots(1, 3, figsize=(15, 5))
points = axes[0].scatter(z_mean[:, 0], z_mean[:, 1], c=y_test, cmap='tab10', s=4)
fig.colorbar(points, ax=axes[0]); axes[0].set_title('test digits: latent means')
axes[1].imshow(np.vstack([np.hstack(row) for row in decoded]), cmap='gray', extent=(-2, 2, -2, 2))
axes[1].set_title('decoded from a grid of z')
axes[2].imshow(np.vstack([np.hstack(row) for row in keras.ops.convert_to_numpy(vae.sample(64))[..., 0].reshape(8, 8, 28, 28)]), cmap='gray')
axes[2].set_title('samples of the prior'); axes[2].axis('off')
plt.show()
