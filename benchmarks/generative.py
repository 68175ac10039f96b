"""The generative family's measured claims on every backend, side by side.

    python benchmarks/generative.py [--tasks ring mnist] [--backends tensorflow jax torch]
        [--out benchmarks/results]

- ring: 8 Gaussians on a circle of radius 2, std 0.02. `gan_mlp` (256-256 nets, noise
  16, Adam 5e-4 cosine-decayed, 10,000 steps of 256) and `wgan_gp` (n_critic 5, Adam 5e-4,
  4,000 generator steps, and lambda 0.1: the authors' setting for toy data -- their
  wgan_gp_toy.py notes that a smaller lambda helps there; with lambda 10 the critic
  covered only 4-6 modes in this budget). On 10,000 samples: modes covered (>= 1% of samples
  within 3 std of the mode) and the share of samples within 3 std of some mode.
- mnist: on `mnist_5k`, `dcgan` and `cgan` (30 epochs), `vae` (dense, latent 16, 30
  epochs) and `autoencoder_denoising` (20 epochs). Generated digits are classified by a
  `lenet5` trained on the same data (a classifier score: a stand-in for FID, whose
  Inception weights cannot be had offline): the classes present among 1,000 samples,
  and for `cgan` how often the digit is the one asked for. The VAE's test negative ELBO
  (one sample of z per image); the denoising PSNR on test digits with noise std 0.5
  (`autoencoder_denoising` with a 64-unit code).
  Sample grids are written to `--out`.
"""

import argparse
import json
import os
import sys
import time

from common import print_table, run_per_backend


def _fit(model, x, *, steps, batch_size, lr, decay=False, y=None):
    """Train a GAN for about `steps` generator steps with Adam(beta_1 = 0.5), the learning
    rate constant or cosine-decayed to 0; returns (seconds, generator steps)."""
    import keras

    epochs = max(1, round(steps * batch_size / len(x)))

    def adam(updates):
        rate = keras.optimizers.schedules.CosineDecay(lr, updates) if decay else lr
        return keras.optimizers.Adam(rate, beta_1=0.5)

    model.compile(d_optimizer=adam(steps * model.n_critic), g_optimizer=adam(steps))
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    return time.perf_counter() - start, epochs * -(-len(x) // batch_size)


def ring():
    import keras
    import numpy as np

    from kerasdl import build
    from kerasdl.datasets import gaussian_ring

    rows = []
    for name, kwargs, steps, lr, decay in (
        ("gan_mlp", dict(generator_units=(256, 256), discriminator_units=(256, 256)), 10_000,
         5e-4, True),
        ("wgan_gp", dict(units=(256, 256), gp_weight=0.1), 4_000, 5e-4, False),
    ):
        keras.utils.set_random_seed(0)
        x, centres = gaussian_ring(steps * 256 // 20, seed=0)
        model = build(name, input_shape=(2,), latent_dim=16, output_activation=None, seed=0,
                      **kwargs)
        seconds, n = _fit(model, x, steps=steps, batch_size=256, lr=lr, decay=decay)
        samples = model.generate(10_000)
        distance = np.linalg.norm(samples[:, None] - centres[None], axis=-1)
        near = distance.min(axis=1) < 3 * 0.02
        counts = np.bincount(distance.argmin(axis=1)[near], minlength=len(centres))
        rows.append(dict(model=name, modes=int((counts >= 100).sum()),
                         within_3std=float(near.mean()), seconds=round(seconds, 1),
                         ms_per_step=round(1000 * seconds / n, 2)))
        print(json.dumps({**rows[-1], "backend": keras.backend.backend()}), file=sys.stderr,
              flush=True)
    return rows


def mnist(out):
    import keras
    import numpy as np

    from kerasdl import build, datasets
    from kerasdl.training import compile_model, train_model

    backend = keras.backend.backend()
    (x, y), (x_test, y_test) = datasets.load("mnist_5k", "train"), datasets.load("mnist_5k", "test")
    keras.utils.set_random_seed(0)
    judge = build("lenet5", input_shape=x.shape[1:])
    train_model(judge, (x, y), (x_test, y_test), epochs=15, batch_size=64, lr=3e-3,
                augment=True, verbose=0)

    def classify(images):
        return judge.predict(images, verbose=0, batch_size=500).argmax(axis=1)

    rows = []
    for name in ("dcgan", "cgan"):
        keras.utils.set_random_seed(0)
        model = build(name, seed=0)
        conditional = name == "cgan"
        seconds, n = _fit(model, 2 * x - 1, steps=30 * 63, batch_size=64, lr=2e-4,
                          y=y if conditional else None)
        asked = np.arange(1000, dtype="int32") % 10
        images = (model.generate(1000, labels=asked if conditional else None) + 1) / 2
        predicted = classify(images)
        row = dict(model=name, classes_present=int(len(np.unique(predicted))),
                   seconds=round(seconds, 1), ms_per_step=round(1000 * seconds / n, 1))
        if conditional:
            row["asked_class_rate"] = float(np.mean(predicted == asked))
        rows.append(row)
        _grid(images[:100], os.path.join(out, f"{name}_{backend}.png"))
        print(json.dumps({**row, "backend": keras.backend.backend()}), file=sys.stderr, flush=True)

    keras.utils.set_random_seed(0)
    vae = build("vae", latent_dim=16, seed=0)
    compile_model(vae, task="variational", lr=1e-3)
    start = time.perf_counter()
    vae.fit(x, batch_size=64, epochs=30, verbose=0)
    seconds = time.perf_counter() - start
    z_mean, z_log_var = vae.encode(x_test)
    z = z_mean + keras.ops.exp(0.5 * z_log_var) * keras.random.normal(z_mean.shape, seed=1)
    elbo = vae.compute_loss(x_test, None, vae.decode(z), training=False)
    samples = vae.sample(1000)
    rows.append(dict(model="vae", test_negative_elbo=float(keras.ops.convert_to_numpy(elbo)),
                     classes_present=int(len(np.unique(classify(samples)))),
                     seconds=round(seconds, 1)))
    _grid(samples[:100], os.path.join(out, f"vae_{backend}.png"))

    keras.utils.set_random_seed(0)
    denoiser = build("autoencoder_denoising", latent_dim=64)
    _, metrics = train_model(denoiser, (x, y), (x_test, y_test), task="reconstruction",
                             epochs=20, batch_size=64, lr=1e-3, verbose=0)
    noisy = x_test + 0.5 * np.random.default_rng(1).standard_normal(x_test.shape).astype("float32")
    denoised = denoiser.predict(noisy, verbose=0)
    rows.append(dict(model="autoencoder_denoising", psnr_noisy=_psnr(noisy, x_test),
                     psnr_denoised=_psnr(denoised, x_test)))
    return rows


def _psnr(images, reference):
    import numpy as np

    return float(10 * np.log10(1.0 / np.mean((np.clip(images, 0, 1) - reference) ** 2)))


def _grid(images, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(10, 10, figsize=(6, 6))
    for ax, image in zip(axes.ravel(), images):
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        ax.axis("off")
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", default=["ring", "mnist"], choices=["ring", "mnist"])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.worker:
        print(json.dumps(ring() if args.worker == "ring" else mnist(args.out)))
        return
    for task in args.tasks:
        rows = run_per_backend(__file__, task, args.backends, "--out", args.out)
        columns = sorted({k for r in rows[args.backends[0]] for k in r} - {"model"})
        print_table(task, rows, columns)


if __name__ == "__main__":
    main()
