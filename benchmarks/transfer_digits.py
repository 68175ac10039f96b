"""Transfer learning on real digits, offline: pretrain on mnist_5k digits 0-4, fine-tune
on 20 labelled images per class of digits 5-9, compare with training on those 200 images
from scratch.

    python benchmarks/transfer_digits.py [--backends tensorflow jax torch] [--seeds 0 1 2]
                                         [--model lenet5] [--per-class 20] [--lr-ratio 0.1]
                                         [--epochs N]

Both sides get the same 200 images, the same augmentation and the same number of epochs
(`--epochs`, default the model's recipe; fine-tuning: half with the new head alone on the frozen base, half with every block
unfrozen at `--lr-ratio` times the learning rate); the test set is every test digit 5-9. The base
is trained with the model's `kerasdl train` recipe. Each backend runs in its own process.
"""

import json
import sys


def worker(model_name, per_class, lr_ratio, epochs, *seeds):
    import keras
    import numpy as np

    import kerasdl
    from kerasdl import datasets
    from kerasdl.finetuning import finetune
    from kerasdl.registry import get_spec
    from kerasdl.training import train_model

    spec = get_spec(model_name)
    size = 32 if spec.min_input[0] > 28 else None
    x, y = datasets.load("mnist_5k", "train", image_size=size)
    xt, yt = datasets.load("mnist_5k", "test", image_size=size)
    shape = dict(input_shape=x.shape[1:], **spec.train.model)
    test = (xt[yt >= 5], yt[yt >= 5] - 5)
    recipe = spec.train.replace(validation_split=0.0, augment=True)
    few_shot = recipe.replace(batch_size=32, epochs=int(epochs) or recipe.epochs)
    rows = []
    for seed in map(int, seeds):
        rng = np.random.default_rng(seed)
        few = np.concatenate([rng.choice(np.flatnonzero(y == d), int(per_class), replace=False)
                              for d in range(5, 10)])
        train = (x[few], y[few] - 5)
        keras.utils.set_random_seed(seed)
        base = kerasdl.build(model_name, num_classes=5, **shape)
        _, pretrained = train_model(base, (x[y < 5], y[y < 5]), (xt[yt < 5], yt[yt < 5]),
                                    recipe=recipe, seed=seed, verbose=0)
        base.save("/tmp/kerasdl_transfer_base.keras")
        keras.utils.set_random_seed(seed)
        tuned = kerasdl.build(model_name, num_classes=5, **shape,
                              weights="/tmp/kerasdl_transfer_base.keras")
        half = few_shot.epochs // 2
        _, fine = finetune(tuned, train, test, recipe=few_shot,
                           head_epochs=half, finetune_epochs=half, lr=recipe.lr,
                           finetune_lr=recipe.lr * float(lr_ratio), seed=seed)
        keras.utils.set_random_seed(seed)
        scratch = kerasdl.build(model_name, num_classes=5, **shape)
        _, alone = train_model(scratch, train, test, recipe=few_shot,
                               seed=seed, verbose=0)
        rows.append({"seed": seed, "base_0_4": pretrained["test_accuracy"],
                     "finetuned": fine["test_accuracy"],
                     "scratch": alone["test_accuracy"]})
        print(rows[-1], file=sys.stderr, flush=True)
    print(json.dumps(rows))


def main():
    from common import run_per_backend, seeded_parser

    parser = seeded_parser()
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--per-class", default="20")
    parser.add_argument("--lr-ratio", default="0.1",
                        help="phase 2's learning rate over phase 1's (the guide: 0.1)")
    parser.add_argument("--epochs", default="0",
                        help="epochs on the few labelled images (default: the recipe's)")
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    rows = run_per_backend(__file__, args.model, args.backends, args.per_class, args.lr_ratio,
                           args.epochs, *args.seeds)
    print(f"{args.model}: digits 0-4 -> 5-9, {args.per_class} labelled images per class, "
          f"phase 2 at {args.lr_ratio} x the learning rate, {args.epochs} epochs (0: the recipe's)")
    print("| backend | base on digits 0-4 | fine-tuned (per seed) | from scratch (per seed) |")
    print("|---|---|---|---|")
    for backend, runs in rows.items():
        fine = ", ".join(f"{r['finetuned']:.3f}" for r in runs)
        alone = ", ".join(f"{r['scratch']:.3f}" for r in runs)
        base = ", ".join(f"{r['base_0_4']:.3f}" for r in runs)
        print(f"| {backend} | {base} | {fine} | {alone} |")


if __name__ == "__main__":
    main()
