"""The `kerasdl` command line: list, info, train, evaluate, finetune, export, predict, tune,
bench.

`--backend` works because this module sets KERAS_BACKEND before anything imports Keras
(importing `kerasdl` itself does not): each command imports what it uses, inside its
function, after that. Bad input (an error kerasdl raises on purpose)
ends the command with one line; anything else shows its traceback, as does every error
under `--traceback`.
"""

import argparse
import ast
import json
import linecache
import os
import sys

BACKENDS = ("tensorflow", "jax", "torch")


def _model_arg(text):
    """Parse one `--arg KEY=VALUE` (VALUE as a Python literal, else a string)."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"--arg expects KEY=VALUE, e.g. stem=small; got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _parser():
    parser = argparse.ArgumentParser(prog="kerasdl", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--traceback", action="store_true",
                        help="show the full traceback of any error")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name, help):
        return sub.add_parser(name, help=help, parents=[common])

    p = command("list", help="list registered models")
    p.add_argument("pattern", nargs="?", help="glob pattern, e.g. 'resnet*'")
    p.add_argument("--family")
    p.add_argument("--markdown", action="store_true", help="print the README's table")

    p = command("info", help="describe one model")
    p.add_argument("name")

    p = command("train", help="train a model and save it with its curves and metrics")
    p.add_argument("name")
    p.add_argument("--dataset", help="default: the model's (lenet5: mnist_5k)")
    p.add_argument("--backend", choices=BACKENDS, help="default: $KERAS_BACKEND or tensorflow")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="initial (peak) learning rate")
    p.add_argument("--optimizer", help="adam, adamw, sgd or rmsprop (default adam)")
    p.add_argument("--schedule",
                   help="constant, step, exponential, cosine or warmup_cosine (default cosine)")
    p.add_argument("--warmup-epochs", type=int, help="linear warm-up (warmup_cosine)")
    p.add_argument("--weight-decay", type=float, help="decoupled weight decay of the kernels")
    p.add_argument("--clipnorm", type=float, help="clip each gradient to this norm")
    p.add_argument("--label-smoothing", type=float, help="in [0, 1), classification")
    p.add_argument("--patience", type=int,
                   help="early stopping: epochs without a better --monitor")
    p.add_argument("--monitor", help="val_loss (default), val_accuracy, val_mae, ...")
    p.add_argument("--steps-per-execution", type=int,
                   help="training steps per compiled call (TensorFlow, small models: 10)")
    p.add_argument("--validation-split", type=float,
                   help="share of the training set held out for validation (default 0.1)")
    p.add_argument("--dropout", type=float, help="the builder's dropout rate")
    p.add_argument("--no-augment", action="store_true", help="turn image augmentation off")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs")
    p.add_argument("--image-size", type=int,
                   help="zero-pad images to this size (photo sets: resize)")
    p.add_argument("--arg", type=_model_arg, action="append", default=[], metavar="KEY=VALUE",
                   help="extra builder argument, repeatable, e.g. --arg stem=small")
    p.add_argument("--data-dir", help="tensorflow-datasets directory")
    p.add_argument("--download", action="store_true", help="let tfds download the dataset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="output directory (default runs/NAME)")
    p.add_argument("--distribute", choices=("data", "model"),
                   help="train on every device: data parallel (JAX, TensorFlow) or model "
                   "parallel (JAX, Transformers)")
    p.add_argument("--cpu-devices", type=int,
                   help="split the CPU into N devices (to try --distribute on a CPU)")
    p.add_argument("--coordinator", metavar="HOST:PORT",
                   help="several hosts (JAX): process 0's address, the same in every process")
    p.add_argument("--num-processes", type=int, help="several hosts: how many processes")
    p.add_argument("--process-id", type=int, help="several hosts: this process, 0 to N-1")

    p = command("evaluate", help="evaluate a trained model on a test set")
    p.add_argument("path", help="a run directory (kerasdl train --output) or a .keras file")
    p.add_argument("--dataset", help="default: the run's, or the model's")
    p.add_argument("--backend", choices=BACKENDS, help="default: $KERAS_BACKEND or tensorflow")
    p.add_argument("--image-size", type=int,
                   help="zero-pad images to this size (photo sets: resize)")
    p.add_argument("--data-dir", help="tensorflow-datasets directory")
    p.add_argument("--output", help="where to write evaluation.json and the figures "
                   "(default: beside the model)")

    p = command("finetune", help="fine-tune a trained model on another dataset: new head on "
                "the frozen model, then the top blocks at a lower learning rate")
    p.add_argument("base", help="a run directory of `kerasdl train` (or its model.keras)")
    p.add_argument("--dataset", required=True, help="the dataset to fine-tune on")
    p.add_argument("--backend", choices=BACKENDS, help="default: $KERAS_BACKEND or tensorflow")
    p.add_argument("--head-epochs", type=int, default=10, help="phase 1: the new head alone")
    p.add_argument("--epochs", type=int, default=10, help="phase 2: head and unfrozen blocks")
    p.add_argument("--lr", type=float, default=1e-3, help="phase 1 learning rate")
    p.add_argument("--finetune-lr", type=float, default=1e-4, help="phase 2 learning rate")
    p.add_argument("--unfreeze", type=_unfreeze_arg, default="all",
                   help="blocks unfrozen from the top, or 'all'")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--data-dir", help="tensorflow-datasets directory")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="output directory (default runs/NAME_finetuned)")

    p = command("export", help="export a trained model (keras, savedmodel, onnx) and check it")
    p.add_argument("path", help="a run directory or a .keras file")
    p.add_argument("--format", default="onnx", help="keras, savedmodel or onnx (default)")
    p.add_argument("--backend", choices=BACKENDS, help="default: $KERAS_BACKEND or tensorflow")
    p.add_argument("--output", help="path without suffix (default: beside the model)")
    p.add_argument("--triton", metavar="DIR", help="also write a Triton model repository (onnx)")

    p = command("predict", help="predictions of a .keras or .onnx model as JSON")
    p.add_argument("model", help="a .keras or .onnx file")
    p.add_argument("inputs", nargs="+", help="one .npy batch, or image files")
    p.add_argument("--top", type=int, default=3, help="top classes to list (classifiers)")
    p.add_argument("--overlay", metavar="PNG",
                   help="detectors and segmenters: also draw the boxes or masks on the images")

    p = command("tune", help="search learning rate, dropout and width with KerasTuner")
    p.add_argument("name")
    p.add_argument("--tuner", default="random", help="random, hyperband or bayesian")
    p.add_argument("--max-trials", type=int, default=10)
    p.add_argument("--dataset", help="default: the model's (lenet5: mnist_5k)")
    p.add_argument("--backend", choices=BACKENDS, help="default: $KERAS_BACKEND or tensorflow")
    p.add_argument("--epochs", type=int, help="epochs per trial (Hyperband: the most)")
    p.add_argument("--objective", help="default: val_accuracy, or val_loss for regression")
    p.add_argument("--directory", default=None, help="default tuning_runs/NAME")
    p.add_argument("--overwrite", action="store_true", help="start over instead of resuming")
    p.add_argument("--range", type=_range_arg, action="append", default=[],
                   metavar="NAME=LOW,HIGH", help="search range, e.g. --range lr=1e-4,1e-2")
    p.add_argument("--limit", type=int, help="use only the first N training examples")
    p.add_argument("--seed", type=int, default=0)

    p = command("bench", help="time training steps of a model on each backend, each in its "
                "own process, and say which is fastest")
    p.add_argument("name")
    p.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    p.add_argument("--batch-size", type=int, help="default: the model's recipe")
    p.add_argument("--steps", type=int, default=20, help="steps per timed epoch")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs after one warm-up")
    p.add_argument("--rounds", type=int, default=1, help="runs of every backend, interleaved")
    p.add_argument("--arg", type=_model_arg, action="append", default=[], metavar="KEY=VALUE",
                   help="extra builder argument, repeatable")
    return parser


def _unfreeze_arg(text):
    """`--unfreeze N` (blocks from the top) or `--unfreeze all`."""
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--unfreeze expects a number of blocks or 'all'; "
                                         f"got {text!r}") from None


def _range_arg(text):
    """Parse one `--range NAME=LOW,HIGH`."""
    key, sep, value = text.partition("=")
    try:
        low, high = (float(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--range expects NAME=LOW,HIGH, e.g. lr=1e-4,1e-2; got {text!r}") from None
    if not sep:
        raise argparse.ArgumentTypeError(f"--range expects NAME=LOW,HIGH; got {text!r}")
    return key, (low, high)


def main(argv=None):
    args = _parser().parse_args(argv)
    if getattr(args, "backend", None):
        if "keras" in sys.modules and os.environ.get("KERAS_BACKEND") != args.backend:
            sys.exit("kerasdl: --backend must be chosen before Keras is imported.")
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return {"list": _list, "info": _info, "train": _train, "evaluate": _evaluate,
                "finetune": _finetune, "export": _export, "predict": _predict,
                "tune": _tune, "bench": _bench}[args.command](args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        if args.traceback or not _is_bad_input(err):
            raise
        sys.exit(f"kerasdl {args.command}: {err}")


def _is_bad_input(err):
    """True for an error kerasdl raised on purpose about what it was given: a missing
    file, or a ValueError/TypeError from a `raise` statement in kerasdl's own code (its
    argument checks). False for one from inside a library or from a bug."""
    if isinstance(err, FileNotFoundError):
        return True
    tb = err.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    path = os.path.abspath(tb.tb_frame.f_code.co_filename)
    ours = path.startswith(os.path.dirname(os.path.abspath(__file__)) + os.sep)
    return ours and linecache.getline(path, tb.tb_lineno).lstrip().startswith("raise ")


def _list(args):
    from kerasdl import registry

    if args.markdown:
        print(registry.markdown_table())
        return 0
    for name in registry.list_models(args.pattern, family=args.family):
        info = registry.model_info(name)
        print(f"{name:<14} {info['family']:<14} {info['params']:>12,}  {info['paper']}")
    return 0


def _info(args):
    from kerasdl import building, registry

    info = registry.model_info(args.name)
    if info["family"] == "convolutional":  # what features=True gives
        info["features"] = building.feature_info(args.name)
    print(json.dumps(info, indent=2))
    return 0


def _positive(value, flag):
    if value is not None and value < 1:
        raise ValueError(f"{flag} must be at least 1; received {value}.")
    return value


def _hosts(args):
    """Whether the command is one of several processes (hosts) training together; checks
    the flags that say so (all or none, and a --distribute that spans hosts)."""
    flags = {"--coordinator": args.coordinator, "--num-processes": args.num_processes,
             "--process-id": args.process_id}
    if all(v is None for v in flags.values()):
        return False
    missing = [k for k, v in flags.items() if v is None]
    if missing:
        raise ValueError(f"Several hosts need --coordinator, --num-processes and --process-id "
                         f"together; missing {', '.join(missing)}.")
    if not 0 <= args.process_id < _positive(args.num_processes, "--num-processes"):
        raise ValueError(f"--process-id must be 0 to {args.num_processes - 1} (one per "
                         f"process); received {args.process_id}.")
    if args.distribute is None:
        args.distribute = "data"
    if args.distribute != "data":
        raise ValueError(f"Several hosts train data parallel (--distribute data); "
                         f"--distribute {args.distribute} runs on the devices of one host.")
    return True


def _train(args):
    from kerasdl import distribution

    if args.cpu_devices is not None:  # before the backend starts
        distribution.cpu_devices(_positive(args.cpu_devices, "--cpu-devices"))
    if _hosts(args):
        distribution.initialize(args.coordinator, args.num_processes, args.process_id)

    from kerasdl.runs import train_run

    model_args = dict(args.arg)
    if args.dropout is not None:
        model_args["dropout"] = args.dropout
    metrics = train_run(
        args.name, output=args.output, seed=args.seed, distribute=args.distribute,
        data_dir=args.data_dir, download=args.download, tensorboard=args.tensorboard,
        augment=not args.no_augment, model_args=model_args, dataset=args.dataset,
        epochs=_positive(args.epochs, "--epochs"),
        batch_size=_positive(args.batch_size, "--batch-size"), lr=args.lr,
        optimizer=args.optimizer, schedule=args.schedule, warmup_epochs=args.warmup_epochs,
        weight_decay=args.weight_decay, clipnorm=args.clipnorm,
        label_smoothing=args.label_smoothing, patience=args.patience, monitor=args.monitor,
        validation_split=args.validation_split, image_size=args.image_size,
        steps_per_execution=args.steps_per_execution)
    output = metrics["output"]
    if distribution.process_index():
        print(f"kerasdl: process {args.process_id} of {args.num_processes} done; process 0 "
              f"writes the run to {output}")
        return 0
    print(f"{_summary(metrics, 'test_')}; {metrics['seconds']:.1f} s; wrote model.keras, "
          f"history.png, metrics.json, evaluation.json and figures to {output}")
    return 0


def _summary(metrics, prefix):
    """The scalar figures of one split, e.g. 'test accuracy 0.9840, test f1 macro 0.9838'."""
    return ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in metrics.items()
                     if k.startswith(prefix) and isinstance(v, float))


def _evaluate(args):
    from kerasdl import building, datasets, registry
    from kerasdl.evaluation import evaluate

    run = {}
    path = args.path
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "metrics.json")):
            with open(os.path.join(path, "metrics.json")) as f:
                run = json.load(f)
        path = os.path.join(path, "model.keras")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"The run directory {args.path} holds no model.keras; train one with "
                f"`kerasdl train NAME --output {args.path}`, or pass a .keras file.")
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"No such run directory or model file: {path}.")

    model = building.load_model(path)
    recipe = run.get("recipe", {})
    registered = model.name in registry.list_models()
    dataset = args.dataset or run.get("dataset") or (
        registry.get_spec(model.name).train.dataset if registered else None)
    if dataset is None:
        raise ValueError(f"{path} holds {model.name!r}, which is not a registered model and "
                         f"has no run beside it: pass --dataset.")
    image_size = args.image_size or recipe.get("image_size")
    if registered:
        _, test, _ = datasets.load_for_model(model.name, dataset, data_dir=args.data_dir,
                                             image_size=image_size)
    else:
        test = datasets.load(dataset, "test", data_dir=args.data_dir, image_size=image_size)
    task = (recipe.get("task") if dataset == run.get("dataset") else None) or (
        registry.get_spec(model.name).train.task if registered else None) or datasets.info(
        dataset).task
    output = args.output or os.path.dirname(os.path.abspath(path))
    scores = evaluate(model, test, task=task, output_dir=output)
    print(f"{model.name} on the {dataset} test set: "
          + _summary({f"test_{k}": v for k, v in scores.items()}, "test_"))
    print(f"wrote evaluation.json and figures to {output}")
    return 0


def _run_of(path):
    """``(model_path, run)`` of a `kerasdl train` output: a directory, or its model.keras
    with the metrics.json beside it (which records the builder arguments)."""
    model_path = os.path.join(path, "model.keras") if os.path.isdir(path) else path
    metrics = os.path.join(os.path.dirname(os.path.abspath(model_path)), "metrics.json")
    if not os.path.isfile(model_path) or not os.path.isfile(metrics):
        raise FileNotFoundError(
            f"{path} is not a `kerasdl train` run: fine-tuning needs its model.keras and the "
            f"metrics.json beside it (which records the builder arguments).")
    with open(metrics) as f:
        return model_path, json.load(f)


def _finetune(args):
    from kerasdl import building, datasets, registry

    model_path, run = _run_of(args.base)
    spec = registry.get_spec(run["model"])
    info = datasets.info(args.dataset)
    recipe = spec.train.replace(dataset=args.dataset, task=info.task,
                                batch_size=_positive(args.batch_size, "--batch-size"),
                                image_size=run["recipe"].get("image_size"))
    recipe = recipe.replace(augment=recipe.augment and info.kind == "image")
    train, test, data_kwargs = datasets.load_for_model(
        spec.name, args.dataset, data_dir=args.data_dir, image_size=recipe.image_size)

    import keras

    from kerasdl.finetuning import finetune

    keras.utils.set_random_seed(args.seed)
    model = building.build(spec.name, **{**run["model_kwargs"], **data_kwargs},
                           weights=model_path)
    output = args.output or os.path.join("runs", f"{spec.name}_finetuned")
    _, metrics = finetune(model, train, test, recipe=recipe,
                          head_epochs=_positive(args.head_epochs, "--head-epochs"),
                          finetune_epochs=args.epochs, lr=args.lr, finetune_lr=args.finetune_lr,
                          unfreeze=args.unfreeze, seed=args.seed, output_dir=output, verbose=2)
    model.save(os.path.join(output, "model.keras"))
    metrics.update(model=spec.name, dataset=args.dataset, base=model_path,
                   backend=keras.backend.backend(), recipe=recipe.to_dict(),
                   model_kwargs={k: v for k, v in {**run["model_kwargs"], **data_kwargs}.items()
                                 if k != "input_shape"})
    with open(os.path.join(output, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    print(f"{_summary(metrics, 'test_')}; wrote model.keras and metrics.json to {output}")
    return 0


def _export(args):
    import numpy as np

    from kerasdl import building, export

    path = os.path.join(args.path, "model.keras") if os.path.isdir(args.path) else args.path
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such run directory or model file: {args.path}.")
    if args.triton and args.format != "onnx":
        raise ValueError(f"--triton serves an ONNX file: use --format onnx, not {args.format!r}.")
    model = building.load_model(path)
    stem = args.output or os.path.splitext(path)[0]
    rng = np.random.default_rng(0)
    try:
        exported = export.export(model, stem, args.format)
        differences = {target: [export.check(network, target, export.sample_inputs(
            network, batch, rng)) for batch in (1, 3)]  # the batch axis is free
            for target, network in exported.items()}
    except Exception as err:  # the converter's or onnxruntime's: one line naming the limit
        if args.format != "onnx" or args.traceback or _is_bad_input(err):
            raise
        raise ValueError(export.converter_limit(model.name, err)) from err
    for target, network in exported.items():
        for batch, difference in zip((1, 3), differences[target]):
            print(f"{target}: batch {batch}, largest |keras - {args.format}| {difference:.2e}")
            if difference > 1e-4:
                sys.exit(f"kerasdl export: {target} does not reproduce the Keras predictions.")
        if args.triton:
            name = os.path.basename(target)[: -len(".onnx")]
            print(f"wrote {export.triton_repository(target, args.triton, name)}")
    return 0


def _predict(args):
    import numpy as np

    from kerasdl import export
    from kerasdl.evaluation import dense_predictions

    if not os.path.isfile(args.model) or not args.model.endswith((".keras", ".onnx")):
        raise FileNotFoundError(f"{args.model} is not a .keras or .onnx file.")
    if len(args.inputs) == 1 and args.inputs[0].endswith(".npy"):
        x = np.load(args.inputs[0])
    else:
        x = _images(args.model, args.inputs)
    outputs = np.asarray(export.run_exported(args.model, x))
    result = dense_predictions(outputs, x, boxes_per_cell=export.boxes_per_cell(args.model),
                               overlay=args.overlay) or {"predictions": outputs.tolist()}
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        top = np.argsort(-outputs, axis=1)[:, : args.top]
        result["top_classes"] = [[{"class": int(c), "score": float(row[c])} for c in best]
                                 for row, best in zip(outputs, top)]
    print(json.dumps(result))
    return 0


def _images(model_path, files):
    """Image files as one batch in [0, 1], at the model's input size and channels."""
    import keras
    import numpy as np

    if model_path.endswith(".onnx"):
        import onnxruntime

        shape = onnxruntime.InferenceSession(model_path).get_inputs()[0].shape[1:]
    else:
        from kerasdl.building import load_model

        shape = load_model(model_path).inputs[0].shape[1:]
    if len(shape) != 3:
        raise ValueError(f"{model_path} does not take images (its input is {tuple(shape)}); "
                         f"pass a .npy batch.")
    height, width, channels = shape
    images = [keras.utils.img_to_array(keras.utils.load_img(
        f, color_mode="grayscale" if channels == 1 else "rgb", target_size=(height, width)))
        for f in files]
    return np.stack(images).astype("float32") / 255.0


def _tune(args):
    from kerasdl.tuning.search import search

    directory = args.directory or os.path.join("tuning_runs", args.name)
    tuner = search(args.name, tuner=args.tuner, dataset=args.dataset,
                   max_trials=args.max_trials, epochs=_positive(args.epochs, "--epochs"),
                   objective=args.objective, directory=directory, overwrite=args.overwrite,
                   ranges=dict(args.range), limit=_positive(args.limit, "--limit"),
                   seed=args.seed, verbose=2)
    tuner.results_summary(num_trials=3)
    if os.path.exists(os.path.join(directory, "best.json")):
        print(f"wrote best.json and best_model.keras to {directory}")
    return 0


def _bench(args):
    from kerasdl import benchmark

    rows = benchmark.compare(
        args.name, args.backends, rounds=_positive(args.rounds, "--rounds"),
        batch_size=_positive(args.batch_size, "--batch-size"),
        steps=_positive(args.steps, "--steps"), epochs=_positive(args.epochs, "--epochs"),
        **dict(args.arg))
    medians, verdict = benchmark.summary(rows)
    first = next(iter(rows.values()))[0]
    print(f"{args.name}: {first['params']:,} parameters, batch {first['batch_size']}, "
          f"{args.epochs} x {args.steps} timed steps after a warm-up epoch, "
          f"{args.rounds} round(s)")
    print(f"{'backend':<11} {'ms/step':>9} {'fastest':>9} {'warm-up s':>10} {'peak MB':>8}")
    for backend, runs in rows.items():
        print(f"{backend:<11} {medians[backend]:>9.1f} "
              f"{min(r['ms_per_step_min'] for r in runs):>9.1f} "
              f"{max(r['warmup_s'] for r in runs):>10.1f} "
              f"{max(r['peak_rss_mb'] for r in runs):>8.0f}")
    print(f"{args.name} trains {verdict}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
