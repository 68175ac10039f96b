"""The generative family's measured claims on every backend, side by side.

    python benchmarks/generative.py [--tasks ring mnist] [--backends tensorflow jax torch]
        [--out benchmarks/results]

- ring: 8 Gaussians on a circle of radius 2, std 0.02. `gan_mlp` (256-256 nets, noise
  16, Adam 5e-4 cosine-decayed, 10,000 steps of 256) and `wgan_gp` (n_critic 5, Adam 5e-4,
  4,000 generator steps, and lambda 0.1: the authors' setting for toy data -- their
  wgan_gp_toy.py notes that a smaller lambda helps there; with lambda 10 the critic
  covered only 4-6 modes in this budget). On 10,000 samples: modes covered (>= 1% of samples
  within 3 std of the mode) and the share of samples within 3 std of some mode.
- mnist: `gan_mlp`, `dcgan`, `wgan_gp`, `cgan`, `vae` and `autoencoder_denoising`, each
  trained as `kerasdl train NAME` trains it by default and evaluated by
  `kerasdl.evaluation.evaluate` on the `mnist_5k` test set: FID and Inception Score from
  kerasdl's shipped LeNet-5 feature network, the share of `cgan` samples showing the digit
  asked for, the VAE's negative ELBO, the denoiser's PSNR. Figures and evaluation.json go
  to `--out`/NAME_BACKEND/.
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
    """Each model trained exactly as `kerasdl train NAME` trains it (its registered recipe,
    seed 0), then evaluated on the `mnist_5k` test set; figures go to out/NAME_BACKEND/."""
    import keras

    from kerasdl import build, datasets, registry
    from kerasdl.evaluation import evaluate
    from kerasdl.training import train_model

    backend = keras.backend.backend()
    rows = []
    for name in MNIST_MODELS:
        recipe = registry.get_spec(name).train
        train, test, data_kwargs = datasets.load_for_model(name)
        keras.utils.set_random_seed(0)
        model = build(name, **data_kwargs, **recipe.model)
        start = time.perf_counter()
        train_model(model, train, recipe=recipe, verbose=0)
        seconds = time.perf_counter() - start
        scores = evaluate(model, test, task=recipe.task,
                          output_dir=os.path.join(out, f"{name}_{backend}"))
        rows.append(dict(model=name, seconds=round(seconds, 1), **{
            k: round(v, 3) for k, v in scores.items() if k in MNIST_FIGURES}))
        print(json.dumps({**rows[-1], "backend": backend}), file=sys.stderr, flush=True)
    return rows


MNIST_MODELS = ("gan_mlp", "dcgan", "wgan_gp", "cgan", "vae", "autoencoder_denoising")
MNIST_FIGURES = ("fid", "inception_score", "class_accuracy", "classes_generated",
                 "negative_elbo_nats", "psnr_noisy_input", "psnr_denoised")


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
