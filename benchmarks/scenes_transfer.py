"""Fine-tuning pays on scenes: U-Net and YOLO on 10% of mnist_scenes's training labels,
their encoder (`backbone=`) starting from a classifier trained on mnist_5k's digits,
against the same networks from scratch on the same labels.

    python benchmarks/scenes_transfer.py [--backends tensorflow jax torch] [--seeds 0 1 2]
                                         [--backbone vgg11] [--fraction 0.1]
                                         [--models unet yolo] [--epochs N]

The backbone is trained once per backend with its `kerasdl train` recipe (32x32 digits);
its convolutions then start a 64x64 encoder (`backbone_weights=`). Both sides of each
comparison train every layer with the model's own recipe (same learning rate and
augmentation; its epochs, or `--epochs`) on the same scenes, drawn by the seed; the test
set is every test scene.
Each backend runs in its own process.
"""

import json
import sys

SCORES = {"unet": "test_mean_iou", "yolo": "test_map_50"}


def worker(backbone, fraction, epochs, models, *seeds):
    import keras
    import numpy as np

    import kerasdl
    from kerasdl import datasets
    from kerasdl.registry import get_spec
    from kerasdl.training import train_model

    spec = get_spec(backbone)
    x, y = datasets.load("mnist_5k", "train", image_size=32)
    xt, yt = datasets.load("mnist_5k", "test", image_size=32)
    keras.utils.set_random_seed(0)
    classifier = kerasdl.build(backbone, input_shape=x.shape[1:], num_classes=10,
                               **spec.train.model)
    _, digits = train_model(classifier, (x, y), (xt, yt), recipe=spec.train, verbose=0)
    weights = f"/tmp/kerasdl_scenes_{backbone}.keras"
    classifier.save(weights)
    rows = [{"model": backbone, "digits_accuracy": digits["test_accuracy"]}]
    print(rows[-1], file=sys.stderr, flush=True)
    for name in models.split(","):
        model_spec, score = get_spec(name), SCORES[name]
        recipe = model_spec.train.replace(epochs=int(epochs) or model_spec.train.epochs)
        train, test, data_kwargs = datasets.load_for_model(name)
        for seed in map(int, seeds):
            rng = np.random.default_rng(seed)
            few = np.sort(rng.choice(len(train[0]), int(len(train[0]) * float(fraction)),
                                     replace=False))
            row = {"model": name, "seed": seed, "labelled": len(few)}
            for side, start in (("pretrained", weights), ("scratch", None)):
                keras.utils.set_random_seed(seed)
                model = kerasdl.build(name, **{**data_kwargs, **model_spec.train.model},
                                      backbone=backbone, backbone_weights=start)
                _, metrics = train_model(model, (train[0][few], train[1][few]), test,
                                         recipe=recipe, seed=seed, verbose=0)
                row[side] = metrics[score]
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    print(json.dumps(rows))


def main():
    from common import run_per_backend, seeded_parser

    parser = seeded_parser()
    parser.add_argument("--backbone", default="vgg11")
    parser.add_argument("--fraction", default="0.1", help="of the training scenes labelled")
    parser.add_argument("--models", nargs="+", default=list(SCORES), choices=list(SCORES))
    parser.add_argument("--epochs", default="0", help="default (0): each model's recipe's")
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    rows = run_per_backend(__file__, args.backbone, args.backends, args.fraction, args.epochs,
                           ",".join(args.models), *args.seeds)
    print(f"{args.backbone} backbone trained on mnist_5k digits; {args.fraction} of the "
          f"mnist_scenes training labels, {args.epochs} epochs (0: the recipe's); U-Net: test "
          f"mean IoU, YOLO: test mAP@0.5")
    print("| backend | backbone's digit accuracy | model | pretrained (per seed) | "
          "from scratch (per seed) |")
    print("|---|---|---|---|---|")
    for backend, runs in rows.items():
        for name in args.models:
            mine = [r for r in runs if r["model"] == name]
            print(f"| {backend} | {runs[0]['digits_accuracy']:.3f} | {name} | "
                  + ", ".join(f"{r['pretrained']:.3f}" for r in mine) + " | "
                  + ", ".join(f"{r['scratch']:.3f}" for r in mine) + " |")


if __name__ == "__main__":
    main()
